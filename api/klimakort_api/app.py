"""The FastAPI application factory. Thin: HTTP in, klimakort calls, HTTP out."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from klimakort import __version__
from klimakort.service import Workspace
from klimakort_api import problems
from klimakort_api.routes import (
    analysis,
    features,
    landing,
    reports,
    sites,
    tiles,
    vectortiles,
    whatif,
)
from klimakort_api.routes import map as map_page
from klimakort_api.settings import Settings

log = logging.getLogger("klimakort.api")

#: the routers, in include order (one module per concern)
ROUTERS = (landing, features, sites, tiles, vectortiles, reports, analysis, whatif, map_page)


def _open_workspace(settings: Settings) -> Workspace | None:
    if settings.area is None:
        return None
    log.info("opening %s and computing its hazards", settings.area)
    ws = Workspace.open(settings.area, settings.scenarios, progress=log.info)
    from klimakort.sites import open_store

    ws.sites = open_store(ws.cfg, settings.database_url)
    return ws


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
        try:
            yield
        finally:
            whatif.shutdown(app)
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
    )
    app.state.settings = settings
    app.state.workspace = workspace
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
    return app
