"""Vector tiles of a workspace's collections, prepared once and cached.

:class:`VectorTileServer` turns ``(collection, scenario, z, x, y)`` into an encoded
Mapbox Vector Tile. Per collection revision and scenario it prepares the features
once (:class:`~klimakort.vectortiles.layer.PreparedLayer`: EPSG:3857, STRtree,
per-zoom simplification); encoded tiles are kept in an LRU cache bounded in bytes.
All methods are safe to call from several threads.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from typing import Any, Protocol

import geopandas as gpd
import numpy as np
import shapely

from klimakort.service.catalog import Collection
from klimakort.vectortiles.cache import TileCache
from klimakort.vectortiles.grid import check_tile
from klimakort.vectortiles.layer import PreparedLayer

#: zoom levels served by default
MIN_ZOOM, MAX_ZOOM = 10, 22
#: bumped when the encoding changes (part of every ETag)
FORMAT_VERSION = "mvt-1"
#: attempts at reading a collection whose revision changes while it is read
_READ_TRIES = 3


class TileSource(Protocol):
    """What the server needs of a workspace (:class:`klimakort.service.Workspace`)."""

    @property
    def name(self) -> str: ...

    def collection(self, cid: str) -> Collection: ...

    def scenario(self, scenario: str | None) -> str: ...

    def revision(self, cid: str) -> int: ...

    def features(self, cid: str) -> gpd.GeoDataFrame: ...


@dataclass(frozen=True)
class TileKey:
    """One tile of one collection state: what its ETag and cache entry are made of.

    ``scenario`` is None for collections that do not depend on the scenario.
    """

    cid: str
    revision: int
    scenario: str | None
    z: int
    x: int
    y: int


@dataclass(frozen=True)
class Tile:
    """An encoded tile (``data`` empty when no feature falls in it) and its ETag."""

    key: TileKey
    data: bytes
    etag: str


@dataclass(frozen=True)
class _Prepared:
    layer: PreparedLayer
    revision: int
    fingerprint: str


def _fingerprint(layer: PreparedLayer) -> str:
    """Digest of a prepared layer's geometry and properties (ETags survive restarts
    and agree between worker processes, yet change when the data does)."""
    h = hashlib.blake2b(digest_size=12)
    h.update(b"".join(shapely.to_wkb(layer.geoms).tolist()) if len(layer) else b"")
    h.update(repr((layer.properties, layer.ids)).encode())
    return h.hexdigest()


class VectorTileServer:
    """Mapbox Vector Tiles (WebMercatorQuad) of a workspace's collections.

    Parameters
    ----------
    source : Workspace
        The area (see :class:`TileSource` for what is used).
    cache_bytes : int
        Memory for encoded tiles (LRU); 0 disables the cache.
    minzoom, maxzoom : int
        Zoom levels served (other zooms raise ParameterError).
    """

    def __init__(
        self,
        source: TileSource,
        *,
        cache_bytes: int = 64 * 2**20,
        minzoom: int = MIN_ZOOM,
        maxzoom: int = MAX_ZOOM,
    ) -> None:
        self.source = source
        self.minzoom = minzoom
        self.maxzoom = maxzoom
        self.cache = TileCache(cache_bytes)
        self._layers: dict[tuple[str, int, str | None], _Prepared] = {}
        self._lock = threading.Lock()
        self._build_lock = threading.Lock()

    # ------------------------------------------------------------------ layers

    def _scenario_of(self, cid: str, scenario: str | None) -> str | None:
        """The scenario a collection's tiles depend on (None when they do not)."""
        info = self.source.collection(cid)
        sc = self.source.scenario(scenario)  # unknown scenarios are refused for all
        return sc if info.scenario_dependent else None

    def _read(self, cid: str, sc: str | None) -> tuple[gpd.GeoDataFrame, int]:
        """Features of ``cid`` (of scenario ``sc``) and the revision they belong to."""
        for _ in range(_READ_TRIES):
            rev = self.source.revision(cid)
            frame = self.source.features(cid)
            if self.source.revision(cid) == rev:
                break
        if sc is not None and "scenario" in frame.columns:
            frame = frame[frame["scenario"].astype(str) == sc]
        return frame, rev

    def _prepared(self, cid: str, sc: str | None) -> _Prepared:
        rev = self.source.revision(cid)
        with self._lock:
            hit = self._layers.get((cid, rev, sc))
        if hit is not None:
            return hit
        with self._build_lock:
            with self._lock:
                hit = self._layers.get((cid, rev, sc))
            if hit is not None:
                return hit
            frame, rev = self._read(cid, sc)
            layer = PreparedLayer.from_frame(cid, frame)
            prepared = _Prepared(layer, rev, _fingerprint(layer))
            with self._lock:
                for key in [k for k in self._layers if k[0] == cid and k[2] == sc]:
                    del self._layers[key]
                self._layers[(cid, rev, sc)] = prepared
            return prepared

    def layer(self, cid: str, scenario: str | None = None) -> PreparedLayer:
        """The prepared features of ``cid`` (for ``scenario`` when it depends on one).

        Raises
        ------
        DataNotFoundError
            Unknown collection or scenario.
        """
        return self._prepared(cid, self._scenario_of(cid, scenario)).layer

    # ------------------------------------------------------------------ tiles

    def key(self, cid: str, z: int, x: int, y: int, scenario: str | None = None) -> TileKey:
        """Check a tile request and name the tile (current revision).

        Raises
        ------
        DataNotFoundError
            Unknown collection or scenario.
        ParameterError
            Zoom outside :attr:`minzoom` .. :attr:`maxzoom`, or x/y outside the grid.
        """
        sc = self._scenario_of(cid, scenario)
        check_tile(z, x, y, self.minzoom, self.maxzoom)
        return TileKey(cid, self.source.revision(cid), sc, z, x, y)

    def etag(self, key: TileKey) -> str:
        """Strong ETag of a tile: area, collection, revision, scenario, tile and a
        digest of the collection's content."""
        prepared = self._prepared(key.cid, key.scenario)
        parts = (
            FORMAT_VERSION,
            self.source.name,
            key.cid,
            prepared.revision,
            key.scenario or "",
            prepared.fingerprint,
            key.z,
            key.x,
            key.y,
        )
        digest = hashlib.blake2b(repr(parts).encode(), digest_size=12).hexdigest()
        return f'"{digest}"'

    def tile(self, cid: str, z: int, x: int, y: int, scenario: str | None = None) -> Tile:
        """The encoded tile ``z/x/y`` of ``cid`` (from the cache when there).

        Returns
        -------
        Tile
            ``data`` is empty when no feature intersects the tile.

        Raises
        ------
        DataNotFoundError
            Unknown collection or scenario.
        ParameterError
            Tile outside the served zoom range or the grid.
        """
        key = self.key(cid, z, x, y, scenario)
        prepared = self._prepared(cid, key.scenario)
        key = TileKey(cid, prepared.revision, key.scenario, z, x, y)
        etag = self.etag(key)
        data = self.cache.get(etag)
        if data is None:
            data = prepared.layer.render(z, x, y).data
            self.cache.put(etag, data)
        return Tile(key, data, etag)

    def field_types(self, cid: str, scenario: str | None = None) -> dict[str, str]:
        """TileJSON ``fields`` of a collection's tiles: name -> String/Number/Boolean."""
        layer = self.layer(cid, scenario)
        kinds: dict[str, str] = {}
        for row in layer.properties:
            for k, v in row:
                if k not in kinds:
                    kinds[k] = _json_kind(v)
        return {f: kinds.get(f, "String") for f in layer.fields}

    def bounds(
        self, cid: str, scenario: str | None = None
    ) -> tuple[float, float, float, float] | None:
        """EPSG:3857 bounds of a collection's features (None when it has none)."""
        b = self.layer(cid, scenario).bounds
        return None if not np.isfinite(b).all() else b


def _json_kind(v: Any) -> str:
    if isinstance(v, bool):
        return "Boolean"
    if isinstance(v, int | float):
        return "Number"
    return "String"
