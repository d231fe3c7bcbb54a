"""Map tiles of a what-if's difference raster: a diverging colour map, red = deeper,
blue = shallower or dry, with changes under 1 cm transparent.

Rendering is the service's (:mod:`klimakort.tiles`): the difference is warped once per
zoom onto the tile matrix (:class:`~klimakort.tiles.pyramid.Pyramid`) and encoded as a
palette PNG.
"""

from __future__ import annotations

import threading

import numpy as np
import xarray as xr

from klimakort.service.catalog import RasterLayer
from klimakort.tiles.cache import ByteLRU, KeyedLocks
from klimakort.tiles.colormap import resolve_style, to_index
from klimakort.tiles.png import encode_indexed
from klimakort.tiles.pyramid import Level, Pyramid
from klimakort.tiles.service import EMPTY_TILE, Tile, etag_of
from klimakort.tiles.tms import check_tile, get_tms
from klimakort.tiles.warp import source_of

#: changes smaller than this (m) are not drawn
MIN_CHANGE_M = 0.01
#: the difference layer's catalogue entry (diverging ramp, +-1 m)
DIFFERENCE_LAYER = RasterLayer(
    "whatif_difference",
    {"da": "Ændring i vanddybde", "en": "Change in water depth"},
    "m",
    "hazards",
    True,
    "RdBu_r",
    (-1.0, 1.0),
    description="water depth after the edits minus before: red deeper, blue shallower/dry",
)
MB = 1024 * 1024


def significant(diff: xr.DataArray) -> xr.DataArray:
    """The difference with changes below :data:`MIN_CHANGE_M` set to NaN."""
    v = np.asarray(diff.values, dtype=np.float32).copy()
    with np.errstate(invalid="ignore"):
        v[~(np.abs(v) >= MIN_CHANGE_M)] = np.nan
    return diff.copy(data=v)


class DifferenceTiles:
    """Tiles of difference rasters, one pyramid per key (job, hazard)."""

    def __init__(self, level_mb: float = 128, max_zoom: int | None = None) -> None:
        self.levels: ByteLRU[Level] = ByteLRU(int(level_mb * MB), lambda lv: lv.nbytes)
        self._locks = KeyedLocks()
        self._lock = threading.Lock()
        self._pyramids: dict[tuple[str, str, str], Pyramid] = {}
        self.max_zoom = max_zoom

    def tile(
        self, key: tuple[str, str], diff: xr.DataArray, tms_id: str, z: int, x: int, y: int
    ) -> Tile:
        """A 256 x 256 PNG of ``diff`` (cached per ``key`` and tile matrix set)."""
        tms = get_tms(tms_id)
        max_zoom = self.max_zoom if tms_id == "WebMercatorQuad" else None
        check_tile(tms, z, x, y, min(tms.maxzoom, max_zoom or tms.maxzoom))
        pkey = (*key, tms_id)
        with self._lock:
            pyr = self._pyramids.get(pkey)
            if pyr is None:
                src = source_of(significant(diff))
                pyr = Pyramid(src, DIFFERENCE_LAYER, tms, self.levels, pkey, self._locks)
                self._pyramids[pkey] = pyr
        style = resolve_style(DIFFERENCE_LAYER)
        idx = pyr.tile_values(z, x, y, lambda v: to_index(v, style))
        if idx is None or not idx.any():
            return EMPTY_TILE
        png = encode_indexed(idx, style.palette)
        return Tile(png, etag_of(png), False)

    def forget(self, job_id: str) -> None:
        """Drop the pyramids of a job."""
        with self._lock:
            for k in [k for k in self._pyramids if k[0] == job_id]:
                del self._pyramids[k]
