"""Print sheets: ``GET /print`` — a map with legend, scale bar, north arrow, scenario, date,
sources and the report summary, as PDF (or an HTML print page, or PNG)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from klimakort.errors import ParameterError
from klimakort.maps.printing import DEFAULT_LAYERS, PrintRequest, print_html, print_sheet
from klimakort_api.deps import WorkspaceDep

router = APIRouter(tags=["reports"])


def _bbox(text: str | None) -> tuple[float, float, float, float] | None:
    if text is None or not text.strip():
        return None
    try:
        values = tuple(float(v) for v in text.split(","))
    except ValueError:
        raise ParameterError(f"bbox {text!r}: give four numbers xmin,ymin,xmax,ymax") from None
    if len(values) != 4:
        raise ParameterError(f"bbox {text!r}: give four numbers xmin,ymin,xmax,ymax")
    return values


@router.get(
    "/print",
    summary="Print sheet (A4 PDF) of a parcel, a local plan or a bbox: map, legend, scale bar, "
    "north arrow, scenario, date, sources, report summary",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}, "text/html": {}, "image/png": {}}}},
)
def print_page(
    request: Request,
    ws: WorkspaceDep,
    parcel: Annotated[str | None, Query(description="Parcel id (matrikel)", max_length=64)] = None,
    plan: Annotated[
        str | None, Query(description="Local plan (plannr/planid)", max_length=64)
    ] = None,
    bbox: Annotated[
        str | None, Query(description="xmin,ymin,xmax,ymax (see bbox-crs)", max_length=200)
    ] = None,
    bbox_crs: Annotated[
        str | None,
        Query(alias="bbox-crs", description="CRS84 (default) or EPSG:25832", max_length=80),
    ] = None,
    scenario: Annotated[
        str | None, Query(description="Climate scenario; the default when omitted", max_length=32)
    ] = None,
    layers: Annotated[
        str | None,
        Query(
            description="Comma-separated raster layers (default cloudburst_depth,sea_depth)",
            max_length=200,
        ),
    ] = None,
    lang: Annotated[Literal["da", "en"], Query(description="Language")] = "da",
    f: Annotated[Literal["pdf", "html", "png"], Query(description="Output format")] = "pdf",
) -> Response:
    names = tuple(n.strip() for n in layers.split(",") if n.strip()) if layers else DEFAULT_LAYERS
    req = PrintRequest(
        parcel=parcel or None,
        plan=plan or None,
        bbox=_bbox(bbox),
        bbox_crs=bbox_crs,
        scenario=scenario,
        layers=names,
        lang=lang,
    )
    sheet = print_sheet(ws, req)
    name = f"klimakort-{(parcel or plan or 'udsnit')}-{sheet.scenario}".replace("/", "_")
    if f == "html":
        pdf_href = str(request.url.include_query_params(f="pdf"))
        return HTMLResponse(print_html(sheet, pdf_href, lang=lang))
    if f == "png":
        return Response(sheet.to_bytes("png"), media_type="image/png")
    return Response(
        sheet.to_bytes("pdf"),
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{name}.pdf"'},
    )
