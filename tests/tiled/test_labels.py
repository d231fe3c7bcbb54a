"""Tiled bluespot labels: the volume filter decides exactly as in memory, even on a tie."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import zarr

from klimakort.core.bluespots import label_bluespots
from klimakort.tiled.chunks import ChunkGrid, create_store, write_window
from klimakort.tiled.cluster import runner
from klimakort.tiled.labels import BluespotFilter, label_chunks


def _stores(tmp: Path, dem: np.ndarray, filled: np.ndarray, chunk: int) -> tuple[str, str, str]:
    paths = (str(tmp / "dem.zarr"), str(tmp / "filled.zarr"), str(tmp / "lab.zarr"))
    win = (0, dem.shape[0], 0, dem.shape[1])
    for p, a in zip(paths[:2], (dem, filled), strict=True):
        create_store(p, dem.shape, a.dtype, np.nan, chunk)
        write_window(p, win, a)
    create_store(paths[2], dem.shape, np.dtype(np.int32), 0, chunk)
    return paths


@pytest.mark.parametrize("offset", [0, -1, 1])
def test_volume_tie_across_chunks_is_decided_in_raster_order(tmp_path: Path, offset: int) -> None:
    rng = np.random.default_rng(5)
    dem = np.zeros((24, 24), dtype=np.float32)
    depth = np.zeros_like(dem)
    depth[6:18, 6:18] = rng.uniform(0.01, 0.3, (12, 12)).astype(np.float32)  # over 4 chunks
    filled = dem + depth
    # the in-memory volume (raster-order float64 sum), and a threshold right on it
    volume = float(np.sum(depth[depth > 0].astype(np.float64)))  # pairwise: not raster order
    seq = 0.0
    for d in depth[depth > 0]:
        seq += float(d)
    min_volume = float(np.nextafter(seq, np.inf * offset)) if offset else seq
    want = label_bluespots(depth, 1.0, 1.0, min_depth=0.0, min_cells=1, min_volume=min_volume)
    assert want.max() == (1 if offset < 0 else 0)
    assert abs(volume - seq) < 1e-9  # the orders differ at most in the last bits
    dem_p, filled_p, lab_p = _stores(tmp_path, dem, filled, 12)
    with runner("synchronous") as run:
        n = label_chunks(
            run,
            ChunkGrid(24, 24, 12),
            dem_p,
            filled_p,
            lab_p,
            BluespotFilter(0, 1, min_volume, 1.0),
        )
    assert n == want.max()
    np.testing.assert_array_equal(zarr.open_array(lab_p)[:], want)


def test_ids_follow_raster_order_of_first_cells(tmp_path: Path) -> None:
    dem = np.zeros((20, 30), dtype=np.float32)
    depth = np.zeros_like(dem)
    depth[12:14, 2:4] = 1.0  # first cell at row 12
    depth[3:15, 25] = 1.0  # first cell at row 3, spans the chunk border at row 10
    depth[9:11, 9:11] = 1.0  # first cell at row 9, on four chunks
    dem_p, filled_p, lab_p = _stores(tmp_path, dem, dem + depth, 10)
    with runner("synchronous") as run:
        n = label_chunks(
            run, ChunkGrid(20, 30, 10), dem_p, filled_p, lab_p, BluespotFilter(0, 1, 0, 1)
        )
    got = zarr.open_array(lab_p)[:]
    assert n == 3
    assert got[3, 25] == 1 and got[9, 9] == 2 and got[12, 2] == 3
    np.testing.assert_array_equal(got, label_bluespots(depth, 1.0, 1.0, min_depth=0.0))
