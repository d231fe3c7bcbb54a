"""Benchmark of klimakort's rain-flow kernels (fill, D8, accumulation) against peers.

Run: ``.venv/bin/python benchmarks/rainflow.py [--size 4000] [--repeats 3]``.

One seeded synthetic DEM (see ``_dem.py``) is processed by klimakort and by every peer
that imports (whitebox-workflows, pyflwdir, pysheds, scikit-image; richdem and
xarray-spatial are reported as skipped when missing or without hydrology tools).
Each tool is warmed up once on a 256 x 256 crop (JIT compilation), then timed
``--repeats`` times on the full DEM; the median wall time is reported as Mcells/s.
Tools run with their defaults on all cores (klimakort's flat fill is multi-threaded
over tiles; its epsilon fill, D8 and accumulation are single-threaded).
Memory, first-call JIT compile time (fresh process, empty numba cache) and warm
import time are measured in child processes.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _dem import synthetic_dem

NODATA = -9999.0
CELL = 1.6
ROOT = Path(__file__).resolve().parents[1]

Timings = dict[tuple[str, str], float]


def _median_time(fn: Callable[[], Any], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def _write_tif(dem: np.ndarray, path: Path) -> None:
    import rasterio
    from rasterio.transform import from_origin

    data = np.where(np.isnan(dem), np.float32(NODATA), dem).astype(np.float32)
    profile = {
        "driver": "GTiff",
        "height": dem.shape[0],
        "width": dem.shape[1],
        "count": 1,
        "dtype": "float32",
        "crs": "EPSG:25832",
        "transform": from_origin(700_000.0, 6_170_000.0, CELL, CELL),
        "nodata": NODATA,
    }
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data, 1)


# --------------------------------------------------------------------------- tools


def bench_klimakort(dem: np.ndarray, small: np.ndarray, repeats: int) -> Timings:
    from klimakort.core.accumulation import flow_accumulation
    from klimakort.core.d8 import d8_directions
    from klimakort.core.fill import fill_depressions

    # warm-up, incl. a nodata-touching crop big enough for the tiled (multi-threaded) flat fill
    for arr in (small, dem[:600, :600].copy()):
        f = fill_depressions(arr, flats="epsilon")
        fill_depressions(arr)
        flow_accumulation(d8_directions(f, CELL, CELL), cell_area=CELL * CELL)
    out: Timings = {}
    out["klimakort", "fill"] = _median_time(lambda: fill_depressions(dem), repeats)
    out["klimakort", "fill (epsilon)"] = _median_time(
        lambda: fill_depressions(dem, flats="epsilon"), repeats
    )
    filled = fill_depressions(dem, flats="epsilon")
    out["klimakort", "d8"] = _median_time(lambda: d8_directions(filled, CELL, CELL), repeats)
    fdir = d8_directions(filled, CELL, CELL)
    out["klimakort", "accumulation"] = _median_time(
        lambda: flow_accumulation(fdir, cell_area=CELL * CELL), repeats
    )
    return out


def bench_whitebox(tif: Path, small_tif: Path, repeats: int) -> Timings:
    wbw = importlib.import_module("whitebox_workflows")  # its .pyi stub breaks mypy

    wbe = wbw.WbEnvironment()
    wbe.verbose = False
    hyd = wbe.hydrology

    def run(path: Path, reps: int) -> Timings:
        dem = wbe.read_raster(str(path))
        res: Timings = {}
        res["whitebox-workflows", "fill"] = _median_time(
            lambda: hyd.fill_depressions(dem=dem, fix_flats=False), reps
        )
        filled = hyd.fill_depressions(dem=dem, fix_flats=True)
        res["whitebox-workflows", "d8"] = _median_time(lambda: hyd.d8_pointer(dem=filled), reps)
        ptr = hyd.d8_pointer(dem=filled)
        res["whitebox-workflows", "accumulation"] = _median_time(
            lambda: hyd.d8_flow_accum(input=ptr, input_is_pointer=True), reps
        )
        return res

    run(small_tif, 1)
    return run(tif, repeats)


def bench_pyflwdir(dem: np.ndarray, small: np.ndarray, repeats: int) -> Timings:
    import pyflwdir

    def run(arr: np.ndarray, reps: int) -> Timings:
        data = np.where(np.isnan(arr), np.float32(NODATA), arr).astype(np.float32)
        res: Timings = {}
        res["pyflwdir", "fill (+d8)"] = _median_time(
            lambda: pyflwdir.dem.fill_depressions(data, nodata=NODATA), reps
        )
        _, d8 = pyflwdir.dem.fill_depressions(data, nodata=NODATA)

        def acc() -> None:
            flw = pyflwdir.from_array(d8, ftype="d8", latlon=False, cache=False)
            flw.accuflux(np.ones(d8.shape, dtype=np.float32))

        res["pyflwdir", "accumulation"] = _median_time(acc, reps)
        return res

    run(small, 1)
    return run(dem, repeats)


def bench_pysheds(tif: Path, small_tif: Path, repeats: int) -> Timings:
    from pysheds.grid import Grid

    def run(path: Path, reps: int) -> Timings:
        grid = Grid.from_raster(str(path))
        dem = grid.read_raster(str(path))
        res: Timings = {}
        res["pysheds", "fill"] = _median_time(lambda: grid.fill_depressions(dem), reps)
        filled = grid.resolve_flats(grid.fill_depressions(dem))
        res["pysheds", "d8"] = _median_time(lambda: grid.flowdir(filled), reps)
        fdir = grid.flowdir(filled)
        res["pysheds", "accumulation"] = _median_time(lambda: grid.accumulation(fdir), reps)
        return res

    run(small_tif, 1)
    return run(tif, repeats)


def bench_skimage(dem: np.ndarray, small: np.ndarray, repeats: int) -> Timings:
    from scipy import ndimage
    from skimage.morphology import reconstruction

    def run(arr: np.ndarray, reps: int) -> Timings:
        nodata = np.isnan(arr)
        seeds = ndimage.binary_dilation(nodata, structure=np.ones((3, 3), dtype=bool))
        seeds[[0, -1], :] = True
        seeds[:, [0, -1]] = True
        low = np.float32(np.nanmin(arr) - 1)
        mask = np.where(nodata, low, arr)
        seed = np.where(seeds | nodata, mask, np.float32(np.nanmax(arr)))
        t = _median_time(lambda: reconstruction(seed, mask, method="erosion"), reps)
        return {("scikit-image", "fill"): t}

    run(small, 1)
    return run(dem, repeats)


# --------------------------------------------------------------------------- child processes

_MEM_CHILD = """
import json, sys, numpy as np
from klimakort.core.accumulation import flow_accumulation
from klimakort.core.d8 import d8_directions
from klimakort.core.fill import fill_depressions
dem = np.load(sys.argv[1])
s = dem[:64, :64].copy()
flow_accumulation(d8_directions(fill_depressions(s, flats="epsilon"), 1.6, 1.6))
def kb(key):
    for line in open("/proc/self/status"):
        if line.startswith(key):
            return int(line.split()[1]) * 1024
try:
    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")  # reset the peak (VmHWM) to the current RSS
except OSError:
    pass
base = kb("VmRSS:")
filled = fill_depressions(dem, flats="epsilon")
fdir = d8_directions(filled, 1.6, 1.6)
acc = flow_accumulation(fdir, cell_area=2.56)
peak = kb("VmHWM:")
outputs = filled.nbytes + fdir.nbytes + acc.nbytes
print(json.dumps({"base": base, "peak": peak, "outputs": outputs, "cells": dem.size}))
"""

_JIT_CHILD = """
import json, time
t0, c0 = time.perf_counter(), time.process_time()
import numpy as np
import klimakort.core.accumulation as A, klimakort.core.d8 as D, klimakort.core.fill as F
t1, c1 = time.perf_counter(), time.process_time()
dem = np.random.default_rng(0).random((600, 600)).astype(np.float32)
dem[3, 3] = np.nan
F.fill_depressions(dem)  # tiled multi-threaded flat fill
dem = dem[:32, :32].copy()
for arr in (dem, dem.astype(np.float64)):
    F.fill_depressions(arr)
    f = F.fill_depressions(arr, flats="epsilon", inland_nodata="barrier")
    fd = D.d8_directions(f, 1.0, 1.0)
    A.flow_accumulation(fd)
    A.flow_accumulation(fd, weights=arr)
    D.downstream_index(fd)
t2, c2 = time.perf_counter(), time.process_time()
# the rest of the core, through the pipelines that use it: bluespots, watersheds,
# level-volume, streams, fill-spill routing, flood level
import xarray as xr, rioxarray
from rasterio.transform import from_origin
from klimakort.hydro.rainflow import RainflowParams, rainflow
from klimakort.hazards.cloudburst import cloudburst
from klimakort.hazards.sealevel import sealevel_analysis
z = np.random.default_rng(1).random((64, 64)).astype(np.float32) * 5
z[-3:, :] = -1.0  # a strip of sea
da = xr.DataArray(z, dims=("y", "x")).rio.write_crs(25832)
da = da.rio.write_transform(from_origin(700000, 6170000, 1.6, 1.6))
da = da.rio.write_nodata(np.nan, encoded=False)
rf = rainflow(da, RainflowParams(stream_threshold_m2=50.0))
cloudburst(rf, 40.0)
sealevel_analysis(da, 1.0)
t3, c3 = time.perf_counter(), time.process_time()
print(json.dumps({"import": t1 - t0, "first_calls": t2 - t1, "rest_of_core": t3 - t2,
                  "import_cpu": c1 - c0, "first_calls_cpu": c2 - c1, "rest_of_core_cpu": c3 - c2}))
"""


def _child(code: str, *args: str, env: dict[str, str] | None = None) -> dict[str, float]:
    res = subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
    )
    return json.loads(res.stdout.strip().splitlines()[-1])


def measure_memory(dem: np.ndarray, tmp: Path) -> dict[str, float]:
    path = tmp / "dem.npy"
    np.save(path, dem)
    return _child(_MEM_CHILD, str(path))


def measure_jit(tmp: Path) -> dict[str, float]:
    env = {"NUMBA_CACHE_DIR": str(tmp / "numba_cache")}
    cold = _child(_JIT_CHILD, env=env)  # empty cache: compiles and writes the cache
    warm = _child(_JIT_CHILD, env=env)  # cache filled: loads compiled code
    out: dict[str, float] = {}
    for suffix in ("", "_cpu"):  # wall seconds, then process CPU seconds (less noisy when shared)
        imp, first, rest = (f"{k}{suffix}" for k in ("import", "first_calls", "rest_of_core"))
        out[f"compile_s{suffix}"] = cold[imp] + cold[first]
        out[f"compile_all_s{suffix}"] = cold[imp] + cold[first] + cold[rest]
        out[f"cached_first_calls_s{suffix}"] = warm[first]
        out[f"cached_all_s{suffix}"] = warm[first] + warm[rest]
        out[f"warm_import_s{suffix}"] = warm[imp]
        # the compiling alone: the cold first run minus what the same run costs with a
        # filled cache (imports and the work itself)
        out[f"jit_compile_s{suffix}"] = (
            out[f"compile_all_s{suffix}"] - out[f"cached_all_s{suffix}"] - warm[imp]
        )
    return out


# --------------------------------------------------------------------------- main


def _available(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=4000, help="rows = columns (default 4000)")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per tool (median)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--peers",
        default="whitebox,pyflwdir,pysheds,skimage",
        help="comma-separated peers to run (default: all)",
    )
    args = parser.parse_args(argv)
    cells = args.size * args.size
    print(f"DEM {args.size} x {args.size} = {cells / 1e6:.1f} Mcells, seed {args.seed}")
    dem = synthetic_dem(args.size, args.seed)
    small = dem[-256:, -256:].copy()
    print(f"  nodata (sea) {np.isnan(dem).mean():.1%}, cores {os.cpu_count()}")

    timings: Timings = {}
    skipped: list[str] = []
    with tempfile.TemporaryDirectory(prefix="klimakort_bench_") as tmpdir:
        tmp = Path(tmpdir)
        tif, small_tif = tmp / "dem.tif", tmp / "small.tif"
        _write_tif(dem, tif)
        _write_tif(small, small_tif)
        timings.update(bench_klimakort(dem, small, args.repeats))
        peers: dict[str, tuple[str, Callable[[], Timings]]] = {
            "whitebox": (
                "whitebox_workflows",
                lambda: bench_whitebox(tif, small_tif, args.repeats),
            ),
            "pyflwdir": ("pyflwdir", lambda: bench_pyflwdir(dem, small, args.repeats)),
            "pysheds": ("pysheds", lambda: bench_pysheds(tif, small_tif, args.repeats)),
            "skimage": ("skimage", lambda: bench_skimage(dem, small, args.repeats)),
        }
        for name in args.peers.split(","):
            module, run = peers[name.strip()]
            if not _available(module):
                skipped.append(f"{name}: not installed")
                continue
            try:
                timings.update(run())
            except Exception as exc:  # a peer failing must not stop the benchmark
                skipped.append(f"{name}: {type(exc).__name__}: {exc}"[:200])
        for module, why in (("richdem", "no hydrology run"), ("xrspatial", "no fill/D8/acc")):
            if not _available(module):
                skipped.append(f"{module}: not installed")
            else:
                skipped.append(f"{module}: {why} in this version")
        mem = measure_memory(dem, tmp)
        jit = measure_jit(tmp)

    print(f"\n{'tool':<20}{'operation':<16}{'median s':>10}{'Mcells/s':>10}")
    for (tool, op), sec in timings.items():
        print(f"{tool:<20}{op:<16}{sec:>10.3f}{cells / sec / 1e6:>10.2f}")
    print("\nklimakort / fastest peer (speed ratio):")
    for op, kk_op in (("fill", "fill"), ("d8", "d8"), ("accumulation", "accumulation")):
        peer = {t: s for (t, o), s in timings.items() if t != "klimakort" and o.startswith(op)}
        if not peer or ("klimakort", kk_op) not in timings:
            continue
        best = min(peer, key=peer.__getitem__)
        ratio = peer[best] / timings["klimakort", kk_op]
        print(
            f"  {op:<13} {ratio:5.2f}x  (fastest peer: {best}, {cells / peer[best] / 1e6:.2f} Mc/s)"
        )
    extra = mem["peak"] - mem["base"] - mem["outputs"]
    print(
        f"\npeak RSS (fill eps + D8 + accumulation): {mem['peak'] / 2**20:.0f} MiB; "
        f"input+baseline {mem['base'] / 2**20:.0f} MiB, outputs {mem['outputs'] / 2**20:.0f} MiB, "
        f"extra {extra / 2**20:.0f} MiB = {extra / mem['cells']:.1f} B/cell"
    )
    print(
        f"cold first run (fresh process, empty cache: import + JIT compile + run) of "
        f"fill/D8/accumulation: {jit['compile_s']:.1f} s; of the whole core incl. bluespots, "
        f"watersheds, streams, fill-spill and flood level: {jit['compile_all_s']:.1f} s "
        f"(the same run with the cache filled: {jit['cached_all_s']:.2f} s); "
        f"first calls with cache: {jit['cached_first_calls_s']:.2f} s; "
        f"warm import: {jit['warm_import_s']:.2f} s; "
        f"compiling alone (cold run - cached run - import): {jit['jit_compile_s']:.1f} s"
    )
    print(
        f"  the same in process CPU seconds: compile {jit['compile_s_cpu']:.1f}, "
        f"compile all {jit['compile_all_s_cpu']:.1f}, cached all {jit['cached_all_s_cpu']:.2f}, "
        f"cached first calls {jit['cached_first_calls_s_cpu']:.2f}, "
        f"warm import {jit['warm_import_s_cpu']:.2f}"
    )
    for line in skipped:
        print(f"skipped {line}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
