"""``klimakort print AREA.toml --parcel ID --scenario 2100 --out note.pdf``."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pytest

from klimakort.cli import main


def test_print_a_parcel_to_pdf(
    small_area: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    parcel = str(
        gpd.read_file(small_area.parent / "layers" / "parcels.gpkg")["matrikel_id"].iloc[10]
    )
    out = tmp_path / "note.pdf"
    with pytest.raises(SystemExit) as exit_info:
        main(
            ["print", str(small_area), "--parcel", parcel, "--scenario", "2100", "--out", str(out)]
        )
    assert exit_info.value.code in (0, None)
    assert out.read_bytes()[:5] == b"%PDF-"
    assert str(out) in capsys.readouterr().out


def test_print_refuses_bad_options(
    small_area: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["print", str(small_area), "--bbox", "1,2", "--out", str(tmp_path / "x.pdf")])
    assert exit_info.value.code == 2
    assert "--bbox" in capsys.readouterr().err
