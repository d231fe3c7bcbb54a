"""Benchmark of klimakort's vector tiles (MVT) of cadastral parcels.

Run: ``.venv/bin/python benchmarks/mvt.py [--base-url http://localhost:8000] [--tiles 40]``.

Setup: the full-size sample area (``write_sample(cell=1.6)``: 3,121 parcels, no hazards
computed). Timed, for the z13 tile holding the most parcels:

* naive: the tile's parcels (at most 2,000, already in EPSG:3857, not timed) moved to
  tile coordinates with ``shapely.transform`` and encoded by ``mapbox_vector_tile.encode``
  with its default checks (winding order, validity, float coordinates rounded by it);
* library, pre-quantised: the same geometry snapped to integers and encoded by
  ``mapbox_vector_tile.encode`` with ``check_winding_order=False`` (what the brief calls
  the library route, to show why klimakort builds the geometry commands with numpy);
* klimakort cold: :meth:`VectorTileServer.tile` with no cached tile (the layer prepared
  and the zoom simplified before, as after the first request of a revision: those
  one-time costs are listed separately);
* klimakort warm: the same tile from the LRU cache.

Then cold tiles over z13-z17 (median and p95 ms per tile, features per tile) for up to
``--tiles`` tiles per zoom drawn from those covering the parcels. ``run(base_url)``
also times the HTTP endpoint ``/collections/parcels/tiles/WebMercatorQuad/{z}/{x}/{y}.mvt``
of a running service (first request, warm requests, ``If-None-Match`` revalidation).
"""

from __future__ import annotations

import argparse
import functools
import statistics
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd
import mapbox_vector_tile
import numpy as np
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from klimakort.config.area import load_area
from klimakort.constraints.loaders import load_parcels
from klimakort.service.catalog import COLLECTIONS, Collection
from klimakort.vectortiles import VectorTileServer, tile_bounds, tiles_covering
from klimakort.vectortiles.fields import feature_properties, tile_fields

NAIVE_PARCELS = 2000
ZOOMS = (13, 14, 15, 16, 17)


class ParcelsSource:
    """The parcels of an area, shaped like the part of a Workspace the server uses."""

    name = "sample"

    def __init__(self, parcels: gpd.GeoDataFrame) -> None:
        self.parcels = parcels.assign(fid=parcels["parcel_id"].astype(str))

    def collection(self, cid: str) -> Collection:
        return COLLECTIONS[cid]

    def scenario(self, scenario: str | None) -> str:
        return scenario or "2100"

    def revision(self, cid: str) -> int:
        return 0

    def features(self, cid: str) -> gpd.GeoDataFrame:
        return self.parcels


def _ms(fn: Callable[[], Any], repeat: int = 1) -> tuple[float, Any]:
    """Median wall time of ``repeat`` calls in ms, and the last result."""
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times), out


def sample_parcels(directory: Path) -> gpd.GeoDataFrame:
    """The parcels of the full-size sample area written to ``directory``."""
    from klimakort.sample import write_sample

    cfg = load_area(write_sample(directory, cell=1.6))
    ref = cfg.layers["parcels"]
    return load_parcels(ref.path, cfg.crs, layer=ref.layer)


def _busiest_tile(server: VectorTileServer, z: int) -> tuple[int, int]:
    layer = server.layer("parcels")
    xs, ys = tiles_covering(layer.bounds, z)
    counts = {(x, y): len(layer.query(tile_bounds(z, x, y))) for x in xs for y in ys}
    return max(counts, key=lambda k: counts[k])


def _naive(geoms: np.ndarray, props: list[dict[str, Any]], bounds: tuple[float, ...]) -> bytes:
    xmin, _, xmax, ymax = bounds
    scale = 4096 / (xmax - xmin)

    def to_tile(c: np.ndarray) -> np.ndarray:
        return np.column_stack([(c[:, 0] - xmin) * scale, (ymax - c[:, 1]) * scale])

    tile_geoms = shapely.transform(geoms, to_tile)
    features = [{"geometry": g, "properties": p} for g, p in zip(tile_geoms, props, strict=True)]
    data: bytes = mapbox_vector_tile.encode(
        {"name": "parcels", "features": features}, default_options={"y_coord_down": True}
    )
    return data


def _library_prequantised(
    geoms: np.ndarray, props: list[dict[str, Any]], bounds: tuple[float, ...]
) -> bytes:
    xmin, _, xmax, ymax = bounds
    scale = 4096 / (xmax - xmin)

    def to_tile(c: np.ndarray) -> np.ndarray:
        return np.rint(np.column_stack([(c[:, 0] - xmin) * scale, (ymax - c[:, 1]) * scale]))

    tile_geoms = shapely.orient_polygons(shapely.transform(geoms, to_tile), exterior_cw=True)
    features = [{"geometry": g, "properties": p} for g, p in zip(tile_geoms, props, strict=True)]
    data: bytes = mapbox_vector_tile.encode(
        {"name": "parcels", "features": features},
        default_options={"y_coord_down": True, "check_winding_order": False},
    )
    return data


def _zoom_rows(server: VectorTileServer, n_tiles: int, rng: np.random.Generator) -> list[dict]:
    layer = server.layer("parcels")
    rows = []
    for z in ZOOMS:
        t_simplify, _ = _ms(functools.partial(layer.simplified, z))
        xs, ys = tiles_covering(layer.bounds, z)
        tiles = [(x, y) for x in xs for y in ys]
        tiles = [t for t in tiles if len(layer.query(tile_bounds(z, *t)))]
        pick = rng.choice(len(tiles), size=min(n_tiles, len(tiles)), replace=False)
        times, feats = [], []
        for i in pick:
            x, y = tiles[int(i)]
            t, rendered = _ms(functools.partial(layer.render, z, x, y))
            times.append(t)
            feats.append(rendered.n_features)
        rows.append(
            {
                "case": f"cold tiles z{z}",
                "tiles": len(times),
                "median_ms": statistics.median(times),
                "p95_ms": float(np.percentile(times, 95)),
                "features_median": statistics.median(feats),
                "features_max": max(feats),
                "simplify_once_ms": t_simplify,
            }
        )
    return rows


def _http_rows(base_url: str, z: int, x: int, y: int) -> list[dict]:
    url = f"{base_url.rstrip('/')}/collections/parcels/tiles/WebMercatorQuad/{z}/{x}/{y}.mvt"

    def get(headers: dict[str, str] | None = None) -> tuple[int, bytes, str]:
        req = urllib.request.Request(url, headers=headers or {})
        try:
            with urllib.request.urlopen(req) as r:
                return r.status, r.read(), r.headers.get("ETag", "")
        except urllib.error.HTTPError as e:
            return e.code, b"", e.headers.get("ETag", "")

    t_first, (status, body, etag) = _ms(get)
    warm = [_ms(get)[0] for _ in range(20)]
    reval = [_ms(lambda: get({"If-None-Match": etag}))[0] for _ in range(20)]
    return [
        {"case": "HTTP first request", "ms": t_first, "status": status, "bytes": len(body)},
        {"case": "HTTP warm (median of 20)", "ms": statistics.median(warm)},
        {"case": "HTTP If-None-Match 304 (median of 20)", "ms": statistics.median(reval)},
    ]


def run(base_url: str | None = None, n_tiles: int = 40) -> list[dict]:
    """Time naive and klimakort vector tiles of the sample parcels.

    Parameters
    ----------
    base_url : str, optional
        Root URL of a running klimakort service to time over HTTP as well.
    n_tiles : int
        Tiles timed per zoom in the z13-z17 sweep.

    Returns
    -------
    list of dict
        One row per case (``case`` plus timings in ms and feature counts).
    """
    rows: list[dict] = []
    with tempfile.TemporaryDirectory() as tmp:
        t_sample, parcels = _ms(lambda: sample_parcels(Path(tmp)))
    server = VectorTileServer(ParcelsSource(parcels), cache_bytes=256 * 2**20)
    t_prepare, layer = _ms(lambda: server.layer("parcels"))
    z = 13
    x, y = _busiest_tile(server, z)
    bounds = tile_bounds(z, x, y)
    idx = layer.query(bounds)[:NAIVE_PARCELS]
    frame = parcels.iloc[[layer.ids[i] - 1 for i in idx.tolist()]]
    fields = tile_fields("parcels", frame.assign(fid=frame["parcel_id"]))
    props = [dict(p) for p in feature_properties(frame.assign(fid=frame["parcel_id"]), fields)]
    geoms = layer.geoms[idx]
    t_naive, naive = _ms(lambda: _naive(geoms, props, bounds), repeat=3)
    t_lib, lib = _ms(lambda: _library_prequantised(geoms, props, bounds), repeat=3)
    t_simplify, _ = _ms(lambda: layer.simplified(z))

    def cold() -> bytes:
        server.cache.clear()
        return server.tile("parcels", z, x, y).data

    t_cold, data = _ms(cold, repeat=7)
    t_warm, _ = _ms(lambda: server.tile("parcels", z, x, y), repeat=20)
    n_ours = len(mapbox_vector_tile.decode(data)["parcels"]["features"])
    rows += [
        {"case": "sample area written + parcels read (setup)", "ms": t_sample},
        {"case": "prepare layer once (EPSG:3857, STRtree, props)", "ms": t_prepare},
        {"case": f"simplify z{z} once", "ms": t_simplify},
        {
            "case": f"naive mapbox_vector_tile.encode z{z}/{x}/{y}",
            "ms": t_naive,  # median of 3
            "features": len(geoms),
            "bytes": len(naive),
        },
        {
            "case": "library encode, pre-quantised, checks off",
            "ms": t_lib,
            "features": len(geoms),
            "bytes": len(lib),
        },
        {"case": "klimakort cold tile", "ms": t_cold, "features": n_ours, "bytes": len(data)},
        {"case": "klimakort warm tile (LRU)", "ms": t_warm, "features": n_ours},
    ]
    rows += _zoom_rows(server, n_tiles, np.random.default_rng(13))
    if base_url:
        rows += _http_rows(base_url, z, x, y)
    return rows


def table(rows: list[dict]) -> str:
    by_case = {r["case"]: r for r in rows}
    naive = next(r["ms"] for r in rows if r["case"].startswith("naive"))
    out = [
        "| case | ms | ratio vs naive | features | bytes |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for case, r in by_case.items():
        if "ms" not in r:
            continue
        comparable = "features" in r and r["ms"] > 0
        ratio = f"{naive / r['ms']:.1f}x" if comparable else "-"
        out.append(
            f"| {case} | {r['ms']:.2f} | {ratio} | {r.get('features', '')} | {r.get('bytes', '')} |"
        )
    out += [
        "",
        "| zoom sweep | tiles | median ms | p95 ms | features median / max | simplify once ms |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        if "median_ms" in r:
            out.append(
                f"| {r['case']} | {r['tiles']} | {r['median_ms']:.2f} | {r['p95_ms']:.2f} | "
                f"{r['features_median']:.0f} / {r['features_max']} | {r['simplify_once_ms']:.1f} |"
            )
    return "\n".join(out)


def main() -> None:
    """Command line: print the markdown table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--base-url", default=None, help="also time a running service")
    ap.add_argument("--tiles", type=int, default=40, help="tiles per zoom in the sweep")
    args = ap.parse_args()
    print(table(run(args.base_url, args.tiles)))


if __name__ == "__main__":
    main()
