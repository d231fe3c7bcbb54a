"""Pre-warped pyramids against independent references.

References: (1) a linear surface, which bilinear resampling reproduces exactly, evaluated
at the tile's pixel centres transformed back to EPSG:25832; (2) ``rasterio.warp.reproject``
of the same DataArray straight onto the one tile's 256 x 256 grid; (3) deep zooms equal the
native tile's pixels repeated (nearest upsampling on the quadtree).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
import xarray as xr
from morecantile import Tile
from pyproj import Transformer
from rasterio.crs import CRS
from rasterio.transform import from_bounds
from rasterio.warp import Resampling, reproject

from klimakort.service.catalog import RASTER_LAYERS, RasterLayer
from klimakort.tiles.cache import ByteLRU
from klimakort.tiles.pyramid import Level, Pyramid
from klimakort.tiles.tms import get_tms
from klimakort.tiles.warp import source_of

X0, Y0, CELL = 712_000.0, 6_171_000.0, 1.6
NY, NX = 300, 400
TERRAIN = RASTER_LAYERS["terrain"]


def _plane(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return 0.01 * (x - X0) - 0.02 * (y - Y0) + 3.0


@pytest.fixture
def plane(make_dem: Callable[..., xr.DataArray]) -> xr.DataArray:
    xs = X0 + CELL * (np.arange(NX) + 0.5)
    ys = Y0 - CELL * (np.arange(NY) + 0.5)
    return make_dem(_plane(xs[None, :], ys[:, None]), cell=CELL, x0=X0, y0=Y0)


def _pyramid(da: xr.DataArray, tms_id: str, layer: RasterLayer = TERRAIN) -> Pyramid:
    store: ByteLRU[Level] = ByteLRU(200 * 2**20, lambda lv: lv.nbytes)
    return Pyramid(source_of(da), layer, get_tms(tms_id), store, ("t",))


def _raw(pyr: Pyramid, z: int, x: int, y: int) -> np.ndarray:
    out = pyr.tile_values(z, x, y, lambda v: v, fill=np.nan)
    assert out is not None
    return out


def _tiles(pyr: Pyramid, z: int) -> list[tuple[int, int]]:
    w = pyr.window(z)
    return [
        (x, y)
        for x in range(w.col0 // 256, (w.col1 - 1) // 256 + 1)
        for y in range(w.row0 // 256, (w.row1 - 1) // 256 + 1)
    ]


def test_native_zooms(plane: xr.DataArray) -> None:
    assert _pyramid(plane, "DKUTM32").native_zoom == 10  # 1.6 m
    # 1.6 m at 55.7 N is ~2.85 Web Mercator metres: z16 (2.39 m) is the first finer level
    assert _pyramid(plane, "WebMercatorQuad").native_zoom == 16


def test_dkutm32_native_tiles_are_the_raster_itself(plane: xr.DataArray) -> None:
    pyr = _pyramid(plane, "DKUTM32")
    w = pyr.window(10)
    assert (w.col0, w.row0) == ((X0 - 120_000) / CELL, (6_500_000 - Y0) / CELL)
    assert w.shape == (NY, NX)
    level = pyr.level(10)
    np.testing.assert_allclose(level.values, plane.values, atol=1e-4)


def test_webmercator_tile_matches_linear_surface(plane: xr.DataArray) -> None:
    pyr = _pyramid(plane, "WebMercatorQuad")
    tms = get_tms("WebMercatorQuad")
    to_utm = Transformer.from_crs(3857, 25832, always_xy=True)
    compared = 0
    for x, y in _tiles(pyr, 16):
        vals = _raw(pyr, 16, x, y)
        b = tms.xy_bounds(Tile(x, y, 16))
        c = (np.arange(256) + 0.5) / 256
        mx, my = np.meshgrid(b.left + c * (b.right - b.left), b.top - c * (b.top - b.bottom))
        ux, uy = to_utm.transform(mx, my)
        inside = (ux > X0 + 2 * CELL) & (ux < X0 + (NX - 2) * CELL)
        inside &= (uy < Y0 - 2 * CELL) & (uy > Y0 - (NY - 2) * CELL)
        assert np.isfinite(vals[inside]).all()
        np.testing.assert_allclose(vals[inside], _plane(ux, uy)[inside], atol=2e-3)
        compared += int(inside.sum())
    assert compared > 0.8 * NX * NY * (CELL / 2.39 * 0.56) ** 2 * 0.5


def _reference_tile(da: xr.DataArray, z: int, x: int, y: int, resampling: Resampling) -> np.ndarray:
    tms = get_tms("WebMercatorQuad")
    b = tms.xy_bounds(Tile(x, y, z))
    out = np.full((256, 256), np.nan, np.float32)
    reproject(
        da.values.astype(np.float32),
        out,
        src_transform=da.rio.transform(),
        src_crs=da.rio.crs,
        src_nodata=np.nan,
        dst_transform=from_bounds(*b, 256, 256),
        dst_crs=CRS.from_epsg(3857),
        dst_nodata=np.nan,
        resampling=resampling,
    )
    return out


@pytest.mark.parametrize(("z", "resampling"), [(16, Resampling.bilinear), (14, Resampling.average)])
def test_tile_matches_direct_reproject(
    make_dem: Callable[..., xr.DataArray], z: int, resampling: Resampling
) -> None:
    # a wavy surface (amplitude 2, wavelength 40 cells) with a nodata hole
    rows, cols = np.mgrid[0:NY, 0:NX]
    wavy = (5.0 + 2.0 * np.sin(2 * np.pi * cols / 40) * np.cos(2 * np.pi * rows / 40)).astype(
        np.float32
    )
    wavy[100:140, 50:90] = np.nan
    da = make_dem(wavy, cell=CELL, x0=X0, y0=Y0)
    pyr = _pyramid(da, "WebMercatorQuad")
    for x, y in _tiles(pyr, z):
        got, ref = _raw(pyr, z, x, y), _reference_tile(da, z, x, y, resampling)
        both = np.isfinite(got) & np.isfinite(ref)
        diff = np.abs(got[both] - ref[both])
        # Same target pixels and resampling; GDAL's approximate transformer (error up to
        # 1/8 source pixel, interpolated per warp chunk) places samples slightly
        # differently in a whole-area warp and a one-tile warp: on this surface that is
        # at most ~2 * 2 * pi / 40 / 8 = 0.04. The nodata footprint may differ by a pixel
        # along its edges.
        assert np.median(diff) < 0.01
        assert diff.max() < 0.06
        assert (np.isfinite(got) != np.isfinite(ref)).sum() <= 0.02 * both.sum() + 256


def test_deep_zoom_repeats_native_pixels(plane: xr.DataArray) -> None:
    pyr = _pyramid(plane, "WebMercatorQuad")
    nz = pyr.native_zoom
    tiles = _tiles(pyr, nz)
    x, y = tiles[len(tiles) // 2]  # an inner tile: all its children touch the area
    parent = _raw(pyr, nz, x, y)
    for k in (1, 2, 3):
        f = 2**k
        for dx, dy in ((0, 0), (f - 1, f - 1), (1, f - 1)):
            child = _raw(pyr, nz + k, x * f + dx, y * f + dy)
            n = 256 // f
            block = parent[dy * n : (dy + 1) * n, dx * n : (dx + 1) * n]
            expected = np.repeat(np.repeat(block, f, axis=0), f, axis=1)
            np.testing.assert_array_equal(child, expected)
    # deep zooms never build a level beyond the native one
    assert pyr.level(nz + 3).window.zoom == nz


def test_tiles_outside_are_none(plane: xr.DataArray) -> None:
    pyr = _pyramid(plane, "WebMercatorQuad")
    x, y = _tiles(pyr, 16)[0]
    assert pyr.tile_values(16, x - 3, y, lambda v: v) is None
    assert not pyr.touches(16, x, y - 5)


def test_levels_are_bounded_and_rebuilt(plane: xr.DataArray) -> None:
    store: ByteLRU[Level] = ByteLRU(2 * 2**20, lambda lv: lv.nbytes)
    pyr = Pyramid(source_of(plane), TERRAIN, get_tms("WebMercatorQuad"), store, ("t",))
    for z in range(10, 17):
        pyr.level(z)
        assert store.nbytes <= 2 * 2**20
    first = pyr.level(10)
    again = pyr.level(10)
    assert again is first


def test_class_layer_uses_nearest(make_dem: Callable[..., xr.DataArray]) -> None:
    cls = np.random.default_rng(4).integers(1, 5, size=(NY, NX)).astype(np.float32)
    da = make_dem(cls, cell=CELL, x0=X0, y0=Y0)
    pyr = _pyramid(da, "WebMercatorQuad", RASTER_LAYERS["groundwater_classes"])
    for z in (13, 16, 17):
        x, y = _tiles(pyr, z)[0]
        vals = _raw(pyr, z, x, y)
        finite = vals[np.isfinite(vals)]
        assert finite.size > 0
        assert set(np.unique(finite).tolist()) <= {1.0, 2.0, 3.0, 4.0}
