"""Wall time of the whole rain-flow analysis of the built-in sample area, step by step.

Run: ``.venv/bin/python benchmarks/sample_rainflow.py [--repeats 3]``.

Generates the sample area (1.6 m cells, 4.7 M cells) once, then times the pipeline that
``klimakort rainflow`` runs on it: reading, burning buildings/barriers/streams, fill,
D8, accumulation, bluespots with their properties/pour points/network, watershed
polygons, flow paths, and writing every product. The first run warms numba's cache and
is not counted; the median of ``--repeats`` runs is reported.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from klimakort.config import load_area
from klimakort.hydro.area import run_area_rainflow
from klimakort.hydro.rainflow import write_rainflow
from klimakort.hydro.timing import StageTimer
from klimakort.sample import write_sample


def _run(cfg, out: Path) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """Seconds per stage (stages on worker threads overlap; see the stage timer)."""
    timer = StageTimer()
    t0 = time.perf_counter()
    rf = run_area_rainflow(cfg, progress=timer)
    write_rainflow(rf, out, progress=timer)
    timer.done()
    steps = dict(timer.seconds)
    steps["TOTAL (wall)"] = time.perf_counter() - t0
    return steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        cfg = load_area(write_sample(Path(tmp) / "sample"))
        print(f"sample generation + writing: {time.perf_counter() - t0:.1f} s")
        _run(cfg, Path(tmp) / "warm")
        runs = [_run(cfg, Path(tmp) / f"run{i}") for i in range(args.repeats)]
    print(f"rain-flow of the sample area, median of {args.repeats} (s):")
    print("  (stages marked by the pipeline as parallel overlap; their sum exceeds the wall)")
    for step in runs[0]:
        print(f"  {step:55s} {statistics.median(r.get(step, 0.0) for r in runs):6.2f}")


if __name__ == "__main__":
    main()
