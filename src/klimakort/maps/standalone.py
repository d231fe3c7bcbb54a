"""The map as ONE self-contained offline HTML file (the demo's ``map.html``).

The same app as ``/map`` (:mod:`klimakort.maps.service_map`) in ``standalone`` mode:

* every raster layer (per scenario when it depends on one) is an ``L.imageOverlay`` of
  :func:`klimakort.tiles.overlay.overlay_png`, inlined as a data URI, with its legend
  from :func:`klimakort.tiles.legend.legend` in Danish and English;
* vector collections are inlined as GeoJSON in CRS84 (simplified in the area CRS, 6
  decimals, i.e. ~0.1 m);
* the hazard values shown on a click come from embedded grids: every layer at the
  terrain model's own cells (so a click shows what ``/point`` and
  :meth:`Workspace.point_values` give at the same place) as long as the model has at
  most :data:`GRID_MAX_CELLS` cells a side (the demo's 1.6 m sample has 2500); a larger
  area is sampled every ``step`` cells (nearest, so classes stay classes) and the popup
  says so. Values are quantised to centimetres in ``uint16`` (or kept as ``float32``
  when the range is too large, e.g. upstream area), zlib-compressed and
  base64-encoded; the browser inflates them with ``DecompressionStream('deflate')``.

Polygon and parcel reports need the server; the page says so.
"""

from __future__ import annotations

import base64
import json
import math
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
import xarray as xr

from klimakort.io.atomic import atomic_path
from klimakort.maps.service_map import (
    DEFAULT_VISIBLE_COLLECTIONS,
    DEFAULT_VISIBLE_RASTERS,
    map_config,
    render_page,
)
from klimakort.service.workspace import Workspace

Progress = Callable[[str], None]

#: largest side (pixels) of an embedded raster image
IMAGE_MAX_PX = 1600
#: largest side (cells) of an embedded value grid: the terrain's own cells up to this size
#: (the click values then equal the server's); larger models are sampled every n-th cell
GRID_MAX_CELLS = 2600
#: simplification tolerance (m, area CRS) per collection; others: DEFAULT_SIMPLIFY_M
SIMPLIFY_M: dict[str, float] = {"parcels": 0.5, "flooded_areas": 1.0, "bluespots": 1.0}
DEFAULT_SIMPLIFY_M = 0.5
#: decimals of lon/lat coordinates (1e-6 degree is ~0.1 m)
DECIMALS = 6
#: collections not embedded in the page (none: the offline panel lists what /collections
#: lists; the sample's 3000 buildings add under 1 MB)
SKIP_COLLECTIONS: frozenset[str] = frozenset()
#: properties kept per collection (all but ``synthetic`` when not listed)
KEEP_PROPERTIES: dict[str, tuple[str, ...]] = {
    "parcels": ("parcel_id", "matrikelnummer", "ejerlavskode", "area_m2", "land_use", "public"),
    "buildings": ("building_id", "use", "floors", "has_basement", "floor_level_m"),
    "flooded_areas": ("bluespot_id", "depth_class", "label", "area_m2", "scenario"),
    "bluespots": ("bluespot_id", "area_m2", "volume_m3", "max_depth_m"),
    "candidate_sites": (
        "site_id",
        "rank",
        "score",
        "area_m2",
        "parcel_id",
        "name",
        "chosen",
        "base_rank",
        "p_top_n",
    ),
}
#: quantisation step of uint16 grids (value units)
GRID_STEP = 0.01
_U16_NODATA = 65535


@dataclass(frozen=True)
class MapView:
    """What the map shows when it opens: layers switched on and the scenario."""

    rasters: tuple[str, ...] = DEFAULT_VISIBLE_RASTERS
    collections: tuple[str, ...] = DEFAULT_VISIBLE_COLLECTIONS
    scenario: str | None = None


def _say(progress: Progress | None, msg: str) -> None:
    if progress is not None:
        progress(msg)


def _data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def raster_images(
    ws: Workspace, *, max_px: int = IMAGE_MAX_PX, progress: Progress | None = None
) -> dict[str, dict[str, dict[str, Any]]]:
    """PNG overlays of every raster layer: ``{layer: {scenario or "_": {url, bounds}}}``.

    ``url`` is a ``data:`` URI, ``bounds`` ``[west, south, east, north]`` in lon/lat.
    """
    from klimakort.tiles.overlay import overlay_png

    out: dict[str, dict[str, dict[str, Any]]] = {}
    for layer, info in ws.raster_layers.items():
        scenarios: list[str | None] = list(ws.scenarios) if info.scenario_dependent else [None]
        out[layer] = {}
        for sc in scenarios:
            _say(progress, f"map image {layer}" + (f" ({sc})" if sc else ""))
            png, bounds = overlay_png(ws.raster(layer, sc), info, max_size=max_px)
            out[layer][sc or "_"] = {"url": _data_uri(png), "bounds": [float(b) for b in bounds]}
    return out


def raster_legends(ws: Workspace) -> dict[str, dict[str, Any]]:
    """Legends of every raster layer: ``{layer: {"da": legend, "en": legend}}``."""
    from klimakort.tiles.legend import legend

    return {
        layer: {lang: legend(info, lang=lang) for lang in ("da", "en")}
        for layer, info in ws.raster_layers.items()
    }


def _float_values(da: xr.DataArray) -> np.ndarray:
    """Values as float64 with nodata (``.rio.nodata`` or NaN) as NaN."""
    values = np.asarray(da.values, dtype=np.float64)
    if values.ndim == 3:
        values = values[0]
    nodata = da.rio.nodata
    if nodata is not None and np.isfinite(nodata):
        values = np.where(values == float(nodata), np.nan, values)
    return values


def _delta_shuffle(raw: np.ndarray) -> np.ndarray:
    """Row deltas (modulo 2**16) of a 2-D uint16 grid, as low bytes then high bytes."""
    grid = raw.reshape(raw.shape[0], -1) if raw.ndim == 2 else raw.reshape(1, -1)
    delta = grid.copy()
    delta[:, 1:] = grid[:, 1:] - grid[:, :-1]  # uint16 arithmetic wraps
    return np.ascontiguousarray(delta.astype("<u2").view(np.uint8).reshape(-1, 2).T)


def encode_grid(values: np.ndarray) -> dict[str, Any]:
    """Quantise, compress and base64-encode a 2-D grid for the browser.

    Parameters
    ----------
    values : numpy.ndarray
        2-D float grid, NaN = no data.

    Returns
    -------
    dict
        ``dtype`` (``u16``: value = ``offset + scale * raw``, raw 65535 = no data; or
        ``f32``: NaN = no data), ``scale``, ``offset`` and ``data`` (base64 of the
        zlib-compressed little-endian array, row-major). ``u16`` grids are stored as
        ``filter: "delta-shuffle"``: each cell minus its left neighbour (modulo 2**16,
        the first of a row as is), then all low bytes followed by all high bytes;
        neighbouring heights differ little, so this compresses to about 60 %.
    """
    finite = values[np.isfinite(values)]
    lo = float(finite.min()) if finite.size else 0.0
    hi = float(finite.max()) if finite.size else 0.0
    offset = math.floor(lo / GRID_STEP) * GRID_STEP
    if (hi - offset) / GRID_STEP < _U16_NODATA - 1:
        raw = np.full(values.shape, _U16_NODATA, dtype="<u2")
        ok = np.isfinite(values)
        raw[ok] = np.round((values[ok] - offset) / GRID_STEP).astype("<u2")
        spec: dict[str, Any] = {"dtype": "u16", "scale": GRID_STEP, "offset": round(offset, 6)}
        raw = _delta_shuffle(raw)
        spec["filter"] = "delta-shuffle"
    else:
        raw = values.astype("<f4")
        spec = {"dtype": "f32", "scale": 1.0, "offset": 0.0}
    # float noise hardly compresses further at level 9, which takes several times longer
    level = 9 if spec["dtype"] == "u16" else 6
    spec["data"] = base64.b64encode(zlib.compress(raw.tobytes(), level)).decode("ascii")
    return spec


def value_grids(
    ws: Workspace, *, max_cells: int = GRID_MAX_CELLS, progress: Progress | None = None
) -> dict[str, Any]:
    """Value grids of every raster layer (but the hillshade) on one decimated grid.

    Returns
    -------
    dict
        ``transform`` ``[x0, dx, y0, dy]`` (area CRS; cell ``(row, col)`` covers
        ``x0 + col*dx .. x0 + (col+1)*dx``), ``shape`` ``[rows, cols]``, ``cell`` (m),
        ``step`` (1: the terrain's own cells; n: every n-th cell, of ``native_cell`` m) and
        ``layers`` ``{layer: {scenario or "_": encode_grid(...)}}``. Layers on another
        grid than the terrain are left out (listed in ``skipped``).
    """
    ref = ws.hz.terrain
    height, width = ref.shape[-2:]
    tr = ref.rio.transform()
    step = max(1, math.ceil(max(height, width) / max_cells))
    rows, cols = math.ceil(height / step), math.ceil(width / step)
    ri = np.minimum(np.arange(rows) * step + step // 2, height - 1)
    ci = np.minimum(np.arange(cols) * step + step // 2, width - 1)
    layers: dict[str, dict[str, Any]] = {}
    skipped: list[str] = []
    for layer, info in ws.raster_layers.items():
        if layer == "hillshade":
            continue
        scenarios: list[str | None] = list(ws.scenarios) if info.scenario_dependent else [None]
        for sc in scenarios:
            da = ws.raster(layer, sc)
            if da.shape[-2:] != (height, width) or da.rio.transform() != tr:
                skipped.append(layer)
                break
            _say(progress, f"map values {layer}" + (f" ({sc})" if sc else ""))
            values = _float_values(da)[np.ix_(ri, ci)]
            layers.setdefault(layer, {})[sc or "_"] = encode_grid(values)
    return {
        "transform": [tr.c, tr.a * step, tr.f, tr.e * step],
        "shape": [rows, cols],
        "cell": abs(tr.a) * step,
        "native_cell": abs(tr.a),
        "step": step,
        "layers": layers,
        "skipped": skipped,
    }


def collection_geojson(ws: Workspace, cid: str) -> dict[str, Any]:
    """A collection as a small GeoJSON FeatureCollection in CRS84 (lon, lat).

    Geometries are simplified in the area CRS (:data:`SIMPLIFY_M`, topology kept),
    reprojected, and rounded to :data:`DECIMALS` decimals; feature ``id`` is the
    workspace's ``fid``.
    """
    gdf = ws.features(cid)
    keep = KEEP_PROPERTIES.get(cid)
    columns = [
        c
        for c in gdf.columns
        if c not in ("geometry", "fid", "synthetic") and (keep is None or c in keep)
    ]
    geoms = gdf.geometry.simplify(SIMPLIFY_M.get(cid, DEFAULT_SIMPLIFY_M), preserve_topology=True)
    lonlat = gpd.GeoSeries(geoms, crs=gdf.crs).to_crs("OGC:CRS84")
    rounded = shapely.transform(lonlat.values, lambda xy: np.round(xy, DECIMALS))
    props = gpd.GeoDataFrame(gdf[columns].copy(), geometry=rounded, crs="OGC:CRS84")
    fc = json.loads(props.to_json(na="null", drop_id=True))
    for feature, fid in zip(fc["features"], gdf["fid"].astype(str), strict=True):
        feature["id"] = fid
    return {"type": "FeatureCollection", "features": fc["features"]}


def standalone_config(
    ws: Workspace,
    *,
    image_max_px: int = IMAGE_MAX_PX,
    grid_max_cells: int = GRID_MAX_CELLS,
    progress: Progress | None = None,
    view: MapView | None = None,
) -> dict[str, Any]:
    """The map configuration with every layer embedded (see :func:`write_standalone_map`)."""
    from klimakort.maps.basemap import page_config, resolve_basemap

    view = view or MapView()
    basemap = page_config(resolve_basemap(ws.cfg.basemap, env={}), include_token=False)
    config = map_config(
        ws,
        mode="standalone",
        visible_rasters=view.rasters,
        visible_collections=view.collections,
        scenario=view.scenario,
        basemap=basemap,
    )
    images = raster_images(ws, max_px=image_max_px, progress=progress)
    legends = raster_legends(ws)
    for entry in config["rasters"]:
        entry["images"] = images[entry["id"]]
        entry["legends"] = legends[entry["id"]]
    collections = []
    for entry in config["collections"]:
        if entry["id"] in SKIP_COLLECTIONS:
            continue
        _say(progress, f"map layer {entry['id']}")
        entry["data"] = collection_geojson(ws, entry["id"])
        collections.append(entry)
    config["collections"] = collections
    config["grids"] = value_grids(ws, max_cells=grid_max_cells, progress=progress)
    return config


def write_standalone_map(
    ws: Workspace,
    path: str | Path,
    *,
    progress: Progress | None = None,
    image_max_px: int = IMAGE_MAX_PX,
    grid_max_cells: int = GRID_MAX_CELLS,
    view: MapView | None = None,
) -> Path:
    """Write the map of an area as one self-contained offline HTML file.

    Parameters
    ----------
    ws : Workspace
        The area with its hazards.
    path : path-like
        Destination (written atomically).
    progress : callable, optional
        Step messages.
    image_max_px : int
        Largest side of each embedded raster image.
    grid_max_cells : int
        Largest side of the embedded value grids (click values).
    view : MapView, optional
        Layers and scenario the map opens with (default: those of the served map).

    Returns
    -------
    Path
        ``path``.
    """
    config = standalone_config(
        ws, image_max_px=image_max_px, grid_max_cells=grid_max_cells, progress=progress, view=view
    )
    page = render_page(config, inline=True)
    dest = Path(path)
    with atomic_path(dest) as tmp:
        tmp.write_text(page, encoding="utf-8")
    _say(progress, f"map written: {dest} ({dest.stat().st_size / 1e6:.1f} MB)")
    return dest
