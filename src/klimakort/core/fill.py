"""Depression filling of DEMs (Priority-Flood), as a pure numpy/numba kernel.

The algorithm is Priority-Flood (Barnes, Lehman & Mulla 2014, *Computers &
Geosciences* 62:117-127) with a plain FIFO "pit queue" for cells at or below
the current spill level ("Priority-Flood+Flat" / "Priority-Flood+Epsilon"), so
that only cells above the spill level go through the priority queue. Because
Priority-Flood pops keys in non-decreasing order, the queue is a radix heap on
the order-preserving integer image of the float elevations (``_pq.py``): O(1)
push; measured as fast as a binary heap on the benchmark DEM. The slope-tracing
shortcut of Zhou, Sun & Fu (2016) was tried and was about 1.8x slower on rough
terrain (most traced cells still had to enter the queue and were expanded
twice), so it is not used. The fill works in place on a copy of the dem, so the
inner loop reads one float array and one flag array. The run time is dominated
by cache misses of cells popped in elevation order across the whole grid.

On grids of more than two 256 x 256 tiles the ``"flat"`` fill runs tiled and
multi-threaded instead (:mod:`klimakort.core.fill_tiled`, Barnes 2016): each tile
is flooded in a cache-resident copy with a bucket queue, then a spill graph over
the tiles' watersheds is solved. It gives the same bits as the serial fill (except
possibly the sign of a zero height); ``"epsilon"`` always runs serially.

Extra memory (serial): one ``uint8`` flag and one ``int32`` pit-queue slot per cell (``int64``
beyond 2**31 cells; only the part the pit queue reaches is ever touched), plus
the priority queue at 20 bytes per queued cell (the flood front: at most 0.7 %
of the cells on the 4000 x 4000 benchmark DEM). Tiled: one ``uint8`` flag and one
``uint16`` label per cell, plus about 1.6 MB of scratch buffers per thread.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from numba import njit

from klimakort.core._pq import float_key, rq_new, rq_pop, rq_push
from klimakort.core.fill_tiled import NODATA as _NODATA
from klimakort.core.fill_tiled import SEED as _SEED
from klimakort.core.fill_tiled import fill_flat_tiled
from klimakort.errors import GridMismatchError, InputError, ParameterError

__all__ = ["fill_depressions"]

# flag bits
_CLOSED = np.uint8(1)  # processed (or nodata): never visited again
_BORDER = np.uint8(2)  # on the raster edge: neighbour loops need bounds checks
# _SEED (4): outlet cell, keeps its own elevation; _NODATA (8): both from fill_tiled
_OUTLET_ND = np.uint8(16)  # nodata that drains water (edge-connected, or any in "outlet" mode)

# Tiles of the multi-threaded flat fill: a tile's scratch buffers (~1.6 MB) stay in the
# L2/L3 cache. Grids of up to two tiles are filled serially.
_TILE = (256, 256)

_DR = np.array([0, 1, 1, 1, 0, -1, -1, -1], dtype=np.int64)
_DC = np.array([1, 1, 0, -1, -1, -1, 0, 1], dtype=np.int64)


@njit(cache=True)
def _mark_edge_connected_nodata(nr: int, nc: int, flags: np.ndarray, work: np.ndarray) -> None:
    """Flag nodata cells 8-connected (through nodata) to the raster edge as OUTLET_ND."""
    top = 0
    for i in range(nr * nc):
        if flags[i] & _BORDER and flags[i] & _NODATA:
            flags[i] |= _OUTLET_ND
            work[top] = i
            top += 1
    while top > 0:
        top -= 1
        i = work[top]
        r = i // nc
        c = i - r * nc
        for k in range(8):
            rr = r + _DR[k]
            cc = c + _DC[k]
            if rr < 0 or rr >= nr or cc < 0 or cc >= nc:
                continue
            j = rr * nc + cc
            if flags[j] & _NODATA and not flags[j] & _OUTLET_ND:
                flags[j] |= _OUTLET_ND
                work[top] = j
                top += 1


@njit(cache=True)
def _mark_seeds(
    nr: int, nc: int, flags: np.ndarray, outlets: np.ndarray, close: bool
) -> np.ndarray:
    """Flag valid edge cells, valid neighbours of OUTLET_ND cells and valid outlet-mask cells.

    With ``close`` the SEED cells are also closed (they keep their elevation) and
    their flat indices returned (ascending); else an empty array is returned.
    """
    has_outlets = outlets.shape[0] > 0
    m = 0
    for r in range(nr):
        for c in range(nc):
            i = r * nc + c
            f = flags[i]
            if f & _NODATA:
                continue
            if f & _BORDER or (has_outlets and outlets[i]):
                flags[i] = f | _SEED
                m += 1
                continue
            for k in range(8):
                if flags[(r + _DR[k]) * nc + c + _DC[k]] & _OUTLET_ND:
                    flags[i] = f | _SEED
                    m += 1
                    break
    seeds = np.empty(m if close else 0, dtype=np.int64)
    if close:
        m = 0
        for i in range(nr * nc):
            if flags[i] & _SEED:
                flags[i] |= _CLOSED
                seeds[m] = i
                m += 1
    return seeds


@njit(cache=True)
def _drain(
    bits: np.ndarray,
    filled: np.ndarray,
    flags: np.ndarray,
    work: np.ndarray,
    seeds: np.ndarray,
    nr: int,
    nc: int,
    eps: bool,
    top: float,
    sign: np.uint64,
    mask: np.uint64,
) -> None:
    """Priority-Flood in place on ``filled`` (a copy of the dem) from the closed ``seeds``.

    An unclosed cell of ``filled`` still holds its dem elevation, so the dem itself
    is not read: one array less in the inner loop (fewer cache misses).

    ``work`` is the FIFO "pit queue" of cells at (or raised to) the current spill
    level; it is drained before the next cell is popped from the priority queue.
    Every cell enters it at most once, so it never overflows; it restarts at 0
    whenever it runs empty. ``bits`` is ``dem`` viewed as unsigned integers (the
    priority keys); ``sign``/``mask`` describe that float format.
    """
    off = np.empty(8, dtype=np.int64)  # flat offsets of the neighbours
    for k in range(8):
        off[k] = _DR[k] * nc + _DC[k]
    heads, state, last, pkey, pval, pnext = rq_new(max(4096, 2 * seeds.shape[0]), work)
    for t in range(seeds.shape[0]):
        i = seeds[t]
        key = float_key(bits[i], sign, mask)
        pkey, pval, pnext = rq_push(heads, state, last, pkey, pval, pnext, key, i)
    head = 0
    tail = 0
    while state[0] > 0 or head < tail:
        if head < tail:
            c = int(work[head])
            head += 1
            if head == tail:
                head = 0
                tail = 0
        else:
            c = rq_pop(heads, state, last, pkey, pval, pnext)
        v = filled[c]
        rv = np.nextafter(v, top) if eps else v
        border = flags[c] & _BORDER
        r = 0
        col = 0
        if border:
            r = c // nc
            col = c - r * nc
        for k in range(8):
            if border:
                rr = r + _DR[k]
                cc = col + _DC[k]
                if rr < 0 or rr >= nr or cc < 0 or cc >= nc:
                    continue
            j = c + off[k]
            if flags[j] & _CLOSED:
                continue
            flags[j] |= _CLOSED
            dn = filled[j]
            if dn <= rv:
                filled[j] = rv
                work[tail] = j
                tail += 1
            else:
                key = float_key(bits[j], sign, mask)
                pkey, pval, pnext = rq_push(heads, state, last, pkey, pval, pnext, key, j)


def _check_args(
    dem: np.ndarray, flats: str, inland_nodata: str, outlets: np.ndarray | None
) -> np.ndarray | None:
    if dem.ndim != 2:
        raise InputError(f"dem must be a 2-D array, got {dem.ndim} dimension(s) {dem.shape}.")
    if dem.dtype not in (np.float32, np.float64):
        raise InputError(
            f"dem must be float32 or float64 with NaN as nodata, got {dem.dtype}; "
            "convert it with dem.astype('float32') and set nodata cells to NaN."
        )
    if flats not in ("flat", "epsilon"):
        raise ParameterError(f"flats must be 'flat' or 'epsilon', got {flats!r}.")
    if inland_nodata not in ("outlet", "barrier"):
        raise ParameterError(f"inland_nodata must be 'outlet' or 'barrier', got {inland_nodata!r}.")
    if outlets is None:
        return None
    out = np.asarray(outlets)
    if out.shape != dem.shape:
        raise GridMismatchError(
            f"outlets mask has shape {out.shape} but the dem has shape {dem.shape}; "
            "rasterise the outlets on the dem grid."
        )
    if out.dtype != np.bool_:
        raise InputError(f"outlets must be a boolean mask, got dtype {out.dtype}.")
    return np.ascontiguousarray(out).reshape(-1).view(np.uint8)


def fill_depressions(
    dem: np.ndarray,
    *,
    flats: Literal["flat", "epsilon"] = "flat",
    inland_nodata: Literal["outlet", "barrier"] = "outlet",
    outlets: np.ndarray | None = None,
) -> np.ndarray:
    """Fill all depressions of a DEM up to their spill level (Priority-Flood).

    Every valid cell is raised to the lowest level at which water standing on it
    can leave the grid through an outlet: the minimum over all 8-connected paths
    to an outlet of the highest elevation on the path (but never below its own
    elevation). Outlet cells keep their elevation.

    Parameters
    ----------
    dem : numpy.ndarray
        2-D float32 or float64 elevations; NaN marks nodata.
    flats : {"flat", "epsilon"}
        ``"flat"`` fills depressions to exactly their spill level (flat water
        surfaces, identical to malstrøm's ``filled.tif`` and to morphological
        reconstruction by erosion). ``"epsilon"`` (Priority-Flood+Epsilon) makes
        every filled or flat cell one representable step (``np.nextafter`` in the
        dem dtype) higher than the cell it was reached from, so that every valid
        non-outlet cell has a strictly lower neighbour and steepest-descent D8 on
        the result drains every cell to an outlet.
    inland_nodata : {"outlet", "barrier"}
        What nodata holes *not* connected to the raster edge are. ``"outlet"``
        (default): water drains into them (a drain, a masked lake), so valid cells
        next to them are outlets. ``"barrier"``: they are walls. Nodata connected
        (8-connected, through nodata) to the raster edge - typically the sea - is
        always an outlet.
    outlets : numpy.ndarray of bool, optional
        Extra outlet cells on the dem grid (e.g. rasterised sea or sink cells).
        Outlets on nodata cells are ignored.

    Returns
    -------
    numpy.ndarray
        Filled DEM, same shape and dtype as ``dem``; nodata stays NaN.

    Raises
    ------
    InputError
        ``dem`` is not 2-D float32/float64, or ``outlets`` is not boolean.
    ParameterError
        Unknown ``flats`` or ``inland_nodata``.
    GridMismatchError
        ``outlets`` does not have the dem's shape.

    Notes
    -----
    Outlets (seeds) are: valid cells on the raster edge, valid cells 8-adjacent
    to outlet nodata, and ``outlets`` cells. With ``inland_nodata="barrier"`` a
    valid region with no outlet at all (walled in by inland nodata) drains to its
    lowest cell (the first in row-major order among equals), which then acts as
    its outlet.

    For tiled processing, pass the tile with a halo and set ``outlets`` to the
    cells where water leaves the tile; the raster edge is always an outlet.

    With ``flats="epsilon"`` the raise over a flat grows by one unit in the last
    place (ulp) per cell of flood distance from the spill point. In float32 the
    ulp is 3.8e-6 m at 32-64 m and 1.5e-5 m at 128-256 m, so a flat 10 000 cells
    across at 100 m is raised by up to about 0.08 m above its flat level. The
    drainage guarantee still holds (each raise is a strict increase), but the
    surface may rise above nearby unfilled terrain; use float64 input for very
    large flats at high elevations. Only the value ``+inf`` cannot be raised.
    """
    tiled = flats == "flat" and np.size(dem) > 2 * _TILE[0] * _TILE[1]
    return _fill(dem, flats, inland_nodata, outlets, _TILE if tiled else None)


def _fill(
    dem: np.ndarray,
    flats: str,
    inland_nodata: str,
    outlets: np.ndarray | None,
    tile: tuple[int, int] | None,
    workers: int | None = None,
) -> np.ndarray:
    """:func:`fill_depressions`; ``tile`` (rows, columns) selects the tiled flat fill.

    The tiled fill (:mod:`klimakort.core.fill_tiled`, ``workers`` threads, default
    one per core) only serves ``flats="flat"``; it falls back to the serial fill if
    some region has no outlet (walled in by "barrier" nodata).
    """
    arr = np.asarray(dem)
    out_flat = _check_args(arr, flats, inland_nodata, outlets)
    a = np.ascontiguousarray(arr)
    nr, nc = a.shape
    n = nr * nc
    if n == 0:
        return a.copy()
    flat_dem = a.reshape(-1)
    idx_dtype = np.int32 if n < 2**31 - 1 else np.int64
    work = np.empty(0, dtype=idx_dtype)  # FIFO / stack, allocated when first needed
    # NODATA|CLOSED on NaN cells, BORDER on edge cells (numpy: one kernel less to compile)
    flags = np.empty(n, dtype=np.uint8)
    np.isnan(flat_dem, out=flags.view(np.bool_))
    has_nodata = bool(flags.any())
    flags *= _NODATA | _CLOSED
    grid_flags = flags.reshape(nr, nc)
    for edge in (grid_flags[0], grid_flags[-1], grid_flags[:, 0], grid_flags[:, -1]):
        edge |= _BORDER
    if has_nodata:
        if inland_nodata == "outlet":
            flags[flags & _NODATA != 0] |= _OUTLET_ND
        else:
            work = np.empty(n, dtype=idx_dtype)
            _mark_edge_connected_nodata(nr, nc, flags, work)
    no_outlets = np.empty(0, dtype=np.uint8)
    outlet_mask = no_outlets if out_flat is None else out_flat
    tiled = tile is not None and flats == "flat"
    seeds = _mark_seeds(nr, nc, flags, outlet_mask, not tiled)
    filled = flat_dem.copy()  # filled in place; nodata stays NaN
    top = a.dtype.type(np.inf)
    eps = flats == "epsilon"
    nbits = a.dtype.itemsize * 8
    bits = filled.view(np.uint32 if nbits == 32 else np.uint64)
    sign = np.uint64(1 << (nbits - 1))
    mask = np.uint64((1 << nbits) - 1)
    if tiled:
        assert tile is not None
        if fill_flat_tiled(filled, flags, nr, nc, tile, workers):
            return filled.reshape(nr, nc)
        filled[:] = flat_dem  # a region without outlet ("barrier" nodata): start over
        seeds = _mark_seeds(nr, nc, flags, outlet_mask, True)  # the same seeds, now closed
    if work.shape[0] < n:
        work = np.empty(n, dtype=idx_dtype)
    _drain(bits, filled, flags, work, seeds, nr, nc, eps, top, sign, mask)
    left = np.flatnonzero(flags & _CLOSED == 0)  # only with inland_nodata="barrier"
    if left.size:
        # regions no outlet reached drain to their lowest cell (first in row-major
        # order among equals): flood each from there, lowest regions first
        order = left[np.argsort(flat_dem[left], kind="stable")]
        for i in order:
            if flags[i] & _CLOSED:
                continue
            flags[i] |= _CLOSED
            one = np.array([i], dtype=np.int64)
            _drain(bits, filled, flags, work, one, nr, nc, eps, top, sign, mask)
    return filled.reshape(nr, nc)
