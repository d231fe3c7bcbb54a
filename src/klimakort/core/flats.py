"""D8 flow directions on a flat-filled DEM with a deterministic flat resolution.

Steepest descent leaves the cells of a flat (a filled depression or a plateau) without
a lower neighbour. Instead of raising them by an epsilon (a serial pass whose bits
depend on the flood order), every flat cell drains towards the nearest cell of the
same height that already drains:

1. A cell with a strictly lower valid neighbour gets the steepest-descent code of
   :func:`klimakort.core.d8.d8_directions` (drop times reciprocal distance in
   float64, ties in the order E, SE, S, SW, W, NW, N, NE).
2. Outlets keep code 0: raster-edge cells (with ``edge_outlets``) and cells with no
   lower neighbour on the raster edge or next to outlet nodata.
3. Every other cell is a *flat cell*. Its distance ``d`` is the 8-connected BFS
   distance, moving only between cells of exactly equal height, to the nearest cell
   of that height which drains (rule 1) or is an outlet (rule 2). A flat cell drains
   to its equal-height neighbour at distance ``d - 1`` (the first in code order).
   Flat cells that reach no such cell (regions walled in by barrier nodata) keep 0.

Only heights are compared, never computed, and BFS distances do not depend on the
visiting order, so the result is a pure function of the grid: a tiled run (per-tile
BFS seeded from the neighbours' halo distances, iterated until no border value
changes) gives the same bits.

Cost: one parallel pass for the local codes, one multi-source BFS over the flat cells
only. Extra memory: one ``uint8`` per cell (BFS distance modulo 3) plus a queue of
``int32``/``int64`` indices as long as the flat cells and their sources.
"""

from __future__ import annotations

import itertools
import math
from typing import Literal

import numpy as np
from numba import njit

from klimakort.core.d8codes import CODES, DCOL, DROW, NODATA
from klimakort.core.fill_tiled import cpu_workers, run_threads
from klimakort.errors import InputError, ParameterError

__all__ = ["FLAT", "d8_flat_resolved", "flat_codes", "resolve_flats"]

_CODES = CODES.copy()
_DR = DROW.copy()
_DC = DCOL.copy()
_BAND_CELLS = 65536

#: temporary code of a flat cell before its resolution (not an ESRI code)
FLAT = np.uint8(3)


@njit(cache=True, nogil=True)
def _codes_kernel(
    z: np.ndarray,
    inv: np.ndarray,
    edge_outlets: bool,
    nd_outlet: np.ndarray,
    out: np.ndarray,
    r0: int,
    r1: int,
    grid_edge: np.ndarray,
) -> int:
    """Local codes of rows ``r0 .. r1 - 1``; flat cells get :data:`FLAT`. Returns #flats.

    ``nd_outlet`` is empty (every nodata cell is an outlet) or a ``uint8`` grid that is
    non-zero on outlet nodata. ``grid_edge`` (top, bottom, left, right) says which
    sides of ``z`` are the raster edge (a tile's halo sides are not).
    """
    nr, nc = z.shape
    all_nd = nd_outlet.shape[0] == 0
    nflat = 0
    for r in range(r0, r1):
        for c in range(nc):
            zc = np.float64(z[r, c])
            if np.isnan(zc):
                out[r, c] = NODATA
                continue
            on_edge = (
                (r == 0 and grid_edge[0])
                or (r == nr - 1 and grid_edge[1])
                or (c == 0 and grid_edge[2])
                or (c == nc - 1 and grid_edge[3])
            )
            if on_edge and edge_outlets:
                out[r, c] = 0
                continue
            best = 0.0
            code = 0
            outlet = on_edge
            for k in range(8):
                rr = r + _DR[k]
                cc = c + _DC[k]
                if rr < 0 or rr >= nr or cc < 0 or cc >= nc:
                    continue
                zn = np.float64(z[rr, cc])
                if np.isnan(zn):
                    if all_nd or nd_outlet[rr, cc]:
                        outlet = True
                    continue
                s = (zc - zn) * inv[k]
                if s > best:
                    best = s
                    code = _CODES[k]
            if code == 0 and not outlet:
                out[r, c] = FLAT
                nflat += 1
            else:
                out[r, c] = code
    return nflat


@njit(cache=True, nogil=True)
def _resolve_kernel(  # noqa: C901 - one BFS kernel
    z: np.ndarray,
    out: np.ndarray,
    dist: np.ndarray,
    win: np.ndarray,
    seed_idx: np.ndarray,
    seed_d: np.ndarray,
    queue: np.ndarray,
) -> int:
    """Multi-source BFS over the FLAT cells of the window ``win`` of ``out``.

    ``win`` = (r0, r1, c0, c1): the cells to resolve; the cells around it (a tile's
    halo) are read, never changed. ``dist`` (int32, -1 on entry) receives the BFS
    distance of every reached window cell (sources: 0). Sources are the non-FLAT
    valid cells (window or halo) next to an equal-height FLAT window cell, and the
    halo cells ``seed_idx`` (flat indices, sorted by ``seed_d``) at the known
    distances ``seed_d``. A reached cell gets the code of its equal-height neighbour
    at ``d - 1`` when it is popped (all cells at ``d - 1`` are known by then).
    Returns the number of FLAT window cells no source reached (still FLAT).
    """
    nr, nc = z.shape
    r0, r1, c0, c1 = win[0], win[1], win[2], win[3]
    tail = 0
    nflat = 0
    for r in range(r0, r1):
        for c in range(c0, c1):
            if out[r, c] != FLAT:
                continue
            nflat += 1
            zc = z[r, c]
            for k in range(8):
                rr = r + _DR[k]
                cc = c + _DC[k]
                if rr < 0 or rr >= nr or cc < 0 or cc >= nc or dist[rr, cc] == 0:
                    continue
                o = out[rr, cc]
                if o != FLAT and o != NODATA and z[rr, cc] == zc:
                    dist[rr, cc] = 0
                    queue[tail] = rr * nc + cc
                    tail += 1
    head = 0
    s = 0
    ns = seed_idx.shape[0]
    while head < tail or s < ns:
        # merge the FIFO (non-decreasing distances) with the sorted halo seeds
        if s < ns and (head == tail or seed_d[s] <= dist[queue[head] // nc, queue[head] % nc]):
            i = seed_idx[s]
            d = seed_d[s]
            s += 1
            r = i // nc
            c = i - r * nc
            if dist[r, c] >= 0 and dist[r, c] <= d:
                continue
            dist[r, c] = d
        else:
            i = queue[head]
            head += 1
            r = i // nc
            c = i - r * nc
            d = dist[r, c]
        zc = z[r, c]
        if d > 0 and out[r, c] == FLAT:  # every cell at d - 1 is known by now
            for k in range(8):
                rr = r + _DR[k]
                cc = c + _DC[k]
                if rr < 0 or rr >= nr or cc < 0 or cc >= nc:
                    continue
                if dist[rr, cc] == d - 1 and z[rr, cc] == zc:
                    out[r, c] = _CODES[k]
                    nflat -= 1
                    break
        for k in range(8):
            rr = r + _DR[k]
            cc = c + _DC[k]
            if rr < r0 or rr >= r1 or cc < c0 or cc >= c1:
                continue
            if dist[rr, cc] < 0 and out[rr, cc] == FLAT and z[rr, cc] == zc:
                dist[rr, cc] = d + 1
                queue[tail] = rr * nc + cc
                tail += 1
    return nflat


def _check(filled: np.ndarray, dx: float, dy: float) -> tuple[np.ndarray, np.ndarray]:
    arr = np.asarray(filled)
    if arr.ndim != 2 or arr.dtype not in (np.float32, np.float64):
        raise InputError(
            f"filled must be a 2-D float32/float64 array, got {arr.dtype} with shape {arr.shape}."
        )
    for name, val in (("dx", dx), ("dy", dy)):
        if not (math.isfinite(val) and val > 0):
            raise ParameterError(f"{name} must be a positive cell size in metres, got {val!r}.")
    diag = 1.0 / math.hypot(dx, dy)
    ix, iy = 1.0 / dx, 1.0 / dy
    inv = np.array([ix, diag, iy, diag, ix, diag, iy, diag], dtype=np.float64)
    return np.ascontiguousarray(arr), inv


def outlet_nodata(filled: np.ndarray, inland_nodata: str) -> np.ndarray:
    """The ``nd_outlet`` grid of the kernels: empty (all nodata drains) or a uint8 mask.

    With ``"barrier"`` only nodata 8-connected to the raster edge (through nodata) is
    an outlet, as in :func:`klimakort.core.fill.fill_depressions`.
    """
    if inland_nodata not in ("outlet", "barrier"):
        raise ParameterError(f"inland_nodata must be 'outlet' or 'barrier', got {inland_nodata!r}.")
    nan = np.isnan(filled)
    if inland_nodata == "outlet" or not nan.any():
        return np.empty((0, 0), dtype=np.uint8)
    from scipy import ndimage

    lab, _ = ndimage.label(nan, structure=np.ones((3, 3), dtype=bool))
    edge = np.unique(np.concatenate([lab[0], lab[-1], lab[:, 0], lab[:, -1]]))
    edge = edge[edge > 0]
    return np.isin(lab, edge).astype(np.uint8)


def flat_codes(
    z: np.ndarray,
    inv: np.ndarray,
    edge_outlets: bool,
    nd_outlet: np.ndarray,
    grid_edge: tuple[bool, bool, bool, bool] = (True, True, True, True),
) -> tuple[np.ndarray, int]:
    """Local codes (rules 1 and 2) with :data:`FLAT` on flat cells, and their number.

    Row bands run in threads (the kernel releases the GIL).
    """
    out = np.empty(z.shape, dtype=np.uint8)
    nr = z.shape[0]
    ge = np.array(grid_edge, dtype=np.bool_)
    nthreads = min(cpu_workers(), max(1, z.size // _BAND_CELLS))
    if nthreads <= 1:
        return out, int(_codes_kernel(z, inv, edge_outlets, nd_outlet, out, 0, nr, ge))
    bands = np.linspace(0, nr, 4 * nthreads + 1).astype(np.int64)
    todo = itertools.count()
    counts = [0] * (bands.shape[0] - 1)

    def worker() -> None:
        while (b := next(todo)) < bands.shape[0] - 1:
            r0, r1 = int(bands[b]), int(bands[b + 1])
            counts[b] = _codes_kernel(z, inv, edge_outlets, nd_outlet, out, r0, r1, ge)

    run_threads(worker, nthreads)
    return out, sum(counts)


def resolve_flats(
    z: np.ndarray,
    codes: np.ndarray,
    nflat: int,
    win: tuple[int, int, int, int] | None = None,
    seeds: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[np.ndarray, int]:
    """Resolve the :data:`FLAT` cells of ``codes`` (in ``win``) in place.

    Returns the int32 BFS distances (-1 = not reached or not flat) and the number
    of flat cells left unresolved (still :data:`FLAT`). ``seeds`` = (flat indices,
    distances) of halo cells with known distances (the tiled engine).
    """
    nr, nc = z.shape
    dist = np.full(z.shape, -1, dtype=np.int32)
    w = np.array(win if win is not None else (0, nr, 0, nc), dtype=np.int64)
    if seeds is None:
        sidx = np.empty(0, dtype=np.int64)
        sd = np.empty(0, dtype=np.int32)
    else:
        order = np.argsort(seeds[1], kind="stable")
        sidx = np.ascontiguousarray(seeds[0][order], dtype=np.int64)
        sd = np.ascontiguousarray(seeds[1][order], dtype=np.int32)
    if nflat == 0:
        return dist, 0
    n = z.size
    idx = np.int32 if n < 2**31 - 1 else np.int64
    queue = np.empty(min(n, 9 * nflat + sidx.shape[0]), dtype=idx)
    left = int(_resolve_kernel(z, codes, dist, w, sidx, sd, queue))
    return dist, left


def d8_flat_resolved(
    filled: np.ndarray,
    dx: float,
    dy: float,
    *,
    edge_outlets: bool = True,
    inland_nodata: Literal["outlet", "barrier"] = "outlet",
) -> np.ndarray:
    """D8 directions (ESRI codes) of a flat-filled DEM, flats drained to their outlets.

    Parameters
    ----------
    filled : numpy.ndarray
        2-D float32/float64 heights, normally
        ``fill_depressions(dem, flats="flat")``; NaN marks nodata.
    dx, dy : float
        Cell width and height in metres (positive).
    edge_outlets : bool, default True
        Valid raster-edge cells are outlets (code 0). With ``False`` an edge cell
        drains to its steepest lower neighbour and is an outlet only without one.
    inland_nodata : {"outlet", "barrier"}, default "outlet"
        Whether nodata not connected to the raster edge drains water (its valid
        neighbours without a lower neighbour are outlets) or is a wall, as in
        :func:`klimakort.core.fill.fill_depressions`.

    Returns
    -------
    numpy.ndarray
        ``uint8`` ESRI codes (see :mod:`klimakort.core.d8codes`): a cell with a
        strictly lower neighbour has its steepest-descent code exactly as
        :func:`klimakort.core.d8.d8_directions`; a flat cell points to an
        equal-height neighbour one BFS step nearer to the flat's drain; 0 for
        outlets and for flats that reach no drain; 255 for nodata.

    Raises
    ------
    InputError
        ``filled`` is not a 2-D float array.
    ParameterError
        ``dx``/``dy`` not positive finite, or an unknown ``inland_nodata``.

    Notes
    -----
    On a flat-filled DEM every valid non-outlet cell then drains to an outlet along a
    path without cycles (distances strictly decrease across a flat, heights strictly
    decrease elsewhere). See the module docstring for the definition.
    """
    z, inv = _check(filled, dx, dy)
    nd = outlet_nodata(z, inland_nodata)
    if z.size == 0:
        return np.empty(z.shape, dtype=np.uint8)
    codes, nflat = flat_codes(z, inv, bool(edge_outlets), nd)
    if nflat:
        _dist, left = resolve_flats(z, codes, nflat)
        if left:
            codes[codes == FLAT] = 0
    return codes
