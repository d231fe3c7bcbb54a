"""The WebMercatorQuad tile grid (EPSG:3857, 256 px tiles, z/x/y from the top left).

Pure arithmetic: tile bounds in EPSG:3857 metres, tile pixel sizes and the checks
that a requested tile exists within the zoom range a server offers.
"""

from __future__ import annotations

import math

from klimakort.errors import ParameterError

#: half the width of the EPSG:3857 world square (metres)
ORIGIN_SHIFT = math.pi * 6378137.0
#: width of the EPSG:3857 world square (metres)
WORLD_SIZE = 2.0 * ORIGIN_SHIFT
#: id of the tile matrix set in URLs
TMS_ID = "WebMercatorQuad"


def tile_size_m(z: int) -> float:
    """Width (= height) of a tile at zoom ``z`` in EPSG:3857 metres."""
    return WORLD_SIZE / float(1 << z)


def tile_bounds(z: int, x: int, y: int) -> tuple[float, float, float, float]:
    """Bounds (xmin, ymin, xmax, ymax) of tile ``z/x/y`` in EPSG:3857 metres.

    Parameters
    ----------
    z, x, y : int
        Zoom, column (from the west) and row (from the north).

    Returns
    -------
    tuple of float
        The tile's rectangle.
    """
    size = tile_size_m(z)
    xmin = -ORIGIN_SHIFT + x * size
    ymax = ORIGIN_SHIFT - y * size
    return (xmin, ymax - size, xmin + size, ymax)


def pixel_size_m(z: int, extent: int = 4096) -> float:
    """Size in EPSG:3857 metres of one unit of a tile with ``extent`` units across."""
    return tile_size_m(z) / float(extent)


def check_tile(z: int, x: int, y: int, minzoom: int, maxzoom: int) -> None:
    """Refuse a tile outside ``minzoom..maxzoom`` or outside the grid of its zoom.

    Raises
    ------
    ParameterError
        ``z`` outside the zoom range, or ``x``/``y`` outside ``0 .. 2**z - 1``.
    """
    if not minzoom <= z <= maxzoom:
        raise ParameterError(
            f"zoom {z} is outside {minzoom}..{maxzoom} served as vector tiles; "
            f"ask for a zoom in that range (or use the items endpoint for whole collections)"
        )
    n = 1 << z
    if not (0 <= x < n and 0 <= y < n):
        raise ParameterError(
            f"tile {z}/{x}/{y} does not exist: at zoom {z} x and y run from 0 to {n - 1}"
        )


def tiles_covering(bounds: tuple[float, float, float, float], z: int) -> tuple[range, range]:
    """Columns and rows of the tiles at zoom ``z`` that cover EPSG:3857 ``bounds``."""
    size = tile_size_m(z)
    n = 1 << z
    x0 = min(max(math.floor((bounds[0] + ORIGIN_SHIFT) / size), 0), n - 1)
    x1 = min(max(math.floor((bounds[2] + ORIGIN_SHIFT) / size), 0), n - 1)
    y0 = min(max(math.floor((ORIGIN_SHIFT - bounds[3]) / size), 0), n - 1)
    y1 = min(max(math.floor((ORIGIN_SHIFT - bounds[1]) / size), 0), n - 1)
    return range(x0, x1 + 1), range(y0, y1 + 1)
