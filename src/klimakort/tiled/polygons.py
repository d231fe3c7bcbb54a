"""Tiled polygons of a label store: traced per chunk, pieces cut by chunk borders joined.

Every chunk traces the polygons of its labels
(:func:`klimakort.hydro.vectorize.label_polygons`' tracer) in raster corner indices
(column, row: whole numbers). A label found in one chunk is final; the pieces of a
label that lies in several chunks are joined with a union, in those integer
coordinates: the pieces' border edges need not share vertices, and an overlay of
axis-parallel edges between whole numbers is exact (no vertex of the result is
rounded; on map coordinates such as ``700000 + 1.6 * j`` a vertex between two others
is not exactly on their line). Only then are the vertices mapped through the raster's
transform, with the very expression the in-memory tracer uses, so the result covers
exactly the cells of the label as the in-memory polygon does (``shapely.equals``).
Chunks are processed a row of chunks at a time, so the client holds the polygons of
one row of chunks plus the pieces still waiting for their other parts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
import shapely
from affine import Affine

from klimakort.hydro.vectorize import _polygons
from klimakort.tiled.chunks import ChunkGrid, read_padded
from klimakort.tiled.cluster import Runner

__all__ = ["chunk_polygons", "label_polygons_chunks", "to_map"]


_INDEX = Affine.identity()  # vertices as (column, row) corner indices of the raster


def chunk_polygons(
    labels_path: str, win: tuple[int, int, int, int]
) -> tuple[np.ndarray, np.ndarray]:
    """(ids, WKB) of the positive labels of one chunk, in raster corner indices."""
    lab = np.ascontiguousarray(read_padded(labels_path, win, 0, 0).astype(np.int32, copy=False))
    geoms, ids = _polygons(lab, _INDEX, (win[0], win[2]))
    return ids.astype(np.int64), np.asarray(shapely.to_wkb(geoms), dtype=object)


def to_map(geoms: np.ndarray, transform: Affine) -> np.ndarray:
    """Corner-index geometries on the raster's coordinates (the in-memory expression)."""
    a, b, c, d, e, f = (float(getattr(transform, k)) for k in "abcdef")

    def affine(xy: np.ndarray) -> np.ndarray:
        jj, ii = xy[:, 0], xy[:, 1]
        return np.column_stack([a * jj + b * ii + c, d * jj + e * ii + f])

    return np.asarray(shapely.transform(geoms, affine), dtype=object)


def label_polygons_chunks(
    run: Runner,
    grid: ChunkGrid,
    labels_path: str,
    transform: Affine,
    pieces: np.ndarray,
    progress: Callable[[str], None] | None = None,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield batches of (ids, polygons), every positive label exactly once.

    Parameters
    ----------
    run : Runner
        Where the chunk tasks run.
    grid : ChunkGrid
        The chunks.
    labels_path : str
        Zarr store of integer labels (``<= 0`` = background).
    transform : Affine
        The raster's transform.
    pieces : int array
        ``pieces[id]`` = number of chunks that hold label ``id`` (labels held by
        more than one chunk are joined before they are yielded).
    progress : callable, optional
        Receives a message per row of chunks.
    """
    ntr, ntc = grid.shape
    waiting_ids: list[np.ndarray] = []
    waiting: list[np.ndarray] = []
    for i in range(ntr):
        if progress is not None:
            progress(f"polygons of chunk row {i + 1}/{ntr}")
        res = run(chunk_polygons, [(labels_path, grid.window(i * ntc + j)) for j in range(ntc)])
        ids = np.concatenate([r[0] for r in res]) if res else np.zeros(0, np.int64)
        wkb = np.concatenate([r[1] for r in res]) if res else np.zeros(0, object)
        whole = pieces[ids] == 1
        if whole.any():
            yield ids[whole], to_map(shapely.from_wkb(wkb[whole]), transform)
        if (~whole).any():
            waiting_ids.append(ids[~whole])
            waiting.append(shapely.from_wkb(wkb[~whole]))
    if waiting_ids:
        ids, joined = _join(np.concatenate(waiting_ids), np.concatenate(waiting))
        yield ids, to_map(joined, transform)


def _join(ids: np.ndarray, geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One polygon per id: the union of its pieces (corner indices: exact)."""
    order = np.argsort(ids, kind="stable")
    ids, geoms = ids[order], geoms[order]
    uniq, start = np.unique(ids, return_index=True)
    out = np.empty(uniq.size, dtype=object)
    for k, (a, b) in enumerate(zip(start, np.r_[start[1:], ids.size], strict=True)):
        out[k] = shapely.union_all(geoms[a:b])
    return uniq, out
