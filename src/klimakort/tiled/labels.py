"""Tiled bluespot labels, numbered exactly as :func:`klimakort.core.bluespots.label_bluespots`.

1. Every chunk labels the 8-connected components of ``depth > 0`` in its window
   (pieces) and reports per piece its cell count, depth sum, maximum depth and first
   cell (global raster index), plus its border labels.
2. The client joins pieces that touch across chunk borders (connected components of
   the piece graph), filters the joined components with the thresholds and numbers
   the kept ones in raster order of their first cell.
3. Every chunk relabels its pieces with the final ids.

Counts, maxima and first cells are exact in any order. The depth sum of a component
inside one chunk is summed in the same (raster) order as in memory; for a component
spanning chunks the float64 sum may differ in the last bits, so when its volume is
within a rounding bound of ``min_volume`` its cells are gathered and summed again in
raster order: the filter decisions, and so the labels, are always the in-memory ones.
"""

from __future__ import annotations

import numpy as np
from numba import njit
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from klimakort.core.bluespots import _label_components
from klimakort.tiled.chunks import ChunkGrid, Lines, read_padded, strips, write_window
from klimakort.tiled.cluster import Runner

__all__ = ["BluespotFilter", "label_chunks"]


def depth_window(dem_path: str, filled_path: str, win: tuple[int, int, int, int]) -> np.ndarray:
    """``filled - dem`` of one chunk (NaN on nodata), as the in-memory pipeline computes it."""
    z = read_padded(dem_path, win, 0, np.nan)
    f = read_padded(filled_path, win, 0, np.nan)
    return np.ascontiguousarray(np.where(np.isnan(z), np.nan, f - z).astype(z.dtype))


def solve_chunk(dem_path: str, filled_path: str, win: tuple[int, int, int, int], nc: int):  # type: ignore[no-untyped-def]
    """Step 1: per piece (count, depth sum, max depth, first global cell) and border labels."""
    depth = depth_window(dem_path, filled_path, win)
    comp, n, counts, sums, maxd = _label_components(depth)
    w = win[3] - win[2]
    _, first = np.unique(comp.reshape(-1), return_index=True)  # comp 0 first if present
    first = first[-n:] if n else first[:0]
    glob = (first // w + win[0]) * nc + first % w + win[2]
    return n, counts[1:], sums[1:], maxd[1:], glob, strips(comp)


def gather_chunk(
    dem_path: str, filled_path: str, win: tuple[int, int, int, int], nc: int, pieces: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Global index, depth and local piece of the cells of some pieces (exact re-sum)."""
    depth = depth_window(dem_path, filled_path, win)
    comp = _label_components(depth)[0]
    rr, cc = np.nonzero(np.isin(comp, pieces))
    return (rr + win[0]) * nc + cc + win[2], depth[rr, cc].astype(np.float64), comp[rr, cc]


def relabel_chunk(
    dem_path: str,
    filled_path: str,
    out_path: str,
    win: tuple[int, int, int, int],
    table: np.ndarray,
) -> int:
    """Step 3: final ids of the chunk's pieces (``table[local id]``), written."""
    depth = depth_window(dem_path, filled_path, win)
    comp = _label_components(depth)[0]
    write_window(out_path, win, np.take(table, comp))
    return 0


@njit(cache=True)
def _seq_sum(groups: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    """Per-group sums in the given order (sequential, as the in-memory kernel)."""
    out = np.zeros(n, dtype=np.float64)
    for i in range(groups.shape[0]):
        out[groups[i]] += values[i]
    return out


class BluespotFilter:
    """The thresholds of :func:`klimakort.core.bluespots.label_bluespots`."""

    def __init__(self, min_depth: float, min_cells: int, min_volume: float, cell_area: float):
        self.min_depth = min_depth
        self.min_cells = min_cells
        self.min_volume = min_volume
        self.cell_area = cell_area

    def keep(self, counts: np.ndarray, sums: np.ndarray, maxd: np.ndarray) -> np.ndarray:
        volume = sums * self.cell_area
        return (maxd > self.min_depth) & (counts >= self.min_cells) & (volume > self.min_volume)


def _join(grid: ChunkGrid, res: list, base: np.ndarray, npieces: int) -> np.ndarray:
    """Component of every piece after joining across chunk borders."""
    ids = Lines(grid, np.dtype(np.int64), -1)
    for t, r in enumerate(res):
        ids.put(t, tuple(np.where(s > 0, base[t] + s.astype(np.int64) - 1, -1) for s in r[5]))  # type: ignore[arg-type]
    us, vs = [], []
    lines = [(ids.rows[b - 1], ids.rows[b]) for b in grid.rows[1:-1]]
    lines += [(ids.cols[b - 1], ids.cols[b]) for b in grid.cols[1:-1]]
    for a, b in lines:
        n = a.shape[0]
        for d in (-1, 0, 1):
            xa = np.arange(max(0, -d), n - max(0, d))
            ok = (a[xa] >= 0) & (b[xa + d] >= 0)
            us.append(a[xa][ok])
            vs.append(b[xa + d][ok])
    u = np.concatenate(us) if us else np.zeros(0, dtype=np.int64)
    v = np.concatenate(vs) if vs else np.zeros(0, dtype=np.int64)
    graph = coo_matrix((np.ones(u.size, dtype=np.int8), (u, v)), shape=(npieces, npieces))
    return connected_components(graph, directed=False)[1]


def label_chunks(
    run: Runner,
    grid: ChunkGrid,
    dem_path: str,
    filled_path: str,
    out_path: str,
    filt: BluespotFilter,
) -> int:
    """Write the bluespot ids (int32) to ``out_path``; return the number of bluespots."""
    nc = grid.nc
    wins = [grid.window(t) for t in range(grid.n)]
    res = run(solve_chunk, [(dem_path, filled_path, w, nc) for w in wins])
    npc = np.array([r[0] for r in res], dtype=np.int64)
    base = np.concatenate([[0], np.cumsum(npc)[:-1]])
    npieces = int(npc.sum())
    if npieces == 0:
        run(
            relabel_chunk,
            [(dem_path, filled_path, out_path, w, np.zeros(1, np.int32)) for w in wins],
        )
        return 0
    comp = _join(grid, res, base, npieces)
    ncomp = int(comp.max()) + 1
    counts = np.bincount(comp, np.concatenate([r[1] for r in res]), ncomp).astype(np.int64)
    sums = np.bincount(comp, np.concatenate([r[2] for r in res]), ncomp)
    maxd = np.zeros(ncomp)
    np.maximum.at(maxd, comp, np.concatenate([r[3] for r in res]))
    first = np.full(ncomp, np.iinfo(np.int64).max)
    np.minimum.at(first, comp, np.concatenate([r[4] for r in res]))
    npieces_of = np.bincount(comp, minlength=ncomp)
    volume = sums * filt.cell_area
    tol = 8 * np.finfo(np.float64).eps * counts * volume + np.finfo(np.float64).tiny
    unsure = np.flatnonzero((npieces_of > 1) & (np.abs(volume - filt.min_volume) <= tol))
    if unsure.size:
        sums[unsure] = _exact_sums(run, grid, dem_path, filled_path, res, base, comp, unsure, ncomp)
    keep = filt.keep(counts, sums, maxd)
    kept = np.flatnonzero(keep)
    final = np.zeros(ncomp, dtype=np.int32)
    final[kept[np.argsort(first[kept], kind="stable")]] = np.arange(
        1, kept.size + 1, dtype=np.int32
    )
    args = []
    for t, w in enumerate(wins):
        table = np.zeros(npc[t] + 1, dtype=np.int32)
        table[1:] = final[comp[base[t] : base[t] + npc[t]]]
        args.append((dem_path, filled_path, out_path, w, table))
    run(relabel_chunk, args)
    return int(kept.size)


def _exact_sums(
    run: Runner,
    grid: ChunkGrid,
    dem_path: str,
    filled_path: str,
    res: list,
    base: np.ndarray,
    comp: np.ndarray,
    unsure: np.ndarray,
    ncomp: int,
) -> np.ndarray:
    """Raster-order depth sums of the components ``unsure`` (gathered from the chunks)."""
    want = np.zeros(ncomp, dtype=bool)
    want[unsure] = True
    args, owners = [], []
    for t in range(grid.n):
        n = int(res[t][0])
        local = np.flatnonzero(want[comp[base[t] : base[t] + n]]) + 1
        if local.size:
            args.append((dem_path, filled_path, grid.window(t), grid.nc, local))
            owners.append(t)
    got = run(gather_chunk, args)
    idx = np.concatenate([g[0] for g in got])
    val = np.concatenate([g[1] for g in got])
    grp = np.concatenate(
        [comp[base[t] + g[2].astype(np.int64) - 1] for g, t in zip(got, owners, strict=True)]
    )
    order = np.argsort(idx, kind="stable")
    return _seq_sum(grp[order], val[order], ncomp)[unsure]
