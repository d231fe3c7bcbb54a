"""Benchmark of the parcel climate report once the hazards exist.

Run: ``.venv/bin/python benchmarks/report.py [--cell 4.0] [--parcels 20] [--scenario 2100]``.

Writes the synthetic sample area at ``--cell`` metres, computes the hazards for one
scenario (timed, not part of the target), then times :func:`parcel_report` on
``--parcels`` built parcels spread over the area: the first call (cold layer cache) and
the following ones, plus one HTML rendering with the map inset. Target: one parcel report
in under 1 s once the hazards exist.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from klimakort.config import load_area
from klimakort.constraints.report import parcel_report, render_html
from klimakort.constraints.rules import load_rules
from klimakort.hazards.area import compute_hazards
from klimakort.io.vector import read_vector
from klimakort.sample import write_sample


def main() -> None:
    """Run the benchmark and print the timings."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cell", type=float, default=4.0, help="sample cell size (m)")
    ap.add_argument("--parcels", type=int, default=20, help="parcels to report")
    ap.add_argument("--scenario", default="2100")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="klimakort-bench-") as tmp:
        cfg = load_area(write_sample(Path(tmp) / "sample", cell=args.cell))
        t0 = time.perf_counter()
        hz = compute_hazards(cfg, (args.scenario,))
        print(f"hazards ({args.scenario}, {args.cell} m cells): {time.perf_counter() - t0:.1f} s")
        blds = read_vector(cfg.layers["buildings"].path, crs=cfg.crs)
        ids = sorted(set(blds["parcel_id"].astype(str)))
        step = max(1, len(ids) // args.parcels)
        chosen = ids[::step][: args.parcels]
        rules = load_rules()
        times = []
        for pid in chosen:
            t = time.perf_counter()
            rep = parcel_report(cfg, hz, pid, args.scenario, rules=rules)
            times.append(time.perf_counter() - t)
        t = time.perf_counter()
        render_html(rep, hz)
        t_html = time.perf_counter() - t
    warm = times[1:] or times
    print(f"parcel_report first call (cold layer cache): {times[0]:.3f} s")
    print(
        f"parcel_report warm over {len(warm)} parcels: median {statistics.median(warm):.3f} s, "
        f"max {max(warm):.3f} s"
    )
    print(f"render_html with map inset: {t_html:.3f} s")
    ok = max(warm) < 1.0
    print("target < 1 s per parcel report:", "met" if ok else "NOT met")


if __name__ == "__main__":
    main()
