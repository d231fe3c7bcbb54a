"""Tiled flow accumulation: integer upstream cell counts over the chunk graph.

1. Every chunk counts its cells locally (:func:`klimakort.core.accumulation.count_kernel`)
   and reports its out-cells (count, target cell) and the exit of each border cell.
2. The client links every out-cell to the out-cell its flow reaches next (the exit
   of its target cell) and pushes the counts down that graph: the total leaving
   through each out-cell.
3. Every chunk counts again with the inflow added at its entry cells. Integer sums
   do not depend on the order, so the counts equal the in-memory ones exactly; the
   area is ``float32(count * dx * dy)`` as in :func:`~klimakort.core.accumulation.upstream_area`.
"""

from __future__ import annotations

import numpy as np

from klimakort.core.accumulation import count_dtype, count_kernel
from klimakort.core.d8codes import NODATA
from klimakort.tiled.chunks import ChunkGrid, read_padded, write_window
from klimakort.tiled.cluster import Runner
from klimakort.tiled.exits import border_index, chunk_exits, out_cells, push_counts

__all__ = ["accumulation_chunks"]


def _counts(fd: np.ndarray, dtype: type, entries: np.ndarray, inflow: np.ndarray) -> np.ndarray:
    acc = (fd != NODATA).astype(dtype)
    flat = acc.reshape(-1)
    np.add.at(flat, entries, inflow.astype(dtype))
    bad, cyc = count_kernel(np.ascontiguousarray(fd), acc)
    if bad >= 0 or cyc:
        raise RuntimeError(f"invalid D8 codes in a chunk (code {bad}, {cyc} cells on cycles)")
    return acc


def solve_chunk(fd_path: str, win: tuple[int, int, int, int], nc: int, dtype: type):  # type: ignore[no-untyped-def]
    """Step 1: out-cells (global index, target, local count) and border exits."""
    fdp = read_padded(fd_path, win, 1, NODATA)
    fd = np.ascontiguousarray(fdp[1:-1, 1:-1])
    empty = np.empty(0, dtype=np.int64)
    acc = _counts(fd, dtype, empty, empty)
    loc, glob, target = out_cells(fdp, win, nc)
    ex, _val = chunk_exits(fdp)
    bl, bg = border_index(win, nc)
    w = win[3] - win[2]
    e = ex.reshape(-1)[bl]
    eg = np.where(e >= 0, (e // w + win[0]) * nc + e % w + win[2], -1)
    return glob, target, acc.reshape(-1)[loc], bg, eg


def finalise_chunk(
    fd_path: str,
    out_path: str,
    win: tuple[int, int, int, int],
    dtype: type,
    entries: np.ndarray,
    inflow: np.ndarray,
    cell_area: float,
) -> int:
    """Step 3: count with the inflows, write ``float32(count * cell_area)``."""
    fd = np.ascontiguousarray(read_padded(fd_path, win, 0, NODATA))
    acc = _counts(fd, dtype, entries, inflow)
    area = (acc * np.float64(cell_area)).astype(np.float32)
    area[fd == NODATA] = np.nan
    write_window(out_path, win, area)
    return 0


def accumulation_chunks(
    run: Runner, grid: ChunkGrid, fd_path: str, out_path: str, cell_area: float
) -> None:
    """Write the upstream area (m², float32) of the D8 store to ``out_path``."""
    dtype = count_dtype(grid.nr * grid.nc)
    nc = grid.nc
    res = run(solve_chunk, [(fd_path, grid.window(t), nc, dtype) for t in range(grid.n)])
    glob = np.concatenate([r[0] for r in res]).astype(np.int64)
    target = np.concatenate([r[1] for r in res]).astype(np.int64)
    local = np.concatenate([r[2] for r in res]).astype(np.uint64)
    bg = np.concatenate([r[3] for r in res]).astype(np.int64)
    eg = np.concatenate([r[4] for r in res]).astype(np.int64)
    order = np.argsort(bg)
    bg, eg = bg[order], eg[order]
    ex_of_target = eg[np.searchsorted(bg, target)]  # every target is a border cell
    og = np.argsort(glob)
    pos = np.searchsorted(glob[og], ex_of_target)
    pos = np.clip(pos, 0, max(0, glob.size - 1))
    nxt = np.where(ex_of_target >= 0, og[pos] if glob.size else -1, -1).astype(np.int64)
    total = push_counts(nxt, local)
    # inflow of each entry cell: the totals of the out-cells that point at it
    tr, tc = target // nc, target % nc
    size = grid.size
    ntc = grid.shape[1]
    chunk_of = (tr // size) * ntc + tc // size
    args = []
    for t in range(grid.n):
        sel = chunk_of == t
        r0, _r1, c0, c1 = grid.window(t)
        ent = (tr[sel] - r0) * (c1 - c0) + (tc[sel] - c0)
        args.append((fd_path, out_path, grid.window(t), dtype, ent, total[sel], cell_area))
    run(finalise_chunk, args)
