"""Pre-warped pyramids: a layer reprojected once per zoom onto a tile matrix set's pixels.

For every zoom up to the *native* zoom (the first whose cell is at most the raster's
cell, measured in the matrix set's CRS) the layer is warped once, with
:func:`rasterio.warp.reproject`, onto the matrix's pixel grid over the area: a tile
is then a slice of that array. Deeper zooms slice the native level and repeat its
pixels (nearest upsampling, exact on a quadtree), so no huge arrays are ever built.
Levels are built lazily, once (per-key locks), and kept in an LRU bounded by bytes.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from affine import Affine
from morecantile import TileMatrixSet
from rasterio.crs import CRS
from rasterio.warp import transform_bounds

from klimakort.service.catalog import RasterLayer
from klimakort.tiles.cache import ByteLRU, KeyedLocks
from klimakort.tiles.warp import Source, resampling_for, warp

#: relative tolerance when comparing cell sizes (a 1.6 m raster is native at 1.6 m)
_REL_TOL = 1e-6


@dataclass(frozen=True)
class Window:
    """A pixel window of a tile matrix: global columns ``col0..col1`` and rows ``row0..row1``
    (end-exclusive) at ``zoom``."""

    zoom: int
    col0: int
    row0: int
    col1: int
    row1: int

    @property
    def shape(self) -> tuple[int, int]:
        """(rows, columns)."""
        return (self.row1 - self.row0, self.col1 - self.col0)


@dataclass(frozen=True)
class Level:
    """One warped zoom level: float32 values (NaN = no data) over ``window``."""

    window: Window
    values: np.ndarray

    @property
    def nbytes(self) -> int:
        """Memory of the values."""
        return int(self.values.nbytes)


class Pyramid:
    """The zoom levels of one layer (and scenario) on one tile matrix set.

    Parameters
    ----------
    source : Source
        The layer's values, transform and CRS.
    layer : RasterLayer
        Catalogue entry (chooses the resampling).
    tms : TileMatrixSet
        Target tile matrix set.
    store : ByteLRU
        Shared, bounded store of built levels.
    key : tuple
        Prefix of this pyramid's keys in ``store``.
    """

    def __init__(
        self,
        source: Source,
        layer: RasterLayer,
        tms: TileMatrixSet,
        store: ByteLRU[Level],
        key: tuple[object, ...],
        locks: KeyedLocks | None = None,
    ) -> None:
        self.source = source
        self.layer = layer
        self.tms = tms
        self.crs = CRS.from_user_input(tms.rasterio_crs)
        self._store = store
        self._key = key
        self._locks = locks or KeyedLocks()
        self.bounds = transform_bounds(source.crs, self.crs, *source.bounds, densify_pts=21)
        xmin, ymin, xmax, ymax = self.bounds
        h, w = source.values.shape
        self.source_res = max((xmax - xmin) / w, (ymax - ymin) / h)
        self.native_zoom = self._native_zoom()

    # ------------------------------------------------------------------ geometry

    def cell(self, zoom: int) -> float:
        """Cell size of ``zoom`` in the matrix set's CRS units."""
        return float(self.tms.matrix(zoom).cellSize)

    def _native_zoom(self) -> int:
        for m in self.tms.tileMatrices:
            if m.cellSize <= self.source_res * (1 + _REL_TOL):
                return int(m.id)
        return self.tms.maxzoom

    def window(self, zoom: int) -> Window:
        """Pixels of ``zoom`` that the layer's bounds touch (clipped to the matrix)."""
        m = self.tms.matrix(zoom)
        ox, oy = m.pointOfOrigin
        cell = float(m.cellSize)
        xmin, ymin, xmax, ymax = self.bounds
        eps = _REL_TOL * 1e3
        col0 = max(0, math.floor((xmin - ox) / cell + eps))
        col1 = min(m.matrixWidth * m.tileWidth, math.ceil((xmax - ox) / cell - eps))
        row0 = max(0, math.floor((oy - ymax) / cell + eps))
        row1 = min(m.matrixHeight * m.tileHeight, math.ceil((oy - ymin) / cell - eps))
        return Window(zoom, col0, row0, max(col0, col1), max(row0, row1))

    def touches(self, zoom: int, x: int, y: int) -> bool:
        """Whether tile (zoom, x, y) overlaps the layer's bounds."""
        w = self.window(zoom)
        m = self.tms.matrix(zoom)
        c0, r0 = x * m.tileWidth, y * m.tileHeight
        return (
            c0 < w.col1 and c0 + m.tileWidth > w.col0 and r0 < w.row1 and r0 + m.tileHeight > w.row0
        )

    # ------------------------------------------------------------------ levels

    def level(self, zoom: int) -> Level:
        """The warped level of ``zoom`` (at most the native zoom), built once."""
        zoom = min(zoom, self.native_zoom)
        key = (*self._key, zoom)
        got = self._store.get(key)
        if got is not None:
            return got
        with self._locks(key):
            got = self._store.get(key)
            if got is None:
                got = self._build(zoom)
                self._store.put(key, got)
            return got

    def _build(self, zoom: int) -> Level:
        w = self.window(zoom)
        m = self.tms.matrix(zoom)
        ox, oy = m.pointOfOrigin
        cell = float(m.cellSize)
        transform = Affine(cell, 0.0, ox + w.col0 * cell, 0.0, -cell, oy - w.row0 * cell)
        resampling = resampling_for(self.layer, cell / self.source_res)
        values = warp(self.source, transform, self.crs, w.shape, resampling)
        return Level(w, values)

    def tile_values(
        self, zoom: int, x: int, y: int, func: Callable[[np.ndarray], np.ndarray], fill: float = 0
    ) -> np.ndarray | None:
        """``func`` applied to the values under tile (zoom, x, y), as a tile-sized array.

        ``func`` maps a block of level values to an array of the same shape (e.g. palette
        indices); it runs on the level's pixels before nearest upsampling, so deep zooms
        cost no more than native ones. Cells outside the layer get ``fill``. Returns None
        when the tile does not touch the layer.
        """
        if not self.touches(zoom, x, y):
            return None
        m = self.tms.matrix(zoom)
        tw, th = m.tileWidth, m.tileHeight
        lvl = self.level(zoom)
        shift = zoom - lvl.window.zoom
        # global pixel ids of the tile at ``zoom`` -> pixel ids of the level (nearest)
        cols = ((x * tw + np.arange(tw)) >> shift) - lvl.window.col0
        rows = ((y * th + np.arange(th)) >> shift) - lvl.window.row0
        h, w = lvl.values.shape
        cin = (cols >= 0) & (cols < w)
        rin = (rows >= 0) & (rows < h)
        if not (cin.any() and rin.any()):
            return None
        c_lo, c_hi = int(cols[cin][0]), int(cols[cin][-1]) + 1
        r_lo, r_hi = int(rows[rin][0]), int(rows[rin][-1]) + 1
        block = func(lvl.values[r_lo:r_hi, c_lo:c_hi])
        if shift == 0 and cin.all() and rin.all():
            return block
        out = np.full((th, tw), fill, dtype=block.dtype)
        sub = block[np.ix_(rows[rin] - r_lo, cols[cin] - c_lo)]
        ri, ci = np.flatnonzero(rin), np.flatnonzero(cin)
        out[ri[0] : ri[-1] + 1, ci[0] : ci[-1] + 1] = sub
        return out
