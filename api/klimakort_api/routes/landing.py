"""OGC API landing page (``/``) and conformance declaration (``/conformance``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from klimakort.features import html, ogc
from klimakort_api.problems import OGC_RESPONSES, OGCRoute

router = APIRouter(tags=["OGC API - Features"], route_class=OGCRoute, responses=OGC_RESPONSES)

FormatQuery = Annotated[str | None, Query(description="Output format: json (default) or html")]
AcceptHeader = Annotated[str | None, Header(include_in_schema=False)]


def base_url(request: Request) -> str:
    """The service's base URL without a trailing slash."""
    return str(request.base_url).rstrip("/")


@router.get("/", summary="Landing page", response_model=None)
def landing(request: Request, f: FormatQuery = None, accept: AcceptHeader = None) -> Response:
    """Links to the API description, the conformance classes, the collections, the
    raster layers and the map."""
    base = base_url(request)
    ws = getattr(request.app.state, "workspace", None)
    scenarios = f" ({', '.join(ws.scenarios)})" if ws is not None else ""
    doc = ogc.landing_page(
        base,
        f"klimakort – {ws.name}" if ws is not None else "klimakort",
        "Klimatilpasning: vandets veje, blå pletter, skybrud, havvand og grundvand pr. "
        f"klimascenarie{scenarios}, matrikler, lokalplaner og planlagte træer og skove. "
        "Koordinater i EPSG:25832, højder i m DVR90.",
    )
    if ogc.negotiate(f, accept) == "html":
        return HTMLResponse(html.landing_html(doc, base))
    return JSONResponse(doc)


@router.get("/conformance", summary="Conformance classes", response_model=None)
def conformance(request: Request, f: FormatQuery = None, accept: AcceptHeader = None) -> Response:
    """The OGC conformance classes this API implements."""
    doc = ogc.conformance()
    if ogc.negotiate(f, accept) == "html":
        return HTMLResponse(html.conformance_html(doc, base_url(request)))
    return JSONResponse(doc)
