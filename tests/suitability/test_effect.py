"""Modelled cloudburst effect of sites, checked against full cloudburst reruns."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import geopandas as gpd
import numpy as np
import pytest
import xarray as xr
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.geometry import box

from klimakort.core.d8codes import NODATA
from klimakort.core.watersheds import trace_flow_path
from klimakort.errors import CRSError, GridMismatchError, ParameterError
from klimakort.hazards.cloudburst import cloudburst, route_event
from klimakort.hydro.rainflow import Rainflow, rainflow
from klimakort.suitability.effect import EFFECT_COLUMNS, add_cloudburst_effect, cloudburst_effect
from klimakort.suitability.profiles import Benefits

MakeDem = Callable[..., xr.DataArray]
X0, Y0, CELL = 700_000.0, 6_170_000.0, 2.0
EST = {"unit": "m", "source": "test"}


def _benefits(depth: tuple[float, float, float] | None, after: float | None) -> Benefits:
    ret = (
        None if depth is None else dict(zip(("low", "central", "high"), depth, strict=True), **EST)
    )
    return Benefits.model_validate({"retention_depth_m": ret, "runoff_coefficient_after": after})


def _sites(blocks: list[tuple[int, int, int, int]]) -> gpd.GeoDataFrame:
    geoms = [
        box(X0 + c0 * CELL, Y0 - (r0 + h) * CELL, X0 + (c0 + w) * CELL, Y0 - r0 * CELL)
        for r0, c0, h, w in blocks
    ]
    return gpd.GeoDataFrame({"site_id": range(1, len(geoms) + 1)}, geometry=geoms, crs="EPSG:25832")


def _through(rf: Rainflow, r0: int, c0: int, h: int, w: int) -> np.ndarray:
    """Cells whose water passes the block before it stops in a bluespot (walk per cell)."""
    fd = np.asarray(rf.flowdir.values)
    stop = np.asarray(rf.bluespots.values) > 0
    out = np.zeros(fd.shape, dtype=bool)
    none = np.zeros(fd.shape, dtype=np.int32)
    for r, c in zip(*np.nonzero(fd != NODATA), strict=True):
        for rr, cc in trace_flow_path(fd, none, int(r), int(c)).tolist():
            if r0 <= rr < r0 + h and c0 <= cc < c0 + w:
                out[r, c] = True
                break
            if stop[rr, cc]:
                break
    return out


def _flooded_m2(res: Any, threshold: float) -> float:
    return float(np.count_nonzero(np.nan_to_num(res.flood_depth.values) >= threshold)) * CELL**2


@st.composite
def cases(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, tuple[int, int, int, int], float]:
    ny, nx = draw(st.integers(5, 12)), draw(st.integers(5, 12))
    rng = np.random.default_rng(draw(st.integers(0, 2**31 - 1)))
    z = rng.integers(0, 6, size=(ny, nx)) + rng.random((ny, nx)) * 0.5
    if draw(st.booleans()):
        z[0, : nx // 2] = np.nan
    coeff = 0.2 + 0.7 * rng.random((ny, nx))
    r0, c0 = int(rng.integers(0, ny - 1)), int(rng.integers(0, nx - 1))
    block = (r0, c0, int(rng.integers(1, min(4, ny - r0) + 1)), int(rng.integers(1, 4)))
    block = (block[0], block[1], block[2], min(block[3], nx - c0))
    return z, coeff, block, draw(st.sampled_from([20.0, 60.0, 150.0]))


def _setup(
    make_dem: MakeDem, z: np.ndarray, coeff: np.ndarray, rain: float
) -> tuple[Rainflow, xr.DataArray, Any]:
    rf = rainflow(make_dem(z, cell=CELL, x0=X0, y0=Y0))
    c = rf.filled.copy(data=np.where(np.isfinite(z), coeff, np.nan))
    return rf, c, route_event(rf, rain, runoff=c, sewer_mm=5.0)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(cases())
def test_a_site_that_holds_everything_equals_a_rerun_without_its_catchment(
    make_dem: MakeDem, case: tuple[np.ndarray, np.ndarray, tuple[int, int, int, int], float]
) -> None:
    z, coeff, block, rain = case
    rf, c, ev = _setup(make_dem, z, coeff, rain)
    eff = cloudburst_effect(_sites([block]), ev, rf.flowdir, _benefits((1e6, 1e6, 1e6), None))
    today = cloudburst(rf, rain, runoff=c, sewer_mm=5.0)
    caught = _through(rf, *block)
    after = cloudburst(rf, rain, runoff=c.where(~caught | np.isnan(c), 0.0), sewer_mm=5.0)
    row = eff.iloc[0]
    mb0, mb1 = today.mass_balance, after.mass_balance
    assert row.cb_runoff_removed_m3 == pytest.approx(mb0["runoff_m3"] - mb1["runoff_m3"], abs=1e-9)
    assert row.cb_water_reaching_m3 == pytest.approx(row.cb_runoff_removed_m3, abs=1e-9)
    assert row.cb_flood_volume_removed_m3 == pytest.approx(
        mb0["stored_m3"] - mb1["stored_m3"], abs=1e-9
    )
    assert row.cb_outflow_removed_m3 == pytest.approx(
        mb0["left_area_m3"] - mb1["left_area_m3"], abs=1e-9
    )
    assert row.cb_flooded_area_removed_m2 == pytest.approx(
        _flooded_m2(today, 0.1) - _flooded_m2(after, 0.1)
    )


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(cases(), st.sampled_from([0.0, 0.1, 0.5]))
def test_a_site_without_storage_equals_a_rerun_with_its_new_coefficient(
    make_dem: MakeDem,
    case: tuple[np.ndarray, np.ndarray, tuple[int, int, int, int], float],
    after_c: float,
) -> None:
    z, coeff, block, rain = case
    rf, c, ev = _setup(make_dem, z, coeff, rain)
    eff = cloudburst_effect(_sites([block]), ev, rf.flowdir, _benefits(None, after_c))
    r0, c0, h, w = block
    site = np.zeros(z.shape, dtype=bool)
    site[r0 : r0 + h, c0 : c0 + w] = True
    changed = c.where(~site, np.minimum(c, after_c))
    today = cloudburst(rf, rain, runoff=c, sewer_mm=5.0)
    after = cloudburst(rf, rain, runoff=changed, sewer_mm=5.0)
    row = eff.iloc[0]
    assert row.cb_capacity_m3 == 0
    assert row.cb_flood_volume_removed_m3 == pytest.approx(
        today.mass_balance["stored_m3"] - after.mass_balance["stored_m3"], abs=1e-9
    )
    assert row.cb_flooded_area_removed_m2 == pytest.approx(
        _flooded_m2(today, 0.1) - _flooded_m2(after, 0.1)
    )


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(cases(), st.floats(0.0, 0.5), st.sampled_from([None, 0.0, 0.3]))
def test_mass_balance_and_bounds(
    make_dem: MakeDem,
    case: tuple[np.ndarray, np.ndarray, tuple[int, int, int, int], float],
    depth: float,
    after_c: float | None,
) -> None:
    z, coeff, block, rain = case
    rf, _, ev = _setup(make_dem, z, coeff, rain)
    r0, c0, h, _ = block
    blocks = [block, ((r0 + h) % z.shape[0], c0, 1, 1)]
    if blocks[1][0] in range(r0, r0 + h):
        blocks = blocks[:1]
    bens = _benefits((depth / 2, depth, 2 * depth), after_c)
    eff = cloudburst_effect(_sites(blocks), ev, rf.flowdir, bens)
    tol = 1e-9
    removed = eff.cb_flood_volume_removed_m3 + eff.cb_outflow_removed_m3
    np.testing.assert_allclose(eff.cb_runoff_removed_m3, removed, atol=1e-8)
    assert (eff.cb_flood_volume_removed_m3 >= -tol).all()
    assert (eff.cb_outflow_removed_m3 >= -tol).all()
    assert (eff.cb_runoff_removed_m3 <= eff.cb_water_reaching_m3 + tol).all()
    assert (eff.cb_flood_volume_removed_m3_low <= eff.cb_flood_volume_removed_m3 + tol).all()
    assert (eff.cb_flood_volume_removed_m3 <= eff.cb_flood_volume_removed_m3_high + tol).all()
    assert (eff.cb_flooded_area_removed_m2 >= 0).all()
    if after_c is None:  # only the storage acts
        assert (eff.cb_runoff_removed_m3 <= eff.cb_capacity_m3 + tol).all()


def test_site_whose_water_runs_straight_out_removes_no_flooding(make_dem: MakeDem) -> None:
    z = np.full((5, 9), 10.0)
    z[2] = [10, 10, 2, 4, 1, 1.5, 3, 0.5, 0]  # two pits; columns 6-8 drain to the edge
    rf, _, ev = _setup(make_dem, z, np.full(z.shape, 1.0), 100.0)
    eff = cloudburst_effect(
        _sites([(2, 7, 1, 1), (2, 2, 1, 1)]), ev, rf.flowdir, _benefits((1.0, 1.0, 1.0), None)
    )
    out, pit = eff.iloc[0], eff.iloc[1]
    assert out.cb_flood_volume_removed_m3 == 0 and out.cb_outflow_removed_m3 > 0
    assert out.cb_bluespots_relieved == 0
    assert pit.cb_flood_volume_removed_m3 > 0 and pit.cb_bluespots_relieved >= 1


def test_errors_and_empty(make_dem: MakeDem) -> None:
    z = np.full((5, 9), 10.0)
    z[2] = [10, 10, 2, 4, 1, 1.5, 3, 0.5, 0]
    rf, _, ev = _setup(make_dem, z, np.full(z.shape, 1.0), 100.0)
    bens = _benefits((0.1, 0.2, 0.3), None)
    empty = cloudburst_effect(_sites([]), ev, rf.flowdir, bens)
    assert list(empty.columns) == list(EFFECT_COLUMNS) and len(empty) == 0
    other = make_dem(np.zeros((5, 10)), cell=CELL, x0=X0, y0=Y0).astype("uint8")
    with pytest.raises(GridMismatchError):
        cloudburst_effect(_sites([(2, 2, 1, 1)]), ev, other, bens)
    with pytest.raises(CRSError, match="the sites"):
        cloudburst_effect(_sites([(2, 2, 1, 1)]).to_crs(4326), ev, rf.flowdir, bens)
    with pytest.raises(ParameterError, match="depth_threshold_m"):
        cloudburst_effect(_sites([(2, 2, 1, 1)]), ev, rf.flowdir, bens, depth_threshold_m=0)


def test_effect_goes_into_every_explanation(make_dem: MakeDem) -> None:
    z = np.full((5, 9), 10.0)
    z[2] = [10, 10, 2, 4, 1, 1.5, 3, 0.5, 0]
    rf, _, ev = _setup(make_dem, z, np.full(z.shape, 1.0), 100.0)
    sites = _sites([(2, 2, 1, 1), (2, 4, 1, 2)])
    sites["explanation"] = [json.dumps({"site_id": i}) for i in (1, 2)]
    eff = cloudburst_effect(sites, ev, rf.flowdir, _benefits((0.1, 0.2, 0.3), 0.1))
    out = add_cloudburst_effect(sites, eff, {"rain_mm": 100.0})
    for (_, row), (_, e) in zip(out.iterrows(), eff.iterrows(), strict=True):
        doc = json.loads(row.explanation)
        got = doc["cloudburst_effect"]
        assert got["assumptions"] == {"rain_mm": 100.0}
        assert got["cb_flood_volume_removed_m3"] == pytest.approx(
            e.cb_flood_volume_removed_m3, abs=1e-3
        )
        assert row.cb_runoff_removed_m3 == e.cb_runoff_removed_m3
