"""Point, parcel, local-plan and polygon reports, scenarios and parcel search."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Query
from fastapi.responses import HTMLResponse, JSONResponse, Response

from klimakort.constraints.report import parcel_report, plan_report, render_html
from klimakort.service.analysis import polygon_constraints_report
from klimakort.service.point import point_report, scenario_summary, search_parcels
from klimakort_api.deps import WorkspaceDep

router = APIRouter(tags=["reports"])

Scenario = Annotated[
    str | None,
    Query(description="Climate scenario (present, 2050, 2100); default 2100", max_length=32),
]
Format = Annotated[Literal["json", "html"], Query(description="Output format")]
Lang = Annotated[
    Literal["da", "en"],
    Query(description="Language of the report: every word of the HTML page, source names"),
]

_EXAMPLE_POLYGON = {
    "type": "Polygon",
    "coordinates": [
        [[12.38, 55.64], [12.39, 55.64], [12.39, 55.645], [12.38, 55.645], [12.38, 55.64]]
    ],
}


def _render(report: dict[str, Any], f: str, ws: Any) -> Response:
    if f == "html":
        return HTMLResponse(render_html(report, ws.hz))
    return JSONResponse(report)


@router.get("/scenarios", summary="Climate scenarios served, with design values and sources")
def scenarios(ws: WorkspaceDep) -> list[dict[str, Any]]:
    return scenario_summary(ws)


@router.get("/point", summary="Every hazard value at a point, with its parcel and local plan")
def point(
    ws: WorkspaceDep,
    x: Annotated[float, Query(description="Easting, or longitude with crs=CRS84")],
    y: Annotated[float, Query(description="Northing, or latitude with crs=CRS84")],
    crs: Annotated[
        str | None, Query(description="CRS84 (default) or EPSG:25832", max_length=80)
    ] = None,
    scenario: Scenario = None,
) -> dict[str, Any]:
    return point_report(ws, x, y, crs, scenario)


@router.get("/parcels/search", summary="Find parcels by matrikel id (ejerlavskode-matrikelnr)")
def parcels_search(
    ws: WorkspaceDep,
    q: Annotated[str, Query(description="Matrikel id or part of it, e.g. 2000651-12a")],
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
) -> list[dict[str, Any]]:
    return search_parcels(ws, q, limit)


@router.get(
    "/parcels/{parcel_id}/report",
    summary="Climate constraints of a cadastral parcel and its buildings",
    responses={200: {"content": {"text/html": {}, "application/json": {}}}},
)
def parcel(
    ws: WorkspaceDep,
    parcel_id: str,
    scenario: Scenario = None,
    f: Format = "json",
    lang: Lang = "da",
) -> Response:
    report = parcel_report(
        ws.cfg, ws.hz, parcel_id, ws.scenario(scenario), sites=ws.stored_sites(), lang=lang
    )
    return _render(report, f, ws)


@router.get(
    "/plans/{plan_id}/report",
    summary="Climate constraints of a local plan (plannr or planid)",
    responses={200: {"content": {"text/html": {}, "application/json": {}}}},
)
def plan(
    ws: WorkspaceDep,
    plan_id: str,
    scenario: Scenario = None,
    f: Format = "json",
    lang: Lang = "da",
) -> Response:
    report = plan_report(
        ws.cfg, ws.hz, plan_id, ws.scenario(scenario), sites=ws.stored_sites(), lang=lang
    )
    return _render(report, f, ws)


@router.post(
    "/reports/polygon",
    summary="Climate constraints of a drawn polygon (GeoJSON geometry or Feature)",
    responses={200: {"content": {"text/html": {}, "application/json": {}}}},
)
def polygon(
    ws: WorkspaceDep,
    body: Annotated[
        dict[str, Any],
        Body(
            description="GeoJSON Polygon/MultiPolygon, Feature or FeatureCollection",
            examples=[_EXAMPLE_POLYGON],
        ),
    ],
    scenario: Scenario = None,
    crs: Annotated[
        str | None, Query(description="CRS of the body: CRS84 (default) or EPSG:25832")
    ] = None,
    name: Annotated[str | None, Query(max_length=200)] = None,
    f: Format = "json",
    lang: Lang = "da",
) -> Response:
    report = polygon_constraints_report(ws, body, scenario, crs=crs, name=name, lang=lang)
    return _render(report, f, ws)
