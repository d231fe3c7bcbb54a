"""A collection prepared for vector tiles: EPSG:3857 geometry, an STRtree, per-zoom
simplified copies and the tile properties, all computed once per revision.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import shapely

from klimakort.errors import CRSError, GeometryError
from klimakort.vectortiles.encode import (
    LINESTRING,
    POINT,
    POLYGON,
    build_tile,
    geometry_commands,
)
from klimakort.vectortiles.fields import feature_properties, tile_fields
from klimakort.vectortiles.grid import pixel_size_m, tile_bounds

#: tile units (of :data:`EXTENT`) of geometry kept around a tile when clipping
BUFFER = 64
#: tile units across a tile
EXTENT = 4096
#: simplification tolerance in tile units (half a tile pixel)
SIMPLIFY_UNITS = 0.5
#: shapely type id -> MVT geometry type
_MVT_TYPE = np.array([POINT, LINESTRING, LINESTRING, POLYGON, POINT, LINESTRING, POLYGON, 0])


@dataclass(frozen=True)
class RenderedTile:
    """An encoded tile and how many features it holds."""

    data: bytes
    n_features: int


@dataclass
class PreparedLayer:
    """The features of one collection (one revision, one scenario) ready for tiling.

    Build with :meth:`from_frame`. Thread-safe: the per-zoom simplified geometry is
    computed once under a lock; rendering only reads shared state.

    Attributes
    ----------
    name : str
        Layer name in the tiles (the collection id).
    geoms : ndarray of shapely geometries
        Geometry in EPSG:3857 (no empty or missing geometry).
    gtypes : ndarray of int
        MVT geometry type of each feature.
    properties : list
        ``(key, value)`` pairs per feature (``fid`` first).
    fields : list of str
        Property names the tiles carry.
    ids : list of int
        MVT feature id per feature: 1-based row number in the collection.
    tree : shapely.STRtree
        Index of :attr:`geoms`.
    bounds : tuple of float
        Bounds of all features in EPSG:3857.
    """

    name: str
    geoms: np.ndarray
    gtypes: np.ndarray
    properties: list[tuple[tuple[str, Any], ...]]
    fields: list[str]
    ids: list[int]
    tree: shapely.STRtree
    bounds: tuple[float, float, float, float]
    _simplified: dict[int, np.ndarray] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def from_frame(cls, name: str, frame: gpd.GeoDataFrame) -> PreparedLayer:
        """Prepare ``frame`` (any projected or geographic CRS, with a text ``fid``).

        Raises
        ------
        CRSError
            The frame has no CRS.
        GeometryError
            A geometry type MVT cannot carry (geometry collections).
        """
        if frame.crs is None:
            raise CRSError(f"collection {name!r} has no CRS; set one before serving tiles")
        ids = np.arange(1, len(frame) + 1)
        if "fid" not in frame.columns:
            frame = frame.assign(fid=[str(i) for i in ids])
        geom = frame.geometry
        ok = ~(geom.isna() | geom.is_empty).to_numpy()
        frame, ids = frame[ok], ids[ok]
        geoms = np.asarray(frame.geometry.to_crs(3857).values, dtype=object)
        type_id = shapely.get_type_id(geoms)
        gtypes = _MVT_TYPE[type_id]
        if (gtypes == 0).any():
            raise GeometryError(
                f"collection {name!r} holds geometry collections, which vector tiles "
                "cannot carry; explode them into single geometry types"
            )
        fields = tile_fields(name, frame)
        if len(geoms):
            b = shapely.total_bounds(geoms)
            bounds = (float(b[0]), float(b[1]), float(b[2]), float(b[3]))
        else:
            bounds = (np.inf, np.inf, -np.inf, -np.inf)
        return cls(
            name=name,
            geoms=geoms,
            gtypes=gtypes,
            properties=feature_properties(frame, fields),
            fields=fields,
            ids=ids.tolist(),
            tree=shapely.STRtree(geoms),
            bounds=bounds,
        )

    def __len__(self) -> int:
        return len(self.geoms)

    def simplified(self, z: int) -> np.ndarray:
        """All geometry simplified for zoom ``z`` (tolerance half a tile pixel).

        Polygons keep their topology (no self-intersections or collapsed rings that
        Douglas-Peucker alone could produce); lines and points are simplified plainly.
        """
        with self._lock:
            out = self._simplified.get(z)
            if out is None:
                tol = SIMPLIFY_UNITS * pixel_size_m(z, EXTENT)
                out = self.geoms.copy()
                poly = self.gtypes == POLYGON
                line = self.gtypes == LINESTRING
                if poly.any():
                    out[poly] = shapely.simplify(self.geoms[poly], tol, preserve_topology=True)
                if line.any():
                    out[line] = shapely.simplify(self.geoms[line], tol, preserve_topology=False)
                self._simplified[z] = out
            return out

    def query(self, bounds: tuple[float, float, float, float]) -> np.ndarray:
        """Indices (ascending) of the features whose geometry intersects ``bounds``."""
        b = self.bounds
        if bounds[0] > b[2] or bounds[2] < b[0] or bounds[1] > b[3] or bounds[3] < b[1]:
            return np.empty(0, dtype=np.intp)
        idx = self.tree.query(shapely.box(*bounds), predicate="intersects")
        return np.sort(idx)

    def render(self, z: int, x: int, y: int) -> RenderedTile:
        """Encode tile ``z/x/y`` of WebMercatorQuad (empty ``data`` when no feature).

        The features are those whose (unsimplified) geometry intersects the tile;
        their geometry simplified for ``z`` is clipped to the tile plus
        :data:`BUFFER` units and snapped to the integer grid; parts that collapse
        there are dropped.
        """
        bounds = tile_bounds(z, x, y)
        idx = self.query(bounds)
        if len(idx) == 0:
            return RenderedTile(b"", 0)
        pad = BUFFER * pixel_size_m(z, EXTENT)
        clip = (bounds[0] - pad, bounds[1] - pad, bounds[2] + pad, bounds[3] + pad)
        geoms = self.simplified(z)[idx]
        gtypes = self.gtypes[idx]
        clipped = geoms.copy()
        lines = gtypes != POINT  # points need no clipping: the query kept those inside
        if lines.any():
            clipped[lines] = shapely.clip_by_rect(geoms[lines], *clip)
        cmds = geometry_commands(clipped, gtypes, bounds, EXTENT)
        props = [self.properties[i] for i in idx.tolist()]
        ids = [self.ids[i] for i in idx.tolist()]
        data = build_tile(self.name, cmds, props, ids, EXTENT)
        return RenderedTile(data, len(cmds.feature))
