"""``klimakort rainflow --chunks N --scheduler ...``: the tiled run from the command line."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio

from klimakort.cli import main
from klimakort.core.fill import fill_depressions
from klimakort.core.flats import d8_flat_resolved
from klimakort.io import write_cog


def run(argv: list[str]) -> int:
    try:
        main(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


def test_rainflow_chunks(tmp_path: Path, make_dem, capsys: pytest.CaptureFixture[str]) -> None:
    rng = np.random.default_rng(1)
    dem = make_dem(rng.uniform(0, 5, (40, 50)).astype(np.float32), cell=2.0)
    write_cog(dem, tmp_path / "dem.tif", units="m DVR90", source="test")
    argv = ["rainflow", "--dem", str(tmp_path / "dem.tif"), "--out", str(tmp_path / "rf")]
    assert run([*argv, "--chunks", "16", "--scheduler", "synchronous"]) == 0
    out = capsys.readouterr().out
    for name in ("filled", "flowdir", "accumulation", "bluespots", "watersheds"):
        assert f"{name}.tif" in out
    assert "bluespots.gpkg" in out
    with rasterio.open(tmp_path / "dem.tif") as src:
        z = src.read(1)
    with rasterio.open(tmp_path / "rf" / "flowdir.tif") as src:
        got = src.read(1)
    want = d8_flat_resolved(fill_depressions(z, flats="flat"), 2.0, 2.0)
    np.testing.assert_array_equal(got, want)
    rasters_only = [*argv[:-1], str(tmp_path / "rf2"), "--no-vectors"]
    assert run([*rasters_only, "--chunks", "16", "--scheduler", "synchronous"]) == 0
    assert "bluespots.gpkg" not in capsys.readouterr().out
    assert not (tmp_path / "rf2" / "bluespots.gpkg").exists()
    code = run([*argv, "--chunks", "16", "--buildings", str(tmp_path / "b.gpkg")])
    assert code != 0 and "--chunks" in capsys.readouterr().err
