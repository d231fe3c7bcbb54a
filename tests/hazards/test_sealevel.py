"""Tests of the sea-level xarray wrappers, vector outputs and the ``sealevel`` command."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import rasterio
import typer
import xarray as xr
from shapely.geometry import LineString, box
from typer.testing import CliRunner

from klimakort.cli.hazards_cmds import register
from klimakort.errors import CRSError, GridMismatchError, InputError
from klimakort.hazards import sealevel as sl

MakeDem = Callable[..., xr.DataArray]
CELL = 2.0
X0, Y0 = 700_000.0, 6_170_000.0


def coastal_dem() -> np.ndarray:
    """West: sea (NaN); a beach, a 2 m ridge with a 1.2 m saddle, a low basin behind."""
    dem = np.full((10, 12), 3.0, dtype=np.float32)
    dem[:, :2] = np.nan  # sea
    dem[:, 2] = 0.3  # beach
    dem[:, 3] = 2.0  # ridge
    dem[4, 3] = 1.2  # saddle
    dem[1:9, 4:11] = 0.5  # 56-cell basin
    return dem


@pytest.fixture
def dem(make_dem: MakeDem) -> xr.DataArray:
    return make_dem(coastal_dem(), cell=CELL, x0=X0, y0=Y0)


def cell_centre(row: int, col: int) -> tuple[float, float]:
    return X0 + CELL * (col + 0.5), Y0 - CELL * (row + 0.5)


def test_min_flood_level_keeps_grid_and_marks_sea(dem: xr.DataArray) -> None:
    mfl = sl.min_flood_level(dem)
    assert mfl.rio.crs == dem.rio.crs
    assert mfl.rio.transform() == dem.rio.transform()
    np.testing.assert_array_equal(mfl.x, dem.x)
    assert mfl.attrs["units"] == "m"
    assert np.all(np.isneginf(mfl.values[:, :2]))
    assert np.all(mfl.values[1:9, 4:11] == np.float32(1.2))
    assert mfl.values[0, 4] == 3.0


def test_inundation_and_at_risk_below_and_above_the_saddle(dem: xr.DataArray) -> None:
    mfl = sl.min_flood_level(dem)
    depth = sl.inundation_depth(dem, mfl, 1.0)
    assert depth.attrs["sea_level_m"] == 1.0
    np.testing.assert_allclose(depth.values[:, 2], 0.7, rtol=1e-6)
    assert np.all(depth.values[1:9, 4:11] == 0.0)
    risk = sl.at_risk(dem, mfl, 1.0)
    assert risk.dtype == np.uint8 and risk.rio.nodata == 255
    assert np.all(risk.values[1:9, 4:11] == 1)
    assert np.all(risk.values[:, :2] == 255)
    assert int((risk.values == 1).sum()) == 56
    depth = sl.inundation_depth(dem, mfl, 1.5)
    np.testing.assert_allclose(depth.values[1:9, 4:11], 1.0, rtol=1e-6)
    assert not (sl.at_risk(dem, mfl, 1.5).values == 1).any()


def test_sea_polygon_and_barrier_layer(dem: xr.DataArray) -> None:
    sea = gpd.GeoDataFrame(geometry=[box(X0 - 10, Y0 - 40, X0 + 2 * CELL, Y0 + 10)], crs=25832)
    x_saddle = cell_centre(0, 3)[0]
    dike = gpd.GeoDataFrame(
        {"crest_m": [2.5]},
        geometry=[LineString([(x_saddle, Y0 + 1), (x_saddle, Y0 - 10 * CELL - 1)])],
        crs=25832,
    )
    crest = sl.rasterize_barriers(dike, dem)
    assert np.all(crest.values[:, 3] == 2.5)
    mfl = sl.min_flood_level(dem, sea, dike)
    assert np.all(np.isneginf(mfl.values[:, :2]))
    assert np.all(mfl.values[1:9, 4:11] == 2.5)
    # a sea layer in another projected CRS is reprojected, not refused
    mfl_utm33 = sl.min_flood_level(dem, sea.to_crs(25833), dike)
    np.testing.assert_array_equal(mfl_utm33.values, mfl.values)


def test_grid_mismatch_and_bad_layers_raise(dem: xr.DataArray, make_dem: MakeDem) -> None:
    other = make_dem(np.zeros((10, 12)), cell=CELL, x0=X0 + 100.0, y0=Y0).astype(bool)
    with pytest.raises(GridMismatchError):
        sl.min_flood_level(dem, sea=other)
    with pytest.raises(GridMismatchError):
        sl.min_flood_level(dem, barriers=make_dem(np.zeros((3, 3)), cell=CELL, x0=X0, y0=Y0))
    with pytest.raises(GridMismatchError):
        sl.inundation_depth(dem, make_dem(np.zeros((3, 3))), 1.0)
    no_crs = gpd.GeoDataFrame(geometry=[box(X0, Y0 - 5, X0 + 5, Y0)])
    with pytest.raises(CRSError):
        sl.min_flood_level(dem, sea=no_crs)
    dike = gpd.GeoDataFrame(
        {"h": [2.0]}, geometry=[LineString([(X0, Y0), (X0, Y0 - 9)])], crs=25832
    )
    with pytest.raises(InputError, match="crest_m"):
        sl.min_flood_level(dem, barriers=dike)
    with pytest.raises(CRSError):
        sl.min_flood_level(make_dem(coastal_dem(), crs=None))


def test_critical_points_geodataframe(dem: xr.DataArray) -> None:
    pts = sl.critical_points(dem, min_area_m2=100.0)
    assert pts.crs == dem.rio.crs
    assert list(pts.columns) == ["level_m", "extra_area_m2", "row", "col", "geometry"]
    first = pts.iloc[0]
    assert (first["row"], first["col"]) == (4, 3)
    assert first["level_m"] == pytest.approx(1.2)
    assert first["extra_area_m2"] == pytest.approx(57 * CELL * CELL)  # basin + saddle
    assert (first.geometry.x, first.geometry.y) == pytest.approx(cell_centre(4, 3))
    assert pts["extra_area_m2"].is_monotonic_decreasing
    assert (pts["extra_area_m2"] >= 100.0).all()
    assert len(sl.critical_points(dem, min_area_m2=100.0, max_level=1.0)) < len(pts)


def test_sealevel_analysis_bundles_everything(dem: xr.DataArray) -> None:
    res = sl.sealevel_analysis(dem, 1.0, min_area_m2=100.0)
    assert res.level == 1.0
    assert int((res.at_risk.values == 1).sum()) == 56
    assert res.critical_points.iloc[0]["level_m"] == pytest.approx(1.2)
    assert (res.critical_points["level_m"] <= 2.0).all()


def test_sealevel_command_writes_outputs(dem: xr.DataArray, tmp_path: Path) -> None:
    dem_path = tmp_path / "dem.tif"
    dem.rio.to_raster(dem_path)
    app = typer.Typer()
    register(app)
    out = tmp_path / "out"
    result = CliRunner().invoke(
        app,
        [
            "sealevel",
            "--dem",
            str(dem_path),
            "--level",
            "1.52",
            "--out",
            str(out),
            "--min-area",
            "100",
        ],
    )
    assert result.exit_code == 0, result.output
    for name in (
        "inundation_depth.tif",
        "min_flood_level.tif",
        "at_risk.tif",
        "critical_points.gpkg",
    ):
        assert (out / name).exists(), name
    with rasterio.open(out / "inundation_depth.tif") as src:
        depth = src.read(1)
        assert src.crs.to_epsg() == 25832
    np.testing.assert_allclose(depth[1:9, 4:11], 1.02, rtol=1e-5)
    pts = gpd.read_file(out / "critical_points.gpkg")
    assert pts.iloc[0]["level_m"] == pytest.approx(1.2)
