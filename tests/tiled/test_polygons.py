"""Tiled label polygons: pieces cut by chunk borders joined exactly, at real coordinates."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import shapely
import xarray as xr
import zarr
from affine import Affine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from klimakort.hydro.vectorize import label_polygons
from klimakort.tiled.chunks import ChunkGrid
from klimakort.tiled.cluster import Runner
from klimakort.tiled.polygons import label_polygons_chunks

# a DKUTM32 grid far from the origin, 1.6 m cells: map coordinates are not whole numbers
T = Affine(1.6, 0.0, 708_000.0, 0.0, -1.6, 6_194_000.0)


def _labels(draw: st.DrawFn) -> np.ndarray:
    ny, nx = draw(st.integers(10, 48)), draw(st.integers(10, 48))
    rng = np.random.default_rng(draw(st.integers(0, 2**31 - 1)))
    lab = rng.integers(0, draw(st.integers(2, 5)), (ny, nx)).astype(np.int32)
    if draw(st.booleans()):  # blobs: mostly one label, ragged borders, holes
        lab = np.where(rng.random((ny, nx)) < 0.8, 1, lab).astype(np.int32)
    return lab


def _da(lab: np.ndarray) -> xr.DataArray:
    ny, nx = lab.shape
    y = T.f + T.e * (np.arange(ny) + 0.5)
    x = T.c + T.a * (np.arange(nx) + 0.5)
    da = xr.DataArray(lab, dims=("y", "x"), coords={"y": y, "x": x}).rio.write_crs(25832)
    return da.rio.write_transform(T)  # the very transform the tiled run is given


def _tiled(tmp: Path, lab: np.ndarray, chunks: int) -> dict[int, shapely.Geometry]:
    store = str(tmp / f"lab{np.random.default_rng().integers(1 << 30)}.zarr")
    zarr.create_array(store=store, data=lab, chunks=(chunks, chunks), overwrite=True)
    grid = ChunkGrid(lab.shape[0], lab.shape[1], chunks)
    pieces = np.zeros(int(lab.max()) + 1, dtype=np.int64)
    for t in range(grid.n):
        r0, r1, c0, c1 = grid.window(t)
        pieces[np.unique(lab[r0:r1, c0:c1])] += 1
    out: dict[int, shapely.Geometry] = {}
    for ids, geoms in label_polygons_chunks(Runner("synchronous"), grid, store, T, pieces):
        for i, g in zip(ids.tolist(), geoms, strict=True):
            assert i not in out  # every label once
            out[i] = g
    return out


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data(), chunks=st.sampled_from([8, 11, 16]))
def test_equal_to_the_in_memory_polygons(tmp_path: Path, data: st.DataObject, chunks: int) -> None:
    lab = data.draw(st.composite(_labels)())
    want = label_polygons(_da(lab), "id")
    got = _tiled(tmp_path, lab, chunks)
    assert sorted(got) == want["id"].tolist()
    for i, g in zip(want["id"], want.geometry, strict=True):
        assert shapely.equals(got[int(i)], g), i


def test_single_chunk_pieces_keep_the_in_memory_vertices(tmp_path: Path) -> None:
    lab = np.zeros((32, 32), dtype=np.int32)
    lab[2:6, 3:9] = 1  # inside the first chunk
    lab[10:30, 10:30] = 2  # across four chunks
    got = _tiled(tmp_path, lab, 16)
    want = label_polygons(_da(lab), "id").set_index("id").geometry
    assert shapely.equals_exact(got[1], want.loc[1], tolerance=0.0)
    assert shapely.equals(got[2], want.loc[2])
