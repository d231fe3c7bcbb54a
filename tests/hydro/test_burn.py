"""Tests of burning buildings, barriers and streams into a DEM (klimakort.hydro.burn)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, cast

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
import xarray as xr
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from klimakort.errors import CRSError, GeometryError, InputError, ParameterError
from klimakort.hydro.burn import burn_barriers, burn_buildings, burn_streams

MakeDem = Callable[..., xr.DataArray]
CELL = 1.6
X0, Y0 = 700_000.0, 6_170_000.0
NY, NX = 12, 15


def gdf(
    geoms: Sequence[shapely.Geometry | None], crs: str | None = "EPSG:25832", **cols: list
) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(cols, geometry=geoms, crs=crs)


def cell_centres() -> tuple[np.ndarray, np.ndarray]:
    xs = X0 + CELL * (np.arange(NX) + 0.5)
    ys = Y0 - CELL * (np.arange(NY) + 0.5)
    return np.meshgrid(xs, ys)


def cell_boxes() -> np.ndarray:
    rr, cc = np.mgrid[0:NY, 0:NX]
    return shapely.box(X0 + CELL * cc, Y0 - CELL * (rr + 1), X0 + CELL * (cc + 1), Y0 - CELL * rr)


def at(col: float, row: float) -> tuple[float, float]:
    """Map coordinates of a point given in (fractional) grid units."""
    return X0 + CELL * col, Y0 - CELL * row


@pytest.fixture
def dem(make_dem: MakeDem) -> xr.DataArray:
    rng = np.random.default_rng(7)
    values = rng.uniform(0.0, 10.0, (NY, NX)).astype(np.float32)
    values[0, 0] = np.nan
    out = make_dem(values, cell=CELL, x0=X0, y0=Y0)
    out.attrs["units"] = "m"
    return out


# ----------------------------------------------------------------- buildings


def test_buildings_raised_by_exactly_raise_m_inside_footprints(dem: xr.DataArray) -> None:
    house = shapely.Polygon([at(2.2, 1.3), at(6.7, 1.1), at(7.1, 5.4), at(1.9, 4.8)])
    shed = shapely.box(*at(9.3, 8.7), *at(12.6, 6.4))  # no centre on an edge
    overlap = shapely.box(*at(3.0, 4.0), *at(5.0, 2.0))  # inside the house: no double raise
    out = burn_buildings(dem, gdf([house, shed, overlap]))
    xc, yc = cell_centres()
    inside = shapely.contains_xy(house, xc, yc) | shapely.contains_xy(shed, xc, yc)
    inside |= shapely.contains_xy(overlap, xc, yc)
    assert inside.sum() > 10
    v = dem.values
    np.testing.assert_array_equal(out.values[inside], v[inside] + np.float32(10.0))
    np.testing.assert_array_equal(out.values[~inside], v[~inside])
    assert out.dtype == dem.dtype
    assert out.attrs["burnt_layers"] == "buildings"
    assert out.attrs["burn_buildings_features"] == 3
    assert out.attrs["burn_buildings_cells"] == int(inside.sum())
    assert out.attrs["units"] == "m"
    assert "burnt_layers" not in dem.attrs  # input untouched


def test_buildings_keep_grid_metadata_and_nodata(make_dem: MakeDem) -> None:
    values = np.full((NY, NX), 5.0, dtype=np.float32)
    values[3, 3] = -9999.0
    dem = make_dem(values, cell=CELL, x0=X0, y0=Y0, nodata=-9999.0)
    out = burn_buildings(dem, gdf([shapely.box(*at(1, 6), *at(6, 1))]), raise_m=2.5)
    assert out.values[3, 3] == -9999.0
    assert out.values[2, 2] == 7.5
    assert out.rio.crs == dem.rio.crs
    assert out.rio.transform() == dem.rio.transform()
    assert out.rio.nodata == -9999.0
    np.testing.assert_array_equal(out.x, dem.x)
    np.testing.assert_array_equal(out.y, dem.y)


def test_buildings_errors(dem: xr.DataArray) -> None:
    box = shapely.box(*at(1, 6), *at(6, 1))
    with pytest.raises(CRSError, match="reproject"):
        burn_buildings(dem, gdf([box], crs="EPSG:25833"))
    with pytest.raises(CRSError, match="no CRS"):
        burn_buildings(dem, gdf([box], crs=None))
    bowtie = shapely.Polygon([at(1, 1), at(4, 4), at(4, 1), at(1, 4)])
    layer = gdf([box, bowtie]).set_index(pd.Index(["a", "b7"]))
    with pytest.raises(GeometryError, match="b7"):
        burn_buildings(dem, layer)
    with pytest.raises(GeometryError, match="Polygon"):
        burn_buildings(dem, gdf([shapely.LineString([at(1, 1), at(4, 4)])]))
    with pytest.raises(ParameterError):
        burn_buildings(dem, gdf([box]), raise_m=-1.0)
    with pytest.raises(CRSError):
        burn_buildings(dem.rio.write_crs("EPSG:4326"), gdf([box], crs="EPSG:4326"))


def test_buildings_skip_missing_geometries(dem: xr.DataArray) -> None:
    out = burn_buildings(dem, gdf([None, shapely.Polygon()]))
    valid = ~np.isnan(dem.values)
    np.testing.assert_array_equal(out.values[valid], dem.values[valid])
    assert out.attrs["burn_buildings_skipped"] == 2
    assert out.attrs["burn_buildings_cells"] == 0


# ----------------------------------------------------------------- barriers


def test_barrier_cells_become_max_of_terrain_and_crest(dem: xr.DataArray) -> None:
    dike = shapely.LineString([at(0.3, 5.2), at(7.6, 6.1), at(14.2, 2.7)])
    wall = shapely.LineString([at(4.3, 0.4), at(4.6, 11.3)])  # crosses the dike
    out = burn_barriers(dem, gdf([dike, wall], crest_m=[6.0, 8.5]))
    boxes = cell_boxes()
    on_dike = shapely.intersects(boxes, dike)
    on_wall = shapely.intersects(boxes, wall)
    crest = np.where(on_wall, 8.5, np.where(on_dike, 6.0, -np.inf)).astype(np.float32)
    v = dem.values
    expected = np.where(on_dike | on_wall, np.maximum(v, crest), v)
    np.testing.assert_array_equal(out.values, expected)
    with np.errstate(invalid="ignore"):
        assert not (out.values < v).any()  # never lowered
    assert out.attrs["burn_barriers_features"] == 2


def test_barrier_width_and_combination(dem: xr.DataArray) -> None:
    dike = shapely.LineString([at(0.2, 6.0), at(14.8, 6.0)])
    out = burn_barriers(dem, gdf([dike], top=[20.0]), crest_field="top", width_m=3 * CELL)
    rows = np.nonzero((out.values == 20.0).all(axis=1))[0]
    assert rows.tolist() == [4, 5, 6, 7]  # 1.5 cells either side of a grid line
    both = burn_buildings(out, gdf([shapely.box(*at(1, 3), *at(3, 1))]))
    assert both.attrs["burnt_layers"] == "barriers;buildings"
    assert both.attrs["burn_barriers_cells"] == out.attrs["burn_barriers_cells"]


def test_barrier_errors(dem: xr.DataArray) -> None:
    line = shapely.LineString([at(1, 1), at(5, 5)])
    with pytest.raises(InputError, match="crest_m"):
        burn_barriers(dem, gdf([line], height=[3.0]))
    with pytest.raises(InputError, match="non-finite"):
        burn_barriers(dem, gdf([line, line], crest_m=[3.0, np.nan]))
    with pytest.raises(ParameterError, match="width_m"):
        burn_barriers(dem, gdf([line], crest_m=[3.0]), width_m=0.0)
    with pytest.raises(CRSError):
        burn_barriers(dem, gdf([line], crs="EPSG:3857", crest_m=[3.0]))
    with pytest.raises(GeometryError, match="LineString"):
        burn_barriers(dem, gdf([shapely.box(*at(1, 6), *at(6, 1))], crest_m=[3.0]))


# ----------------------------------------------------------------- streams


def test_streams_lowered_by_depth_on_touched_cells(dem: xr.DataArray) -> None:
    stream = shapely.LineString([at(0.4, 2.3), at(6.2, 9.6), at(14.5, 10.2)])
    out = burn_streams(dem, gdf([stream]), depth_m=0.5)
    touched = shapely.intersects(cell_boxes(), stream)
    v = dem.values
    np.testing.assert_array_equal(out.values[touched], v[touched] - np.float32(0.5))
    np.testing.assert_array_equal(out.values[~touched], v[~touched])


def line_profile(line: shapely.LineString, values: np.ndarray) -> np.ndarray:
    """Heights of the cells met when walking the line in fine steps (upstream first)."""
    dist = np.arange(0.0, line.length, CELL / 50)
    pts = shapely.line_interpolate_point(line, dist)
    x, y = shapely.get_x(pts), shapely.get_y(pts)
    col = np.floor((x - X0) / CELL).astype(int)
    row = np.floor((Y0 - y) / CELL).astype(int)
    ok = (row >= 0) & (row < NY) & (col >= 0) & (col < NX)
    z = values[row[ok], col[ok]]
    return z[~np.isnan(z)]


def test_carve_cuts_an_embankment(make_dem: MakeDem) -> None:
    # a valley sloping east with a road embankment across it at column 7
    values = np.tile(np.linspace(10.0, 3.0, NX, dtype=np.float32), (NY, 1))
    values[:, 7] = 12.0
    dem = make_dem(values, cell=CELL, x0=X0, y0=Y0)
    culvert = shapely.LineString([at(0.5, 5.5), at(14.5, 5.5)])
    out = burn_streams(dem, gdf([culvert]), depth_m="carve")
    prof = out.values[5]
    assert (np.diff(prof) <= 0).all()
    assert prof[7] == values[5, 6]  # cut down to the level just upstream
    np.testing.assert_array_equal(np.delete(out.values, 5, axis=0), np.delete(values, 5, axis=0))
    assert out.attrs["burn_streams_cells"] == 1
    # drawn against the flow: "line" carves uphill (flattening it), "auto" finds the way
    reverse = shapely.LineString([at(14.5, 5.5), at(0.5, 5.5)])
    flat = burn_streams(dem, gdf([reverse]), depth_m="carve")
    assert (flat.values[5] == values[5, -1]).all()
    auto = burn_streams(dem, gdf([reverse]), depth_m="carve", direction="auto")
    np.testing.assert_array_equal(auto.values, out.values)


def off_grid(lo: int, hi: int) -> st.SearchStrategy[float]:
    """Grid-unit coordinates at least 0.03 cells away from cell edges.

    A line lying exactly on a cell edge has no well-defined cells "under" it, and the
    map <-> grid round trip could put the test's and the code's cell on either side.
    """
    return st.integers(7 * lo, 7 * hi).map(lambda k: k / 7 + 0.031)


@settings(
    deadline=None, max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.integers(0, 2**32 - 1),
    st.lists(
        st.lists(st.tuples(off_grid(-1, NX + 1), off_grid(-1, NY + 1)), min_size=2, max_size=4),
        min_size=1,
        max_size=3,
    ),
)
def test_carve_profiles_never_rise_downstream(
    make_dem: MakeDem, seed: int, lines: list[list[tuple[float, float]]]
) -> None:
    rng = np.random.default_rng(seed)
    values = rng.uniform(0.0, 10.0, (NY, NX)).astype(np.float32)
    values[rng.random((NY, NX)) < 0.05] = np.nan
    dem = make_dem(values, cell=CELL, x0=X0, y0=Y0)
    geoms = [shapely.LineString([at(c, r) for c, r in pts]) for pts in lines]
    geoms = [g for g in geoms if g.length > 0]
    assume(geoms)
    out = burn_streams(dem, gdf(geoms), depth_m="carve")
    res = out.values
    for g in geoms:
        prof = line_profile(g, res)
        assert (np.diff(prof) <= 0).all()
    # A line through an exact cell corner may be walked through either side cell; which
    # one depends on rounding in the map -> grid conversion, so cells within 1 µm of the
    # line count as touched.
    touched = shapely.dwithin(cell_boxes(), shapely.union_all(geoms), 1e-6)
    with np.errstate(invalid="ignore"):
        assert not (res > values).any()
    np.testing.assert_array_equal(res[~touched], values[~touched])
    np.testing.assert_array_equal(np.isnan(res), np.isnan(values))


def test_streams_errors(dem: xr.DataArray) -> None:
    line = shapely.LineString([at(1, 1), at(5, 5)])
    with pytest.raises(ParameterError):
        burn_streams(dem, gdf([line]), depth_m=cast(Any, "deep"))
    with pytest.raises(ParameterError):
        burn_streams(dem, gdf([line]), depth_m=-0.5)
    with pytest.raises(ParameterError):
        burn_streams(dem, gdf([line]), depth_m="carve", direction=cast(Any, "up"))
    with pytest.raises(CRSError):
        burn_streams(dem, gdf([line], crs="EPSG:25833"))
    degenerate = shapely.LineString([at(1, 1), at(1, 1)])
    with pytest.raises(GeometryError, match=r"ids \[12\]"):
        burn_streams(dem, gpd.GeoSeries([line, degenerate], index=[11, 12], crs="EPSG:25832"))
    ring = shapely.LinearRing([at(1, 1), at(5, 1), at(5, 5)])
    with pytest.raises(GeometryError, match="LinearRing"):
        burn_streams(dem, gpd.GeoSeries([ring], crs="EPSG:25832"))
    with pytest.raises(InputError, match="float"):
        burn_streams(dem.fillna(0).astype(np.int16), gdf([line]))
