"""Benchmark of the address search and the print sheet.

Run: ``.venv/bin/python benchmarks/print_addresses.py [--addresses 60000] [--cell 6.4]``.

* Address search: a DAWA-schema index of ``--addresses`` synthetic addresses (about a
  large Danish municipality; 600 streets, house numbers 1..100, æøå in the names);
  queries of a street prefix, a full address, a misspelt street (fuzzy) and a postcode,
  median and max per query over 50 queries each. Peer: a naive scan that folds and
  prefix-matches every address label per query (what a one-line search would do).
* Print sheet: the sample area at ``--cell`` metres (hazards computed first, not timed):
  one parcel sheet to PDF and one whole-area sheet to PDF, first and warm.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import numpy as np
import pandas as pd

from klimakort.service.addresses import AddressIndex, fold

_PARTS = ("Sønder", "Nørre", "Øster", "Vester", "Ågårds", "Kær", "Strand", "Bøge", "Æble", "Skov")
_ENDS = ("gade", "vej", "vænge", "allé", "parken", "haven", "stien", "toften", "høj", "engen")


_FIRST = ("", "Lille ", "Store ", "Gamle ", "Ny ", "Sankt ", "Østre ")


def synthetic_addresses(n: int, seed: int = 1) -> pd.DataFrame:
    rng = random.Random(seed)
    names = [f"{f}{a}{b}" for f in _FIRST for a in _PARTS for b in _ENDS]
    streets = sorted(rng.sample(names, min(len(names), 600)))
    rows = []
    for i in range(n):
        street = streets[i % len(streets)]
        rows.append((street, str(i // len(streets) + 1), str(2600 + (i % 7) * 5), "By"))
    df = pd.DataFrame(rows, columns=["vejnavn", "husnr", "postnr", "postnrnavn"])
    df["x"] = 700_000 + np.arange(n) % 5000
    df["y"] = 6_170_000 + np.arange(n) // 5000
    return df


def naive(labels: list[str], folded: list[str], q: str, limit: int = 10) -> list[str]:
    f = fold(q)
    return [lab for lab, fl in zip(labels, folded, strict=True) if fl.startswith(f)][:limit]


def _times(fn, queries: list[str]) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    out = []
    for q in queries:
        t0 = time.perf_counter()
        fn(q)
        out.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(out), max(out)


def bench_addresses(n: int) -> None:
    df = synthetic_addresses(n)
    t0 = time.perf_counter()
    idx = AddressIndex(df)
    print(f"index of {len(idx)} addresses ({df.vejnavn.nunique()} streets): "
          f"{time.perf_counter() - t0:.2f} s to build")  # fmt: skip
    labels = [idx.label(i) for i in range(len(idx))]
    folded = [fold(s) for s in labels]
    rng = random.Random(2)
    picks = [rng.randrange(len(idx)) for _ in range(50)]
    kinds = {
        "street prefix": [str(idx.vejnavn[i])[:6] for i in picks],
        "full address": [labels[i] for i in picks],
        "misspelt street + number": [
            str(idx.vejnavn[i])[:3] + "x" + str(idx.vejnavn[i])[4:] + " " + str(idx.husnr[i])
            for i in picks
        ],
        "postcode": [str(idx.postnr[i]) for i in picks],
    }
    print(f"{'query':28s} {'klimakort p50/max ms':>22s} {'naive scan p50/max ms':>22s}")
    for name, qs in kinds.items():
        k50, kmax = _times(lambda q: idx.search(q, 10), qs)
        n50, nmax = _times(lambda q: naive(labels, folded, q), qs)
        note = " (no fuzzy matching)" if "misspelt" in name else ""
        print(f"{name:28s} {k50:10.2f} / {kmax:7.2f}   {n50:10.2f} / {nmax:7.2f}{note}")


def bench_print(cell: float) -> None:
    from klimakort.maps.printing import PrintRequest, print_sheet
    from klimakort.sample import write_sample
    from klimakort.service import Workspace

    with tempfile.TemporaryDirectory(prefix="klimakort-bench-") as tmp:
        area = write_sample(Path(tmp) / "sample", cell=cell)
        t0 = time.perf_counter()
        ws = Workspace.open(area, ("2100",))
        print(f"sample area at {cell} m: hazards in {time.perf_counter() - t0:.1f} s (not timed)")
        pid = str(ws.features("parcels")["parcel_id"].iloc[len(ws.features("parcels")) // 3])
        for what, req in (
            ("parcel sheet", PrintRequest(parcel=pid, scenario="2100")),
            ("whole-area sheet", PrintRequest(scenario="2100")),
        ):
            runs = []
            for _ in range(3):
                t0 = time.perf_counter()
                pdf = print_sheet(ws, req).to_bytes("pdf")
                runs.append(time.perf_counter() - t0)
            warm = statistics.median(runs[1:])
            print(f"{what:18s} first {runs[0]:.2f} s, warm median {warm:.2f} s,"
                  f" {len(pdf) / 1e3:.0f} kB PDF")  # fmt: skip


def main() -> None:
    """Run the benchmark and print the timings."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--addresses", type=int, default=60_000)
    ap.add_argument("--cell", type=float, default=6.4)
    ap.add_argument("--skip-print", action="store_true")
    args = ap.parse_args()
    bench_addresses(args.addresses)
    if not args.skip_print:
        bench_print(args.cell)


if __name__ == "__main__":
    main()
