"""Where the D8 path of every cell of a chunk leaves the chunk (the tile-graph nodes).

Flow accumulation and local watersheds are both resolved over the same graph: the
*out-cells* of a chunk (cells whose D8 step goes to a valid cell of another chunk),
each linked to the out-cell where the path continues after it enters the
neighbouring chunk (or to the value it ends with there).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from klimakort.core.d8codes import CODES, DCOL, DROW, NODATA

__all__ = ["chunk_exits", "resolve_chains"]

_DRT = np.zeros(256, dtype=np.int64)
_DCT = np.zeros(256, dtype=np.int64)
_DRT[CODES] = DROW
_DCT[CODES] = DCOL


@njit(cache=True, nogil=True)
def _exits(
    fdp: np.ndarray, labels: np.ndarray, dr: np.ndarray, dc: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """``ex``: local flat index of the out-cell each path leaves by (-1: ends inside);
    ``val``: the value it ends with inside (bluespot id, 0, -1 on nodata)."""
    h = fdp.shape[0] - 2
    w = fdp.shape[1] - 2
    has_lab = labels.shape[0] > 0
    ex = np.full((h, w), -2, dtype=np.int64)
    val = np.zeros((h, w), dtype=np.int32)
    path = np.empty(h * w, dtype=np.int64)
    for r0 in range(h):
        for c0 in range(w):
            if ex[r0, c0] != -2:
                continue
            top = 0
            r = r0
            c = c0
            e = -1
            v = 0
            while True:
                if ex[r, c] >= -1:  # known (or on the path: cannot happen without cycles)
                    e = ex[r, c]
                    v = val[r, c]
                    break
                code = fdp[r + 1, c + 1]
                if code == NODATA:
                    e = -1
                    v = -1
                    ex[r, c] = -1
                    val[r, c] = -1
                    break
                path[top] = r * w + c
                top += 1
                ex[r, c] = -3
                if has_lab and labels[r, c] > 0:
                    e = -1
                    v = labels[r, c]
                    break
                if code == 0:
                    break
                rr = r + dr[code]
                cc = c + dc[code]
                if fdp[rr + 1, cc + 1] == NODATA:  # into nodata or off the raster
                    break
                if rr < 0 or rr >= h or cc < 0 or cc >= w:
                    e = r * w + c
                    break
                r = rr
                c = cc
            for i in range(top):
                k = path[i]
                ex[k // w, k % w] = e
                val[k // w, k % w] = v
    return ex, val


def chunk_exits(fdp: np.ndarray, labels: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Exits of every cell of a chunk; ``fdp`` is its D8 codes with a 1-cell halo
    (255 off the raster). With ``labels`` (bluespot ids) a path also ends at the first
    bluespot cell (local watersheds)."""
    lab = np.empty((0, 0), dtype=np.int32) if labels is None else labels.astype(np.int32)
    return _exits(np.ascontiguousarray(fdp), lab, _DRT, _DCT)


def out_cells(
    fdp: np.ndarray, win: tuple[int, int, int, int], nc: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Border cells whose step goes to a valid cell of another chunk: (local flat
    index, global flat index of the cell, global flat index of the target)."""
    r0, r1, c0, c1 = win
    h, w = r1 - r0, c1 - c0
    codes = fdp[1:-1, 1:-1]
    border = np.zeros((h, w), dtype=bool)
    border[0], border[-1], border[:, 0], border[:, -1] = True, True, True, True
    rr, cc = np.nonzero(border & (codes != 0) & (codes != NODATA))
    k = codes[rr, cc]
    tr, tc = rr + _DRT[k], cc + _DCT[k]
    leaves = (tr < 0) | (tr >= h) | (tc < 0) | (tc >= w)
    rr, cc, tr, tc = rr[leaves], cc[leaves], tr[leaves], tc[leaves]
    ok = fdp[tr + 1, tc + 1] != NODATA
    rr, cc, tr, tc = rr[ok], cc[ok], tr[ok], tc[ok]
    return rr * w + cc, (rr + r0) * nc + cc + c0, (tr + r0) * nc + tc + c0


def border_index(win: tuple[int, int, int, int], nc: int) -> tuple[np.ndarray, np.ndarray]:
    """Local and global flat indices of a chunk's border cells (each once)."""
    r0, r1, c0, c1 = win
    h, w = r1 - r0, c1 - c0
    border = np.zeros((h, w), dtype=bool)
    border[0], border[-1], border[:, 0], border[:, -1] = True, True, True, True
    rr, cc = np.nonzero(border)
    return rr * w + cc, (rr + r0) * nc + cc + c0


@njit(cache=True)
def _push(nxt: np.ndarray, val: np.ndarray) -> bool:
    """Add every node's value to all nodes downstream of it along ``nxt`` (-1 = end)."""
    n = nxt.shape[0]
    indeg = np.zeros(n, dtype=np.int64)
    for i in range(n):
        if nxt[i] >= 0:
            indeg[nxt[i]] += 1
    done = 0
    for i0 in range(n):
        if indeg[i0] != 0:
            continue
        i = i0
        while True:
            indeg[i] = -1
            done += 1
            j = nxt[i]
            if j < 0:
                break
            val[j] += val[i]
            indeg[j] -= 1
            if indeg[j] != 0:
                break
            i = j
    return done == n


def push_counts(nxt: np.ndarray, val: np.ndarray) -> np.ndarray:
    """Totals of :func:`_push` (raises on a cycle: the directions were not from a filled DEM)."""
    out = val.copy()
    if not _push(nxt, out):
        raise RuntimeError("the D8 directions have a cycle across chunk borders")
    return out


def resolve_chains(nxt: np.ndarray, val: np.ndarray) -> np.ndarray:
    """Value of every node: its own if known (``>= -1``), else that of ``nxt`` (pointer
    jumping; ``-9`` = unknown)."""
    v = val.copy()
    p = nxt.copy()
    todo = np.flatnonzero(v == -9)
    while todo.size:
        pv = p[todo]
        v[todo] = v[pv]
        p[todo] = p[pv]
        todo = todo[v[todo] == -9]
    return v
