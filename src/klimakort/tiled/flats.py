"""Tiled D8 directions with the flat resolution of :mod:`klimakort.core.flats`.

The local codes need a halo of one cell; the codes of the halo cells themselves need
one more, so every chunk is read with a halo of two. The BFS distances across flats
that span several chunks are exact after an iteration: every chunk is resolved with
the distances its neighbours published for their border cells as seeds of its halo,
and chunks whose neighbours' borders changed run again, until no border value
changes (a Bellman-Ford over chunks: distances only decrease towards the true ones).

Every run of a chunk writes its codes. A chunk runs again after any of the border
strips its halo reads changed, so when no strip changes any more, the last codes
written by every chunk were computed from the final halo: there is no extra pass.
Only the chunks that read a changed strip run again (not all eight neighbours), and
a round runs the chunks in four colours one after the other, so that a change
travels several chunks in one round. The distances are a monotone fixpoint: the order
of the updates changes how soon it is reached, never the result.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from klimakort.core.flats import FLAT, flat_codes, resolve_flats
from klimakort.tiled.chunks import ChunkGrid, Lines, read_padded, set_ring, strips, write_window
from klimakort.tiled.cluster import Runner

__all__ = ["flowdir_chunks"]

_PAD = 2
_FAR = 1 << 40  # a row/column index that never matches


def flat_chunk(
    filled_path: str,
    win: tuple[int, int, int, int],
    raster: tuple[int, int],
    inv: np.ndarray,
    edge_outlets: bool,
    ring: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None,
    out_path: str | None,
) -> tuple[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray], int]:
    """Codes of one chunk with its flats resolved from ``ring`` (halo distances, -1 =
    unknown). Returns the border strips of the BFS distances and the number of flat
    cells; writes the codes to ``out_path`` if given (unresolved flats as 0)."""
    z = read_padded(filled_path, win, _PAD, np.nan)
    r0, r1, c0, c1 = win
    h, w = r1 - r0, c1 - c0
    bounds = (
        _PAD if r0 == 0 else -_FAR,
        h + _PAD if r1 == raster[0] else _FAR,
        _PAD if c0 == 0 else -_FAR,
        w + _PAD if c1 == raster[1] else _FAR,
    )
    nd = np.empty((0, 0), dtype=np.uint8)  # inland_nodata="outlet": all nodata drains
    codes, _ = flat_codes(z, inv, edge_outlets, nd, bounds)
    inner = codes[_PAD:-_PAD, _PAD:-_PAD]
    nflat = int(np.count_nonzero(inner == FLAT))
    dist_strips = strips(np.full((h, w), -1, dtype=np.int32))
    if nflat:
        seeds = None
        if ring is not None:
            rd = np.full((h + 2, w + 2), -1, dtype=np.int32)
            set_ring(rd, ring)
            frame = np.full(z.shape, -1, dtype=np.int32)
            frame[1:-1, 1:-1] = rd
            frame[_PAD:-_PAD, _PAD:-_PAD] = -1
            pick = (frame >= 0) & (codes == FLAT)
            idx = np.flatnonzero(pick)
            seeds = (idx, frame.reshape(-1)[idx])
        dist, _left = resolve_flats(z, codes, nflat, (_PAD, h + _PAD, _PAD, w + _PAD), seeds)
        dist_strips = strips(dist[_PAD:-_PAD, _PAD:-_PAD])
    if out_path is not None:
        out = inner.copy()
        out[out == FLAT] = 0
        write_window(out_path, win, out)
    return dist_strips, nflat


def flowdir_chunks(
    run: Runner,
    grid: ChunkGrid,
    filled_path: str,
    out_path: str,
    dx: float,
    dy: float,
    *,
    edge_outlets: bool = True,
) -> int:
    """Write the D8 codes of :func:`klimakort.core.flats.d8_flat_resolved` (with
    ``inland_nodata="outlet"``) of the filled store to ``out_path``. Returns the
    number of BFS rounds."""
    diag = 1.0 / float(np.hypot(dx, dy))
    inv = np.array([1 / dx, diag, 1 / dy, diag] * 2, dtype=np.float64)
    raster = (grid.nr, grid.nc)
    lines = Lines(grid, np.dtype(np.int32), -1)
    res = run(
        flat_chunk,
        [
            (filled_path, grid.window(t), raster, inv, edge_outlets, None, out_path)
            for t in range(grid.n)
        ],
    )
    has_flat = [r[1] > 0 for r in res]
    dirty = set(_readers(grid, lines, range(grid.n), res, has_flat))
    ntc = grid.shape[1]
    colour = [(t // ntc % 2) * 2 + t % ntc % 2 for t in range(grid.n)]
    rounds = 1
    while dirty:
        # four colours of chunks, one after the other: a chunk's 8 neighbours have
        # other colours, so it reads the strips they published earlier in the same
        # round (Gauss-Seidel: fewer rounds than running all chunks at once)
        for c in range(4):
            todo = sorted(u for u in dirty if colour[u] == c)
            if not todo:
                continue
            args = [
                (filled_path, grid.window(u), raster, inv, edge_outlets, lines.ring(u), out_path)
                for u in todo
            ]
            res = run(flat_chunk, args)
            dirty.difference_update(todo)
            dirty.update(_readers(grid, lines, todo, res, has_flat))
        rounds += 1
    return rounds


def _readers(
    grid: ChunkGrid,
    lines: Lines,
    ran: Sequence[int] | range,
    res: list[tuple[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray], int]],
    has_flat: list[bool],
) -> list[int]:
    """Publish the strips of the chunks that ran; the chunks with flats that read a
    changed strip (they run in the next round)."""
    out: set[int] = set()
    for t, r in zip(ran, res, strict=True):
        sides = lines.put_sides(t, r[0])
        if any(sides):
            out.update(u for u in grid.readers(t, sides) if has_flat[u])
    return sorted(out)
