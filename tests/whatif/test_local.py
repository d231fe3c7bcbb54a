"""The local rain-flow recompute equals the full recompute bit for bit, on the sample
area and on generated terrains and edits; where it cannot be local it falls back."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from unittest import mock

import numpy as np
import pytest
import rasterio
import shapely
import xarray as xr
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rasterio.transform import from_origin

from klimakort.config.area import AreaConfig, RasterRef
from klimakort.hydro.rainflow import Rainflow, rainflow
from klimakort.io.raster import read_raster
from klimakort.io.vector import read_vector
from klimakort.whatif.apply import apply_edits
from klimakort.whatif.edits import Edit, ScenarioEdit, check_scenario_edit
from klimakort.whatif.local import local_rainflow, terminal_basins
from klimakort.whatif.recompute import run_whatif

RASTERS = ("filled", "flowdir", "accumulation", "bluespots", "watersheds")
#: height steps of the generated terrains: 1 mm keeps ties between neighbours rare
STEPS = [0.001, 0.1, 0.25, 0.5]


def assert_same_rainflow(local: Rainflow, full: Rainflow) -> None:
    for name in RASTERS:
        a, b = np.asarray(getattr(local, name).values), np.asarray(getattr(full, name).values)
        assert a.dtype == b.dtype, name
        assert np.array_equal(a, b, equal_nan=True), f"{name} differs in {int((a != b).sum())}"
    ta, tb = local.bluespot_table, full.bluespot_table
    assert list(ta.columns) == list(tb.columns) and len(ta) == len(tb)
    for col in ta.columns:
        if col == "geometry":
            assert shapely.equals(ta.geometry.to_numpy(), tb.geometry.to_numpy()).all()
        else:
            assert np.array_equal(ta[col].to_numpy(), tb[col].to_numpy()), col
    na, nb = local.network, full.network
    assert np.array_equal(na["downstream_id"].to_numpy(), nb["downstream_id"].to_numpy())
    assert shapely.equals(na.geometry.to_numpy(), nb.geometry.to_numpy()).all()
    assert len(local.flowpaths) == len(full.flowpaths)


# ---------------------------------------------------------------------- the sample


def test_a_dike_on_the_sample_is_recomputed_locally_and_equals_the_full_run(
    workspace: Any,
) -> None:
    cfg = workspace.cfg
    barriers = read_vector(cfg.layers["barriers"].path, crs=cfg.crs)
    gap = barriers.loc[barriers["crest_m"].idxmin()].geometry
    se = check_scenario_edit(
        ScenarioEdit("dike", (Edit("raise_to", gap, {"level_m": 2.8, "width_m": 8.0}),))
    )
    local = run_whatif(cfg, workspace.hz, se, scenario="2100")  # the default: auto = local
    full = run_whatif(cfg, workspace.hz, se, scenario="2100", method="full")
    assert local.method == "local", local.notes
    assert full.method == "full"
    assert 0 < float(local.notes["region_share"]) < 0.5
    assert_same_rainflow(local.edited.rainflow, full.edited.rainflow)
    a, b = local.edited.scenarios["2100"], full.edited.scenarios["2100"]
    for name in ("flood_depth",):
        assert np.array_equal(
            getattr(a.cloudburst, name).values, getattr(b.cloudburst, name).values, equal_nan=True
        )
    assert np.array_equal(a.sea.depth.values, b.sea.depth.values, equal_nan=True)
    assert np.array_equal(a.groundwater.depth.values, b.groundwater.depth.values, equal_nan=True)
    sa = a.cloudburst.state.drop(columns="geometry").reset_index(drop=True)
    sb = b.cloudburst.state.drop(columns="geometry").reset_index(drop=True)
    for col in sa.columns:
        assert np.array_equal(sa[col].to_numpy(), sb[col].to_numpy()), col


def test_an_edit_in_the_large_stream_basin_falls_back_to_the_full_run(workspace: Any) -> None:
    x0, y0, _x1, _y1 = workspace.hz.terrain.rio.bounds()
    road = shapely.LineString([(x0 + 1500, y0 + 1800), (x0 + 1900, y0 + 1850)])
    se = check_scenario_edit(ScenarioEdit("road", (Edit("raise_by", road, {"height_m": 1.0}),)))
    run = run_whatif(workspace.cfg, workspace.hz, se, scenario="2100", method="auto")
    assert run.method == "full"
    assert "of the area" in str(run.notes["fallback"])


# ---------------------------------------------------------------------- generated


def _area(tmp: Path, z: np.ndarray) -> tuple[AreaConfig, xr.DataArray]:
    path = tmp / "terrain.tif"
    profile = {
        "driver": "GTiff",
        "height": z.shape[0],
        "width": z.shape[1],
        "count": 1,
        "dtype": "float32",
        "crs": "EPSG:25832",
        "transform": from_origin(700_000.0, 6_170_000.0, 5.0, 5.0),
        "nodata": np.nan,
    }
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(z.astype(np.float32), 1)
    cfg = AreaConfig(name="generated", terrain=RasterRef(path=path))
    return cfg, read_raster(path, expected_crs="EPSG:25832")


@st.composite
def terrains(draw: Any) -> np.ndarray:
    ny, nx = draw(st.integers(12, 28)), draw(st.integers(12, 28))
    seed = draw(st.integers(0, 2**31))
    rng = np.random.default_rng(seed)
    z = rng.uniform(0.0, 3.0, (ny, nx))
    z += np.linspace(0, draw(st.floats(0.0, 3.0)), nx)[None, :]
    step = draw(st.sampled_from(STEPS))
    z = np.round(z / step) * step
    if draw(st.booleans()):
        z[: draw(st.integers(1, 3)), :] = np.nan  # a "sea" along one edge
    return z.astype(np.float32)


def _edit(draw: Any, ny: int, nx: int) -> Edit:
    x0, y0 = 700_000.0, 6_170_000.0
    c = [draw(st.floats(0.5, nx - 0.5)) for _ in range(2)]
    r = [draw(st.floats(0.5, ny - 0.5)) for _ in range(2)]
    pts = [(x0 + 5 * c[i], y0 - 5 * r[i]) for i in range(2)]
    kind = draw(st.sampled_from(["raise_to", "raise_by", "lower_by", "basin"]))
    if kind == "basin":
        (xa, ya), (xb, yb) = pts
        geom = shapely.box(min(xa, xb) - 6, min(ya, yb) - 6, max(xa, xb) + 6, max(ya, yb) + 6)
        return Edit(kind, geom, {"depth_m": draw(st.floats(0.1, 2.0))})
    line = shapely.LineString([pts[0], (pts[1][0] + 0.01, pts[1][1])])
    key = {"raise_to": "level_m", "raise_by": "height_m", "lower_by": "depth_m"}[kind]
    lo = 0.1 if kind != "raise_to" else 0.0
    return Edit(kind, line, {key: draw(st.floats(lo, 5.0))})


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data(), z=terrains())
def test_local_equals_full_on_generated_terrains_and_edits(
    tmp_path: Path, data: st.DataObject, z: np.ndarray
) -> None:
    cfg, dem = _area(tmp_path, z)
    base = rainflow(dem)
    edit = _edit(data.draw, *z.shape)
    try:
        applied = apply_edits(dem, [edit])
    except Exception:  # an edit over nodata only: refused, nothing to compare
        return
    # the share cap is a speed heuristic, not a correctness condition: lift it so that the
    # small generated terrains (a few basins) exercise the local path
    with mock.patch("klimakort.whatif.local.MAX_SHARE", 1.0):
        local, notes = local_rainflow(cfg, applied, base)
    if local is None:
        assert "fallback" in notes
        return
    assert_same_rainflow(local, rainflow(applied.terrain))


def test_terminal_basins_follow_d8_to_the_outlet() -> None:
    # E, E, outlet | a second row flowing W to its own outlet
    fdir = np.array([[1, 1, 0], [0, 16, 16]], dtype=np.uint8)
    basins = terminal_basins(fdir, np.ones(fdir.shape, bool))
    assert basins.tolist() == [[2, 2, 2], [3, 3, 3]]


@pytest.mark.parametrize("share", [0.0])
def test_no_change_returns_the_base(tmp_path: Path, share: float) -> None:
    z = np.random.default_rng(0).uniform(0, 2, (10, 10)).astype(np.float32)
    cfg, dem = _area(tmp_path, z)
    base = rainflow(dem)
    applied = apply_edits(
        dem,
        [Edit("raise_to", shapely.box(700_010, 6_169_960, 700_020, 6_169_970), {"level_m": -5.0})],
    )
    out, notes = local_rainflow(cfg, applied, base)
    assert out is base and notes["region_cells"] == share
