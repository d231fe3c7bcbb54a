"""The tile service of one area: pyramids, rendering and an LRU of encoded tiles.

One :class:`TileService` lives per served area (the API keeps it on ``app.state``).
Rendering a tile is: validate -> look up the encoded-tile cache -> slice the layer's
pre-warped level -> values to palette indices -> palette PNG. Tiles that do not touch
the area, or hold no visible pixel, are one shared transparent PNG.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Sequence
from dataclasses import dataclass

from klimakort.service.catalog import RasterLayer
from klimakort.service.workspace import Workspace
from klimakort.tiles.cache import ByteLRU, KeyedLocks
from klimakort.tiles.colormap import Style, resolve_style, to_index
from klimakort.tiles.png import empty_png, encode_indexed
from klimakort.tiles.pyramid import Level, Pyramid
from klimakort.tiles.tms import check_tile, get_tms
from klimakort.tiles.warp import Source, source_of

MB = 1024 * 1024


def etag_of(data: bytes) -> str:
    """A strong ETag (quoted) from the content."""
    return '"' + hashlib.blake2b(data, digest_size=12).hexdigest() + '"'


@dataclass(frozen=True)
class Tile:
    """An encoded tile.

    Attributes
    ----------
    png : bytes
        The PNG.
    etag : str
        Quoted strong ETag (a hash of ``png``, so equal across workers and restarts).
    empty : bool
        Whether the tile is fully transparent.
    """

    png: bytes
    etag: str
    empty: bool


EMPTY_TILE = Tile(empty_png(), etag_of(empty_png()), True)


class TileService:
    """Raster tiles of one workspace.

    Parameters
    ----------
    workspace : Workspace
        The area.
    cache_mb : float
        Memory for encoded tiles (0 disables the cache).
    level_mb : float
        Memory for pre-warped pyramid levels (least recently used levels are dropped
        and rebuilt on demand).
    max_zoom : int, optional
        Deepest ``WebMercatorQuad`` zoom served.
    """

    def __init__(
        self,
        workspace: Workspace,
        *,
        cache_mb: float = 256,
        level_mb: float = 768,
        max_zoom: int | None = None,
    ) -> None:
        self.workspace = workspace
        self.max_zoom = max_zoom
        self.tiles: ByteLRU[Tile] = ByteLRU(int(cache_mb * MB), lambda t: len(t.png) + 200)
        self.levels: ByteLRU[Level] = ByteLRU(int(level_mb * MB), lambda lv: lv.nbytes)
        self._locks = KeyedLocks()
        self._lock = threading.Lock()
        self._pyramids: dict[tuple[str, str | None, str], Pyramid] = {}
        self._sources: dict[tuple[str, str | None], Source] = {}

    # ------------------------------------------------------------------ lookups

    def resolve(self, layer: str, scenario: str | None) -> tuple[RasterLayer, str | None]:
        """Catalogue entry and effective scenario (None for scenario-free layers).

        Raises
        ------
        DataNotFoundError
            Unknown layer or scenario (a scenario is checked even where it is ignored).
        """
        info = self.workspace.raster_layer(layer)
        sc = self.workspace.scenario(scenario)
        return info, (sc if info.scenario_dependent else None)

    def source(self, layer: str, scenario: str | None) -> Source:
        """Float32 values of a layer (built once)."""
        key = (layer, scenario)
        with self._lock:
            src = self._sources.get(key)
        if src is None:
            src = source_of(self.workspace.raster(layer, scenario))
            with self._lock:
                src = self._sources.setdefault(key, src)
        return src

    def pyramid(self, layer: str, scenario: str | None, tms_id: str) -> Pyramid:
        """The pyramid of a layer on a tile matrix set (levels built lazily)."""
        info, sc = self.resolve(layer, scenario)
        tms = get_tms(tms_id)
        key = (layer, sc, tms_id)
        with self._lock:
            pyr = self._pyramids.get(key)
        if pyr is None:
            pyr = Pyramid(self.source(layer, sc), info, tms, self.levels, key, self._locks)
            with self._lock:
                pyr = self._pyramids.setdefault(key, pyr)
        return pyr

    def max_zoom_of(self, tms_id: str) -> int:
        """Deepest zoom served on a tile matrix set."""
        tms = get_tms(tms_id)
        if tms_id == "WebMercatorQuad" and self.max_zoom is not None:
            return min(tms.maxzoom, self.max_zoom)
        return int(tms.maxzoom)

    # ------------------------------------------------------------------ tiles

    def tile(
        self,
        layer: str,
        tms_id: str,
        z: int,
        x: int,
        y: int,
        *,
        scenario: str | None = None,
        colormap: str | None = None,
        rescale: Sequence[float] | None = None,
    ) -> Tile:
        """A PNG tile (256 x 256) of a layer.

        Raises
        ------
        DataNotFoundError
            Unknown layer, scenario or tile matrix set (404).
        ParameterError
            Zoom or x/y outside the matrix set, bad colour map or range (422).
        """
        info, sc = self.resolve(layer, scenario)
        tms = get_tms(tms_id)
        check_tile(tms, z, x, y, self.max_zoom_of(tms_id))
        style = resolve_style(info, colormap, tuple(rescale) if rescale is not None else None)
        key = (layer, sc, tms_id, z, x, y, style.key)
        hit = self.tiles.get(key)
        if hit is not None:
            return hit
        tile = self._render(self.pyramid(layer, sc, tms_id), z, x, y, style)
        self.tiles.put(key, tile)
        return tile

    @staticmethod
    def _render(pyr: Pyramid, z: int, x: int, y: int, style: Style) -> Tile:
        idx = pyr.tile_values(z, x, y, lambda v: to_index(v, style))
        if idx is None or not idx.any():
            return EMPTY_TILE
        png = encode_indexed(idx, style.palette)
        return Tile(png, etag_of(png), False)
