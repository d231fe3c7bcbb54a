"""Benchmark of ``area init``'s terrain step: DHM tiles -> VRT -> windowed clip -> COG.

Run: ``.venv/bin/python benchmarks/terrain_tiles.py [--tiles 3] [--cell 0.4] [--resolution R]``.

Setup: ``tiles x tiles`` DHM-like 1 km GeoTIFF tiles (``DTM_1km_{N}_{E}.tif``, float32,
nodata -9999, deflate, seeded smooth relief) at ``--cell`` metres (0.4 m = the real DHM,
2500 x 2500 cells per tile) and a disc-shaped "municipality" covering most of them. Timed,
each in a fresh process with its peak RSS:

* klimakort: :mod:`klimakort.setup.tiles` (headers, VRT written as XML, the mosaic read in
  bands of 1024 rows, masked by the boundary, written tiled and copied into a COG);
* peer: the usual in-memory route, ``rasterio.merge.merge`` of all tiles into one array,
  ``rasterio.features.geometry_mask``, then one COG write.

Both write the same COG (checked: identical heights). The point is the memory: klimakort's
is bounded by one band of rows, the in-memory route's grows with the area.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import rasterio
import rasterio.features
import rasterio.merge
import shapely
from rasterio.transform import from_origin

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

E0, N0 = 710, 6168  # km


def write_tiles(folder: Path, n: int, cell: float) -> list[Path]:
    """``n x n`` seeded tiles of smooth relief (sum of sines) at ``cell`` metres."""
    folder.mkdir(parents=True, exist_ok=True)
    per = round(1000 / cell)
    rng = np.random.default_rng(7)
    waves = rng.uniform(0.5, 3.0, size=(6, 2)) / 1000.0
    paths = []
    for i in range(n):
        for j in range(n):
            e, no = E0 + j, N0 + i
            xs = e * 1000.0 + cell * (np.arange(per) + 0.5)
            ys = (no + 1) * 1000.0 - cell * (np.arange(per) + 0.5)
            z = np.zeros((per, per), np.float32)
            for kx, ky in waves:
                z += np.sin(2 * np.pi * kx * xs)[None, :] * np.cos(2 * np.pi * ky * ys)[:, None]
            z = (3.0 + 2.0 * z).astype(np.float32)
            path = folder / f"DTM_1km_{no}_{e}.tif"
            with rasterio.open(
                path, "w", driver="GTiff", width=per, height=per, count=1, dtype="float32",
                crs="EPSG:25832", transform=from_origin(e * 1000.0, (no + 1) * 1000.0, cell, cell),
                nodata=-9999.0, tiled=True, blockxsize=256, blockysize=256, compress="deflate",
                predictor=3,
            ) as dst:  # fmt: skip
                dst.write(z, 1)
            paths.append(path)
    return paths


def boundary(n: int) -> shapely.Polygon:
    """A disc over most of the tiles."""
    c = (E0 * 1000.0 + n * 500.0, N0 * 1000.0 + n * 500.0)
    return shapely.Point(*c).buffer(n * 480.0)


def run_klimakort(folder: Path, out: Path, n: int, resolution: float | None) -> None:
    from klimakort.setup.tiles import (
        build_vrt,
        check_tiles,
        clip_terrain,
        discover_tiles,
        mosaic_of,
        read_tile,
    )

    tiles = [read_tile(p) for p in discover_tiles(folder)]
    check_tiles(tiles)
    vrt = build_vrt(mosaic_of(tiles), out.with_suffix(".vrt"))
    clip_terrain(vrt, boundary(n), out, resolution=resolution)


def run_peer(folder: Path, out: Path, n: int, resolution: float | None) -> None:
    paths = sorted(folder.glob("DTM_1km_*.tif"))
    b = boundary(n)
    data, transform = rasterio.merge.merge(
        [str(p) for p in paths], bounds=b.bounds, res=resolution, nodata=-9999.0
    )
    band = data[0]
    inside = rasterio.features.geometry_mask([b], band.shape, transform, invert=True)
    band[~inside] = -9999.0
    with rasterio.open(
        out, "w", driver="COG", width=band.shape[1], height=band.shape[0], count=1,
        dtype="float32", crs="EPSG:25832", transform=transform, nodata=-9999.0,
        compress="DEFLATE", predictor="3", blocksize=512, overviews="AUTO", resampling="AVERAGE",
        BIGTIFF="IF_SAFER", num_threads="ALL_CPUS",
    ) as dst:  # fmt: skip
        dst.write(band, 1)


def _child(args: argparse.Namespace) -> None:
    fn = run_klimakort if args.child == "klimakort" else run_peer
    if args.child == "klimakort":
        import klimakort.setup.tiles  # noqa: F401  (imports are not timed)
    base_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t0 = time.perf_counter()
    fn(Path(args.dir), Path(args.out), args.tiles, args.resolution)
    seconds = time.perf_counter() - t0
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "peak_rss_mb": rss_mb, "import_rss_mb": base_mb}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tiles", type=int, default=3, help="tiles per side")
    ap.add_argument("--cell", type=float, default=0.4, help="tile cell size, m")
    ap.add_argument("--resolution", type=float, default=None, help="output cell size, m")
    ap.add_argument("--child", choices=["klimakort", "peer"], help=argparse.SUPPRESS)
    ap.add_argument("--dir", help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        _child(args)
        return
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "dhm"
        t0 = time.perf_counter()
        write_tiles(folder, args.tiles, args.cell)
        per = round(1000 / args.cell)
        cells = (args.tiles * per) ** 2
        print(
            f"{args.tiles}x{args.tiles} tiles of {per}x{per} cells ({cells / 1e6:.1f} M cells, "
            f"{cells * 4 / 2**20:.0f} MB as float32) written in {time.perf_counter() - t0:.1f} s"
        )
        results = {}
        for who in ("klimakort", "peer"):
            out = Path(tmp) / f"{who}.tif"
            cmd = [sys.executable, __file__, "--child", who, "--dir", str(folder), "--out",
                   str(out), "--tiles", str(args.tiles)]  # fmt: skip
            if args.resolution:
                cmd += ["--resolution", str(args.resolution)]
            res = subprocess.run(cmd, check=True, capture_output=True, text=True)
            results[who] = json.loads(res.stdout.strip().splitlines()[-1])
        with (
            rasterio.open(Path(tmp) / "klimakort.tif") as a,
            rasterio.open(Path(tmp) / "peer.tif") as b,
        ):
            same = a.shape == b.shape and np.array_equal(a.read(1), b.read(1))
    k, p = results["klimakort"], results["peer"]
    print(f"{'':26}{'time s':>8}{'peak RSS MB':>13}{'of it imports':>15}{'growth MB':>11}")
    for label, r in (("klimakort (VRT, bands)", k), ("rasterio.merge in memory", p)):
        grow = r["peak_rss_mb"] - r["import_rss_mb"]
        print(
            f"{label:26}{r['seconds']:>8.1f}{r['peak_rss_mb']:>13.0f}{r['import_rss_mb']:>15.0f}"
            f"{grow:>11.0f}"
        )
    kg = max(k["peak_rss_mb"] - k["import_rss_mb"], 1.0)
    pg = p["peak_rss_mb"] - p["import_rss_mb"]
    print(
        f"time ratio (peer / klimakort) {p['seconds'] / k['seconds']:.2f}x; memory growth ratio "
        f"{pg / kg:.1f}x; identical heights: {same}"
    )


if __name__ == "__main__":
    main()
