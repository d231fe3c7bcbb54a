"""Benchmark of klimakort's exposure raster statistics against rasterstats and rasterio.mask.

Run: ``.venv/bin/python benchmarks/overlay.py [--size 4000] [--parcels 100000]
[--mask-subset 2000] [--rasterstats-subset 0]``.

Setup: a seeded synthetic flood-depth raster of ``size x size`` cells (1.6 m, float32,
about 30 % wet, 1 % nodata) and ``--parcels`` Voronoi cells of random points covering
it (parcel-like polygons of about 400 m² at the defaults). Timed, for the raster part of
the exposure overlay (max, mean and share >= 10 cm of one depth raster per parcel):

* klimakort: :func:`klimakort.constraints.overlay.zonal_stats` (exactextract, exact cell
  coverage; the share comes from a 0/1 indicator raster built inside the timing);
* ``rasterstats.zonal_stats`` on the in-memory array (cell-centre rasterisation, not
  coverage-weighted) with the share as an ``add_stats`` function. With
  ``--rasterstats-subset N`` it runs on the first N parcels only and is extrapolated
  linearly (0 = all parcels);
* a plain ``rasterio.mask.mask`` loop over a tiled GeoTIFF, on the first
  ``--mask-subset`` parcels, extrapolated linearly to all parcels.

It also prints how far rasterstats' cell-centre means are from the exact ones.
Dependency of the benchmark only: ``rasterstats``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import rasterio
import rasterio.mask
import shapely
import xarray as xr
from rasterio.transform import from_origin
from rasterstats import zonal_stats as rs_zonal_stats

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from klimakort.constraints.overlay import threshold_indicator, zonal_stats

CELL = 1.6
X0, Y0 = 700_000.0, 6_180_000.0


def _timed(fn: Callable[[], Any]) -> tuple[float, float, Any]:
    c0, t0 = time.process_time(), time.perf_counter()
    result = fn()
    return time.perf_counter() - t0, time.process_time() - c0, result


def depth_raster(size: int, seed: int = 7) -> xr.DataArray:
    """Smooth-ish random flood depths: 0 on ~70 % of cells, NaN on ~1 %."""
    rng = np.random.default_rng(seed)
    coarse = rng.gamma(0.6, 0.25, (size // 16 + 1, size // 16 + 1)).astype(np.float32)
    depth = np.kron(coarse, np.ones((16, 16), np.float32))[:size, :size]
    depth += rng.normal(0, 0.02, depth.shape).astype(np.float32)
    depth[depth < 0.12] = 0.0
    depth[rng.random(depth.shape) < 0.01] = np.nan
    da = xr.DataArray(depth, dims=("y", "x"), name="flood_depth")
    da = da.rio.write_crs("EPSG:25832").rio.write_transform(from_origin(X0, Y0, CELL, CELL))
    return da.rio.write_nodata(np.nan, encoded=False)


def voronoi_parcels(n: int, size: int, seed: int = 11) -> gpd.GeoSeries:
    """``n`` Voronoi cells of random points, clipped to the raster extent."""
    rng = np.random.default_rng(seed)
    extent = size * CELL
    pts = rng.uniform(0, extent, (n, 2)) + np.array([X0, Y0 - extent])
    box = shapely.box(X0, Y0 - extent, X0 + extent, Y0)
    cells = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(pts), extend_to=box))
    cells = shapely.intersection(cells, box)
    cells = cells[shapely.area(cells) > 0]
    return gpd.GeoSeries(cells, crs="EPSG:25832")


def klimakort_stats(geoms: gpd.GeoSeries, depth: xr.DataArray) -> Any:
    layers = {
        "fd": (depth, ["max", "mean"]),
        "fd10": (threshold_indicator(depth, 0.10), ["mean"]),
    }
    return zonal_stats(geoms, layers, template=depth)


def rasterstats_stats(geoms: gpd.GeoSeries, depth: xr.DataArray) -> list[dict[str, Any]]:
    def share(x: np.ma.MaskedArray) -> float:
        return float((x >= 0.10).mean()) if x.count() else float("nan")

    return rs_zonal_stats(
        list(geoms),
        np.asarray(depth.values),
        affine=depth.rio.transform(),
        nodata=np.nan,
        stats=["max", "mean"],
        add_stats={"share": share},
    )


def mask_loop(geoms: gpd.GeoSeries, path: Path) -> list[tuple[float, float, float]]:
    out = []
    with rasterio.open(path) as src:
        for g in geoms:
            data, _ = rasterio.mask.mask(src, [g], crop=True, filled=False)
            v = data.compressed()
            v = v[np.isfinite(v)]
            if v.size:
                out.append((float(v.max()), float(v.mean()), float((v >= 0.10).mean())))
            else:
                out.append((np.nan, np.nan, np.nan))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=4000)
    ap.add_argument("--parcels", type=int, default=100_000)
    ap.add_argument("--mask-subset", type=int, default=2000)
    ap.add_argument("--rasterstats-subset", type=int, default=0)
    args = ap.parse_args()

    t0 = time.perf_counter()
    depth = depth_raster(args.size)
    geoms = voronoi_parcels(args.parcels, args.size)
    n = len(geoms)
    print(
        f"raster {args.size}x{args.size} ({args.size**2 / 1e6:.0f} M cells of {CELL} m), "
        f"{n} parcels (mean {geoms.area.mean():.0f} m²); setup {time.perf_counter() - t0:.1f} s"
    )
    # warm-up on a few parcels (imports, GDAL/GEOS initialisation)
    klimakort_stats(geoms.iloc[:10], depth)

    wall_k, cpu_k, res_k = _timed(lambda: klimakort_stats(geoms, depth))
    print(f"klimakort zonal_stats (exact coverage): {wall_k:7.1f} s wall {cpu_k:7.1f} s CPU")

    n_rs = args.rasterstats_subset or n
    sub_rs = geoms.iloc[:n_rs]
    wall_r, cpu_r, res_r = _timed(lambda: rasterstats_stats(sub_rs, depth))
    scale_r = n / n_rs
    note = "" if n_rs == n else f" (on {n_rs}, x{scale_r:.0f} extrapolated linearly)"
    print(
        f"rasterstats.zonal_stats (cell centres): {wall_r * scale_r:7.1f} s wall "
        f"{cpu_r * scale_r:7.1f} s CPU{note}"
    )

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "depth.tif"
        depth.rio.to_raster(path, tiled=True, blockxsize=256, blockysize=256)
        sub_m = geoms.iloc[: args.mask_subset]
        wall_m, cpu_m, _ = _timed(lambda: mask_loop(sub_m, path))
    scale_m = n / len(sub_m)
    print(
        f"rasterio.mask loop: {wall_m * scale_m:7.1f} s wall {cpu_m * scale_m:7.1f} s CPU "
        f"(timed on {len(sub_m)} parcels: {wall_m:.1f} s, x{scale_m:.0f} extrapolated linearly)"
    )

    exact = res_k["fd_mean"].to_numpy()[:n_rs]
    centre = np.array([np.nan if r["mean"] is None else r["mean"] for r in res_r], float)
    ok = np.isfinite(exact) & np.isfinite(centre)
    diff = np.abs(exact[ok] - centre[ok])
    print(
        f"mean depth, rasterstats vs exact: median |diff| {np.median(diff) * 100:.2f} cm, "
        f"95th pct {np.percentile(diff, 95) * 100:.2f} cm, "
        f"{int((~np.isfinite(centre) & np.isfinite(exact)).sum())} parcels without a cell "
        "centre (NaN in rasterstats)"
    )
    print(
        f"speed-up of klimakort: {wall_r * scale_r / wall_k:.1f}x vs rasterstats, "
        f"{wall_m * scale_m / wall_k:.1f}x vs rasterio.mask loop (wall time)"
    )


if __name__ == "__main__":
    main()
