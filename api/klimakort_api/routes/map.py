"""The interactive map: ``GET /map`` (HTML page) and ``GET /map/static/{name}`` (its files)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from klimakort.maps.basemap import page_config
from klimakort.maps.service_map import service_map_html, static_asset
from klimakort_api.deps import SettingsDep, WorkspaceDep

router = APIRouter(tags=["map"])

#: static files change only with a release; the page links them with ``?v=<etag>``
STATIC_CACHE = "public, max-age=86400"


@router.get(
    "/map",
    summary="Interactive map of the area (Leaflet; Danish, English with lang=en)",
    response_class=HTMLResponse,
)
def map_page(
    request: Request,
    ws: WorkspaceDep,
    settings: SettingsDep,
    lang: Annotated[Literal["da", "en"], Query(description="Language of the map")] = "da",
) -> HTMLResponse:
    root = str(request.scope.get("root_path", "")).rstrip("/")
    page = service_map_html(
        ws,
        api=root,
        static_prefix=f"{root}/map/static/",
        lang=lang,
        max_features=settings.max_features,
        max_zoom=min(settings.max_zoom, 22),
        basemap=page_config(getattr(request.app.state, "basemap", None)),
    )
    return HTMLResponse(page, headers={"Cache-Control": "no-cache"})


@router.get(
    "/map/static/{name}",
    summary="Scripts and stylesheets of the map (vendored Leaflet and plugins, the app)",
    response_class=Response,
    responses={200: {"content": {"text/javascript": {}, "text/css": {}}}, 304: {}},
)
def map_static(request: Request, name: str) -> Response:
    asset = static_asset(name)
    headers = {"ETag": asset.etag, "Cache-Control": STATIC_CACHE}
    if request.headers.get("if-none-match") == asset.etag:
        return Response(status_code=304, headers=headers)
    return Response(asset.body, media_type=asset.media_type, headers=headers)
