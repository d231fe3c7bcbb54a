"""Tiled flat fill (Barnes 2016) over the chunks of a Zarr store.

1. Every chunk is flooded on its own with its perimeter as extra outlets
   (:func:`klimakort.core.fill_tiled._fill_tile`): labels of the watersheds of its
   perimeter cells and the lowest passes between them.
2. The spill graph of all chunks (their own passes plus the edges between
   8-adjacent perimeter cells of neighbouring chunks, at the larger elevation) is
   solved on the client: every label's spill level.
3. Every chunk is flooded again and raised to the spill levels of its labels.

Identical to :func:`klimakort.core.fill.fill_depressions` with ``flats="flat"``
(only elevations of the dem are compared and copied).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from klimakort.core.fill_tiled import _NOLAB, _buffers, _fill_tile, _raise_tile
from klimakort.core.fill_tiled import NODATA as _NODATA
from klimakort.core.fill_tiled import SEED as _SEED
from klimakort.tiled.chunks import ChunkGrid, Lines, read_padded, strips, write_window
from klimakort.tiled.cluster import Runner

__all__ = ["fill_chunks"]


def _flood(dem_path: str, win: tuple[int, int, int, int], raster: tuple[int, int]):  # type: ignore[no-untyped-def]
    """Flood one chunk; return (filled, labels, number of labels, edge keys, edge heights)."""
    z = read_padded(dem_path, win, 1, np.nan)
    nan = np.isnan(z)
    core = np.ascontiguousarray(z[1:-1, 1:-1])
    h, w = core.shape
    near_nd = np.zeros((h, w), dtype=bool)
    for dr in (-1, 0, 1):
        for dc in (-1, 0, 1):
            if dr or dc:
                near_nd |= nan[1 + dr : 1 + dr + h, 1 + dc : 1 + dc + w]
    r0, r1, c0, c1 = win
    edge = np.zeros((h, w), dtype=bool)
    if r0 == 0:
        edge[0] = True
    if r1 == raster[0]:
        edge[-1] = True
    if c0 == 0:
        edge[:, 0] = True
    if c1 == raster[1]:
        edge[:, -1] = True
    cnan = nan[1:-1, 1:-1]
    flags = np.where(cnan, _NODATA, 0).astype(np.uint8)
    flags[~cnan & (edge | near_nd)] |= _SEED
    filled = core.reshape(-1).copy()
    labels = np.empty(h * w, dtype=np.uint16)
    nbits = filled.dtype.itemsize * 8
    sign = np.uint64(1 << (nbits - 1))
    mask = np.uint64((1 << nbits) - 1)
    buf = _buffers(h * w, filled.dtype)
    nlab, ekeys, evals, _ok = _fill_tile(
        filled, flags.reshape(-1), labels, w, 0, h, 0, w, buf, sign, mask
    )
    return filled.reshape(h, w), labels.reshape(h, w), int(nlab), ekeys, evals


def solve_chunk(dem_path: str, win: tuple[int, int, int, int], raster: tuple[int, int]):  # type: ignore[no-untyped-def]
    """Step 1 for one chunk: labels used, in-chunk passes, perimeter labels and heights."""
    filled, labels, nlab, ekeys, evals = _flood(dem_path, win, raster)
    return nlab, ekeys, evals, strips(labels), strips(filled)


def finalise_chunk(
    dem_path: str,
    out_path: str,
    win: tuple[int, int, int, int],
    raster: tuple[int, int],
    level: np.ndarray,
) -> int:
    """Step 3 for one chunk: flood again, raise to the spill levels, write. Returns 0."""
    filled, labels, _nlab, _k, _v = _flood(dem_path, win, raster)
    h, w = filled.shape
    flat = filled.reshape(-1)
    _raise_tile(flat, labels.reshape(-1), w, 0, h, 0, w, level, 0)
    write_window(out_path, win, filled)
    return 0


@njit(cache=True)
def _minimax(nnodes: int, eu: np.ndarray, ev: np.ndarray, ew: np.ndarray) -> np.ndarray:
    """Spill level of every node: the lowest highest pass on a path to node 0."""
    m = eu.shape[0]
    deg = np.zeros(nnodes + 1, dtype=np.int64)
    for e in range(m):
        deg[eu[e] + 1] += 1
        deg[ev[e] + 1] += 1
    for i in range(nnodes):
        deg[i + 1] += deg[i]
    adj = np.empty(2 * m, dtype=np.int64)
    aw = np.empty(2 * m, dtype=ew.dtype)
    pos = deg[:-1].copy()
    for e in range(m):
        adj[pos[eu[e]]] = ev[e]
        aw[pos[eu[e]]] = ew[e]
        pos[eu[e]] += 1
        adj[pos[ev[e]]] = eu[e]
        aw[pos[ev[e]]] = ew[e]
        pos[ev[e]] += 1
    level = np.full(nnodes, np.nan, dtype=ew.dtype)
    done = np.zeros(nnodes, dtype=np.bool_)
    hk = np.empty(2 * m + 1, dtype=ew.dtype)
    hv = np.empty(2 * m + 1, dtype=np.int64)
    hk[0] = -np.inf
    hv[0] = 0
    size = 1
    while size > 0:
        key = hk[0]
        u = hv[0]
        size -= 1
        # sift the last item down from the root
        lk = hk[size]
        lv = hv[size]
        i = 0
        while True:
            ch = 2 * i + 1
            if ch >= size:
                break
            if ch + 1 < size and hk[ch + 1] < hk[ch]:
                ch += 1
            if hk[ch] >= lk:
                break
            hk[i] = hk[ch]
            hv[i] = hv[ch]
            i = ch
        hk[i] = lk
        hv[i] = lv
        if done[u]:
            continue
        done[u] = True
        level[u] = key
        for a in range(deg[u], deg[u + 1]):
            x = adj[a]
            if done[x]:
                continue
            kx = aw[a] if aw[a] > key else key
            i = size
            size += 1
            while i > 0:
                p = (i - 1) // 2
                if hk[p] <= kx:
                    break
                hk[i] = hk[p]
                hv[i] = hv[p]
                i = p
            hk[i] = kx
            hv[i] = x
    return level


def _cross_edges(
    a_id: np.ndarray, a_z: np.ndarray, b_id: np.ndarray, b_z: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Edges between 8-adjacent cells of two parallel lines (ids -1 = nodata)."""
    n = a_id.shape[0]
    us, vs, ws = [], [], []
    for d in (-1, 0, 1):
        xa = np.arange(max(0, -d), n - max(0, d))
        xb = xa + d
        ok = (a_id[xa] >= 0) & (b_id[xb] >= 0) & (a_id[xa] != b_id[xb])
        us.append(a_id[xa][ok])
        vs.append(b_id[xb][ok])
        ws.append(np.maximum(a_z[xa][ok], b_z[xb][ok]))
    return np.concatenate(us), np.concatenate(vs), np.concatenate(ws)


def fill_chunks(
    run: Runner, grid: ChunkGrid, dem_path: str, out_path: str, dtype: np.dtype
) -> None:
    """Flat-fill the dem store into ``out_path`` (created by the caller)."""
    raster = (grid.nr, grid.nc)
    wins = [grid.window(t) for t in range(grid.n)]
    res = run(solve_chunk, [(dem_path, w, raster) for w in wins])
    nlabs = np.array([r[0] - 2 for r in res], dtype=np.int64)
    base = np.empty(grid.n, dtype=np.int64)
    base[0] = 1
    base[1:] = 1 + np.cumsum(nlabs)[:-1]
    nnodes = 1 + int(nlabs.sum())
    ids = Lines(grid, np.dtype(np.int64), -1)
    zs = Lines(grid, np.dtype(dtype), np.nan)
    us, vs, ws = [], [], []
    for t, (_n, ekeys, evals, lab_strips, z_strips) in enumerate(res):
        a, b = ekeys // 65536, ekeys % 65536
        us.append(np.where(a == 1, 0, base[t] + a - 2))
        vs.append(np.where(b == 1, 0, base[t] + b - 2))
        ws.append(evals)
        gid = []
        for s in lab_strips:
            s64 = s.astype(np.int64)
            gid.append(np.where(s == _NOLAB, -1, np.where(s == 1, 0, base[t] + s64 - 2)))
        ids.put(t, (gid[0], gid[1], gid[2], gid[3]))
        zs.put(t, z_strips)
    for b in grid.rows[1:-1]:
        e = _cross_edges(ids.rows[b - 1], zs.rows[b - 1], ids.rows[b], zs.rows[b])
        us.append(e[0])
        vs.append(e[1])
        ws.append(e[2])
    for b in grid.cols[1:-1]:
        e = _cross_edges(ids.cols[b - 1], zs.cols[b - 1], ids.cols[b], zs.cols[b])
        us.append(e[0])
        vs.append(e[1])
        ws.append(e[2])
    eu = np.concatenate(us).astype(np.int64)
    ev = np.concatenate(vs).astype(np.int64)
    ew = np.concatenate(ws).astype(dtype)
    level = _minimax(nnodes, eu, ev, ew)
    args = []
    for t, w in enumerate(wins):
        lv = np.ascontiguousarray(level[base[t] : base[t] + nlabs[t]])
        args.append((dem_path, out_path, w, raster, lv))
    run(finalise_chunk, args)
