"""The klimakort command line: help, sample, info, rainflow and clear errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from klimakort.cli import main
from klimakort.io import write_cog


def run(argv: list[str]) -> int:
    try:
        main(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


@pytest.mark.parametrize(
    "command", ["sample", "info", "demo", "rainflow", "sealevel", "groundwater"]
)
def test_every_command_has_help(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run([command, "--help"]) == 0
    out = capsys.readouterr().out
    assert "Usage" in out and "--help" in out


def test_sample_then_info(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["sample", str(tmp_path / "area"), "--seed", "7"]) == 0
    toml = Path(capsys.readouterr().out.strip().splitlines()[-1])
    assert toml == tmp_path / "area" / "area.toml" and toml.is_file()
    assert run(["info", str(toml)]) == 0
    out = capsys.readouterr().out
    assert "synthetic sample" in out and "EPSG:25832" in out
    assert "4.00 x 3.00 km" in out and "layers.parcels" in out


def test_rainflow_command(tmp_path: Path, make_dem, capsys: pytest.CaptureFixture[str]) -> None:
    rng = np.random.default_rng(1)
    dem = make_dem(rng.uniform(0, 5, (40, 50)), cell=2.0)
    write_cog(dem, tmp_path / "dem.tif", units="m DVR90", source="test")
    code = run(
        [
            "rainflow",
            "--dem",
            str(tmp_path / "dem.tif"),
            "--out",
            str(tmp_path / "rf"),
            "--stream-threshold",
            "100",
        ]
    )
    assert code == 0
    out = capsys.readouterr().out
    for name in (
        "filled.tif",
        "flowdir.tif",
        "accumulation.tif",
        "bluespots.tif",
        "watersheds.tif",
        "bluespots.gpkg",
        "flowpaths.gpkg",
    ):
        assert (tmp_path / "rf" / name).is_file()
        assert name in out


def test_errors_are_one_clear_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = run(["info", str(tmp_path / "missing.toml")])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("error: ") and "not found" in err and "Traceback" not in err
    code = run(["rainflow", "--dem", str(tmp_path / "none.tif"), "--out", str(tmp_path)])
    assert code == 2 and "raster not found" in capsys.readouterr().err


def test_bad_parameter(tmp_path: Path, make_dem, capsys: pytest.CaptureFixture[str]) -> None:
    write_cog(make_dem(np.ones((5, 5))), tmp_path / "d.tif", units="m", source="t")
    code = run(
        [
            "rainflow",
            "--dem",
            str(tmp_path / "d.tif"),
            "--out",
            str(tmp_path / "o"),
            "--min-depth",
            "-1",
        ]
    )
    assert code == 2 and "min_depth" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()
