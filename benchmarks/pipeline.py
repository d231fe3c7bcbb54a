"""Benchmark of the whole ``klimakort rainflow`` (with I/O) against whitebox-workflows.

Run: ``.venv/bin/python benchmarks/pipeline.py [--size 4000] [--repeats 3] [--scaling]``.

The seeded synthetic DEM of ``_dem.py`` is written as a GeoTIFF. Then, in the same
run and alternating, each timed ``--repeats`` times (median reported):

* klimakort: the CLI ``klimakort rainflow --dem X --out Y`` as a subprocess (reading,
  fill, D8, accumulation, bluespots, watersheds, pour points, network, flow paths,
  polygons, every COG and GeoPackage), after one warm-up run on a small DEM so that
  the numba cache is filled;
* whitebox-workflows in a subprocess: read_raster, fill_depressions, d8_pointer,
  d8_flow_accum and write_raster of the three results.

Memory: the peak resident set of each child process (``os.wait4`` rusage, the
per-child form of ``getrusage(RUSAGE_CHILDREN).ru_maxrss``) divided by the number
of cells. Reported twice: the whole peak, and the peak above the baseline of the
same command on a 64 x 64 DEM (interpreter, imports, compiled kernels), which is
what grows with the raster (the bytes per cell that decide the largest raster).

The stage table comes from the pipeline's own timing record
(``klimakort rainflow --timings FILE``, :class:`klimakort.hydro.timing.StageTimer`):
seconds and share per stage of the median run.

``--scaling`` runs the pipeline once per size (2000², 4000², 8000² = 4, 16, 64 M
cells by default, ``--scaling-sizes``) and prints time, Mcells/s, bytes/cell and the
largest square raster that fits in 24 GB from the measured bytes per cell.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _dem import synthetic_dem

ROOT = Path(__file__).resolve().parents[1]
NODATA = -9999.0
CELL = 1.6
MEMORY_BYTES = 24 * 2**30

_CLI = "from klimakort.cli import main; main()"

_WBW = """
import importlib, sys
wbw = importlib.import_module("whitebox_workflows")
wbe = wbw.WbEnvironment()
wbe.verbose = False
hyd = wbe.hydrology
src, out = sys.argv[1], sys.argv[2]
dem = wbe.read_raster(src)
filled = hyd.fill_depressions(dem=dem, fix_flats=True)
ptr = hyd.d8_pointer(dem=filled)
acc = hyd.d8_flow_accum(input=ptr, input_is_pointer=True)
wbe.write_raster(filled, out + "/filled.tif")
wbe.write_raster(ptr, out + "/d8.tif")
wbe.write_raster(acc, out + "/accum.tif")
"""


def write_dem_tif(dem: np.ndarray, path: Path) -> None:
    """The DEM as a plain float32 GeoTIFF (EPSG:25832, 1.6 m cells, nodata -9999)."""
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


def _env() -> dict[str, str]:
    path = os.pathsep.join([str(ROOT / "src"), str(ROOT / "api")])
    old = os.environ.get("PYTHONPATH")
    return {**os.environ, "PYTHONPATH": path + (os.pathsep + old if old else "")}


def run_child(args: list[str]) -> tuple[float, int]:
    """Run a Python child process; return (wall seconds, peak RSS bytes of the child)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, *args],
        cwd=ROOT,
        env=_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    assert proc.stderr is not None
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"{args[:3]} failed ({proc.returncode}): {err.decode()[-2000:]}")
    rss = usage.ru_maxrss * (1 if sys.platform == "darwin" else 1024)
    return wall, int(rss)


def run_klimakort(
    tif: Path, out: Path, timings: Path, extra: list[str] | None = None
) -> tuple[float, int, dict[str, Any]]:
    """``klimakort rainflow`` as a subprocess: (seconds, peak RSS, timing record)."""
    args = ["-c", _CLI, "rainflow", "--dem", str(tif), "--out", str(out)]
    args += ["--timings", str(timings), *(extra or [])]
    wall, rss = run_child(args)
    return wall, rss, json.loads(timings.read_text())


def run_whitebox(tif: Path, out: Path) -> tuple[float, int]:
    """whitebox-workflows read + fill + D8 + accumulation + write, as a subprocess."""
    out.mkdir(parents=True, exist_ok=True)
    return run_child(["-c", _WBW, str(tif), str(out)])


def _stage_table(records: list[dict[str, Any]], total: float) -> list[str]:
    """Seconds, share of the wall and peak memory per stage; ``*`` ran on a worker thread.

    Stages on worker threads overlap the main thread's, so the shares add up to more
    than 100 %; the time outside every stage is the union of their intervals
    (:func:`klimakort.hydro.timing.covered_seconds`) taken from the wall.
    """
    from klimakort.hydro.timing import StageRecord, covered_seconds

    lines = [f"  {'stage (* = on a worker thread, overlapping)':<46}{'s':>8}{'%':>7}{'B/cell':>9}"]
    recs = [
        StageRecord(
            str(r["stage"]),
            float(r["seconds"]),
            int(r["peak_rss_bytes"]),
            float(r.get("start", 0.0)),
            str(r.get("thread", "MainThread")),
        )
        for r in records
    ]
    cells = records[0]["cells"] if records else 1
    for r in sorted(recs, key=lambda r: r.start):
        mark = "" if r.thread == "MainThread" else " *"
        lines.append(
            f"  {r.stage + mark:<46}{r.seconds:>8.2f}{100 * r.seconds / total:>6.1f}%"
            f"{r.peak_rss_bytes / cells:>9.1f}"
        )
    staged = covered_seconds(recs)
    lines.append(
        f"  {'(interpreter start, imports, exit)':<46}{total - staged:>8.2f}"
        f"{100 * (total - staged) / total:>6.1f}%"
    )
    lines.append(f"  {'total (wall of the subprocess)':<46}{total:>8.2f}{100.0:>6.1f}%")
    return lines


def _baseline(tmp: Path, extra: list[str]) -> int:
    """Peak RSS of the CLI on a 64 x 64 DEM: interpreter, imports, compiled kernels."""
    tiny = tmp / "tiny.tif"
    write_dem_tif(synthetic_dem(64, 1), tiny)
    _, rss, _ = run_klimakort(tiny, tmp / "out_tiny", tmp / "t_tiny.json", extra)
    return rss


def compare(args: argparse.Namespace, tmp: Path) -> None:
    """Median of ``repeats`` runs of klimakort and whitebox-workflows on one DEM."""
    cells = args.size * args.size
    dem = synthetic_dem(args.size, args.seed)
    tif = tmp / "dem.tif"
    write_dem_tif(dem, tif)
    print(f"DEM {args.size} x {args.size} = {cells / 1e6:.1f} Mcells, seed {args.seed}, ")
    print(f"  nodata (sea) {np.isnan(dem).mean():.1%}, cores {os.cpu_count()}")
    del dem
    extra = ["--products", args.products] if args.products else []
    small = tmp / "small.tif"
    write_dem_tif(synthetic_dem(300, args.seed), small)
    run_klimakort(small, tmp / "out_small", tmp / "t_small.json", extra)  # warm numba cache
    run_whitebox(small, tmp / "wbw_small")
    base = _baseline(tmp, extra)
    kk: list[tuple[float, int, dict[str, Any]]] = []
    wb: list[tuple[float, int]] = []
    for i in range(args.repeats):
        kk.append(run_klimakort(tif, tmp / f"out{i}", tmp / f"t{i}.json", extra))
        wb.append(run_whitebox(tif, tmp / f"wbw{i}"))
    kk_t = statistics.median(t for t, _, _ in kk)
    wb_t = statistics.median(t for t, _ in wb)
    med = min(kk, key=lambda r: abs(r[0] - kk_t))
    kk_rss = max(r for _, r, _ in kk)
    wb_rss = max(r for _, r in wb)
    print(f"\nload average at the end: {os.getloadavg()}")
    label = f"klimakort rainflow{' --products ' + args.products if args.products else ''}"
    print(f"\n{'tool':<46}{'median s':>10}{'Mcells/s':>10}{'runs s':>24}")
    print(
        f"{label:<46}{kk_t:>10.2f}{cells / kk_t / 1e6:>10.2f}"
        f"{' '.join(f'{t:.1f}' for t, _, _ in kk):>24}"
    )
    print(
        f"{'whitebox-workflows fill+d8+acc (+I/O)':<46}{wb_t:>10.2f}{cells / wb_t / 1e6:>10.2f}"
        f"{' '.join(f'{t:.1f}' for t, _ in wb):>24}"
    )
    print(f"\nklimakort / whitebox-workflows time ratio: {kk_t / wb_t:.2f}x (<= 1.0 is the goal)")
    print(
        f"peak RSS: klimakort {kk_rss / 2**20:.0f} MiB = {kk_rss / cells:.1f} B/cell "
        f"({(kk_rss - base) / cells:.1f} B/cell above the {base / 2**20:.0f} MiB baseline "
        f"of the same command on 64 x 64); whitebox-workflows {wb_rss / 2**20:.0f} MiB "
        f"= {wb_rss / cells:.1f} B/cell"
    )
    rec = med[2]
    for r in rec["stages"]:
        r["cells"] = rec["cells"]
    print(f"\nstage table (the median klimakort run, {med[0]:.2f} s):")
    print("\n".join(_stage_table(rec["stages"], med[0])))


def scaling(args: argparse.Namespace, tmp: Path) -> None:
    """One run per size: time, Mcells/s, bytes/cell, largest raster in 24 GB."""
    sizes = [int(s) for s in args.scaling_sizes.split(",")]
    extra = ["--products", args.products] if args.products else []
    small = tmp / "small.tif"
    write_dem_tif(synthetic_dem(300, args.seed), small)
    run_klimakort(small, tmp / "out_small", tmp / "t_small.json", extra)
    base = _baseline(tmp, extra)
    rows = []
    for n in sizes:
        tif = tmp / f"dem{n}.tif"
        write_dem_tif(synthetic_dem(n, args.seed), tif)
        wall, rss, _ = run_klimakort(tif, tmp / f"out{n}", tmp / f"t{n}.json", extra)
        rows.append((n, wall, rss))
        tif.unlink()
    print(f"\nscaling table (baseline RSS of the CLI on 64 x 64: {base / 2**20:.0f} MiB)")
    print(
        f"  {'size':>11}{'Mcells':>8}{'s':>9}{'Mcells/s':>10}{'B/cell':>9}"
        f"{'B/cell >base':>14}{'largest in 24 GB':>20}"
    )
    for n, wall, rss in rows:
        cells = n * n
        per = (rss - base) / cells
        fit = int(np.sqrt(max(MEMORY_BYTES - base, 0) / per)) if per > 0 else 0
        print(
            f"  {f'{n} x {n}':>11}{cells / 1e6:>8.0f}{wall:>9.1f}{cells / wall / 1e6:>10.2f}"
            f"{rss / cells:>9.1f}{per:>14.1f}{f'{fit} x {fit}':>20}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=4000, help="rows = columns (default 4000)")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per tool (median)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--products", default="", help="klimakort --products (default: all products)"
    )
    parser.add_argument("--scaling", action="store_true", help="print the scaling table")
    parser.add_argument("--scaling-sizes", default="2000,4000,8000")
    parser.add_argument("--no-compare", action="store_true", help="skip the whitebox comparison")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="klimakort_pipeline_") as tmpdir:
        tmp = Path(tmpdir)
        if not args.no_compare:
            compare(args, tmp)
        if args.scaling:
            scaling(args, tmp)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
