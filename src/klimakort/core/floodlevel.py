"""Minimum flooding level from the sea: priority flood on the minimax path height.

For every cell the *minimum flooding level* is the lowest still-water sea level at which
the cell is reached by water from the sea along a connected path::

    mfl(c) = min over paths p from the sea to c of max(terrain along p)

(a "bathtub" model with hydraulic connectivity, as in NOAA's sea-level-rise viewer and
SCALGO Live's flood-level maps). It is computed in one pass with a priority flood
(Barnes, Lehman & Mulla 2014, "Priority-Flood", Computers & Geosciences 62:117-127):
cells are finalised in increasing order of level from the sea cells outwards; a cell
that is lower than the level it was reached at goes to a plain FIFO queue instead of
the heap ("Priority-Flood+", their Algorithm 4), which keeps most depression cells
out of the heap.

Heights are compared as order-preserving ``uint32`` keys (the IEEE-754 bit trick),
packed with the flat cell index into one ``uint64`` heap entry, so the heap compares
and moves one integer per step. Ties are broken by cell index: results are
deterministic.

Encoding of the level raster:

* sea cells: ``-inf`` (always wet);
* nodata cells (NaN terrain, not sea): ``NaN``;
* valid cells that no path from the sea reaches (enclosed by nodata): ``+inf``.

Every cell also remembers its *sill*: the cell on its minimax path where that path
reaches its maximum, i.e. the pour/saddle cell over which water first enters it. All
cells sharing a sill flood at the same instant when the sea level passes the sill's
level; a sill with many cells is a *critical point* (a saddle behind which a whole basin
fills at once).

Pure numpy + numba; no file access, no xarray.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from klimakort.errors import GridMismatchError, NoDataError, ParameterError

__all__ = [
    "at_risk_mask",
    "connected_inundation",
    "critical_points",
    "default_sea_mask",
    "effective_terrain",
    "flood_level_and_sills",
    "min_flood_level",
]

_SIGN = np.uint32(0x80000000)
_LOW32 = np.uint64(0xFFFFFFFF)
_SHIFT = np.uint64(32)
# states of the padded level array; every finite height maps to a key in
# [0x007FFFFF, 0xFF800000], so these three values never collide with a height
_OPEN = np.uint32(0)
_SEA = np.uint32(1)
_WALL = np.uint32(0xFFFFFFFF)
_MAX_CELLS = 2**32 - 1
# float32 bit patterns of -inf, NaN and +inf
_NEG_INF = np.uint32(0xFF800000)
_NAN = np.uint32(0x7FC00000)
_POS_INF = np.uint32(0x7F800000)

# neighbour offsets: the first four are the 4-neighbours, all eight the 8-neighbours
_DR = np.array([0, 1, 0, -1, 1, 1, -1, -1], dtype=np.int64)
_DC = np.array([1, 0, -1, 0, 1, -1, -1, 1], dtype=np.int64)


def _check_connectivity(connectivity: int) -> int:
    if connectivity not in (4, 8):
        raise ParameterError(f"connectivity must be 4 or 8, got {connectivity!r}")
    return connectivity


def _as_2d_float32(name: str, values: np.ndarray) -> np.ndarray:
    arr = np.asarray(values)
    if arr.ndim != 2:
        raise ParameterError(f"{name} must be a 2-D array, got shape {arr.shape}")
    return np.ascontiguousarray(arr, dtype=np.float32)


def _check_same_shape(name: str, arr: np.ndarray, shape: tuple[int, ...]) -> None:
    if arr.shape != shape:
        raise GridMismatchError(
            f"{name} has shape {arr.shape} but the terrain has shape {shape}; "
            "rasterise it on the terrain grid first"
        )


def effective_terrain(dem: np.ndarray, barrier_crest: np.ndarray | None = None) -> np.ndarray:
    """Terrain raised to barrier crest heights.

    Parameters
    ----------
    dem : ndarray
        Terrain heights (float, NaN = nodata).
    barrier_crest : ndarray, optional
        Crest heights of barriers (dikes, walls, gates) on the same grid; NaN where there is
        no barrier. A crest lower than the terrain changes nothing.

    Returns
    -------
    ndarray of float32
        ``max(dem, crest)`` where a crest is given, ``dem`` elsewhere; nodata stays NaN.
    """
    dem32 = _as_2d_float32("dem", dem)
    if barrier_crest is None:
        return dem32
    crest = _as_2d_float32("barrier_crest", barrier_crest)
    _check_same_shape("barrier_crest", crest, dem32.shape)
    return np.where(np.isnan(crest), dem32, np.maximum(dem32, crest)).astype(np.float32)


@njit(cache=True)
def _edge_nodata_kernel(dem: np.ndarray, connectivity: int) -> np.ndarray:
    nrows, ncols = dem.shape
    sea = np.empty((nrows, ncols), dtype=np.bool_)
    sea[:] = False
    queue = np.empty(nrows * ncols, dtype=np.int64)
    head = 0
    tail = 0
    for r in range(nrows):
        for c in range(ncols):
            if r == 0 or c == 0 or r == nrows - 1 or c == ncols - 1:
                v = dem[r, c]
                if np.isnan(v):
                    sea[r, c] = True
                    queue[tail] = r * ncols + c
                    tail += 1
                elif v < 0.0:
                    sea[r, c] = True
    while head < tail:
        idx = queue[head]
        head += 1
        r = idx // ncols
        c = idx - r * ncols
        for k in range(connectivity):
            rr = r + _DR[k]
            cc = c + _DC[k]
            if rr < 0 or cc < 0 or rr >= nrows or cc >= ncols:
                continue
            if not sea[rr, cc] and np.isnan(dem[rr, cc]):
                sea[rr, cc] = True
                queue[tail] = rr * ncols + cc
                tail += 1
    return sea


def default_sea_mask(dem: np.ndarray, connectivity: int = 8) -> np.ndarray:
    """Sea cells when no sea polygon is given.

    Sea = nodata cells connected (through nodata) to the raster edge, plus edge cells
    whose terrain is below 0 m.

    Parameters
    ----------
    dem : ndarray
        Terrain heights (NaN = nodata).
    connectivity : {4, 8}
        Neighbourhood used to connect nodata cells to the edge.

    Returns
    -------
    ndarray of bool
    """
    return _edge_nodata_kernel(_as_2d_float32("dem", dem), _check_connectivity(connectivity))


@njit(cache=True, inline="always")
def _heap_push(heap: np.ndarray, size: int, key: np.uint64) -> int:
    i = size
    while i > 0:
        parent = (i - 1) >> 1
        pk = heap[parent]
        if pk <= key:
            break
        heap[i] = pk
        i = parent
    heap[i] = key
    return size + 1


@njit(cache=True, inline="always")
def _heap_pop(heap: np.ndarray, size: int) -> tuple[np.uint64, int]:
    top = heap[0]
    size -= 1
    last = heap[size]
    i = 0
    while True:
        child = 2 * i + 1
        if child >= size:
            break
        ck = heap[child]
        if child + 1 < size and heap[child + 1] < ck:
            child += 1
            ck = heap[child]
        if ck >= last:
            break
        heap[i] = ck
        i = child
    heap[i] = last
    return top, size


@njit(cache=True)
def _flood_kernel(  # noqa: C901 - prepare, flood and unpad in one kernel (compile time)
    bits: np.ndarray, sea: np.ndarray, connectivity: int, track_sills: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Priority flood from the sea over float32 heights given as bit patterns ``bits``.

    1. Padded order-preserving keys and initial states from the bit patterns.
    2. Priority flood on the padded flat grid; ``state`` becomes the level keys.
    3. Unpad: level keys -> float32 levels as ``uint32`` bit patterns (view them as
       float32; a view inside the kernel would cost compile time), with -inf/NaN/+inf
       codes, and the padded sill indices -> flat sill indices (a 1 x 1 array when
       ``track_sills`` is false).
    """
    nrows, ncols = bits.shape
    width = ncols + 2
    keys = np.empty((nrows + 2) * width, dtype=np.uint32)
    keys[:] = 0
    state = np.empty((nrows + 2) * width, dtype=np.uint32)
    state[:] = _WALL
    for r in range(nrows):
        base = (r + 1) * width + 1
        for c in range(ncols):
            b = bits[r, c]
            if b == _SIGN:  # -0.0 compares equal to +0.0
                b = np.uint32(0)
            if sea[r, c]:
                state[base + c] = _SEA
            elif (b & np.uint32(0x7F800000)) != np.uint32(0x7F800000):  # finite
                state[base + c] = _OPEN
                keys[base + c] = ~b if (b & _SIGN) != 0 else b | _SIGN
    n = keys.size
    offs = np.empty(8, dtype=np.int64)
    for k in range(8):
        offs[k] = _DR[k] * width + _DC[k]
    sill = np.empty(n if track_sills else 1, dtype=np.int64)
    sill[:] = -1
    fifo = np.empty(n, dtype=np.int64)
    heap = np.empty(n, dtype=np.uint64)
    head = 0
    tail = 0
    hsize = 0
    for i in range(n):
        if state[i] == _SEA:
            fifo[tail] = i
            tail += 1
    while True:
        if head < tail:
            cell = fifo[head]
            head += 1
            lev = state[cell]
        elif hsize > 0:
            entry, hsize = _heap_pop(heap, hsize)
            cell = np.int64(entry & _LOW32)
            lev = np.uint32(entry >> _SHIFT)
        else:
            break
        for k in range(connectivity):
            nb = cell + offs[k]
            if state[nb] != _OPEN:
                continue
            key = keys[nb]
            if key <= lev:  # lower than the water level it is reached at: same level
                state[nb] = lev
                if track_sills:
                    sill[nb] = sill[cell]
                fifo[tail] = nb
                tail += 1
            else:  # higher: its own height is its level, and it is a sill candidate
                state[nb] = key
                if track_sills:
                    sill[nb] = nb
                hsize = _heap_push(heap, hsize, (np.uint64(key) << _SHIFT) | np.uint64(nb))
    level_bits = np.empty((nrows, ncols), dtype=np.uint32)
    sill_out = np.empty((nrows, ncols) if track_sills else (1, 1), dtype=np.int64)
    sill_out[:] = -1
    for r in range(nrows):
        base = (r + 1) * width + 1
        for c in range(ncols):
            s = state[base + c]
            if s == _SEA:
                level_bits[r, c] = _NEG_INF
            elif s == _WALL:
                level_bits[r, c] = _NAN
            elif s == _OPEN:
                level_bits[r, c] = _POS_INF
            else:
                level_bits[r, c] = s ^ _SIGN if (s & _SIGN) != 0 else ~s
                if track_sills:
                    p = sill[base + c]
                    if p >= 0:
                        sill_out[r, c] = (p // width - 1) * ncols + (p % width - 1)
    return level_bits, sill_out


def _run_flood(
    dem: np.ndarray,
    sea_mask: np.ndarray | None,
    barrier_crest: np.ndarray | None,
    connectivity: int,
    track_sills: bool,
) -> tuple[np.ndarray, np.ndarray]:
    _check_connectivity(connectivity)
    terrain = effective_terrain(dem, barrier_crest)
    nrows, ncols = terrain.shape
    if (nrows + 2) * (ncols + 2) > _MAX_CELLS:
        raise ParameterError(
            f"raster has {terrain.size} cells; at most about {_MAX_CELLS} are supported: tile it"
        )
    if sea_mask is None:
        sea = _edge_nodata_kernel(terrain, connectivity)
    else:
        sea = np.ascontiguousarray(sea_mask, dtype=bool)
        _check_same_shape("sea_mask", sea, terrain.shape)
    if not sea.any():
        raise NoDataError(
            "no sea cells: give a sea mask (sea polygon) or a terrain whose edge has "
            "nodata or cells below 0 m"
        )
    bits, sill = _flood_kernel(terrain.view(np.uint32), sea, connectivity, track_sills)
    return bits.view(np.float32), sill


def min_flood_level(
    dem: np.ndarray,
    sea_mask: np.ndarray | None = None,
    barrier_crest: np.ndarray | None = None,
    connectivity: int = 8,
) -> np.ndarray:
    """Lowest sea level (m, same datum as ``dem``) at which each cell is flooded from the sea.

    Parameters
    ----------
    dem : ndarray
        Terrain heights, 2-D, NaN = nodata.
    sea_mask : ndarray of bool, optional
        Sea cells (e.g. a rasterised sea polygon). Without it the sea is the nodata connected
        to the raster edge plus edge cells below 0 m (see :func:`default_sea_mask`).
    barrier_crest : ndarray, optional
        Barrier crest heights (NaN where none); cells are raised to their crest.
    connectivity : {4, 8}
        Neighbourhood through which water spreads. 8 follows NOAA's "eight-side rule";
        4 is stricter (no leaks through diagonal gaps of one-cell-wide barriers).

    Returns
    -------
    ndarray of float32
        Minimum flooding level; ``-inf`` on sea cells, ``NaN`` on nodata, ``+inf`` where no
        path from the sea exists.
    """
    level, _ = _run_flood(dem, sea_mask, barrier_crest, connectivity, track_sills=False)
    return level


def flood_level_and_sills(
    dem: np.ndarray,
    sea_mask: np.ndarray | None = None,
    barrier_crest: np.ndarray | None = None,
    connectivity: int = 8,
) -> tuple[np.ndarray, np.ndarray]:
    """Minimum flooding level and, per cell, the flat index of its sill cell.

    Parameters
    ----------
    dem, sea_mask, barrier_crest, connectivity
        As in :func:`min_flood_level`.

    Returns
    -------
    level : ndarray of float32
        As returned by :func:`min_flood_level`.
    sill : ndarray of int64
        Flat (row-major) index of the cell where the cell's minimax path from the sea
        reaches its maximum (the cell itself when it is higher than everything before it);
        ``-1`` for sea, nodata and unreached cells. All cells sharing a sill flood at the
        same sea level.
    """
    level, sill = _run_flood(dem, sea_mask, barrier_crest, connectivity, track_sills=True)
    return level, sill


def connected_inundation(dem: np.ndarray, min_level: np.ndarray, level: float) -> np.ndarray:
    """Water depth for a still-water sea level, counting only cells connected to the sea.

    Parameters
    ----------
    dem : ndarray
        Terrain heights (NaN = nodata).
    min_level : ndarray
        Minimum flooding level from :func:`min_flood_level` (same grid).
    level : float
        Sea level (same datum as ``dem``).

    Returns
    -------
    ndarray of float32
        ``level - dem`` where ``min_level <= level`` and the depth is positive; 0 on dry or
        disconnected land; NaN on sea and nodata cells.
    """
    dem32 = _as_2d_float32("dem", dem)
    mfl = _as_2d_float32("min_level", min_level)
    _check_same_shape("min_level", mfl, dem32.shape)
    lev = np.float32(level)
    depth = lev - dem32
    wet = (mfl <= lev) & (depth > 0)
    out = np.where(wet, depth, np.float32(0.0)).astype(np.float32)
    out[np.isnan(dem32) | np.isneginf(mfl) | np.isnan(mfl)] = np.nan
    return out


def at_risk_mask(dem: np.ndarray, min_level: np.ndarray, level: float) -> np.ndarray:
    """Land below ``level`` that is *not* connected to the sea at that level.

    These cells are protected by a barrier or a natural ridge; they flood if that fails.

    Parameters
    ----------
    dem, min_level, level
        As in :func:`connected_inundation`.

    Returns
    -------
    ndarray of bool
    """
    dem32 = _as_2d_float32("dem", dem)
    mfl = _as_2d_float32("min_level", min_level)
    _check_same_shape("min_level", mfl, dem32.shape)
    lev = np.float32(level)
    with np.errstate(invalid="ignore"):
        return np.asarray((dem32 < lev) & (mfl > lev) & ~np.isnan(mfl), dtype=bool)


def critical_points(
    min_level: np.ndarray,
    sill: np.ndarray,
    min_cells: int = 1,
    top: int | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sills where the flooded area jumps as the sea level rises.

    Parameters
    ----------
    min_level : ndarray
        Minimum flooding level (from :func:`flood_level_and_sills`).
    sill : ndarray of int64
        Sill index per cell (from :func:`flood_level_and_sills`).
    min_cells : int
        Keep sills over which at least this many cells flood at once (the sill included).
    top : int, optional
        Keep at most this many, the largest first.

    Returns
    -------
    index : ndarray of int64
        Flat index of each sill cell.
    level : ndarray of float32
        Sea level at which the sill is overtopped (water enters the basin just above it).
    ncells : ndarray of int64
        Number of cells that become flooded at once when the level passes the sill.
        Sorted by ``ncells`` descending, ties by level ascending.
    """
    if min_cells < 1:
        raise ParameterError(f"min_cells must be >= 1, got {min_cells}")
    if top is not None and top < 0:
        raise ParameterError(f"top must be >= 0, got {top}")
    flat_sill = np.asarray(sill, dtype=np.int64).ravel()
    mfl = np.asarray(min_level, dtype=np.float32).ravel()
    if flat_sill.size != mfl.size:
        raise GridMismatchError("sill and min_level have different sizes")
    counts = np.bincount(flat_sill[flat_sill >= 0], minlength=flat_sill.size)
    index = np.flatnonzero(counts >= min_cells).astype(np.int64)
    ncells = counts[index].astype(np.int64)
    levels = mfl[index]
    order = np.lexsort((levels, -ncells))
    if top is not None:
        order = order[:top]
    return index[order], levels[order], ncells[order]
