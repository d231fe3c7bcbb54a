"""Mapbox Vector Tiles (WebMercatorQuad) of the collections of a workspace.

Geometry is transformed to EPSG:3857 and indexed once per collection revision and
scenario, simplified once per zoom, then per tile queried, clipped, snapped to the
integer tile grid with numpy and encoded (protobuf schema of ``mapbox-vector-tile``).
"""

from klimakort.vectortiles.cache import TileCache
from klimakort.vectortiles.encode import Commands, build_tile, geometry_commands
from klimakort.vectortiles.grid import check_tile, pixel_size_m, tile_bounds, tiles_covering
from klimakort.vectortiles.layer import BUFFER, EXTENT, PreparedLayer, RenderedTile
from klimakort.vectortiles.server import MAX_ZOOM, MIN_ZOOM, Tile, TileKey, VectorTileServer

MEDIA_TYPE = "application/vnd.mapbox-vector-tile"

__all__ = [
    "BUFFER",
    "EXTENT",
    "MAX_ZOOM",
    "MEDIA_TYPE",
    "MIN_ZOOM",
    "Commands",
    "PreparedLayer",
    "RenderedTile",
    "Tile",
    "TileCache",
    "TileKey",
    "VectorTileServer",
    "build_tile",
    "check_tile",
    "geometry_commands",
    "pixel_size_m",
    "tile_bounds",
    "tiles_covering",
]
