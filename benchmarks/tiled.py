"""Tiled rain-flow on Dask vs the in-memory kernels: bit-for-bit check, times, peak RSS.

Default: the seeded 8000 x 8000 DEM of ``_dem.py`` written as a tiled GeoTIFF, run in
memory (fill, D8 + flats, accumulation, bluespots, watersheds) and on a LocalCluster
with ``--chunks`` (2048), then every product is compared bit for bit (window by
window) and the times and peak RSS (this process, and each Dask worker process,
sampled with psutil) are printed.

``--huge`` writes a larger-than-memory DEM (``--size``, default 40,000 x 40,000 float32
= 6.4 GB) window by window (fractal tiles on a smooth relief, a sea on the west) and
runs only the tiled engine, reporting its peak RSS. It takes long and needs ~40 GB
of disk: run it deliberately.

Usage::

    PYTHONPATH=src python benchmarks/tiled.py [--size 8000] [--chunks 2048] [--workers 2]
    PYTHONPATH=src python benchmarks/tiled.py --huge [--size 40000] [--chunks 4096]
"""

from __future__ import annotations

import argparse
import resource
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import psutil
import rasterio
from rasterio.transform import from_origin

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _dem import synthetic_dem

CELL = 1.6


class RssSampler:
    """Peak RSS of the child processes (Dask workers) and their sum, sampled."""

    def __init__(self, every: float = 0.2) -> None:
        self.every = every
        self.peak_worker = 0
        self.peak_sum = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        me = psutil.Process()
        while not self._stop.is_set():
            total = 0
            for child in me.children(recursive=True):
                try:
                    rss = child.memory_info().rss
                except psutil.Error:
                    continue
                total += rss
                self.peak_worker = max(self.peak_worker, rss)
            self.peak_sum = max(self.peak_sum, total)
            self._stop.wait(self.every)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def self_peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def write_dem(path: Path, z: np.ndarray) -> None:
    ny, nx = z.shape
    profile = _profile(ny, nx)
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(z, 1)


def _profile(ny: int, nx: int) -> dict:
    return {
        "driver": "GTiff",
        "width": nx,
        "height": ny,
        "count": 1,
        "dtype": "float32",
        "crs": "EPSG:25832",
        "transform": from_origin(700_000.0, 6_200_000.0, CELL, CELL),
        "nodata": np.nan,
        "tiled": True,
        "blockxsize": 512,
        "blockysize": 512,
        "compress": "ZSTD",
        "BIGTIFF": "YES",
    }


def write_huge_dem(path: Path, size: int, block: int = 4000) -> None:
    """A ``size`` x ``size`` DEM written window by window (never whole in memory)."""
    with rasterio.open(path, "w", **_profile(size, size)) as dst:
        for bi, r0 in enumerate(range(0, size, block)):
            for bj, c0 in enumerate(range(0, size, block)):
                h, w = min(block, size - r0), min(block, size - c0)
                tile = synthetic_dem(block, seed=1000 + bi * 97 + bj)[:h, :w]
                yy, xx = np.mgrid[r0 : r0 + h, c0 : c0 + w].astype(np.float32)
                relief = 20 * np.sin(xx / 3000) * np.cos(yy / 2500) + 0.001 * xx
                tile = np.where(np.isnan(tile), np.float32(0), tile)
                z = np.round(tile + relief + 25, 2).astype(np.float32)
                coast = 0.05 * size + 0.02 * size * np.sin(yy / 1700)
                z[xx < coast] = np.nan
                dst.write(z, 1, window=((r0, r0 + h), (c0, c0 + w)))


def _stamp(t0: float):  # type: ignore[no-untyped-def]
    """A progress callback printing each step with the seconds since ``t0`` (long runs)."""

    def say(message: str) -> None:
        print(f"  [{time.perf_counter() - t0:7.1f} s] {message}", flush=True)

    return say


def in_memory(z: np.ndarray, params) -> tuple[dict[str, np.ndarray], dict[str, float]]:
    from klimakort.core.accumulation import upstream_area
    from klimakort.core.bluespots import label_bluespots
    from klimakort.core.fill import fill_depressions
    from klimakort.core.flats import d8_flat_resolved
    from klimakort.core.watersheds import local_watersheds

    out: dict[str, np.ndarray] = {}
    sec: dict[str, float] = {}
    t = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal t
        now = time.perf_counter()
        sec[name] = now - t
        t = now

    out["filled"] = fill_depressions(z, flats="flat")
    lap("fill")
    out["flowdir"] = d8_flat_resolved(out["filled"], CELL, CELL)
    lap("flowdir")
    out["accumulation"] = upstream_area(out["flowdir"], CELL * CELL)
    lap("accumulation")
    depth = np.where(np.isnan(z), np.nan, out["filled"] - z).astype(z.dtype)
    out["bluespots"] = label_bluespots(
        depth,
        CELL,
        CELL,
        min_depth=params.min_depth,
        min_cells=params.min_cells,
        min_volume=params.min_volume,
    )
    del depth
    lap("bluespots")
    out["watersheds"] = local_watersheds(out["flowdir"], out["bluespots"])
    lap("watersheds")
    return out, sec


def compare(files: dict[str, Path], want: dict[str, np.ndarray]) -> dict[str, bool]:
    """Bit-for-bit comparison, a band of rows at a time."""
    same = {}
    for name, ref in want.items():
        ok = True
        with rasterio.open(files[name]) as src:
            for r0 in range(0, src.height, 1024):
                r1 = min(src.height, r0 + 1024)
                got = src.read(1, window=((r0, r1), (0, src.width)))
                a, b = got, ref[r0:r1]
                if a.dtype.kind == "f":
                    a, b = a.view(np.uint32), b.view(np.uint32)
                ok &= bool(np.array_equal(a, b))
        same[name] = ok
    return same


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=None)
    ap.add_argument("--chunks", type=int, default=None)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--huge", action="store_true")
    ap.add_argument("--tmp", type=Path, default=None, help="scratch folder (needs disk space)")
    args = ap.parse_args()
    size = args.size or (40_000 if args.huge else 8000)
    chunks = args.chunks or (4096 if args.huge else 2048)

    from distributed import Client, LocalCluster

    from klimakort.hydro.rainflow import RainflowParams
    from klimakort.tiled import rainflow_tiled

    params = RainflowParams()
    tmp = Path(tempfile.mkdtemp(dir=args.tmp, prefix="klimakort-tiled-"))
    try:
        dem_path = tmp / "dem.tif"
        t = time.perf_counter()
        want: dict[str, np.ndarray] = {}
        if args.huge:
            write_huge_dem(dem_path, size)
        else:
            z = synthetic_dem(size)
            write_dem(dem_path, z)
        print(f"DEM {size} x {size} float32 written in {time.perf_counter() - t:.1f} s")
        if not args.huge:
            want, sec = in_memory(z, params)
            del z
            print("in memory:", ", ".join(f"{k} {v:.1f} s" for k, v in sec.items()))
            print(
                f"  total {sum(sec.values()):.1f} s, "
                f"peak RSS (this process) {self_peak_mb():.0f} MB"
            )
        with (
            LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True) as cluster,
            Client(cluster) as client,
            RssSampler() as rss,
        ):
            t = time.perf_counter()
            res = rainflow_tiled(dem_path, tmp / "out", chunks, params, client, progress=_stamp(t))
            total = time.perf_counter() - t
        print(
            f"dask ({args.workers} workers, chunks {chunks}):",
            ", ".join(f"{k} {v:.1f} s" for k, v in res.seconds.items()),
        )
        print(
            f"  total {total:.1f} s, {res.flat_rounds} flat BFS rounds, {res.n_bluespots} bluespots"
        )
        print(
            f"  peak RSS: worker {rss.peak_worker / 2**20:.0f} MB, all workers "
            f"{rss.peak_sum / 2**20:.0f} MB, client {self_peak_mb():.0f} MB "
            f"(raster {size * size * 4 / 2**20:.0f} MB as float32)"
        )
        if want:
            same = compare(res.files, want)
            print(
                "bit-identical:", ", ".join(f"{k} {'yes' if v else 'NO'}" for k, v in same.items())
            )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
