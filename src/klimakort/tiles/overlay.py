"""A whole layer as one PNG in Web Mercator, for ``L.imageOverlay`` in the standalone map."""

from __future__ import annotations

import math

import xarray as xr
from affine import Affine
from rasterio.crs import CRS
from rasterio.warp import calculate_default_transform

from klimakort.errors import ParameterError
from klimakort.io.geojson_input import transformer
from klimakort.service.catalog import RasterLayer
from klimakort.tiles.colormap import resolve_style, to_index
from klimakort.tiles.png import encode_indexed
from klimakort.tiles.warp import Source, resampling_for, source_of, warp

WEB_MERCATOR = CRS.from_epsg(3857)


def mercator_grid(
    crs: CRS, bounds: tuple[float, float, float, float], shape: tuple[int, int], max_size: int
) -> tuple[Affine, int, int]:
    """A north-up EPSG:3857 grid covering ``bounds`` at about the source resolution.

    Returns the transform, width and height; the larger side is at most ``max_size``.
    """
    height, width = shape
    transform, w, h = calculate_default_transform(crs, WEB_MERCATOR, width, height, *bounds)
    w, h = int(w), int(h)
    scale = max(w, h) / max_size
    if scale > 1.0:
        left, top = transform.c, transform.f
        right, bottom = left + transform.a * w, top + transform.e * h
        w, h = max(1, math.ceil(w / scale)), max(1, math.ceil(h / scale))
        transform = Affine((right - left) / w, 0.0, left, 0.0, (bottom - top) / h, top)
    return transform, w, h


def overlay_png(
    da: xr.DataArray,
    layer: RasterLayer,
    *,
    max_size: int = 2048,
    colormap: str | None = None,
    rescale: tuple[float, float] | None = None,
) -> tuple[bytes, tuple[float, float, float, float]]:
    """Render a raster as a PNG warped to EPSG:3857 for ``L.imageOverlay``.

    Parameters
    ----------
    da : xarray.DataArray
        The layer (rioxarray CRS and transform; NaN or ``.rio.nodata`` = no data).
    layer : RasterLayer
        Its catalogue entry (colour map, value range, classes, transparency).
    max_size : int
        Largest side of the image in pixels (the raster is averaged down to fit).
    colormap : str, optional
        Colour map instead of the catalogue's (see :func:`~klimakort.tiles.colormap.resolve_style`).
    rescale : (min, max), optional
        Value range instead of the catalogue's.

    Returns
    -------
    png : bytes
        Palette PNG with transparency (no data, values at or below ``transparent_below``).
    bounds : tuple of float
        ``(west, south, east, north)`` of the image in lon/lat (EPSG:4326). Leaflet's
        image overlay stretches linearly in Web Mercator, so the image is exact there.

    Raises
    ------
    CRSError
        The raster has no CRS.
    ParameterError
        Invalid ``max_size``, colour map or range.
    """
    if max_size < 1:
        raise ParameterError(f"max_size must be a positive number of pixels, got {max_size}")
    style = resolve_style(layer, colormap, rescale)
    src = source_of(da)
    transform, w, h = mercator_grid(src.crs, src.bounds, src.values.shape, max_size)
    factor = abs(transform.a) / _mercator_res(src)
    values = warp(src, transform, WEB_MERCATOR, (h, w), resampling_for(layer, factor))
    png = encode_indexed(to_index(values, style), style.palette)
    left, top = transform.c, transform.f
    right, bottom = left + transform.a * w, top + transform.e * h
    to_lonlat = transformer("EPSG:3857", "OGC:CRS84")
    west, south = to_lonlat.transform(left, bottom)
    east, north = to_lonlat.transform(right, top)
    return png, (float(west), float(south), float(east), float(north))


def _mercator_res(src: Source) -> float:
    """Source cell size expressed in Web Mercator metres at the raster's centre."""
    xmin, ymin, xmax, ymax = src.bounds
    tr = transformer(src.crs.to_wkt(), "EPSG:3857")
    cx, cy = (xmin + xmax) / 2, (ymin + ymax) / 2
    x0, y0 = tr.transform(cx, cy)
    x1, y1 = tr.transform(cx + src.res, cy)
    return float(math.hypot(x1 - x0, y1 - y0)) or 1.0
