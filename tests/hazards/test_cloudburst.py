"""Tests for klimakort.hazards.cloudburst and the ``cloudburst`` CLI command."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyogrio
import pytest
import rasterio
import typer
import xarray as xr
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from klimakort.cli.cloudburst_cmds import register
from klimakort.errors import (
    DataNotFoundError,
    GridMismatchError,
    InputError,
    NoDataError,
    ParameterError,
)
from klimakort.hazards.cloudburst import (
    STATE_FIELDS,
    cloudburst,
    load_rainflow,
    write_cloudburst,
)
from klimakort.hydro.rainflow import Rainflow, RainflowParams, rainflow, write_rainflow
from klimakort.io.raster import read_raster, write_cog

MakeDem = Callable[..., xr.DataArray]

# Two pits in a row (1 m cells), walled in by 10 m except the outlet at the east edge:
# pit A = (2,2) at 2 m spills over the 4 m sill (2,3) into pit B = (2,4) 1 m, (2,5) 1.5 m,
# which spills over the 3 m sill (2,6) to the edge (2,8). Capacities: A 2 m³, B 3.5 m³.
# Local watersheds (D8, rows 1-3): A = columns 1-2 (6 cells), B = columns 3-5 (9 cells);
# the other 30 cells (edge cells are outlets) drain straight out of the area.
TWO_PITS = np.full((5, 9), 10.0)
TWO_PITS[2] = [10, 10, 2, 4, 1, 1.5, 3, 0.5, 0]


@pytest.fixture
def two_pits(make_dem: MakeDem) -> Rainflow:
    rf = rainflow(make_dem(TWO_PITS, cell=1.0))
    table = rf.bluespot_table.set_index("bluespot_id")
    # the layout the hand computations below rely on
    assert table["volume_m3"].to_dict() == {1: 2.0, 2: 3.5}
    assert table["downstream_id"].to_dict() == {1: 2, 2: 0}
    assert table["watershed_area_m2"].to_dict() == {1: 6.0, 2: 9.0}
    return rf


def _state(res: object, field: str) -> list[float]:
    table = res.state.set_index("bluespot_id")  # type: ignore[attr-defined]
    return [float(table.loc[b, field]) for b in (1, 2)]


# --------------------------------------------------------------------------- hand cases


def test_upstream_pit_fills_and_spills_exact_excess(two_pits: Rainflow) -> None:
    res = cloudburst(two_pits, 350.0)
    # A: 6 m² * 0.35 m = 2.1 m³, holds 2, spills 0.1 into B
    # B: 9 m² * 0.35 m = 3.15 m³ + 0.1 = 3.25 m³ < 3.5: level L with (L-1)+(L-1.5) = 3.25
    np.testing.assert_allclose(_state(res, "own_runoff_m3"), [2.1, 3.15])
    np.testing.assert_allclose(_state(res, "inflow_m3"), [0.0, 0.1], atol=1e-12)
    np.testing.assert_allclose(_state(res, "incoming_m3"), [2.1, 3.25])
    np.testing.assert_allclose(_state(res, "stored_m3"), [2.0, 3.25])
    np.testing.assert_allclose(_state(res, "spilled_m3"), [0.1, 0.0], atol=1e-12)
    np.testing.assert_allclose(_state(res, "fill_fraction"), [1.0, 3.25 / 3.5])
    np.testing.assert_allclose(_state(res, "water_level_m"), [4.0, 2.875])
    np.testing.assert_allclose(_state(res, "water_depth_max_m"), [2.0, 1.875])
    depth = res.flood_depth.values
    np.testing.assert_allclose(depth[2, 2:6], [2.0, 0.0, 1.875, 1.375], rtol=1e-6)
    assert np.count_nonzero(depth) == 3
    # only A spills, into B
    assert res.spill_paths["bluespot_id"].tolist() == [1]
    assert res.spill_paths["downstream_id"].tolist() == [2]
    np.testing.assert_allclose(res.spill_paths["spilled_m3"], [0.1])
    assert not res.spill_paths["leaves_area"].any()
    mb = res.mass_balance
    assert mb["rain_m3"] == pytest.approx(45 * 0.35)
    assert mb["stored_m3"] == pytest.approx(5.25)
    assert mb["left_area_m3"] == pytest.approx(30 * 0.35)  # only watershed 0
    assert mb["spilled_out_m3"] == pytest.approx(0.0, abs=1e-12)


def test_both_pits_full_spill_out_of_the_area(two_pits: Rainflow) -> None:
    res = cloudburst(two_pits, 500.0)
    # A: 3 m³ -> 2 stored, 1 spilled; B: 4.5 + 1 = 5.5 -> 3.5 stored, 2 out
    np.testing.assert_allclose(_state(res, "stored_m3"), [2.0, 3.5])
    np.testing.assert_allclose(_state(res, "spilled_m3"), [1.0, 2.0])
    np.testing.assert_allclose(_state(res, "water_level_m"), [4.0, 3.0])
    np.testing.assert_allclose(res.flood_depth.values[2, 2:6], [2.0, 0.0, 2.0, 1.5])
    paths = res.spill_paths.set_index("bluespot_id")
    assert paths["downstream_id"].to_dict() == {1: 2, 2: 0}
    assert paths["leaves_area"].to_dict() == {1: False, 2: True}
    np.testing.assert_allclose(paths["spilled_m3"], [1.0, 2.0])
    mb = res.mass_balance
    assert mb["spilled_out_m3"] == pytest.approx(2.0)
    assert mb["left_area_m3"] == pytest.approx(15.0 + 2.0)
    assert mb["rain_m3"] == pytest.approx(mb["stored_m3"] + mb["left_area_m3"])
    assert mb["depth_raster_m3"] == pytest.approx(5.5, rel=1e-6)


def test_runoff_raster_and_sewer(two_pits: Rainflow) -> None:
    coeff = np.ones(TWO_PITS.shape)
    coeff[:, 1:3] = 0.5  # A's watershed half sealed
    c = two_pits.filled.copy(data=coeff)
    res = cloudburst(two_pits, 100.0, runoff=c, sewer_mm=20.0)
    # A: max(100 * 0.5 - 20, 0) = 30 mm on 6 m²; B: 80 mm on 9 m²
    np.testing.assert_allclose(_state(res, "own_runoff_m3"), [0.18, 0.72])
    mb = res.mass_balance
    # 10 cells (columns 1-2) lose half the rain (50 mm); every cell's sewer takes 20 mm
    lost = 10 * 0.05
    assert mb["lost_m3"] == pytest.approx(lost)
    assert mb["sewer_m3"] == pytest.approx(45 * 0.02)
    assert mb["rain_m3"] == pytest.approx(
        mb["lost_m3"] + mb["sewer_m3"] + mb["stored_m3"] + mb["left_area_m3"]
    )
    assert res.runoff.startswith("raster")


def test_no_rain_no_water(two_pits: Rainflow) -> None:
    res = cloudburst(two_pits, 0.0)
    assert float(np.nansum(res.flood_depth.values)) == 0.0
    assert res.state["stored_m3"].eq(0).all() and res.spill_paths.empty
    assert res.flooded_areas.empty
    assert res.mass_balance["rain_m3"] == 0.0


def test_terrain_without_bluespots_drains_everything(make_dem: MakeDem, tmp_path: Path) -> None:
    z = np.add.outer(np.arange(6.0), np.arange(7.0))  # a plane sloping to the north-west
    res = cloudburst(rainflow(make_dem(z, cell=1.0)), 50.0)
    assert res.state.empty and res.spill_paths.empty and res.flooded_areas.empty
    assert res.mass_balance["left_area_m3"] == pytest.approx(42 * 0.05)
    assert res.mass_balance["direct_outlet_m3"] == res.mass_balance["left_area_m3"]
    files = write_cloudburst(res, tmp_path)
    assert len(pyogrio.list_layers(files["bluespot_state"])) == 3


def test_nodata_is_nan_and_depth_is_float32(make_dem: MakeDem) -> None:
    z = TWO_PITS.copy()
    z[4, 6:] = np.nan
    res = cloudburst(rainflow(make_dem(z, cell=1.0)), 50.0)
    d = res.flood_depth
    assert d.dtype == np.float32 and np.isnan(d.rio.nodata)
    np.testing.assert_array_equal(np.isnan(d.values), np.isnan(z))
    assert d.rio.crs == "EPSG:25832"
    assert d.rio.transform() == make_dem(z, cell=1.0).rio.transform()


def test_flooded_area_classes(make_dem: MakeDem) -> None:
    # one 3x3 bowl (1 m cells) whose floor rises 0..0.5 m: depths at the spill level 0.6 m
    z = np.full((7, 7), 1.0)
    z[2:5, 2:5] = np.array([[0.0, 0.05, 0.15], [0.25, 0.3, 0.35], [0.45, 0.5, 0.55]])
    z[3, 6] = 0.6  # the outlet sill on the edge
    z[3, 5] = 0.6
    rf = rainflow(make_dem(z, cell=1.0))
    res = cloudburst(rf, 1000.0)
    depth = res.flood_depth.values
    areas = res.flooded_areas
    assert set(areas["bluespot_id"]) == {1}
    by_class = areas.set_index("depth_class")
    for k, (lo, hi) in enumerate([(0.1, 0.2), (0.2, 0.4), (0.4, np.inf)], start=1):
        cells = int(((depth >= np.float32(lo)) & (depth < np.float32(hi))).sum())
        assert by_class.loc[k, "area_m2"] == pytest.approx(cells), k
        assert by_class.loc[k, "depth_min_m"] == lo
    assert np.isnan(by_class.loc[3, "depth_max_m"])
    assert by_class.loc[3, "label"] == ">= 0.40 m"
    assert by_class.loc[1, "label"] == "0.10-0.20 m"
    # the polygons cover exactly the cells with depth >= 0.10 m
    assert areas.geometry.area.sum() == pytest.approx(int((depth >= np.float32(0.1)).sum()))
    custom = cloudburst(rf, 1000.0, depth_classes=(0.3,))
    assert custom.flooded_areas["depth_class"].tolist() == [1]


# --------------------------------------------------------------------------- invariants


@st.composite
def dem_cases(draw: st.DrawFn) -> tuple[np.ndarray, float, float, float | np.ndarray, float]:
    ny = draw(st.integers(4, 12))
    nx = draw(st.integers(4, 12))
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    z = rng.integers(0, 6, size=(ny, nx)) + rng.random((ny, nx)) * draw(st.sampled_from([0, 0.5]))
    if draw(st.booleans()):
        z[0, : nx // 2] = np.nan  # a nodata strip on the edge
    rain = draw(st.floats(0, 300))
    more = rain + draw(st.floats(0, 300))
    coeff: float | np.ndarray
    coeff = rng.random((ny, nx)) if draw(st.booleans()) else draw(st.floats(0, 1))
    sewer = draw(st.sampled_from([0.0, 5.0, 40.0]))
    return z, rain, more, coeff, sewer


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(dem_cases())
def test_mass_balance_and_monotone_in_rain(
    make_dem: MakeDem, case: tuple[np.ndarray, float, float, float | np.ndarray, float]
) -> None:
    z, rain, more, coeff, sewer = case
    rf = rainflow(make_dem(z, cell=2.0))
    runoff = rf.filled.copy(data=coeff) if isinstance(coeff, np.ndarray) else coeff
    a = cloudburst(rf, rain, runoff=runoff, sewer_mm=sewer)
    b = cloudburst(rf, more, runoff=runoff, sewer_mm=sewer)
    for res in (a, b):
        mb = res.mass_balance
        total = mb["lost_m3"] + mb["sewer_m3"] + mb["stored_m3"] + mb["left_area_m3"]
        assert total == pytest.approx(mb["rain_m3"], rel=1e-6, abs=1e-9)
        assert mb["rain_m3"] == pytest.approx(rain_on_valid(res.rain_mm, z, 4.0))
        assert mb["depth_raster_m3"] == pytest.approx(mb["stored_m3"], rel=1e-5, abs=1e-6)
        assert np.all(res.state["stored_m3"] <= res.state["volume_m3"] * (1 + 1e-6) + 1e-9)
    assert np.all(b.state["stored_m3"].to_numpy() >= a.state["stored_m3"].to_numpy())
    da, db = a.flood_depth.values, b.flood_depth.values
    assert np.all(np.nan_to_num(db) >= np.nan_to_num(da) - 1e-6)
    if rain == 0:
        assert np.nansum(da) == 0


def rain_on_valid(rain_mm: float, z: np.ndarray, cell_area: float) -> float:
    return rain_mm / 1000 * cell_area * int(np.isfinite(z).sum())


# --------------------------------------------------------------------------- malstrøm


@pytest.fixture(scope="module")
def malstroem_rf(malstroem_dir: Path) -> Rainflow:
    params = RainflowParams(min_depth=0.05, min_cells=6, min_volume=255)
    return rainflow(read_raster(malstroem_dir / "dtm.tif"), params)


def _downstream_from_nodes(malstroem_dir: Path) -> dict[int, int]:
    feats = json.loads((malstroem_dir / "nodes.json").read_text())["features"]
    node = {f["properties"]["nodeid"]: f["properties"] for f in feats}

    def resolve(nid: int | None) -> int:
        while nid is not None and node[nid]["nodetype"] == "junction":
            nid = node[nid]["dstrnodeid"]
        return 0 if nid is None else int(node[nid]["bspot_id"])

    return {
        int(p["bspot_id"]): resolve(p["dstrnodeid"])
        for p in node.values()
        if p["nodetype"] == "pourpoint" and p["bspot_id"] > 0
    }


def test_malstroem_full_bluespots_hold_bspot_vol(
    malstroem_rf: Rainflow, malstroem_dir: Path
) -> None:
    feats = json.loads((malstroem_dir / "pourpoints.json").read_text())["features"]
    vol = {f["properties"]["bspot_id"]: f["properties"]["bspot_vol"] for f in feats}
    res = cloudburst(malstroem_rf, 60.0)
    state = res.state
    full = state[state["fill_fraction"] >= 1.0]
    partial = state[state["fill_fraction"] < 1.0]
    assert 20 < len(full) < len(state) and len(partial) > 0
    for row in full.itertuples():
        assert row.stored_m3 == pytest.approx(vol[row.bluespot_id], rel=1e-6)
        assert row.water_level_m == row.spill_elevation_m
    for row in partial.itertuples():
        assert row.stored_m3 < vol[row.bluespot_id]
        assert row.spilled_m3 == 0.0
    assert res.mass_balance["relative_error"] < 1e-6


def test_malstroem_spills_reach_the_downstream_node(
    malstroem_rf: Rainflow, malstroem_dir: Path
) -> None:
    want = _downstream_from_nodes(malstroem_dir)
    res = cloudburst(malstroem_rf, 200.0)
    state = res.state.set_index("bluespot_id")
    labels = malstroem_rf.bluespots.values
    t = malstroem_rf.bluespots.rio.transform()
    paths = res.spill_paths
    assert len(paths) > 80
    differ = []
    for row in paths.itertuples():
        b, d = int(row.bluespot_id), int(row.downstream_id)
        assert row.spilled_m3 == pytest.approx(state.loc[b, "spilled_m3"])
        if d != want[b]:
            differ.append(b)
        # the path ends in the downstream bluespot (or at the edge / an outlet)
        x, y = row.geometry.coords[-1]
        r, c = int((y - t.f) / t.e), int((x - t.c) / t.a)
        assert labels[r, c] == d if d > 0 else labels[r, c] in (0, b)
    # klimakort lets edge cells drain inwards: bluespot 102's spill reaches 91 instead of
    # leaving the raster (documented in tests/core/test_watersheds.py)
    assert differ in ([], [102])
    # every downstream bluespot receives exactly the sum of the spills into it
    inflow = paths.groupby("downstream_id")["spilled_m3"].sum()
    for d, v in inflow.items():
        if d > 0:
            assert state.loc[d, "inflow_m3"] == pytest.approx(v, rel=1e-12)


# --------------------------------------------------------------------------- files


@pytest.fixture
def rf_dir(two_pits: Rainflow, tmp_path: Path) -> Path:
    out = tmp_path / "rf"
    write_rainflow(two_pits, out)
    return out


def test_load_from_folder_and_write(two_pits: Rainflow, rf_dir: Path, tmp_path: Path) -> None:
    (rf_dir / "terrain.tif").unlink()  # an older rain-flow folder without the terrain
    with pytest.raises(DataNotFoundError, match="terrain"):
        load_rainflow(rf_dir)
    terrain = write_cog(two_pits.terrain, tmp_path / "dem.tif", units="m", source="test")
    res = cloudburst(rf_dir, 350.0, terrain=terrain, scenario="2100, T100")
    mem = cloudburst(two_pits, 350.0)
    np.testing.assert_array_equal(res.flood_depth.values, mem.flood_depth.values)
    np.testing.assert_allclose(res.state["stored_m3"], mem.state["stored_m3"])
    shutil.copy(terrain, rf_dir / "terrain.tif")  # a folder with its terrain needs none
    assert load_rainflow(rf_dir).terrain.shape == TWO_PITS.shape

    files = write_cloudburst(res, tmp_path / "out")
    assert set(files) == {"flood_depth", "bluespot_state"}
    with rasterio.open(files["flood_depth"]) as src:
        tags = src.tags()
        assert src.dtypes[0] == "float32"
        np.testing.assert_array_equal(src.read(1), res.flood_depth.values)
    assert tags["rain_mm"] == "350" and tags["runoff"] == "1" and tags["sewer_mm"] == "0"
    assert tags["scenario"] == "2100, T100" and tags["rainflow"] == str(rf_dir)
    assert tags["units"] == "m"
    layers = {name for name, _ in pyogrio.list_layers(files["bluespot_state"])}
    assert layers == {"bluespots", "flooded_areas", "spill_paths"}
    state = pyogrio.read_dataframe(files["bluespot_state"], layer="bluespots")
    assert set(STATE_FIELDS) <= set(state.columns)
    assert {"incoming_m3", "own_runoff_m3", "inflow_m3", "stored_m3", "spilled_m3"} <= set(
        state.columns
    )
    np.testing.assert_allclose(state["stored_m3"], [2.0, 3.25])
    paths = pyogrio.read_dataframe(files["bluespot_state"], layer="spill_paths")
    assert paths["spilled_m3"].tolist() == pytest.approx([0.1])
    # an empty event still writes every layer
    files0 = write_cloudburst(cloudburst(two_pits, 0.0), tmp_path / "zero")
    assert len(pyogrio.list_layers(files0["bluespot_state"])) == 3


def test_terrain_that_does_not_fit(two_pits: Rainflow, rf_dir: Path, make_dem: MakeDem) -> None:
    other = TWO_PITS.copy()
    other[2, 4] = 0.0  # deeper pit: bluespot volumes no longer match the table
    with pytest.raises(InputError, match="terrain"):
        cloudburst(rf_dir, 10.0, terrain=make_dem(other, cell=1.0))
    with pytest.raises(GridMismatchError):
        cloudburst(rf_dir, 10.0, terrain=make_dem(TWO_PITS, cell=2.0))
    with pytest.raises(DataNotFoundError, match="rain-flow folder"):
        load_rainflow(rf_dir.parent / "nothing")


def test_bad_parameters(two_pits: Rainflow, make_dem: MakeDem) -> None:
    with pytest.raises(ParameterError, match="rain_mm"):
        cloudburst(two_pits, -5.0)
    with pytest.raises(ParameterError, match="rain_mm"):
        cloudburst(two_pits, float("nan"))
    with pytest.raises(ParameterError, match=r"0\.\.1"):
        cloudburst(two_pits, 10.0, runoff=1.5)
    with pytest.raises(ParameterError, match="sewer_mm"):
        cloudburst(two_pits, 10.0, sewer_mm=-1.0)
    with pytest.raises(ParameterError, match="depth_classes"):
        cloudburst(two_pits, 10.0, depth_classes=(0.2, 0.1))
    with pytest.raises(GridMismatchError):
        cloudburst(two_pits, 10.0, runoff=make_dem(np.ones((5, 9)), cell=2.0))
    with pytest.raises(ParameterError, match=r"0\.\.1"):
        cloudburst(two_pits, 10.0, runoff=two_pits.filled.copy(data=np.full((5, 9), 2.0)))
    holes = np.ones((5, 9))
    holes[2, 2] = np.nan
    with pytest.raises(NoDataError):
        cloudburst(two_pits, 10.0, runoff=two_pits.filled.copy(data=holes))


# --------------------------------------------------------------------------- CLI


def _cli() -> typer.Typer:
    app = typer.Typer()
    register(app)

    @app.command("noop")
    def _noop() -> None:  # a second command keeps typer from flattening the app
        pass

    return app


def test_cli_writes_products(two_pits: Rainflow, rf_dir: Path, tmp_path: Path) -> None:
    dem = write_cog(two_pits.terrain, tmp_path / "dem.tif", units="m", source="test")
    coeff = write_cog(
        two_pits.filled.copy(data=np.full((5, 9), 0.5, dtype=np.float32)),
        tmp_path / "c.tif",
        units="fraction",
        source="test",
    )
    runner = CliRunner()
    out = tmp_path / "cb"
    args = ["cloudburst", "--rainflow", str(rf_dir), "--dem", str(dem), "--out", str(out)]
    res = runner.invoke(_cli(), [*args, "--rain-mm", "700", "--runoff-raster", str(coeff)])
    assert res.exit_code == 0, res.output
    assert "bluespot_state.gpkg" in res.output
    state = pyogrio.read_dataframe(out / "bluespot_state.gpkg", layer="bluespots")
    np.testing.assert_allclose(state["own_runoff_m3"], [6 * 0.35, 9 * 0.35])
    with rasterio.open(out / "flood_depth.tif") as src:
        assert src.tags()["runoff"].startswith("raster")
    # the scenario's design rain when no depth is given
    res = runner.invoke(_cli(), [*args, "--scenario", "2100", "--return-period", "100"])
    assert res.exit_code == 0, res.output
    with rasterio.open(out / "flood_depth.tif") as src:
        tags = src.tags()
    assert tags["scenario"].startswith("2100, T100") and float(tags["rain_mm"]) > 30


@pytest.mark.parametrize(
    ("extra", "error"),
    [
        (["--rain-mm", "-1"], ParameterError),
        (["--rain-mm", "10", "--runoff", "1.2"], ParameterError),
        (["--rain-mm", "10", "--runoff", "0.5", "--runoff-raster", "x.tif"], ParameterError),
        ([], ParameterError),
    ],
)
def test_cli_errors(rf_dir: Path, tmp_path: Path, extra: list[str], error: type) -> None:
    shutil.copy(rf_dir / "filled.tif", rf_dir / "terrain.tif")  # grid only; fails earlier
    args = ["cloudburst", "--rainflow", str(rf_dir), "--out", str(tmp_path / "o"), *extra]
    res = CliRunner().invoke(_cli(), args)
    assert res.exit_code != 0
    assert isinstance(res.exception, error), res.exception
