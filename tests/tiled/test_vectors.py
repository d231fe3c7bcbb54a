"""The tiled run's bluespots.gpkg equals the in-memory table and polygons."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import rasterio
import shapely
import xarray as xr
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from klimakort.hydro.rainflow import TABLE_COLUMNS, RainflowParams, rainflow
from klimakort.tiled import rainflow_tiled

EXACT = [c for c in TABLE_COLUMNS if c not in ("volume_m3", "fill_rain_mm")]


def _da(z: np.ndarray, cell: float = 1.6) -> xr.DataArray:
    ny, nx = z.shape
    y = 6_170_000.0 - cell * (np.arange(ny) + 0.5)
    x = 700_000.0 + cell * (np.arange(nx) + 0.5)
    return xr.DataArray(z, dims=("y", "x"), coords={"y": y, "x": x}).rio.write_crs(25832)


def bowls_dem() -> np.ndarray:
    """200 x 200 terrain: bowls on chunk corners and borders (64-cell chunks), pits, a
    ring-shaped bluespot around an island (a polygon with a hole) and a sea edge."""
    rng = np.random.default_rng(11)
    yy, xx = np.mgrid[0:200, 0:200].astype(np.float64)
    z = 15.0 + 0.02 * xx + 0.015 * yy + rng.normal(0, 0.04, (200, 200))
    for cy, cx, depth, width in ((64, 64, 3.0, 150.0), (128, 100, 2.0, 60.0), (30, 128, 1.0, 40.0)):
        z -= depth * np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / width)
    island = (yy - 64) ** 2 + (xx - 64) ** 2 < 9
    z[island] += 4.0  # the corner bowl becomes a ring around it
    z[:, :4] = np.nan  # sea on the west edge
    return np.round(z, 2).astype(np.float32)


@st.composite
def dems(draw: st.DrawFn) -> np.ndarray:
    ny, nx = draw(st.integers(12, 40)), draw(st.integers(12, 40))
    rng = np.random.default_rng(draw(st.integers(0, 2**31 - 1)))
    z = rng.integers(0, draw(st.integers(2, 6)), (ny, nx)).astype(np.float32)
    z[rng.random((ny, nx)) < draw(st.sampled_from([0.0, 0.03]))] = np.nan
    return z


def assert_same_bluespots(gpkg: Path, da: xr.DataArray, params: RainflowParams) -> None:
    """Table columns, pour points and polygons of the tiled file = the in-memory run."""
    want = rainflow(da, params, products=["bluespots_gpkg"]).bluespot_table
    got = gpd.read_file(gpkg, layer="bluespots").sort_values("bluespot_id")
    got = got.reset_index(drop=True)
    assert len(got) == len(want)
    pd.testing.assert_frame_equal(
        got[EXACT].reset_index(drop=True), pd.DataFrame(want[EXACT]), check_dtype=False
    )
    for col in ("volume_m3", "fill_rain_mm"):
        np.testing.assert_allclose(got[col], want[col], rtol=1e-12, err_msg=col)
    if len(got):
        same = shapely.equals(got.geometry.to_numpy(), want.geometry.to_numpy())
        assert same.all(), got.bluespot_id[~same].tolist()[:8]
    pts = gpd.read_file(gpkg, layer="pour_points").sort_values("bluespot_id")
    np.testing.assert_array_equal(pts.geometry.x, want["pour_x"])
    np.testing.assert_array_equal(pts.geometry.y, want["pour_y"])


def test_bluespots_cut_by_chunk_borders(tmp_path: Path) -> None:
    da = _da(bowls_dem())
    params = RainflowParams(min_cells=3, min_volume=0.5)
    res = rainflow_tiled(da, tmp_path, 64, params, "synchronous")
    gpkg = res.files["bluespots_gpkg"]
    assert sorted(pyogrio.list_layers(gpkg)[:, 0]) == ["bluespots", "pour_points"]
    assert_same_bluespots(gpkg, da, params)
    # the ring around the island lies in four chunks: joined, with the island's hole
    with rasterio.open(res.files["bluespots"]) as src:
        lab = src.read(1)
    ring = int(lab[64, 69])
    cells = lab == ring
    assert ring > 0 and not cells[64, 64]
    assert cells[:64, :64].any() and cells[64:, 64:].any() and cells[:64, 64:].any()
    got = gpd.read_file(gpkg, layer="bluespots").set_index("bluespot_id")
    poly = got.geometry.loc[ring]
    parts = shapely.get_parts(poly)
    assert shapely.get_num_interior_rings(parts).sum() >= 1
    island = shapely.points(700_000 + 1.6 * 64.5, 6_170_000 - 1.6 * 64.5)
    assert not shapely.intersects(island, poly)
    assert poly.area == pytest.approx(cells.sum() * 1.6 * 1.6)


def test_no_bluespots_gives_empty_layers(tmp_path: Path) -> None:
    z = np.tile(np.arange(40, dtype=np.float32), (30, 1))  # a plane: nothing to fill
    res = rainflow_tiled(_da(z), tmp_path, 16, RainflowParams(), "synchronous")
    assert res.n_bluespots == 0
    for layer in ("bluespots", "pour_points"):
        assert len(gpd.read_file(res.files["bluespots_gpkg"], layer=layer)) == 0


def test_vectors_can_be_skipped(tmp_path: Path) -> None:
    da = _da(bowls_dem()[:80, :80].copy())
    res = rainflow_tiled(da, tmp_path, 32, RainflowParams(), "synchronous", vectors=False)
    assert "bluespots_gpkg" not in res.files and not (tmp_path / "bluespots.gpkg").exists()


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(z=dems(), chunks=st.sampled_from([8, 13]))
def test_random_dems(tmp_path: Path, z: np.ndarray, chunks: int) -> None:
    da = _da(z, 1.0)
    params = RainflowParams(min_depth=0.0, min_cells=2)
    out = tmp_path / f"r{np.random.default_rng().integers(1 << 30)}"
    res = rainflow_tiled(da, out, chunks, params, "synchronous")
    assert_same_bluespots(res.files["bluespots_gpkg"], da, params)
