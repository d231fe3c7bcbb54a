"""Mapbox Vector Tiles of the collections (WebMercatorQuad) and their TileJSON.

Empty tiles (no feature of the collection intersects the tile) answer
``204 No Content``; every tile response carries an ETag and ``If-None-Match``
answers ``304``.
"""

from __future__ import annotations

import threading
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request, Response
from pyproj import Transformer

from klimakort.service import Workspace
from klimakort.vectortiles import MAX_ZOOM, MEDIA_TYPE, MIN_ZOOM, VectorTileServer
from klimakort_api.deps import SettingsDep, WorkspaceDep
from klimakort_api.settings import Settings

router = APIRouter(tags=["vector tiles"])

_lock = threading.Lock()
#: share of ``tile_cache_mb`` given to vector tiles (raster tiles use the rest)
CACHE_SHARE = 0.25
_TILE_PATH = "/collections/{cid}/tiles/WebMercatorQuad/{z}/{x}/{y}.mvt"
ScenarioQuery = Annotated[
    str | None,
    Query(description="scenario of scenario-dependent collections (default: the area's)"),
]


def tile_server(request: Request, ws: Workspace, settings: Settings) -> VectorTileServer:
    """The app's vector-tile server (made on first use, one per app and workspace)."""
    with _lock:
        server: VectorTileServer | None = getattr(request.app.state, "vectortiles", None)
        if server is None or server.source is not ws:
            server = VectorTileServer(
                ws,
                cache_bytes=int(settings.tile_cache_mb * CACHE_SHARE * 2**20),
                minzoom=MIN_ZOOM,
                maxzoom=min(MAX_ZOOM, settings.max_zoom),
            )
            request.app.state.vectortiles = server
        return server


def _matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    tags = [t.strip().removeprefix("W/") for t in if_none_match.split(",")]
    return "*" in tags or etag in tags


def _cache_control(ws: Workspace, cid: str) -> str:
    # editable collections change at any time: revalidate with the ETag every time
    return "no-cache" if ws.collection(cid).editable else "public, max-age=3600"


@router.get(
    _TILE_PATH,
    summary="A Mapbox Vector Tile of a collection",
    response_class=Response,
    responses={
        200: {"content": {MEDIA_TYPE: {}}, "description": "the tile"},
        204: {"description": "no feature in this tile"},
        304: {"description": "not modified (If-None-Match)"},
        404: {"description": "unknown collection or scenario"},
        422: {"description": "zoom outside 10..22 or x/y outside the grid"},
    },
)
def get_tile(
    cid: str,
    z: int,
    x: int,
    y: int,
    request: Request,
    ws: WorkspaceDep,
    settings: SettingsDep,
    scenario: ScenarioQuery = None,
    if_none_match: Annotated[str | None, Header()] = None,
) -> Response:
    """Layer ``cid`` with ``fid`` and a few fields per feature, extent 4096."""
    server = tile_server(request, ws, settings)
    key = server.key(cid, z, x, y, scenario)
    headers = {"Cache-Control": _cache_control(ws, cid)}
    etag = server.etag(key)
    if _matches(if_none_match, etag):
        return Response(status_code=304, headers={**headers, "ETag": etag})
    tile = server.tile(cid, z, x, y, scenario)
    headers["ETag"] = tile.etag
    if not tile.data:
        return Response(status_code=204, headers=headers)
    return Response(tile.data, media_type=MEDIA_TYPE, headers=headers)


@router.get(
    "/collections/{cid}/tiles/WebMercatorQuad/tilejson.json",
    summary="TileJSON of a collection's vector tiles",
)
def get_tilejson(
    cid: str,
    request: Request,
    ws: WorkspaceDep,
    settings: SettingsDep,
    scenario: ScenarioQuery = None,
) -> dict[str, Any]:
    """TileJSON 3.0.0: tile URL template, zoom range, bounds and the layer's fields."""
    server = tile_server(request, ws, settings)
    info = ws.collection(cid)
    sc = ws.scenario(scenario)
    url = str(request.base_url).rstrip("/") + _TILE_PATH.replace("{cid}", cid)
    if info.scenario_dependent:
        url += f"?scenario={sc}"
    b = server.bounds(cid, sc)
    to_lonlat = Transformer.from_crs(3857, 4326, always_xy=True)
    if b is None:
        to_lonlat = Transformer.from_crs(ws.crs, 4326, always_xy=True)
        b = ws.bounds
    lon0, lat0, lon1, lat1 = to_lonlat.transform_bounds(b[0], b[1], b[2], b[3])
    bounds = [round(v, 6) for v in (lon0, lat0, lon1, lat1)]
    center = [round((lon0 + lon1) / 2, 6), round((lat0 + lat1) / 2, 6), server.minzoom + 3]
    layer: dict[str, Any] = {
        "id": cid,
        "description": info.title.get("en", cid),
        "minzoom": server.minzoom,
        "maxzoom": server.maxzoom,
        "fields": server.field_types(cid, sc),
    }
    out: dict[str, Any] = {
        "tilejson": "3.0.0",
        "name": info.title.get("da", cid),
        "description": info.description or info.title.get("en", cid),
        "scheme": "xyz",
        "tiles": [url],
        "minzoom": server.minzoom,
        "maxzoom": server.maxzoom,
        "bounds": bounds,
        "center": center,
        "vector_layers": [layer],
    }
    if info.scenario_dependent:
        out["scenario"] = sc
    return out
