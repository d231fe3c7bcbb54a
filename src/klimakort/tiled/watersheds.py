"""Tiled local watersheds (:func:`klimakort.core.watersheds.local_watersheds`).

Every chunk follows each cell's D8 path to the first bluespot cell, an outlet, or the
out-cell where it leaves the chunk; the client resolves the out-cells over the chunk
graph (the value where each path ends, by pointer jumping); every chunk then fills in
the cells that left it.
"""

from __future__ import annotations

import numpy as np

from klimakort.core.d8codes import NODATA
from klimakort.tiled.chunks import ChunkGrid, read_padded, write_window
from klimakort.tiled.cluster import Runner
from klimakort.tiled.exits import border_index, chunk_exits, out_cells, resolve_chains

__all__ = ["watershed_chunks"]


def _exits(fd_path: str, labels_path: str, win: tuple[int, int, int, int]):  # type: ignore[no-untyped-def]
    fdp = read_padded(fd_path, win, 1, NODATA)
    lab = read_padded(labels_path, win, 0, 0)
    ex, val = chunk_exits(fdp, lab)
    return fdp, ex, val


def solve_chunk(fd_path: str, labels_path: str, win: tuple[int, int, int, int], nc: int):  # type: ignore[no-untyped-def]
    """Step 1: out-cells (global, target) and each border cell's exit (global) and value."""
    fdp, ex, val = _exits(fd_path, labels_path, win)
    _loc, glob, target = out_cells(fdp, win, nc)
    bl, bg = border_index(win, nc)
    w = win[3] - win[2]
    e = ex.reshape(-1)[bl]
    eg = np.where(e >= 0, (e // w + win[0]) * nc + e % w + win[2], -1)
    return glob, target, bg, eg, val.reshape(-1)[bl]


def finalise_chunk(
    fd_path: str,
    labels_path: str,
    out_path: str,
    win: tuple[int, int, int, int],
    out_local: np.ndarray,
    out_value: np.ndarray,
) -> int:
    """Step 3: cells that leave the chunk take the value of their out-cell; write."""
    _fdp, ex, val = _exits(fd_path, labels_path, win)
    leaves = ex >= 0
    if leaves.any():
        order = np.argsort(out_local)
        pos = np.searchsorted(out_local[order], ex[leaves])
        val[leaves] = out_value[order][pos]
    write_window(out_path, win, val)
    return 0


def watershed_chunks(
    run: Runner, grid: ChunkGrid, fd_path: str, labels_path: str, out_path: str
) -> None:
    """Write the local watersheds (int32, -1 on nodata) to ``out_path``."""
    nc = grid.nc
    res = run(solve_chunk, [(fd_path, labels_path, grid.window(t), nc) for t in range(grid.n)])
    glob = np.concatenate([r[0] for r in res]).astype(np.int64)
    target = np.concatenate([r[1] for r in res]).astype(np.int64)
    bg = np.concatenate([r[2] for r in res]).astype(np.int64)
    eg = np.concatenate([r[3] for r in res]).astype(np.int64)
    bv = np.concatenate([r[4] for r in res]).astype(np.int64)
    order = np.argsort(bg)
    bg, eg, bv = bg[order], eg[order], bv[order]
    at = np.searchsorted(bg, target)
    t_exit, t_val = eg[at], bv[at]
    og = np.argsort(glob)
    pos = np.clip(np.searchsorted(glob[og], t_exit), 0, max(0, glob.size - 1))
    nxt = np.where(t_exit >= 0, og[pos] if glob.size else -1, -1).astype(np.int64)
    value = resolve_chains(nxt, np.where(t_exit >= 0, -9, t_val))
    chunk_of = (glob // nc // grid.size) * grid.shape[1] + (glob % nc) // grid.size
    args = []
    for t in range(grid.n):
        sel = chunk_of == t
        r0, _r1, c0, c1 = grid.window(t)
        loc = (glob[sel] // nc - r0) * (c1 - c0) + (glob[sel] % nc - c0)
        args.append(
            (fd_path, labels_path, out_path, grid.window(t), loc, value[sel].astype(np.int32))
        )
    run(finalise_chunk, args)
