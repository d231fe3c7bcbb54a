"""Benchmark of OGC API - Features filters: CQL2 parsing and matching, klimakort vs pygeofilter.

Run: ``.venv/bin/python benchmarks/features.py [--parcels 100000] [--repeat 15]``.

Builds ``--parcels`` synthetic square parcels (EPSG:25832, properties ``area_m2``,
``land_use``, ``public``) in one :class:`klimakort.features.query.FeatureIndex` and times,
per filter (the best of ``--repeat`` warm runs: the machine is shared and noisy; STRtree
and CRS copies built once before):

- klimakort: parsing alone, and :func:`~klimakort.features.query.match_rows` (parse, STRtree
  pre-selection by the literal's bounds, vectorised evaluation);
- pygeofilter (the ``bench`` extra): its CQL2-text / CQL2-JSON parser alone, and parsing
  plus its geopandas backend (``to_filter``: shapely predicates over every row).

The matched rows of both must agree. Run it with ``PYTHONPATH=<older tree>/src`` to time
an older klimakort (filters it cannot parse are reported as such).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

if not any(p.endswith("src") for p in sys.path[:2]):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import geopandas as gpd
import numpy as np
import shapely

from klimakort.errors import KlimakortError
from klimakort.features import query
from klimakort.io.crs_uri import CRS84

UTM = "http://www.opengis.net/def/crs/EPSG/0/25832"
X0, Y0 = 710_000.0, 6_165_000.0


def parcels(n: int, seed: int = 1) -> gpd.GeoDataFrame:
    """``n`` square parcels of 20-40 m on a jittered grid."""
    rng = np.random.default_rng(seed)
    side = int(np.ceil(np.sqrt(n)))
    i = np.arange(n)
    x = X0 + (i % side) * 50.0 + rng.uniform(0, 8, n)
    y = Y0 + (i // side) * 50.0 + rng.uniform(0, 8, n)
    size = rng.uniform(20, 40, n)
    geoms = shapely.box(x, y, x + size, y + size)
    frame = gpd.GeoDataFrame(
        {
            "fid": [f"p{k}" for k in i],
            "area_m2": size**2,
            "land_use": rng.choice(["residential", "industry", "park", "farm"], n),
            "public": rng.random(n) < 0.2,
        },
        geometry=geoms,
        crs="EPSG:25832",
    )
    return frame


def filters(n: int) -> dict[str, tuple[str, str, str]]:
    """name -> (language, text, filter CRS); the polygon covers about 2 % of the parcels."""
    span = np.ceil(np.sqrt(n)) * 50.0
    cx, cy, w = X0 + span / 2, Y0 + span / 2, span * 0.1
    tri = [(cx - w, cy - w), (cx + w, cy - w / 2), (cx, cy + w), (cx - w, cy - w)]
    wkt = "POLYGON((" + ", ".join(f"{x:.1f} {y:.1f}" for x, y in tri) + "))"
    geojson = {"type": "Polygon", "coordinates": [[[round(x, 1), round(y, 1)] for x, y in tri]]}
    prop = "area_m2 > 800 AND land_use = 'residential'"
    both_json = {
        "op": "and",
        "args": [
            {"op": "s_intersects", "args": [{"property": "geometry"}, geojson]},
            {"op": ">", "args": [{"property": "area_m2"}, 800]},
            {"op": "=", "args": [{"property": "land_use"}, "residential"]},
        ],
    }
    return {
        "property filter (text)": ("cql2-text", prop, UTM),
        "S_INTERSECTS polygon (text)": ("cql2-text", f"S_INTERSECTS(geometry, {wkt})", UTM),
        "S_INTERSECTS polygon AND properties (text)": (
            "cql2-text",
            f"S_INTERSECTS(geometry, {wkt}) AND {prop}",
            UTM,
        ),
        "S_INTERSECTS polygon AND properties (json)": ("cql2-json", json.dumps(both_json), UTM),
        "S_WITHIN polygon (text)": ("cql2-text", f"S_WITHIN(geometry, {wkt})", UTM),
        "S_DISJOINT polygon (text)": ("cql2-text", f"S_DISJOINT(geometry, {wkt})", UTM),
    }


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """Fastest of ``repeat`` calls (seconds), and the last result."""
    out = fn()
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return min(times), out


def _pygeofilter(frame: gpd.GeoDataFrame) -> dict[str, Callable[..., Any]] | None:
    try:
        from pygeofilter.backends.geopandas.evaluate import to_filter
        from pygeofilter.parsers.cql2_json import parse as parse_json
        from pygeofilter.parsers.cql2_text import parse as parse_text
    except ImportError:
        return None
    parsers = {"cql2-text": parse_text, "cql2-json": parse_json}
    mapping = {c: c for c in frame.columns}

    def run(lang: str, text: str) -> np.ndarray:
        mask = to_filter(frame, parsers[lang](text), mapping)
        return np.flatnonzero(np.asarray(mask, dtype=bool))

    return {"parse": lambda lang, text: parsers[lang](text), "run": run}


def _klimakort(
    index: query.FeatureIndex, lang: str, text: str, fcrs: str, repeat: int
) -> tuple[float, float, np.ndarray]:
    """klimakort's parse and match times and matched rows (older trees: text filters)."""
    fields = query.ItemsQuery.__dataclass_fields__
    extra = {"filter_lang": lang, "filter_crs": fcrs} if "filter_lang" in fields else {}
    q = query.ItemsQuery(filter=text, **extra)
    t_match, rows = timed(lambda: query.match_rows(index, q), repeat)
    parse = getattr(query, "parse_filter", None)
    t_parse = timed(lambda: parse(text, lang), repeat)[0] if parse else float("nan")
    return t_parse, t_match, rows


def _peer(
    peer: dict[str, Callable[..., Any]], lang: str, text: str, repeat: int
) -> tuple[float, float, np.ndarray]:
    p_parse = timed(lambda: peer["parse"](lang, text), repeat)[0]
    p_match, p_rows = timed(lambda: peer["run"](lang, text), max(3, repeat // 3))
    return p_parse, p_match, p_rows


def main() -> None:
    """Run the benchmark and print one line per filter and tool."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--parcels", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=15)
    args = ap.parse_args()
    frame = parcels(args.parcels)
    index = query.FeatureIndex("parcels", 0, frame, UTM)
    index.tree(UTM)
    index.tree(CRS84)
    peer = _pygeofilter(frame)
    print(f"{args.parcels:,} parcels, best of {args.repeat} warm runs")
    print(f"{'filter':46} {'tool':12} {'parse':>9} {'match':>9} {'rows':>7}")
    for name, (lang, text, fcrs) in filters(args.parcels).items():
        if lang != "cql2-text" and not hasattr(query, "parse_filter"):
            print(f"{name:46} {'klimakort':12} not supported")
            continue
        try:
            t_parse, t_match, rows = _klimakort(index, lang, text, fcrs, args.repeat)
        except KlimakortError as exc:
            print(f"{name:46} {'klimakort':12} not supported ({str(exc)[:40]})")
            continue
        print(
            f"{name:46} {'klimakort':12} {t_parse * 1e3:7.3f}ms {t_match * 1e3:7.2f}ms "
            f"{len(rows):7d}"
        )
        if peer is None:
            continue
        try:
            p_parse, p_match, p_rows = _peer(peer, lang, text, args.repeat)
        except Exception as exc:  # report what the peer cannot do, keep going
            print(f"{'':46} {'pygeofilter':12} failed: {type(exc).__name__}: {str(exc)[:60]}")
            continue
        agree = "same rows" if np.array_equal(np.sort(p_rows), rows) else "DIFFERENT rows"
        print(
            f"{'':46} {'pygeofilter':12} {p_parse * 1e3:7.3f}ms {p_match * 1e3:7.2f}ms "
            f"{len(p_rows):7d}  {agree}; match {p_match / t_match:.1f}x klimakort's time"
        )


if __name__ == "__main__":
    main()
