"""``klimakort hazards``: COGs per scenario, from the hazard store the second time."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio

from klimakort.cli import main
from klimakort.sample import write_sample


def run(argv: list[str]) -> int:
    try:
        main(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


def _read(path: Path) -> np.ndarray:
    with rasterio.open(path) as src:
        return src.read(1)


def test_hazards_are_written_from_the_store_the_second_time(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    toml = write_sample(tmp_path / "area", cell=16.0)
    store = tmp_path / "store"
    base = ["hazards", str(toml), "--scenario", "2100", "--store", str(store)]
    assert run([*base, "--out", str(tmp_path / "a")]) == 0
    first = capsys.readouterr()
    assert "computing hazards: no stored hazards" in first.err.replace("\n", " ")
    assert list(store.glob("rainflow-*/manifest.json"))
    assert run([*base, "--out", str(tmp_path / "b")]) == 0
    second = capsys.readouterr()
    assert "hazards reused from" in second.err and "filling depressions" not in second.err
    for rel in ("2100/cloudburst/flood_depth.tif", "2100/sea_inundation_depth.tif"):
        assert np.array_equal(
            _read(tmp_path / "a" / rel), _read(tmp_path / "b" / rel), equal_nan=True
        )
    assert run([*base, "--no-cache", "--out", str(tmp_path / "c")]) == 0
    assert "--no-cache" in capsys.readouterr().err
