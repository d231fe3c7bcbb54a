"""Raster tiles: klimakort's API against a stock TiTiler on the same COG, side by side.

Run: ``.venv/bin/python benchmarks/tiles.py [--requests 200]`` (needs ``titiler.core``).

Builds the full-size sample (1.6 m, 2500 x 1875), starts two servers on loopback (one
uvicorn worker each, subprocesses): klimakort's API over the area (hazards of 2100) and a
stock ``titiler.core`` ``TilerFactory`` app on the 2100 cloudburst depth written as an
EPSG:25832 COG. Both get the same WebMercatorQuad PNG tiles over the area at zooms 14-18
(``rescale=0,1``, ``colormap=viridis``) from 1, 4 and 8 client threads (keep-alive
connections), a bounded number of requests per setting.

What is cached, honestly:
- *cold*: the first pass, one client. klimakort builds its pyramid levels lazily here
  (first tile of each zoom pays the warp); TiTiler starts with an empty GDAL block cache.
- *cached*: the same tiles again. klimakort answers from its LRU of encoded tiles; TiTiler
  has no tile cache and renders every request (its GDAL block cache is warm).
- *render*: the same tiles with a rescale not requested before (a new style per
  setting): klimakort renders every tile from its warm pyramid (no encoded-tile hit);
  TiTiler renders as always.

Also times feature bbox queries (``/collections/parcels/items?bbox=...&limit=1000``) and
runs ``benchmarks/mvt.py``'s ``run(base_url)`` when that file exists (:func:`mvt_section`).
"""

from __future__ import annotations

import argparse
import http.client
import importlib.util
import math
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(ROOT / "src"), str(ROOT / "api")]

ZOOMS = (14, 15, 16, 17, 18)
CLIENTS = (1, 4, 8)
COLORMAP = "viridis"


# ---------------------------------------------------------------------- servers


def free_port() -> int:
    """An unused loopback port."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_ready(port: int, path: str, proc: subprocess.Popen[bytes], timeout: float) -> None:
    """Poll ``path`` until it answers 200 (or fail when the server died / timed out)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise SystemExit(f"server on port {port} exited with {proc.returncode}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", path)
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"server on port {port} not ready after {timeout:.0f} s")


def start(args: Sequence[str]) -> subprocess.Popen[bytes]:
    """Start a server subprocess of ``_serve.py``."""
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    return subprocess.Popen([sys.executable, str(HERE / "_serve.py"), *args], env=env)


# ---------------------------------------------------------------------- clients


class Client(threading.local):
    """One keep-alive connection per thread."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.conn: http.client.HTTPConnection | None = None

    def get(self, path: str) -> tuple[int, int]:
        """GET ``path``; returns status and body length."""
        for attempt in (0, 1):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            try:
                self.conn.request("GET", path)
                r = self.conn.getresponse()
                body = r.read()
                return r.status, len(body)
            except (http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = None
                if attempt:
                    raise
        raise AssertionError("unreachable")


def run_load(port: int, paths: Sequence[str], clients: int) -> dict[str, Any]:
    """Request ``paths`` with ``clients`` threads; latency percentiles and throughput."""
    client = Client(port)
    lat: list[float] = []
    bad: Counter[int] = Counter()
    lock = threading.Lock()

    def one(path: str) -> None:
        t0 = time.perf_counter()
        status, _ = client.get(path)
        dt = time.perf_counter() - t0
        with lock:
            lat.append(dt)
            if status != 200:
                bad[status] += 1

    t0 = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(one, paths))
    wall = time.perf_counter() - t0
    lat.sort()
    return {
        "n": len(lat),
        "p50": 1000 * statistics.median(lat),
        "p95": 1000 * lat[min(len(lat) - 1, math.ceil(0.95 * len(lat)) - 1)],
        "tps": len(lat) / wall,
        "errors": " ".join(f"{k}x{v}" for k, v in sorted(bad.items())) or "0",
    }


# ---------------------------------------------------------------------- workloads


def area_tiles(bounds_lonlat: tuple[float, float, float, float]) -> list[tuple[int, int, int]]:
    """WebMercatorQuad tiles over the area at :data:`ZOOMS`."""
    import morecantile

    tms = morecantile.tms.get("WebMercatorQuad")
    return [(t.z, t.x, t.y) for t in tms.tiles(*bounds_lonlat, list(ZOOMS))]


def pick(tiles: Sequence[tuple[int, int, int]], n: int, seed: int) -> list[tuple[int, int, int]]:
    """``n`` tiles, an equal share per zoom (repeating the few coarse ones)."""
    rng = random.Random(seed)
    per = max(1, n // len(ZOOMS))
    out: list[tuple[int, int, int]] = []
    for z in ZOOMS:
        zt = [t for t in tiles if t[0] == z]
        out += rng.sample(zt, per) if len(zt) >= per else [rng.choice(zt) for _ in range(per)]
    rng.shuffle(out)
    return out


def klimakort_path(t: tuple[int, int, int], rescale: str) -> str:
    """Tile URL path of klimakort."""
    z, x, y = t
    q = urllib.parse.urlencode({"scenario": "2100", "rescale": rescale, "colormap": COLORMAP})
    return f"/rasters/cloudburst_depth/tiles/WebMercatorQuad/{z}/{x}/{y}.png?{q}"


def titiler_path(cog: str) -> Callable[[tuple[int, int, int], str], str]:
    """Tile URL path of TiTiler for ``cog``."""

    def path(t: tuple[int, int, int], rescale: str) -> str:
        z, x, y = t
        q = urllib.parse.urlencode({"url": cog, "rescale": rescale, "colormap_name": COLORMAP})
        return f"/cog/tiles/WebMercatorQuad/{z}/{x}/{y}.png?{q}"

    return path


def mvt_section(base_url: str) -> Any:
    """HOOK: run ``benchmarks/mvt.py``'s ``run(base_url)`` when that file exists."""
    path = HERE / "mvt.py"
    if not path.exists():
        print("\n(vector tiles: benchmarks/mvt.py not present, skipped)")
        return None
    spec = importlib.util.spec_from_file_location("klimakort_bench_mvt", path)
    if spec is None or spec.loader is None:
        return None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    print("\n## Vector tiles (benchmarks/mvt.py)\n")
    result = module.run(base_url)
    print(module.table(result))
    return result


def features_section(port: int, bounds_lonlat: tuple[float, float, float, float]) -> None:
    """Feature bbox queries on parcels (1 and 4 clients, 40 requests each)."""
    w, s, e, n = bounds_lonlat
    rng = random.Random(7)
    paths = []
    for _ in range(40):
        fw, fh = rng.uniform(0.1, 0.5), rng.uniform(0.1, 0.5)
        x0, y0 = rng.uniform(w, e - fw * (e - w)), rng.uniform(s, n - fh * (n - s))
        bbox = f"{x0:.6f},{y0:.6f},{x0 + fw * (e - w):.6f},{y0 + fh * (n - s):.6f}"
        paths.append(f"/collections/parcels/items?bbox={bbox}&limit=1000")
    status, _ = Client(port).get(paths[0])
    print("\n## Feature bbox queries (/collections/parcels/items, limit=1000)\n")
    if status != 200:
        print(f"(features route answered {status}; skipped)")
        return
    print("| clients | requests | p50 ms | p95 ms | req/s |")
    print("|---:|---:|---:|---:|---:|")
    for c in (1, 4):
        r = run_load(port, paths, c)
        print(f"| {c} | {r['n']} | {r['p50']:.1f} | {r['p95']:.1f} | {r['tps']:.1f} |")


# ---------------------------------------------------------------------- main


def row(label: str, c: int, k: dict[str, Any], t: dict[str, Any]) -> str:
    """One markdown table row."""
    ratio = k["tps"] / t["tps"] if t["tps"] else float("nan")
    return (
        f"| {label} | {c} | {k['n']} | {k['p50']:.1f} | {k['p95']:.1f} | {k['tps']:.0f} "
        f"| {t['p50']:.1f} | {t['p95']:.1f} | {t['tps']:.0f} | {ratio:.1f}x "
        f"| {k['errors']} / {t['errors']} |"
    )


def main() -> None:
    """Run the benchmark and print markdown tables."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--requests", type=int, default=200, help="requests per setting")
    ap.add_argument("--cell", type=float, default=1.6, help="sample cell size (m)")
    args = ap.parse_args()
    try:
        import titiler.core  # noqa: F401
    except ImportError:
        raise SystemExit("install titiler.core to run this benchmark") from None
    from rasterio.warp import transform_bounds

    from klimakort.sample import write_sample
    from klimakort.sample.grid import SampleGrid

    t_start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="klimakort-tiles-") as tmp:
        toml = write_sample(Path(tmp) / "area", cell=args.cell)
        grid = SampleGrid.for_cell(args.cell)
        t = grid.transform
        utm = (t.c, t.f - grid.ny * args.cell, t.c + grid.nx * args.cell, t.f)
        w, s, e, n = transform_bounds("EPSG:25832", "EPSG:4326", *utm)
        lonlat = (float(w), float(s), float(e), float(n))
        cog = str(Path(tmp) / "cloudburst_depth_2100.tif")
        kport, tport = free_port(), free_port()
        procs = [start(["klimakort", str(toml), str(kport), cog])]
        try:
            t0 = time.perf_counter()
            wait_ready(kport, "/healthz", procs[0], timeout=400)
            print(f"klimakort ready in {time.perf_counter() - t0:.0f} s (hazards of 2100)")
            procs.append(start(["titiler", str(tport)]))
            wait_ready(tport, "/cog/info?url=" + urllib.parse.quote(cog), procs[1], 120)
            tiles = area_tiles(lonlat)
            counts = {z: sum(1 for t in tiles if t[0] == z) for z in ZOOMS}
            print(f"area tiles per zoom: {counts}")
            kpath, tpath = klimakort_path, titiler_path(cog)
            plan = pick(tiles, args.requests, seed=1)

            print("\n## Raster tiles: klimakort vs stock TiTiler (same COG, same tiles)\n")
            print(
                "| pass | clients | requests | klimakort p50 ms | p95 ms | tiles/s "
                "| TiTiler p50 ms | p95 ms | tiles/s | ratio (tiles/s) "
                "| non-200 (status x n) k / t |"
            )
            print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
            cold_k = run_load(kport, [kpath(t, "0,1") for t in plan], 1)
            cold_t = run_load(tport, [tpath(t, "0,1") for t in plan], 1)
            print(row("cold (first pass)", 1, cold_k, cold_t))
            for c in CLIENTS:
                k = run_load(kport, [kpath(t, "0,1") for t in plan], c)
                tt = run_load(tport, [tpath(t, "0,1") for t in plan], c)
                print(row("cached", c, k, tt))
            for i, c in enumerate(CLIENTS):
                rescale = f"0,{1 + (i + 1) / 1000:g}"  # a style not requested before
                k = run_load(kport, [kpath(t, rescale) for t in plan], c)
                tt = run_load(tport, [tpath(t, rescale) for t in plan], c)
                print(row("render", c, k, tt))
            features_section(kport, lonlat)
            mvt_section(f"http://127.0.0.1:{kport}")
        finally:
            for p in procs:
                p.terminate()
            for p in procs:
                try:
                    p.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    p.kill()
    print(f"\ntotal {time.perf_counter() - t_start:.0f} s; {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
