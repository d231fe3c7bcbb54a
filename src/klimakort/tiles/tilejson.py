"""TileJSON 3.0.0 documents and the raster layer listing (URLs are given by the caller)."""

from __future__ import annotations

from typing import Any

from rasterio.warp import transform_bounds

from klimakort.service.catalog import GROUPS, RasterLayer
from klimakort.tiles.service import TileService

#: zooms below the native one offered by TileJSON (the area is then a few pixels wide)
ZOOMS_BELOW_NATIVE = 6


def lonlat_bounds(
    crs: object, bounds: tuple[float, float, float, float]
) -> tuple[float, float, float, float]:
    """(west, south, east, north) in lon/lat of projected ``bounds`` (edges densified)."""
    w, s, e, n = transform_bounds(crs, "EPSG:4326", *bounds, densify_pts=21)
    return (float(w), float(s), float(e), float(n))


def attribution(service: TileService) -> str:
    """Attribution of the area's layers."""
    cfg = service.workspace.cfg
    data = "synthetic sample data" if cfg.synthetic else f"terrain: {cfg.terrain.path.name}"
    return f"klimakort — {cfg.name} ({data})"


def tilejson(
    service: TileService,
    layer: str,
    *,
    tiles_url: str,
    tms_id: str = "WebMercatorQuad",
    scenario: str | None = None,
    lang: str = "da",
) -> dict[str, Any]:
    """A TileJSON 3.0.0 document for a layer.

    Parameters
    ----------
    service : TileService
        The area's tile service.
    layer : str
        Raster layer id.
    tiles_url : str
        Absolute URL template with ``{z}``, ``{x}``, ``{y}`` (built by the caller from
        the request, including the query string).
    tms_id : str
        Tile matrix set id (``WebMercatorQuad`` or ``DKUTM32``).
    scenario : str, optional
        Scenario (checked; default scenario when omitted).
    lang : str
        Language of the name.

    Raises
    ------
    DataNotFoundError
        Unknown layer, scenario or tile matrix set.
    """
    info, sc = service.resolve(layer, scenario)
    pyr = service.pyramid(layer, sc, tms_id)
    ws = service.workspace
    west, south, east, north = lonlat_bounds(ws.crs, ws.bounds)
    maxzoom = service.max_zoom_of(tms_id)
    native = min(pyr.native_zoom, maxzoom)
    minzoom = max(pyr.tms.minzoom, native - ZOOMS_BELOW_NATIVE)
    title = info.title.get(lang, info.title["en"])
    return {
        "tilejson": "3.0.0",
        "name": title if sc is None else f"{title} ({sc})",
        "description": info.description,
        "version": "1.0.0",
        "attribution": attribution(service),
        "scheme": "xyz",
        "tiles": [tiles_url],
        "minzoom": minzoom,
        "maxzoom": maxzoom,
        "bounds": [west, south, east, north],
        "center": [(west + east) / 2, (south + north) / 2, max(minzoom, native - 2)],
        "tileMatrixSet": tms_id,
        "scenario": sc,
        "units": info.units,
    }


def raster_entry(info: RasterLayer, scenarios: list[str]) -> dict[str, Any]:
    """The listing entry of one raster layer (links are added by the caller)."""
    return {
        "id": info.id,
        "title": dict(info.title),
        "units": info.units,
        "group": info.group,
        "group_title": dict(GROUPS.get(info.group, {"da": info.group, "en": info.group})),
        "scenario_dependent": info.scenario_dependent,
        "scenarios": list(scenarios) if info.scenario_dependent else [],
        "colormap": info.colormap,
        "rescale": list(info.rescale),
        "type": "classes" if info.classes else "continuous",
        "description": info.description,
    }
