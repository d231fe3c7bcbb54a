"""The FastAPI application factory. Thin: HTTP in, klimakort calls, HTTP out."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from klimakort import __version__
from klimakort.config.area import AreaConfig, load_area
from klimakort_api import problems
from klimakort_api.settings import Settings


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the API for one area.

    Parameters
    ----------
    settings : Settings, optional
        Service settings; read from ``KLIMAKORT_*`` environment variables when omitted.
        The area is opened in the app's lifespan, not at import or build time.
    """
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        area: AreaConfig | None = load_area(settings.area) if settings.area else None
        app.state.area = area
        yield

    app = FastAPI(
        title="klimakort",
        version=__version__,
        description="Climate-adaptation planning layers for Danish municipalities.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    problems.install(app)

    @app.get("/healthz", summary="Liveness and the area served")
    def healthz() -> dict[str, object]:
        area = getattr(app.state, "area", None)
        return {
            "status": "ok",
            "version": __version__,
            "area": area.name if area is not None else None,
        }

    return app
