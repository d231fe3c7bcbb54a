"""Tiled bluespot table: the columns of the in-memory ``bluespots.gpkg``, chunk by chunk.

1. Every chunk measures the bluespots it holds (cell count, depth sum, maximum depth),
   counts the cells of every local watershed, and finds, per bluespot, its best exit
   cell in the chunk: the cell whose D8 step leaves the bluespot (not back into it or
   its watershed) with the shortest step, the first in raster order among equals,
   with its filled level (the spill elevation), the cell it drains to and that cell's
   watershed (the D8 target lies in the one-cell halo read around the chunk).
2. The client merges the pieces of every bluespot: sums, maxima, and the best exit
   over all chunks (smallest step rank, then smallest raster index), which is the
   pour point :func:`klimakort.core.watersheds.pour_points` finds in memory.

Counts, maxima, pour points, spill elevations, downstream ids and watershed areas
equal the in-memory ones exactly. The volume of a bluespot that lies in several
chunks is the sum of per-chunk float64 sums, equal to the in-memory raster-order
sum to rounding (relative 1e-12). Nothing is held per cell on the client; the
table has one row per bluespot.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numba import njit

from klimakort.core.watersheds import _DC, _DR, _RANK, fill_rain_mm
from klimakort.errors import InputError
from klimakort.tiled.chunks import ChunkGrid, read_padded
from klimakort.tiled.cluster import Runner

__all__ = ["bluespot_table_chunks"]

_NO_RANK = 99


@njit(cache=True, nogil=True)
def _chunk_table(
    local: np.ndarray,
    k: int,
    depth: np.ndarray,
    filled: np.ndarray,
    lab_p: np.ndarray,
    ws_p: np.ndarray,
    fd_p: np.ndarray,
    r0: int,
    c0: int,
    ny: int,
    nx: int,
    dr: np.ndarray,
    dc: np.ndarray,
    rank: np.ndarray,
) -> tuple[np.ndarray, ...]:
    """Per local bluespot ``0..k-1``: measures and the best exit cell of this chunk."""
    counts = np.zeros(k, dtype=np.int64)
    dsum = np.zeros(k, dtype=np.float64)
    dmax = np.zeros(k, dtype=np.float64)
    best = np.full(k, _NO_RANK, dtype=np.int64)
    pour = np.full(k, -1, dtype=np.int64)  # global raster index of the exit cell
    to = np.full(k, -1, dtype=np.int64)  # global index of its D8 target, -1 = off raster
    to_ws = np.zeros(k, dtype=np.int64)  # watershed of the target
    pour_z = np.full(k, np.nan, dtype=np.float64)
    h, w = local.shape
    for r in range(h):
        for c in range(w):
            i = local[r, c]
            if i < 0:
                continue
            d = np.float64(depth[r, c])
            f = np.float64(filled[r, c])
            counts[i] += 1
            dsum[i] += d
            if d > dmax[i]:
                dmax[i] = d
            b = lab_p[r + 1, c + 1]
            code = fd_p[r + 1, c + 1]
            kk = rank[code]
            if kk >= best[i]:
                continue
            gr = r0 + r
            gc = c0 + c
            tgt = -1
            tw = 0
            if code != 0:
                rr = gr + dr[code]
                cc = gc + dc[code]
                if 0 <= rr < ny and 0 <= cc < nx:
                    pr = r + 1 + dr[code]
                    pc = c + 1 + dc[code]
                    if lab_p[pr, pc] == b or ws_p[pr, pc] == b:
                        continue  # stays inside or flows back: not an exit cell
                    tgt = rr * nx + cc
                    tw = ws_p[pr, pc]
            best[i] = kk
            pour[i] = gr * nx + gc
            to[i] = tgt
            to_ws[i] = tw
            pour_z[i] = f
    return counts, dsum, dmax, best, pour, to, to_ws, pour_z


def table_chunk(
    dem_path: str,
    filled_path: str,
    labels_path: str,
    ws_path: str,
    fd_path: str,
    win: tuple[int, int, int, int],
    raster: tuple[int, int],
) -> tuple[np.ndarray, ...]:
    """Step 1 for one chunk: (ids, measures, exits) of its bluespots, watershed counts."""
    z = read_padded(dem_path, win, 0, np.nan)
    f = read_padded(filled_path, win, 0, np.nan)
    lab_p = read_padded(labels_path, win, 1, 0)
    ws_p = read_padded(ws_path, win, 1, -1)
    fd_p = read_padded(fd_path, win, 1, 255)
    lab = lab_p[1:-1, 1:-1]
    spots = lab > 0
    ids, inv = _compact(lab[spots])
    local = np.full(lab.shape, -1, dtype=np.int64)
    local[spots] = inv
    depth = np.subtract(f, z)  # as the in-memory pipeline computes it
    out = _chunk_table(
        local,
        ids.size,
        depth,
        f,
        lab_p,
        ws_p,
        fd_p,
        win[0],
        win[2],
        raster[0],
        raster[1],
        _DR,
        _DC,
        _RANK,
    )
    ws = ws_p[1:-1, 1:-1]
    sheds, shed_cells = _counts(ws[ws >= 0])
    return (ids.astype(np.int64), *out, sheds.astype(np.int64), shed_cells.astype(np.int64))


def _span_ok(values: np.ndarray) -> bool:
    """Whether a count array over ``min..max`` is no larger than a sort's work."""
    return values.size > 0 and int(values.max()) - int(values.min()) <= 4 * values.size


def _compact(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(values, return_inverse=True)`` in O(n) when the ids are dense."""
    if not _span_ok(values):
        return np.unique(values, return_inverse=True)
    lo = int(values.min())
    present = np.bincount(values - lo) > 0
    slot = np.cumsum(present) - 1
    return np.flatnonzero(present) + lo, slot[values - lo]


def _counts(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(values, return_counts=True)`` in O(n) when the ids are dense."""
    if not _span_ok(values):
        return np.unique(values, return_counts=True)
    lo = int(values.min())
    counts = np.bincount(values - lo)
    ids = np.flatnonzero(counts)
    return ids + lo, counts[ids]


def bluespot_table_chunks(
    run: Runner,
    grid: ChunkGrid,
    paths: dict[str, str],
    n: int,
    dx: float,
    dy: float,
) -> tuple[pd.DataFrame, np.ndarray]:
    """The bluespot table of a tiled run (columns of the in-memory bluespot table).

    Parameters
    ----------
    run : Runner
        Where the chunk tasks run.
    grid : ChunkGrid
        The chunks.
    paths : dict
        Zarr stores ``dem``, ``filled``, ``bluespots``, ``watersheds``, ``flowdir``.
    n : int
        Number of bluespots (ids ``1..n``).
    dx, dy : float
        Cell size (m).

    Returns
    -------
    table : pandas.DataFrame
        One row per bluespot, sorted by id; the columns of
        :data:`klimakort.hydro.rainflow.TABLE_COLUMNS` except the coordinates of the
        pour point, which need the transform (``pour_row``/``pour_col`` are given).
    pieces : int64 array
        ``pieces[id]`` = number of chunks holding bluespot ``id`` (index ``0..n``).

    Raises
    ------
    InputError
        A bluespot without an exit cell (inconsistent stores).
    """
    args = [
        (
            paths["dem"],
            paths["filled"],
            paths["bluespots"],
            paths["watersheds"],
            paths["flowdir"],
            grid.window(t),
            (grid.nr, grid.nc),
        )
        for t in range(grid.n)
    ]
    res = run(table_chunk, args)
    cat = [np.concatenate([r[i] for r in res]) for i in range(11)]
    ids, counts, dsum, dmax, best, pour, to, to_ws, pour_z, sheds, shed_cells = cat
    m = n + 1
    cell_area = dx * dy
    count = np.bincount(ids, counts, minlength=m).astype(np.int64)
    volume = np.bincount(ids, dsum, minlength=m) * cell_area
    maxd = np.zeros(m)
    np.maximum.at(maxd, ids, dmax)
    # best exit over the chunks: smallest rank, then the first cell in raster order
    order = np.lexsort((pour, best, ids))
    first = order[np.r_[True, ids[order][1:] != ids[order][:-1]]] if ids.size else order
    got = ids[first]
    no_exit = got[best[first] == _NO_RANK]
    if no_exit.size:
        raise InputError(
            f"bluespots {no_exit[:8].tolist()} have no cell whose D8 direction leaves them; "
            "the tiled stores do not belong together"
        )
    row = np.full(m, -1, dtype=np.int64)
    col = np.full(m, -1, dtype=np.int64)
    row[got], col[got] = np.divmod(pour[first], grid.nc)
    spill_z = np.full(m, np.nan)
    spill_z[got] = pour_z[first]
    down = np.zeros(m, dtype=np.int64)
    down[got] = np.where(to[first] >= 0, np.maximum(to_ws[first], 0), 0)
    loops = np.flatnonzero(down == np.arange(m))[1:]
    if loops.size:
        raise InputError(f"bluespots {loops[:8].tolist()} spill into themselves")
    wsa = np.bincount(sheds, shed_cells, minlength=m).astype(np.float64) * cell_area
    rain = fill_rain_mm(volume, wsa)
    sl = slice(1, m)
    table = pd.DataFrame(
        {
            "bluespot_id": np.arange(1, m, dtype=np.int64),
            "area_m2": count[sl] * cell_area,
            "volume_m3": volume[sl],
            "max_depth_m": maxd[sl],
            "cell_count": count[sl],
            "spill_elevation_m": spill_z[sl],
            "pour_row": row[sl],
            "pour_col": col[sl],
            "downstream_id": down[sl].astype(np.int32),
            "watershed_area_m2": wsa[sl],
            "fill_rain_mm": rain[sl],
        }
    )
    return table, np.bincount(ids, minlength=m)
