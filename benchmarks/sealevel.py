"""Benchmark of the minimum-flooding-level priority flood against label-based passes.

Run: ``.venv/bin/python benchmarks/sealevel.py [--size 4096] [--repeats 3] [--levels 21]``.

On the seeded synthetic coastal DEM of ``_dem.py`` (sea = nodata west of a wavy coast)
this times

* ``min_flood_level`` (one priority flood: the flooding level of every cell for every
  sea level at once), with and without sill tracking (critical points);
* one ``scipy.ndimage.label`` connectivity pass for a single sea level (the naive way
  to get the connected inundation of *one* level), and
* a loop of such single-level passes over ``--levels`` levels (what a level-by-level
  tool does to map several scenarios or to find critical points),

checks that the priority flood agrees with the label pass at the tested levels and prints
the ratios. CPU time is printed next to wall time because a shared machine inflates wall
time. Target: the priority flood on 16 M cells in under 3 s.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from scipy import ndimage

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
from _dem import synthetic_dem

from klimakort.core import floodlevel as fl

EIGHT = np.ones((3, 3), dtype=bool)


def _timed(fn: Callable[[], Any], repeats: int) -> tuple[float, float, Any]:
    """Median wall and CPU seconds of ``repeats`` calls, and the last result."""
    walls, cpus = [], []
    result = None
    for _ in range(repeats):
        c0, t0 = time.process_time(), time.perf_counter()
        result = fn()
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    return statistics.median(walls), statistics.median(cpus), result


def label_connected(dem: np.ndarray, sea: np.ndarray, level: float) -> np.ndarray:
    """Land connected to the sea at ``level`` with one scipy.ndimage.label pass."""
    with np.errstate(invalid="ignore"):
        wet = (dem <= level) | sea
    labels, _ = ndimage.label(wet, structure=EIGHT)
    sea_labels = np.unique(labels[sea])
    keep = np.zeros(int(labels.max()) + 1, dtype=bool)
    keep[sea_labels[sea_labels > 0]] = True
    return keep[labels] & ~sea


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=4096)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--levels", type=int, default=21)
    args = parser.parse_args()

    dem = synthetic_dem(args.size)
    n = dem.size
    warm = dem[:256, :256]
    fl.min_flood_level(warm)
    fl.flood_level_and_sills(warm)
    sea = fl.default_sea_mask(dem)
    print(f"DEM {args.size} x {args.size} = {n / 1e6:.1f} M cells, sea {sea.mean():.1%}")

    rows = []
    w, c, mfl = _timed(lambda: fl.min_flood_level(dem, sea), args.repeats)
    rows.append(("priority flood: min_flood_level", w, c))
    t_flood = w
    w, c, _ = _timed(lambda: fl.flood_level_and_sills(dem, sea), args.repeats)
    rows.append(("priority flood + sills", w, c))
    w, c, _ = _timed(lambda: fl.default_sea_mask(dem), args.repeats)
    rows.append(("default sea mask (edge nodata)", w, c))

    land = dem[~np.isnan(dem) & ~sea]
    levels = np.linspace(float(land.min()), float(np.percentile(land, 50)), args.levels)
    mid = float(levels[len(levels) // 2])
    w, c, single = _timed(lambda: label_connected(dem, sea, mid), args.repeats)
    rows.append(("scipy.ndimage.label, one level", w, c))
    t_single = w
    c0, t0 = time.process_time(), time.perf_counter()
    for lev in levels:
        label_connected(dem, sea, float(lev))
    rows.append(
        (
            f"scipy.ndimage.label, loop of {args.levels} levels",
            time.perf_counter() - t0,
            time.process_time() - c0,
        )
    )
    t_loop = rows[-1][1]

    agree = np.array_equal((mfl <= mid) & ~sea, single)
    print(f"{'step':45s} {'wall s':>8s} {'cpu s':>8s} {'Mcells/s':>9s}")
    for name, wall, cpu in rows:
        print(f"{name:45s} {wall:8.3f} {cpu:8.3f} {n / wall / 1e6:9.1f}")
    print(f"priority flood / one label pass   = {t_flood / t_single:6.1f}x the time")
    print(f"loop of {args.levels} levels / priority flood = {t_loop / t_flood:6.1f}x the time")
    print(f"break-even: the priority flood pays off from {t_flood / t_single:.0f} levels on")
    print(f"agrees with the label pass at {mid:.2f} m: {agree}")
    print(f"target < 3 s for 16 M cells: {'met' if t_flood * 16e6 / n < 3.0 else 'NOT met'}")


if __name__ == "__main__":
    main()
