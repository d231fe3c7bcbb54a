"""Tile matrix sets served: ``WebMercatorQuad`` and the Danish ``DKUTM32`` grid.

Both are :mod:`morecantile` TileMatrixSets (OGC Two Dimensional Tile Matrix Set 2.0).
``DKUTM32`` is the grid of Dataforsyningen's WMTS services (``View1``): EPSG:25832,
top-left corner (120 000 E, 6 500 000 N), 256 x 256 px tiles, levels 0..13 with cell
size 1638.4 m at level 0 halving to 0.2 m at level 13 (level 10 = 1.6 m, the cell of
the Danish terrain model). The matrix sizes cover Denmark's extent
(120 000-1 000 000 E, 5 900 000-6 500 000 N).
"""

from __future__ import annotations

import math
from functools import lru_cache

import morecantile
from morecantile import TileMatrixSet

from klimakort.errors import DataNotFoundError, ParameterError

#: ids of the tile matrix sets served, in listing order
TMS_IDS: tuple[str, ...] = ("WebMercatorQuad", "DKUTM32")

DK_ORIGIN = (120_000.0, 6_500_000.0)
DK_EXTENT = (120_000.0, 5_900_000.0, 1_000_000.0, 6_500_000.0)
DK_LEVEL0_CELL = 1638.4
DK_MAXZOOM = 13
TILE_SIZE = 256
#: OGC scale denominator of a 1 m cell (0.28 mm standard pixel)
_SCALE_PER_M = 1.0 / 0.00028


def dkutm32() -> TileMatrixSet:
    """The Danish Dataforsyningen tile grid (EPSG:25832, levels 0..13)."""
    xmin, ymin, xmax, ymax = DK_EXTENT
    matrices = []
    for z in range(DK_MAXZOOM + 1):
        cell = DK_LEVEL0_CELL / 2**z
        span = cell * TILE_SIZE
        matrices.append(
            {
                "id": str(z),
                "scaleDenominator": cell * _SCALE_PER_M,
                "cellSize": cell,
                "cornerOfOrigin": "topLeft",
                "pointOfOrigin": list(DK_ORIGIN),
                "tileWidth": TILE_SIZE,
                "tileHeight": TILE_SIZE,
                "matrixWidth": math.ceil((xmax - xmin) / span),
                "matrixHeight": math.ceil((ymax - ymin) / span),
            }
        )
    return TileMatrixSet.model_validate(
        {
            "id": "DKUTM32",
            "title": "Danish UTM32 tile grid (Dataforsyningen View1, EPSG:25832)",
            "crs": "http://www.opengis.net/def/crs/EPSG/0/25832",
            "orderedAxes": ["E", "N"],
            "boundingBox": {
                "lowerLeft": [xmin, ymin],
                "upperRight": [xmax, ymax],
                "crs": "http://www.opengis.net/def/crs/EPSG/0/25832",
            },
            "tileMatrices": matrices,
        }
    )


@lru_cache(maxsize=len(TMS_IDS))
def get_tms(tms_id: str) -> TileMatrixSet:
    """A served tile matrix set by id; DataNotFoundError (404) names the known ones."""
    if tms_id == "WebMercatorQuad":
        return morecantile.tms.get("WebMercatorQuad")
    if tms_id == "DKUTM32":
        return dkutm32()
    raise DataNotFoundError(
        f"unknown tile matrix set {tms_id!r}; this service has: {', '.join(TMS_IDS)}"
    )


def check_tile(tms: TileMatrixSet, z: int, x: int, y: int, max_zoom: int | None = None) -> None:
    """Refuse a tile outside the matrix set (or deeper than ``max_zoom``) with a 4xx error.

    Raises
    ------
    ParameterError
        Zoom outside ``minzoom..maxzoom`` of the set or beyond ``max_zoom``; x or y
        outside the matrix at that zoom.
    """
    top = tms.maxzoom if max_zoom is None else min(tms.maxzoom, max_zoom)
    if not tms.minzoom <= z <= top:
        raise ParameterError(f"zoom {z} is outside {tms.id}'s served range {tms.minzoom}..{top}")
    m = tms.matrix(z)
    if not (0 <= x < m.matrixWidth and 0 <= y < m.matrixHeight):
        raise ParameterError(
            f"tile x={x}, y={y} is outside {tms.id} zoom {z} "
            f"(x 0..{m.matrixWidth - 1}, y 0..{m.matrixHeight - 1})"
        )
