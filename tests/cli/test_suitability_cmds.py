"""The ``suitability`` command on the coarse synthetic sample area: all four outputs."""

from __future__ import annotations

import json
from pathlib import Path

import pyogrio
import pytest
import rasterio
import shapely
import typer
from typer.testing import CliRunner

from klimakort.cli import suitability_cmds
from klimakort.sample import write_sample


def _app() -> typer.Typer:
    app = typer.Typer()
    suitability_cmds.register(app)

    @app.command("noop")
    def _noop() -> None:  # a second command keeps typer's sub-command dispatch
        """Do nothing."""

    return app


@pytest.mark.slow
def test_suitability_command_writes_consistent_outputs(tmp_path: Path) -> None:
    toml = write_sample(tmp_path / "area", cell=16.0)
    out = tmp_path / "out"
    args = ["suitability", str(toml), "--measure", "miyawaki_forest", "--scenario", "2100"]
    args += ["--choose", "4", "--min-spacing", "300", "--samples", "100", "--out", str(out)]
    res = CliRunner().invoke(_app(), args)
    assert res.exit_code == 0, res.output + repr(res.exception)
    for name in ("suitability.tif", "candidates.gpkg", "portfolio.gpkg", "portfolio.json"):
        assert (out / name).is_file()
    with rasterio.open(out / "suitability.tif") as src:
        assert src.crs.to_epsg() == 25832
    cands = pyogrio.read_dataframe(out / "candidates.gpkg")
    assert {"site_id", "score", "explanation", "p_top_n", "mc_max_rank"} <= set(cands.columns)
    # each site's modelled cloudburst effect: a column and part of its explanation
    assert {"cb_flood_volume_removed_m3", "cb_outflow_removed_m3"} <= set(cands.columns)
    removed = cands["cb_flood_volume_removed_m3"] + cands["cb_outflow_removed_m3"]
    assert removed.to_numpy() == pytest.approx(cands["cb_runoff_removed_m3"].to_numpy())
    assert (cands["cb_flood_volume_removed_m3"] > 0).any()
    doc = json.loads((out / "portfolio.json").read_text())
    assert doc["status"] == "optimal" and doc["mip_gap"] <= 1e-4
    assert doc["measure"] == "miyawaki_forest" and doc["scenario"] == "2100"
    assert len(doc["chosen_ids"]) == 4
    assert doc["objective"] == pytest.approx(sum(s["score"] for s in doc["sites"]))
    assert all(isinstance(s["explanation"], dict) for s in doc["sites"])
    for site in doc["sites"]:
        eff = site["explanation"]["cloudburst_effect"]
        assert eff["assumptions"]["scenario"] == "2100" and eff["assumptions"]["rain_mm"] > 0
        assert eff["cb_runoff_removed_m3"] <= eff["cb_water_reaching_m3"] + 1e-3
    assert [s["site_id"] for s in doc["sensitivity"]["sites"]] == doc["chosen_ids"]
    port = pyogrio.read_dataframe(out / "portfolio.gpkg")
    assert port["site_id"].tolist() == doc["chosen_ids"]
    geoms = port.geometry.to_numpy()
    for i in range(len(geoms)):
        for j in range(i + 1, len(geoms)):
            assert shapely.distance(geoms[i], geoms[j]) >= 300.0
    # spacing can only cost score: the unconstrained top-4 is an upper bound
    assert doc["objective"] <= cands.nlargest(4, "score")["score"].sum() + 1e-9


def _without_heating_mains(toml: Path) -> Path:
    """The sample's area.toml with its [layers.heating_mains] table removed."""
    text = toml.read_text()
    start = text.index("[layers.heating_mains]")
    end = text.index("\n[", start + 1)
    toml.write_text(text[:start] + text[end + 1 :])
    assert "heating_mains" not in toml.read_text()
    return toml


@pytest.mark.slow
def test_area_without_heating_mains_warns_and_records_it(tmp_path: Path) -> None:
    toml = _without_heating_mains(write_sample(tmp_path / "area", cell=16.0))
    out = tmp_path / "out"
    args = ["suitability", str(toml), "--measure", "miyawaki_forest", "--scenario", "2100"]
    args += ["--choose", "2", "--samples", "20", "--out", str(out)]
    res = CliRunner().invoke(_app(), args)
    assert res.exit_code == 0, res.output + repr(res.exception)
    note = "heating-mains clearance not checked: the area has no heating_mains layer"
    assert f"warning: {note}" in " ".join(res.output.split())
    cands = pyogrio.read_dataframe(out / "candidates.gpkg")
    assert len(cands) > 0
    for text in cands["explanation"]:
        expl = json.loads(text)
        assert note in expl["notes"] and expl["not_checked"]["heating_mains"] == note
        assert "heating_mains" not in expl["constraints"]
    assert not any(c.startswith("ok_heating") for c in cands.columns)
    with rasterio.open(out / "suitability.tif") as src:
        assert note in json.loads(src.tags()["notes"])
    doc = json.loads((out / "portfolio.json").read_text())
    assert doc["not_checked"]["heating_mains"] == note and note in doc["notes"]
    strict = CliRunner().invoke(_app(), [*args[:-1], str(tmp_path / "strict"), "--strict"])
    assert strict.exit_code != 0
    assert "heating_mains" in str(strict.exception) and "--strict" in str(strict.exception)
    assert not (tmp_path / "strict").exists()


@pytest.mark.slow
def test_an_infeasible_portfolio_exits_non_zero_with_the_largest_feasible_n(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from klimakort.cli import main

    toml = write_sample(tmp_path / "area", cell=16.0)
    out = tmp_path / "out"
    args = ["suitability", str(toml), "--choose", "12", "--min-spacing", "1500"]
    with pytest.raises(SystemExit) as exc:
        main([*args, "--samples", "20", "--out", str(out)])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    doc = json.loads((out / "portfolio.json").read_text())
    assert doc["status"] == "infeasible" and doc["n_chosen"] == 0
    most = doc["max_feasible"]
    assert isinstance(most, int) and 0 <= most < 12
    assert "error: " in err and "Traceback" not in err
    line = err[err.index("error: ") :]
    assert f"ask for {most}" in line.replace("at most ", "") and "1500 m" in line
