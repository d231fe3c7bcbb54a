"""Tests of head interpolation, depth to groundwater, classes and the real-data validation."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
import typer
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import LineString, MultiLineString, Point, Polygon
from typer.testing import CliRunner

from klimakort.cli.hazards_cmds import register
from klimakort.errors import CRSError, GeometryError, GridMismatchError, InputError, NoDataError
from klimakort.hazards import groundwater as gw

MakeDem = Callable[..., xr.DataArray]
X0, Y0, CELL = 700_000.0, 6_170_000.0, 10.0


def plane_contours(a: float = 0.02, b: float = -0.01, c: float = 5.0) -> gpd.GeoDataFrame:
    """Contours of the plane head = c + a*(x-X0) + b*(Y0-y) over a 200 m x 200 m square."""
    lines, values = [], []
    for h in np.arange(3.0, 9.0, 0.5):
        # head constant along x*a - b*dy = h - c  ->  sample x, solve for y
        xs = np.linspace(X0 - 50, X0 + 250, 40)
        dys = (h - c - a * (xs - X0)) / b
        ys = Y0 - dys
        lines.append(LineString(np.column_stack([xs, ys])))
        values.append(h)
    return gpd.GeoDataFrame({"head": values}, geometry=lines, crs=25832)


def test_linear_tin_reproduces_a_plane_and_flags_the_hull(make_dem: MakeDem) -> None:
    surface = gw.head_surface_from_vector(plane_contours(), "head", spacing=5.0)
    grid = make_dem(np.zeros((20, 20)), cell=CELL, x0=X0, y0=Y0)
    head = surface.to_grid(grid)
    xx, yy = np.meshgrid(grid.x.values, grid.y.values)
    expected = 5.0 + 0.02 * (xx - X0) - 0.01 * (Y0 - yy)
    inside = ~np.isnan(head.values)
    assert inside.mean() > 0.3
    np.testing.assert_allclose(head.values[inside], expected[inside], atol=1e-4)
    # cells outside the data's hull are NaN and counted, never extrapolated
    assert head.attrs["outside_hull_cells"] == int((~inside).sum()) > 0
    np.testing.assert_array_equal(surface.inside_hull(xx, yy), inside)
    assert np.isnan(surface(np.array([X0 + 10_000.0]), np.array([Y0]))[0])


def test_points_and_contours_combine_and_duplicates_average() -> None:
    line = gpd.GeoDataFrame(
        {"h": [1.0, 3.0, np.nan]},
        geometry=[
            LineString([(0, 0), (100, 0)]),
            MultiLineString([[(0, 100), (100, 100)]]),
            LineString([(0, 50), (100, 50)]),
        ],
        crs=25832,
    )
    pts = gpd.GeoDataFrame({"h": [2.5, 1.5]}, geometry=[Point(50, 50), Point(0, 0)], crs=25832)
    xy, head = gw.head_points_from_vector([line, pts], "h", spacing=25.0)
    assert len(xy) == 5 + 5 + 1  # NaN contour dropped, (0, 0) counted once
    at_origin = head[(xy[:, 0] == 0) & (xy[:, 1] == 0)]
    assert at_origin.tolist() == [1.25]
    surface = gw.HeadSurface(xy, head)
    assert surface(np.array([50.0]), np.array([50.0]))[0] == pytest.approx(2.5)


def test_bad_head_inputs_raise() -> None:
    lines = plane_contours()
    with pytest.raises(InputError, match="Vsp"):
        gw.head_points_from_vector(lines, "Vsp_2024")
    poly = gpd.GeoDataFrame(
        {"head": [1.0]}, geometry=[Polygon([(0, 0), (1, 0), (1, 1)])], crs=25832
    )
    with pytest.raises(GeometryError, match="boundary"):
        gw.head_points_from_vector(poly, "head")
    with pytest.raises(CRSError):
        gw.head_points_from_vector(lines.set_crs(None, allow_override=True), "head")
    with pytest.raises(CRSError, match="different"):
        gw.head_points_from_vector([lines, lines.to_crs(25833)], "head")
    with pytest.raises(NoDataError):
        gw.HeadSurface(np.array([[0.0, 0.0], [1.0, 1.0]]), np.array([1.0, 2.0]))
    with pytest.raises(NoDataError, match="collinear"):
        gw.HeadSurface(np.array([[0.0, 0.0], [1.0, 1.0], [2.0, 2.0]]), np.ones(3))


def test_depth_rise_and_classes(make_dem: MakeDem) -> None:
    terrain = np.array([[5.0, 5.0, 5.0, 5.0, 5.0, np.nan]], dtype=np.float32)
    head_vals = np.array([[5.5, 4.5, 3.6, 2.5, 1.0, 2.0]], dtype=np.float32)
    dem = make_dem(terrain)
    head = make_dem(head_vals)
    depth = gw.depth_to_groundwater(dem, head)
    np.testing.assert_allclose(depth.values[0, :5], [-0.5, 0.5, 1.4, 2.5, 4.0], atol=1e-6)
    assert np.isnan(depth.values[0, 5])
    classes = gw.classify_depth(depth)
    assert classes.dtype == np.uint8 and classes.rio.nodata == 0
    assert classes.values[0].tolist() == [1, 1, 2, 3, 4, 0]
    raised = gw.depth_to_groundwater(dem, head, rise=0.5)
    np.testing.assert_allclose(raised.values[0, :5], depth.values[0, :5] - 0.5, atol=1e-6)
    assert gw.classify_depth(raised).values[0].tolist() == [1, 1, 1, 3, 4, 0]
    with pytest.raises(GridMismatchError):
        gw.depth_to_groundwater(dem, make_dem(head_vals, x0=X0 + 5))


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(-5, 20, allow_nan=False), min_size=1, max_size=30))
def test_classes_match_their_bounds(values: list[float]) -> None:
    arr = np.array([values], dtype=np.float32)
    da = xr.DataArray(arr, dims=("y", "x")).rio.write_crs(25832)
    codes = gw.classify_depth(da).values[0]
    for v, code in zip(arr[0], codes, strict=True):
        lo = -np.inf if code == 1 else gw.CLASS_BOUNDS_M[code - 2]
        hi = np.inf if code == 4 else gw.CLASS_BOUNDS_M[code - 1]
        assert lo <= v < hi


def test_groundwater_result_and_command(make_dem: MakeDem, tmp_path: Path) -> None:
    terrain = np.full((20, 20), 9.0, dtype=np.float32)
    dem = make_dem(terrain, cell=CELL, x0=X0, y0=Y0)
    surface = gw.head_surface_from_vector(plane_contours(), "head", spacing=5.0)
    res = gw.groundwater_depth(dem, surface, rise=0.1)
    assert res.outside_hull.sum() == res.head.attrs["outside_hull_cells"] > 0
    assert np.all(res.classes.values[res.outside_hull] == 0)
    ok = ~res.outside_hull
    np.testing.assert_allclose(res.depth.values[ok], 9.0 - res.head.values[ok] - 0.1, atol=1e-5)

    dem_path = tmp_path / "dem.tif"
    dem.rio.to_raster(dem_path)
    contours_path = tmp_path / "contours.gpkg"
    plane_contours().to_file(contours_path)
    app = typer.Typer()
    register(app)
    out = tmp_path / "gw"
    args = [
        "groundwater",
        "--dem",
        str(dem_path),
        "--head",
        str(contours_path),
        "--out",
        str(out),
        "--rise",
        "0.1",
        "--head-field",
        "head",
        "--spacing",
        "5",
    ]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "outside the head data's convex hull" in result.output
    with rasterio.open(out / "depth.tif") as src:
        depth = src.read(1, masked=True)
    np.testing.assert_allclose(depth.filled(np.nan), res.depth.values, atol=1e-5)
    with rasterio.open(out / "classes.tif") as src:
        assert src.nodata == 0
        np.testing.assert_array_equal(src.read(1), res.classes.values)


# --- validation on the real Vallensbæk data --------------------------------------------

#: measured with linear interpolation on 25 m densified contours (see the report)
MEASURED = {
    "mae_observed": 1.125,
    "mae_hip_summer": 1.645,
    "mae_hip_winter": 1.941,
    "agree_summer": 0.110,
    "agree_winter": 0.238,
}


@pytest.fixture(scope="module")
def wells_with_depth(shared_data: Path) -> gpd.GeoDataFrame:
    folder = shared_data / "vallensbaek"
    contours = gpd.read_file(folder / "groundwater_head_contours_2024.geojson")
    wells = gpd.read_file(folder / "groundwater_obs_with_dhm.geojson")
    assert contours.crs.to_epsg() == 25832 and wells.crs.to_epsg() == 25832
    assert set(contours.geom_type) == {"MultiLineString"}  # some of them empty
    surface = gw.head_surface_from_vector(contours, "Vsp_2024", spacing=25.0)
    x, y = wells.geometry.x.to_numpy(), wells.geometry.y.to_numpy()
    assert surface.inside_hull(x, y).all()
    head = surface(x, y)
    return wells.assign(head=head, depth=wells["DTM_kote"] - head)


def test_field_meaning_of_the_observation_file(wells_with_depth: gpd.GeoDataFrame) -> None:
    """``vandstandskote_korrigeret`` is a depth below terrain, not a level (m DVR90)."""
    w = wells_with_depth
    np.testing.assert_allclose(
        w["vandstandskote_korrigeret"],
        w["Terrænkote_float"] - w["Vandstandskote_float"],
        atol=1e-9,
    )
    np.testing.assert_allclose(
        w["deviation_sommer"], w["terrænnært_sommer"] - w["vandstandskote_korrigeret"], atol=1e-9
    )


def test_depth_at_wells_against_observations_and_hip(
    wells_with_depth: gpd.GeoDataFrame,
) -> None:
    w = wells_with_depth
    observed = w["DTM_kote"] - w["Vandstandskote_float"]  # observed level in m DVR90
    mae_obs = float(np.mean(np.abs(w["depth"] - observed)))
    mae_summer = float(np.mean(np.abs(w["depth"] - w["terrænnært_sommer"])))
    mae_winter = float(np.mean(np.abs(w["depth"] - w["terrænnært_vinter"])))
    assert mae_obs <= MEASURED["mae_observed"] + 0.05
    assert mae_summer <= MEASURED["mae_hip_summer"] + 0.05
    assert mae_winter <= MEASURED["mae_hip_winter"] + 0.05


@pytest.mark.parametrize("season", ["summer", "winter"])
def test_class_agreement_with_hip_polygons(
    wells_with_depth: gpd.GeoDataFrame, shared_data: Path, season: str
) -> None:
    folder = shared_data / "vallensbaek"
    parts = []
    for code, rng in enumerate(["0-1", "1-2", "2-3", "3-7"], start=1):
        poly = gpd.read_file(folder / f"hip_depth_{season}_{rng}m.geojson")
        parts.append(poly.assign(code=code)[["code", "geometry"]])
    hip = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs=parts[0].crs)
    joined = gpd.sjoin(wells_with_depth[["depth", "geometry"]], hip, predicate="within")
    joined = joined[~joined.index.duplicated()]
    assert len(joined) == len(wells_with_depth)
    depth = xr.DataArray(joined["depth"].to_numpy()[None, :], dims=("y", "x"))
    ours = gw.classify_depth(depth.rio.write_crs(25832)).values[0]
    agreement = float(np.mean(ours == joined["code"].to_numpy()))
    assert agreement >= MEASURED[f"agree_{season}"] - 0.03


@settings(max_examples=8, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(3, 40))
def test_linear_surface_equals_scipy_linear_nd(seed: int, n: int) -> None:
    """The own barycentric evaluation equals scipy's LinearNDInterpolator."""
    from scipy.interpolate import LinearNDInterpolator

    rng = np.random.default_rng(seed)
    xy = rng.random((n, 2)) * 100.0
    head = rng.normal(size=n)
    try:
        surface = gw.HeadSurface(xy, head)
    except NoDataError:
        return  # degenerate point set
    q = rng.random((200, 2)) * 120.0 - 10.0
    expected = LinearNDInterpolator(xy, head)(q)
    got = surface(q[:, 0], q[:, 1])
    np.testing.assert_array_equal(np.isnan(got), np.isnan(expected))
    np.testing.assert_allclose(got, expected, atol=1e-9)


def test_coarse_head_raster_is_resampled_bilinearly(make_dem: MakeDem, tmp_path: Path) -> None:
    xs = np.arange(10) * 20.0
    coarse = make_dem(5.0 + 0.01 * xs[None, :] + np.zeros((10, 1)), cell=20.0, x0=X0, y0=Y0)
    dem = make_dem(np.full((38, 38), 9.0), cell=5.0, x0=X0 + 5.0, y0=Y0 - 5.0)
    head = gw.resample_head(coarse, dem)
    assert head.shape == dem.shape and head.rio.transform() == dem.rio.transform()
    expected = 5.0 + 0.01 * (dem.x.values - X0 - 10.0)  # plane through the cell centres
    # compare between the first and last coarse cell centres (GDAL clamps at the border)
    inner = (dem.x.values >= X0 + 10.0) & (dem.x.values <= X0 + 190.0)
    ok = ~np.isnan(head.values) & inner[None, :]
    assert ok.mean() > 0.8
    np.testing.assert_allclose(
        head.values[ok], np.broadcast_to(expected, head.shape)[ok], atol=1e-4
    )
    dem_path, head_path = tmp_path / "dem.tif", tmp_path / "head.tif"
    dem.rio.to_raster(dem_path)
    coarse.rio.to_raster(head_path)
    app = typer.Typer()
    register(app)
    args = [
        "groundwater",
        "--dem",
        str(dem_path),
        "--head",
        str(head_path),
        "--out",
        str(tmp_path / "o"),
    ]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "resampled bilinearly" in result.output
    with rasterio.open(tmp_path / "o" / "depth.tif") as src:
        depth = src.read(1, masked=True).filled(np.nan)
    np.testing.assert_allclose(depth[ok], 9.0 - head.values[ok], atol=1e-4)
