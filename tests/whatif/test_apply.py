"""Edits applied on the terrain grid: exact cells, exact heights, the input untouched."""

from __future__ import annotations

from collections.abc import Callable

import geopandas as gpd
import numpy as np
import pytest
import shapely
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st

from klimakort.errors import GeometryError
from klimakort.whatif.apply import apply_edits, edit_mask
from klimakort.whatif.edits import Edit

CELL, X0, Y0 = 10.0, 700_000.0, 6_170_000.0


def xy(col: float, row: float) -> tuple[float, float]:
    """Map coordinates of a position in cell units (col, row from the top-left corner)."""
    return (X0 + col * CELL, Y0 - row * CELL)


@pytest.fixture
def dem(make_dem: Callable[..., xr.DataArray]) -> xr.DataArray:
    rng = np.random.default_rng(1)
    z = np.round(rng.uniform(1.0, 3.0, (20, 30)), 3)
    z[0, 0] = np.nan
    return make_dem(z, cell=CELL, x0=X0, y0=Y0)


def test_raise_to_lifts_the_cells_under_a_line_and_never_lowers(dem: xr.DataArray) -> None:
    line = shapely.LineString([xy(2.5, 5.5), xy(20.5, 5.5)])
    out = apply_edits(dem, [Edit("raise_to", line, {"level_m": 2.5}, edit_id="E1")])
    z0, z1 = dem.values, out.terrain.values
    assert np.array_equal(z1[5, 2:21], np.maximum(z0[5, 2:21], np.float32(2.5)))
    rest = np.ones(z0.shape, bool)
    rest[5, 2:21] = False
    assert np.array_equal(z1[rest], z0[rest], equal_nan=True)
    assert np.array_equal(out.footprint, (z1 != z0) & np.isfinite(z0))
    assert out.summary[0]["cells"] == int(out.footprint.sum())
    assert np.isnan(dem.values[0, 0]) and np.isnan(z1[0, 0])  # nodata stays nodata


def test_polygons_take_cell_centres_and_a_basin_volume_is_exact(dem: xr.DataArray) -> None:
    box = shapely.box(*xy(3.2, 9.8), *xy(6.8, 6.2))  # centres of cols 3..6, rows 6..9
    out = apply_edits(dem, [Edit("basin", box, {"volume_m3": 1200.0}, edit_id="B")])
    changed = out.footprint
    rows, cols = np.nonzero(changed)
    assert set(rows) == {6, 7, 8, 9} and set(cols) == {3, 4, 5, 6}
    removed = float(np.sum((dem.values - out.terrain.values)[changed], dtype=np.float64))
    assert removed * CELL * CELL == pytest.approx(1200.0, rel=1e-5)
    assert out.summary[0]["volume_m3"] == pytest.approx(-1200.0, rel=1e-5)


def test_raise_by_and_lower_by_with_a_width(dem: xr.DataArray) -> None:
    line = shapely.LineString([xy(5.0, 12.5), xy(15.0, 12.5)])
    up = apply_edits(dem, [Edit("raise_by", line, {"height_m": 1.0, "width_m": 25.0})])
    rows = np.unique(np.nonzero(up.footprint)[0])
    assert rows.tolist() == [11, 12, 13]  # 25 m wide: one cell either side
    d = (up.terrain.values - dem.values)[up.footprint]
    assert np.allclose(d, 1.0, atol=1e-5)
    down = apply_edits(dem, [Edit("lower_by", line, {"depth_m": 0.3})])
    assert np.allclose((dem.values - down.terrain.values)[down.footprint], 0.3, atol=1e-5)


def test_a_connecting_culvert_opens_a_monotone_path(
    make_dem: Callable[..., xr.DataArray],
) -> None:
    z = np.full((5, 12), 2.0, dtype=np.float32)
    z[:, 5:7] = 4.0  # an embankment
    z[2, 0], z[2, 11] = 1.5, 1.0
    dem = make_dem(z, cell=CELL, x0=X0, y0=Y0)
    line = shapely.LineString([xy(0.5, 2.5), xy(11.5, 2.5)])
    out = apply_edits(dem, [Edit("culvert", line, {})]).terrain.values[2]
    assert out.max() <= 2.0  # the embankment is cut
    assert np.all(np.diff(out) <= 0)  # never rises towards the low end


def test_a_culvert_with_inverts_follows_them(make_dem: Callable[..., xr.DataArray]) -> None:
    dem = make_dem(np.full((5, 11), 5.0), cell=CELL, x0=X0, y0=Y0)
    line = shapely.LineString([xy(0.5, 2.5), xy(10.5, 2.5)])
    edit = Edit("culvert", line, {"invert_start_m": 3.0, "invert_end_m": 2.0})
    out = apply_edits(dem, [edit]).terrain.values
    assert np.allclose(out[2], np.linspace(3.0, 2.0, 11), atol=1e-5)
    assert np.all(out[[0, 1, 3, 4]] == 5.0)


def test_remove_building_takes_the_touched_footprints_out(dem: xr.DataArray) -> None:
    b = gpd.GeoDataFrame(
        geometry=[shapely.box(*xy(2, 4), *xy(4, 2)), shapely.box(*xy(10, 4), *xy(12, 2))],
        index=["B1", "B2"],
        crs=dem.rio.crs,
    )
    out = apply_edits(dem, [Edit("remove_building", shapely.Point(xy(3, 3)), {})], b)
    assert out.removed_buildings == ["B1"] and list(out.buildings.index) == ["B2"]
    assert out.footprint.sum() == 4 and np.array_equal(out.terrain.values, dem.values, True)
    with pytest.raises(GeometryError, match="touches no building"):
        apply_edits(dem, [Edit("remove_building", shapely.Point(xy(20, 15)), {})], b)


def test_an_edit_covering_no_cell_is_refused(dem: xr.DataArray) -> None:
    tiny = shapely.box(*xy(3.1, 3.4), *xy(3.3, 3.2))
    with pytest.raises(GeometryError, match="covers no terrain cell"):
        apply_edits(dem, [Edit("raise_by", tiny, {"height_m": 1.0})])


@settings(max_examples=40, deadline=None)
@given(
    kind=st.sampled_from(["raise_to", "raise_by", "lower_by"]),
    value=st.floats(0.1, 5.0),
    c0=st.floats(0.5, 29.5),
    r0=st.floats(0.5, 19.5),
    c1=st.floats(0.5, 29.5),
    r1=st.floats(0.5, 19.5),
)
def test_edits_change_only_their_cells_in_their_direction(
    kind: str, value: float, c0: float, r0: float, c1: float, r1: float
) -> None:
    rng = np.random.default_rng(3)
    z = rng.uniform(0.0, 4.0, (20, 30)).astype(np.float32)
    xs = X0 + CELL * (np.arange(30) + 0.5)
    ys = Y0 - CELL * (np.arange(20) + 0.5)
    da = xr.DataArray(z, dims=("y", "x"), coords={"y": ys, "x": xs}).rio.write_crs("EPSG:25832")
    line = shapely.LineString([xy(c0, r0), xy(c1 + 0.01, r1)])
    key = {"raise_to": "level_m", "raise_by": "height_m", "lower_by": "depth_m"}[kind]
    edit = Edit(kind, line, {key: value})
    out = apply_edits(da, [edit]).terrain.values
    mask = edit_mask(edit, da)
    assert np.array_equal(out[~mask], z[~mask])
    assert mask.any()
    if kind == "lower_by":
        assert np.all(out[mask] < z[mask])
    else:
        assert np.all(out[mask] >= z[mask])
    assert np.array_equal(da.values, z)  # input untouched
