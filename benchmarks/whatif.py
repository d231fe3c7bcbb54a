"""Local what-if recompute against the full run, on the built-in sample area.

Run: ``PYTHONPATH=src .venv/bin/python benchmarks/whatif.py [--cell 6.4] [--repeats 3]``.

Generates the sample area (``--cell`` m cells), computes the base hazards of the 2100
scenario once, then times the dike edit in the beach-ridge gap (raise to 2.8 m DVR90,
8 m wide) evaluated by ``run_whatif(method="local")`` and ``method="full"``: applying
the edit, the rain-flow analysis (local window or the whole area), cloudburst, sea level
and groundwater. The first run of each warms numba's cache and is not counted; the
median of ``--repeats`` runs and the ratio full / local are reported, with the share of
the area the local run recomputed.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from klimakort.config import load_area
from klimakort.hazards.area import compute_hazards
from klimakort.io.vector import read_vector
from klimakort.sample import write_sample
from klimakort.whatif.edits import Edit, ScenarioEdit, check_scenario_edit
from klimakort.whatif.recompute import run_whatif


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cell", type=float, default=6.4, help="cell size of the sample (m)")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        cfg = load_area(write_sample(Path(tmp) / "sample", cell=args.cell))
        t0 = time.perf_counter()
        base = compute_hazards(cfg, ("2100",))
        print(f"base hazards (2100), {base.terrain.shape}: {time.perf_counter() - t0:.1f} s")
        barriers = read_vector(cfg.layers["barriers"].path, crs=cfg.crs)
        gap = barriers.loc[barriers["crest_m"].idxmin()].geometry
        edit = Edit("raise_to", gap, {"level_m": 2.8, "width_m": 8.0})
        se = check_scenario_edit(ScenarioEdit("dike in the gap", (edit,)))
        times: dict[str, list[float]] = {"local": [], "full": []}
        notes = {}
        for method in ("local", "full"):
            run_whatif(cfg, base, se, scenario="2100", method=method)  # warm-up
            for _ in range(args.repeats):
                t = time.perf_counter()
                run = run_whatif(cfg, base, se, scenario="2100", method=method)
                times[method].append(time.perf_counter() - t)
                if run.method != method:
                    raise SystemExit(f"the local run fell back to the full run: {run.notes}")
                notes[method] = run.notes
    local, full = (statistics.median(times[m]) for m in ("local", "full"))
    share = notes["local"].get("region_share")
    print(f"what-if dike, median of {args.repeats} (s): local {local:.2f}  full {full:.2f}")
    print(f"ratio full / local: {full / local:.2f}x  (local region: {share:.1%} of the area)")


if __name__ == "__main__":
    main()
