"""Raster map tiles (PNG), tile matrix sets, TileJSON and legends.

Thin: parses parameters, calls :mod:`klimakort.tiles`, builds responses. Handlers are
sync ``def`` (run in the threadpool); the area's :class:`~klimakort.tiles.service.TileService`
(pyramids and tile cache) lives on ``app.state.tiles``, created on first use.
"""

from __future__ import annotations

import threading
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Header, Path, Query, Request
from fastapi.responses import JSONResponse, Response

from klimakort.tiles.colormap import parse_rescale
from klimakort.tiles.legend import check_lang, legend, legend_png
from klimakort.tiles.service import TileService
from klimakort.tiles.tilejson import raster_entry, tilejson
from klimakort.tiles.tms import TMS_IDS, get_tms
from klimakort_api.deps import SettingsDep, WorkspaceDep

router = APIRouter(tags=["tiles"])

#: browsers and proxies may keep tiles this long, then revalidate with the ETag
CACHE_CONTROL = "public, max-age=3600"
_INIT_LOCK = threading.Lock()

ScenarioQ = Annotated[
    str | None, Query(description="Climate scenario (default: the area's default)")
]
ColormapQ = Annotated[
    str | None,
    Query(
        description="Colour map: terrain, gray, flow, depth, sea, groundwater, classes "
        "or a matplotlib name (e.g. viridis)"
    ),
]
RescaleQ = Annotated[
    str | None, Query(description="Value range 'min,max' mapped onto the colour map")
]
TmsQ = Annotated[str, Query(description="Tile matrix set: WebMercatorQuad or DKUTM32")]
LangQ = Annotated[str, Query(description="Language of titles and labels: da or en")]
LayerP = Annotated[str, Path(description="Raster layer id (see /rasters)")]


def get_tiles(request: Request, ws: WorkspaceDep, settings: SettingsDep) -> TileService:
    """The tile service of the served area (created once, kept on ``app.state.tiles``)."""
    state = request.app.state
    svc: TileService | None = getattr(state, "tiles", None)
    if svc is None or svc.workspace is not ws:
        with _INIT_LOCK:
            svc = getattr(state, "tiles", None)
            if svc is None or svc.workspace is not ws:
                svc = TileService(ws, cache_mb=settings.tile_cache_mb, max_zoom=settings.max_zoom)
                state.tiles = svc
    return svc


TilesDep = Annotated[TileService, Depends(get_tiles)]


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _query(**params: str | None) -> str:
    kept = {k: v for k, v in params.items() if v is not None and v != ""}
    return "?" + urlencode(kept, safe=",") if kept else ""


def _etag_matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    tags = [t.strip() for t in if_none_match.split(",")]
    return "*" in tags or any(t.removeprefix("W/") == etag for t in tags)


@router.get("/tileMatrixSets", summary="Tile matrix sets served")
def tile_matrix_sets(request: Request) -> dict[str, Any]:
    """The tile matrix sets of the raster tiles (OGC API - Tiles)."""
    base = _base(request)
    out = []
    for tid in TMS_IDS:
        tms = get_tms(tid)
        out.append(
            {
                "id": tid,
                "title": tms.title,
                "crs": str(tms.crs.root if hasattr(tms.crs, "root") else tms.crs),
                "links": [
                    {
                        "href": f"{base}/tileMatrixSets/{tid}",
                        "rel": "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme",
                        "type": "application/json",
                        "title": f"{tid} definition",
                    }
                ],
            }
        )
    return {"tileMatrixSets": out}


@router.get("/tileMatrixSets/{tms}", summary="One tile matrix set (OGC TMS 2.0 JSON)")
def tile_matrix_set(tms: str) -> JSONResponse:
    """The OGC Two Dimensional Tile Matrix Set definition."""
    doc = get_tms(tms).model_dump(mode="json", exclude_none=True, by_alias=True)
    return JSONResponse(doc, headers={"Cache-Control": "public, max-age=86400"})


@router.get("/rasters", summary="Raster layers served as tiles")
def rasters(request: Request, ws: WorkspaceDep) -> dict[str, Any]:
    """Every raster layer with titles, units, scenario dependence and links."""
    base = _base(request)
    out = []
    for lid, info in ws.raster_layers.items():
        entry = raster_entry(info, ws.scenarios)
        root = f"{base}/rasters/{lid}"
        entry["links"] = [
            {"href": f"{root}/tilejson.json", "rel": "tilejson", "type": "application/json"},
            {
                "href": f"{root}/tiles/WebMercatorQuad/{{z}}/{{x}}/{{y}}.png",
                "rel": "item",
                "type": "image/png",
                "templated": True,
            },
            {"href": f"{root}/legend", "rel": "legend", "type": "application/json"},
            {"href": f"{root}/legend.png", "rel": "legend", "type": "image/png"},
        ]
        out.append(entry)
    return {
        "rasters": out,
        "scenarios": ws.scenarios,
        "default_scenario": ws.default_scenario,
        "links": [{"href": f"{base}/tileMatrixSets", "rel": "tiling-schemes"}],
    }


@router.get(
    "/rasters/{layer}/tiles/{tms}/{z}/{x}/{y}.png",
    summary="A PNG map tile",
    response_class=Response,
    responses={200: {"content": {"image/png": {}}}, 304: {"description": "Not modified"}},
)
def raster_tile(
    tiles: TilesDep,
    layer: LayerP,
    tms: str,
    z: int,
    x: int,
    y: int,
    scenario: ScenarioQ = None,
    colormap: ColormapQ = None,
    rescale: RescaleQ = None,
    if_none_match: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Response:
    """A 256 x 256 PNG tile; transparent outside the area or where there is no data."""
    tile = tiles.tile(
        layer, tms, z, x, y, scenario=scenario, colormap=colormap, rescale=parse_rescale(rescale)
    )
    headers = {"ETag": tile.etag, "Cache-Control": CACHE_CONTROL}
    if _etag_matches(if_none_match, tile.etag):
        return Response(status_code=304, headers=headers)
    return Response(tile.png, media_type="image/png", headers=headers)


@router.get("/rasters/{layer}/tilejson.json", summary="TileJSON 3.0.0 of a raster layer")
def raster_tilejson(
    request: Request,
    tiles: TilesDep,
    layer: LayerP,
    tms: TmsQ = "WebMercatorQuad",
    scenario: ScenarioQ = None,
    colormap: ColormapQ = None,
    rescale: RescaleQ = None,
    lang: LangQ = "da",
) -> dict[str, Any]:
    """TileJSON with an absolute tile URL template carrying the same style parameters."""
    check_lang(lang)
    info, sc = tiles.resolve(layer, scenario)
    get_tms(tms)
    if colormap is not None or rescale is not None:  # validate before handing out URLs
        legend(info, colormap=colormap, rescale=parse_rescale(rescale))
    url = f"{_base(request)}/rasters/{layer}/tiles/{tms}/{{z}}/{{x}}/{{y}}.png" + _query(
        scenario=sc, colormap=colormap, rescale=rescale
    )
    return tilejson(tiles, layer, tiles_url=url, tms_id=tms, scenario=scenario, lang=lang)


@router.get("/rasters/{layer}/legend", summary="Legend of a raster layer (JSON)")
def raster_legend(
    ws: WorkspaceDep,
    layer: LayerP,
    scenario: ScenarioQ = None,
    colormap: ColormapQ = None,
    rescale: RescaleQ = None,
    lang: LangQ = "da",
) -> dict[str, Any]:
    """Title, units and colour stops (continuous) or classes (class layers)."""
    info = ws.raster_layer(layer)
    sc = ws.scenario(scenario)
    out = legend(info, lang=lang, colormap=colormap, rescale=parse_rescale(rescale))
    out["scenario"] = sc if info.scenario_dependent else None
    return out


@router.get(
    "/rasters/{layer}/legend.png",
    summary="Legend of a raster layer (PNG)",
    response_class=Response,
    responses={200: {"content": {"image/png": {}}}},
)
def raster_legend_png(
    ws: WorkspaceDep,
    layer: LayerP,
    scenario: ScenarioQ = None,
    colormap: ColormapQ = None,
    rescale: RescaleQ = None,
    lang: LangQ = "da",
) -> Response:
    """A small colour bar (or class boxes) with labels."""
    info = ws.raster_layer(layer)
    ws.scenario(scenario)
    png = legend_png(info, lang=lang, colormap=colormap, rescale=parse_rescale(rescale))
    return Response(png, media_type="image/png", headers={"Cache-Control": CACHE_CONTROL})
