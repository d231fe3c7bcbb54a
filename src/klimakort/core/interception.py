"""Runoff that reaches a site before it reaches a bluespot (D8, one pass for all sites).

A measure on a site (a Miyawaki forest, a retention basin, a rain garden) can only hold
water that flows *through* it. In the fill–spill model of :mod:`klimakort.core.fillspill`
runoff travels along the D8 path of its cell until it reaches a bluespot, where it is
stored (or spilled along the network). So the water that reaches site ``k`` is the runoff
of every cell whose D8 path passes a cell of ``k`` before it enters a bluespot, plus the
rain on ``k`` itself.

:func:`upstream_through_sites` computes, in O(cells) for all sites at once,

* ``reach``: the runoff accumulated along D8 where bluespot cells receive water but pass
  none on (water that has entered a bluespot is stored there, not carried along the
  flow direction the filled terrain gives it);
* ``final``: site cells that are the *last* cell of their site on their downstream path.

Because D8 paths form a forest, the upstream sets of the final cells of a site are
disjoint and together hold every cell whose path passes the site. The water reaching
site ``k`` is therefore ``sum(reach[final & (sites == k)])``, with no double counting
when a path leaves a site and enters it again.

Pure array kernel: numpy and numba only, no I/O, no xarray.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from klimakort.core.bluespots import check_2d, check_same_shape
from klimakort.core.d8codes import CODES, DCOL, DROW, NODATA
from klimakort.errors import InputError

__all__ = ["SiteReach", "upstream_through_sites"]

_CODES = CODES.copy()
_DR = DROW.copy()
_DC = DCOL.copy()


@dataclass(frozen=True)
class SiteReach:
    """Result of :func:`upstream_through_sites` (flat arrays in raster order).

    Attributes
    ----------
    reach : float64 array
        Accumulated weight (upstream cells whose path enters no bluespot before this
        cell, the cell itself included); 0 at nodata.
    final : bool array
        Site cells whose downstream path (before a bluespot or an outlet) never enters
        their own site again.
    """

    reach: np.ndarray
    final: np.ndarray


@njit(cache=True)
def _downstream(fd: np.ndarray, down: np.ndarray) -> int:
    """Fill ``down`` (-1 preset) with the flat index of each cell's D8 neighbour; bad code."""
    nr, nc = fd.shape
    k_of = np.full(256, -3, dtype=np.int64)
    k_of[0] = -1
    k_of[NODATA] = -2
    for k in range(8):
        k_of[_CODES[k]] = k
    for r in range(nr):
        for c in range(nc):
            k = k_of[fd[r, c]]
            if k == -3:
                return int(fd[r, c])
            if k < 0:
                continue
            rr = r + _DR[k]
            cc = c + _DC[k]
            if 0 <= rr < nr and 0 <= cc < nc and fd[rr, cc] != NODATA:
                down[r * nc + c] = rr * nc + cc
    return -1


@njit(cache=True)
def _order(down: np.ndarray, valid: np.ndarray, order: np.ndarray) -> int:
    """Fill ``order`` upstream first with the valid cells (Kahn); its length (short: cycle)."""
    n = down.size
    indeg = np.zeros(n, dtype=np.uint8)  # at most 8 upstream neighbours
    for i in range(n):
        if down[i] >= 0:
            indeg[down[i]] += 1
    tail = 0
    for i in range(n):
        if valid[i] and indeg[i] == 0:
            order[tail] = i
            tail += 1
    head = 0
    while head < tail:
        d = down[order[head]]
        head += 1
        if d >= 0:
            indeg[d] -= 1
            if indeg[d] == 0:
                order[tail] = d
                tail += 1
    return tail


@njit(cache=True)
def _reach(
    down: np.ndarray,
    order: np.ndarray,
    m: int,
    stop: np.ndarray,
    sites: np.ndarray,
    weights: np.ndarray,
    nxt: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    n = down.size
    reach = np.zeros(n, dtype=np.float64)
    for i in range(n):
        w = weights[i]
        if w == w:  # not NaN
            reach[i] = w
    for j in range(m):
        i = order[j]
        d = down[i]
        if d >= 0 and not stop[i]:
            reach[d] += reach[i]
    # nxt (-1 preset): the next site cell downstream, before a bluespot
    for j in range(m - 1, -1, -1):
        i = order[j]
        d = down[i]
        if d < 0 or stop[i]:
            continue
        nxt[i] = d if sites[d] > 0 else nxt[d]
    final = np.zeros(n, dtype=np.bool_)
    for i in range(n):
        k = sites[i]
        if k <= 0:
            continue
        y = nxt[i]
        last = True
        while y >= 0:
            if sites[y] == k:
                last = False
                break
            y = nxt[y]
        final[i] = last
    return reach, final


def upstream_through_sites(
    fdir: np.ndarray, stop: np.ndarray, sites: np.ndarray, weights: np.ndarray
) -> SiteReach:
    """Accumulate ``weights`` along D8, stopping at bluespots, and mark final site cells.

    Parameters
    ----------
    fdir : (ny, nx) uint8 array
        ESRI D8 codes (:mod:`klimakort.core.d8codes`); 255 = nodata.
    stop : (ny, nx) bool array
        Cells that receive water but pass none on (bluespot cells).
    sites : (ny, nx) int array
        Site ids (> 0), 0 = no site; sites do not overlap.
    weights : (ny, nx) float array
        Volume each cell contributes (e.g. runoff in m³); NaN counts as 0.

    Returns
    -------
    SiteReach
        Flat arrays in raster (C) order.

    Raises
    ------
    GridMismatchError
        The arrays have different shapes.
    InputError
        ``fdir`` holds a code that is not D8, or its paths form a cycle.
    """
    fd = check_2d("fdir", fdir)
    check_same_shape(fdir=fd, stop=stop, sites=sites, weights=weights)
    if fd.dtype != np.uint8:
        raise InputError(f"fdir must be uint8 ESRI D8 codes, got {fd.dtype}")
    n = fd.size
    idx = np.int32 if n < 2**31 - 1 else np.int64  # 4 bytes per cell and index array
    down = np.full(n, -1, dtype=idx)
    bad = _downstream(np.ascontiguousarray(fd), down)
    if bad >= 0:
        raise InputError(f"fdir holds {bad}, which is not an ESRI D8 code (0, 1, 2, 4, ... 128)")
    valid = np.ascontiguousarray(fd != NODATA).ravel()
    order = np.empty(n, dtype=idx)
    m = _order(down, valid, order)
    if m != int(valid.sum()):
        raise InputError(f"the D8 directions form a cycle ({int(valid.sum()) - m} cells)")
    reach, final = _reach(
        down,
        order,
        m,
        np.ascontiguousarray(stop, dtype=np.bool_).ravel(),
        np.ascontiguousarray(sites, dtype=np.int32).ravel(),
        np.ascontiguousarray(weights, dtype=np.float64).ravel(),
        np.full(n, -1, dtype=idx),
    )
    return SiteReach(reach=reach, final=final)
