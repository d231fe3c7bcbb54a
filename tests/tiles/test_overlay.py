"""overlay_png: Web Mercator image, lon/lat bounds, size limit, transparency."""

from __future__ import annotations

import io
from collections.abc import Callable

import numpy as np
import pytest
import xarray as xr
from PIL import Image
from rasterio.warp import transform_bounds

from klimakort.errors import CRSError, ParameterError
from klimakort.service.catalog import RASTER_LAYERS
from klimakort.tiles.overlay import overlay_png

X0, Y0, CELL = 712_000.0, 6_171_000.0, 1.6


def _rgba(png: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(png)) as img:
        return np.asarray(img.convert("RGBA"))


def test_bounds_size_and_transparency(make_dem: Callable[..., xr.DataArray]) -> None:
    depth = np.full((300, 400), 0.5, np.float32)
    depth[:, :100] = np.nan  # western quarter: no data
    depth[:, 300:] = 0.0  # eastern quarter: dry (transparent_below = 0)
    da = make_dem(depth, cell=CELL, x0=X0, y0=Y0)
    png, (w, s, e, n) = overlay_png(da, RASTER_LAYERS["cloudburst_depth"], max_size=300)
    rgba = _rgba(png)
    assert max(rgba.shape[:2]) <= 300
    ref = transform_bounds("EPSG:25832", "EPSG:4326", X0, Y0 - 300 * CELL, X0 + 400 * CELL, Y0)
    # the Web Mercator image covers the raster's lon/lat bounds, within a pixel or two
    px = (ref[2] - ref[0]) / rgba.shape[1]
    assert w == pytest.approx(ref[0], abs=2 * px) and e == pytest.approx(ref[2], abs=2 * px)
    py = (ref[3] - ref[1]) / rgba.shape[0]
    assert s == pytest.approx(ref[1], abs=2 * py) and n == pytest.approx(ref[3], abs=2 * py)
    mid = rgba.shape[0] // 2
    cols = rgba.shape[1]
    assert (rgba[mid, : cols // 5, 3] == 0).all()
    assert (rgba[mid, int(cols * 0.8) :, 3] == 0).all()
    assert (rgba[mid, int(cols * 0.4) : int(cols * 0.6), 3] == 255).all()


def test_classes_and_style_override(make_dem: Callable[..., xr.DataArray]) -> None:
    cls = np.tile(np.repeat(np.array([1, 2, 3, 4], np.float32), 25), (60, 1))
    da = make_dem(cls, cell=CELL, x0=X0, y0=Y0)
    layer = RASTER_LAYERS["groundwater_classes"]
    assert layer.classes is not None
    png, _ = overlay_png(da, layer)
    rgba = _rgba(png)
    colours = {"#" + "".join(f"{v:02x}" for v in p[:3]) for p in rgba.reshape(-1, 4) if p[3]}
    assert colours == {c["color"] for c in layer.classes.values()}
    png2, _ = overlay_png(da, layer, colormap="viridis", rescale=(1.0, 4.0))
    assert png2 != png


def test_errors(make_dem: Callable[..., xr.DataArray]) -> None:
    da = make_dem(np.ones((10, 10)), crs=None)
    with pytest.raises(CRSError):
        overlay_png(da, RASTER_LAYERS["terrain"])
    ok = make_dem(np.ones((10, 10)))
    with pytest.raises(ParameterError):
        overlay_png(ok, RASTER_LAYERS["terrain"], max_size=0)
    with pytest.raises(ParameterError):
        overlay_png(ok, RASTER_LAYERS["terrain"], rescale=(3.0, 3.0))
