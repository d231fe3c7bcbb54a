"""The FastAPI application factory. Thin: HTTP in, klimakort calls, HTTP out."""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse, Response

from klimakort import __version__
from klimakort.maps.basemap import Basemap, resolve_basemap
from klimakort.maps.docs_assets import docs_asset
from klimakort.service import Workspace
from klimakort_api import problems
from klimakort_api.routes import (
    addresses,
    analysis,
    features,
    landing,
    printing,
    reports,
    sites,
    tiles,
    vectortiles,
)
from klimakort_api.routes import map as map_page
from klimakort_api.settings import Settings

log = logging.getLogger("klimakort.api")

#: the routers, in include order (one module per concern)
ROUTERS = (
    landing,
    features,
    sites,
    tiles,
    vectortiles,
    reports,
    addresses,
    printing,
    analysis,
    map_page,
)


def _open_workspace(settings: Settings) -> Workspace | None:
    if settings.area is None:
        return None
    log.info("opening %s and computing its hazards", settings.area)
    ws = Workspace.open(settings.area, settings.scenarios, progress=log.info)
    from klimakort.sites import open_store

    ws.sites = open_store(ws.cfg, settings.database_url)
    return ws


def _basemap(settings: Settings, ws: Workspace | None) -> Basemap | None:
    """The base map of the served page: the area's ``[basemap]`` under the settings."""
    token = settings.basemap_token.get_secret_value() if settings.basemap_token else None
    ref = ws.cfg.basemap if ws is not None else None
    return resolve_basemap(ref, settings.basemap_overrides(), token=token, env=os.environ)


def create_app(settings: Settings | None = None, *, workspace: Workspace | None = None) -> FastAPI:
    """Build the API for one area.

    Parameters
    ----------
    settings : Settings, optional
        Service settings; read from ``KLIMAKORT_*`` environment variables when omitted.
    workspace : Workspace, optional
        An already opened workspace (tests, notebooks); otherwise the area of
        ``settings.area`` is opened and its hazards computed in the app's lifespan,
        never at import or build time.
    """
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        opened = workspace is None
        app.state.workspace = workspace if workspace is not None else _open_workspace(settings)
        app.state.basemap = _basemap(settings, app.state.workspace)
        try:
            yield
        finally:
            ws = app.state.workspace
            store = getattr(ws, "sites", None) if opened else None
            if store is not None and hasattr(store, "close"):
                store.close()

    app = FastAPI(
        title="klimakort",
        version=__version__,
        description=(
            "Climate-adaptation planning layers for Danish municipalities: hazards "
            "(rain-flow paths, bluespots, cloudburst and sea flooding, groundwater) per "
            "climate scenario as map tiles, vector layers through OGC API - Features, "
            "point, parcel and local-plan reports, site suitability and planned-site "
            "editing. Coordinates in EPSG:25832 (ETRS89 / UTM 32N), heights in m DVR90."
        ),
        lifespan=lifespan,
        docs_url=None,  # served below from vendored files: /docs works offline
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.workspace = workspace
    app.state.basemap = None
    problems.install(app)

    @app.get("/healthz", summary="Liveness and the area served", tags=["operations"])
    def healthz() -> dict[str, object]:
        ws = getattr(app.state, "workspace", None)
        return {
            "status": "ok",
            "version": __version__,
            "area": ws.name if ws is not None else None,
            "scenarios": ws.scenarios if ws is not None else [],
        }

    for module in ROUTERS:
        app.include_router(module.router)
    _add_docs(app)
    return app


def _add_docs(app: FastAPI) -> None:
    """``/docs``: Swagger UI from the package's vendored copy (no CDN, works offline)."""
    redirect = "/docs/oauth2-redirect"

    @app.get("/docs", include_in_schema=False)
    def docs(request: Request) -> HTMLResponse:
        root = str(request.scope.get("root_path", "")).rstrip("/")
        static = f"{root}/docs/static"
        return get_swagger_ui_html(
            openapi_url=f"{root}{app.openapi_url}",
            title=f"{app.title} – API",
            swagger_js_url=f"{static}/swagger-ui-bundle.js",
            swagger_css_url=f"{static}/swagger-ui.css",
            swagger_favicon_url=f"{static}/favicon-32x32.png",
            oauth2_redirect_url=f"{root}{redirect}",
            # no badge from the public validator service: nothing leaves the host
            swagger_ui_parameters={"validatorUrl": None},
        )

    @app.get(redirect, include_in_schema=False)
    def docs_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get("/docs/static/{name}", include_in_schema=False)
    def docs_static(request: Request, name: str) -> Response:
        asset = docs_asset(name)
        headers = {"ETag": asset.etag, "Cache-Control": "public, max-age=86400"}
        if request.headers.get("if-none-match") == asset.etag:
            return Response(status_code=304, headers=headers)
        return Response(asset.body, media_type=asset.media_type, headers=headers)
