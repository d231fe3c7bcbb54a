"""What-if: draw terrain edits, recompute the hazards in the background, compare.

``POST /whatif`` (API key) takes the edits as a GeoJSON FeatureCollection (CRS84, or
EPSG:25832 with ``Content-Crs``), each feature with ``kind`` and its values, and the
members ``name`` and ``scenario``; it answers 202 with the job's URL. ``GET /whatif/{job}``
shows progress and, when done, links to the report, the difference tiles and the changed
parcels and buildings. Validation, recompute and comparison are :mod:`klimakort.whatif`.
"""

from __future__ import annotations

import json
import threading
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Header, Path, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from klimakort.errors import ConflictError
from klimakort.io.geojson_input import to_crs84
from klimakort.whatif.edits import scenario_from_geojson
from klimakort.whatif.evaluate import WhatIfResult, evaluate
from klimakort.whatif.jobs import Job, JobRegistry
from klimakort.whatif.report_html import render_html
from klimakort.whatif.store import GpkgWhatIfStore
from klimakort.whatif.tiles import DifferenceTiles
from klimakort_api.deps import WorkspaceDep, WriteKey

router = APIRouter(tags=["what-if"])
_INIT = threading.Lock()

JobId = Annotated[str, Path(description="id of the what-if job", pattern=r"^[0-9a-f]{16}$")]
HazardQ = Annotated[
    Literal["combined", "cloudburst", "sea"], Query(description="hazard of the difference")
]
EXAMPLE = {
    "type": "FeatureCollection",
    "name": "Dike in the beach-ridge gap",
    "scenario": "2100",
    "features": [
        {
            "type": "Feature",
            "properties": {"kind": "raise_to", "level_m": 2.8, "width_m": 8},
            "geometry": {
                "type": "LineString",
                "coordinates": [[12.3391, 55.6357], [12.3405, 55.6356]],
            },
        }
    ],
}


def _state(request: Request) -> tuple[JobRegistry, DifferenceTiles]:
    st = request.app.state
    if getattr(st, "whatif_jobs", None) is None:
        with _INIT:
            if getattr(st, "whatif_jobs", None) is None:
                st.whatif_tiles = DifferenceTiles()
                st.whatif_jobs = JobRegistry(max_workers=1, keep=8)
    return st.whatif_jobs, st.whatif_tiles


def shutdown(app: Any) -> None:
    """Stop the what-if pool of ``app`` (called from the app's lifespan)."""
    jobs = getattr(app.state, "whatif_jobs", None)
    if jobs is not None:
        jobs.shutdown()


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _job_body(request: Request, job: Job) -> dict[str, Any]:
    body = job.state()
    root = f"{_base(request)}/whatif/{job.id}"
    links: list[dict[str, Any]] = [{"href": root, "rel": "self", "type": "application/json"}]
    if job.status == "done":
        links += [
            {"href": f"{root}/report", "rel": "report", "type": "application/json"},
            {"href": f"{root}/report?f=html", "rel": "report", "type": "text/html"},
            {
                "href": f"{root}/tiles/WebMercatorQuad/{{z}}/{{x}}/{{y}}.png?hazard=combined",
                "rel": "difference-tiles",
                "type": "image/png",
                "templated": True,
            },
            {
                "href": f"{root}/changes?layer=parcels",
                "rel": "parcels",
                "type": "application/geo+json",
            },
            {
                "href": f"{root}/changes?layer=buildings",
                "rel": "buildings",
                "type": "application/geo+json",
            },
        ]
        result: WhatIfResult = job.result
        body["summary"] = {
            "method": result.run.method,
            "scenario": result.run.scenario,
            "hazards": {k: v.stats for k, v in result.comparison.hazards.items()},
            "parcels_changed": len(result.comparison.parcels),
            "buildings_changed": len(result.comparison.buildings),
        }
    body["links"] = links
    return body


def _result(request: Request, job_id: str) -> WhatIfResult:
    job = _state(request)[0].get(job_id)
    if job.status != "done":
        raise ConflictError(
            f"what-if job {job_id} is {job.status}"
            + (f": {job.error['detail']}" if job.error else "; poll GET /whatif/{job} until done")
        )
    result: WhatIfResult = job.result
    return result


@router.post(
    "/whatif",
    status_code=202,
    dependencies=[WriteKey],
    summary="Start a what-if: recompute the hazards with drawn terrain edits",
    responses={
        202: {"description": "the job, with its URL in Location"},
        401: {"description": "missing or wrong X-API-Key"},
        422: {"description": "invalid edits (problem+json)"},
    },
)
def start_whatif(
    request: Request,
    ws: WorkspaceDep,
    body: Annotated[dict[str, Any], Body(examples=[EXAMPLE])],
    method: Annotated[
        Literal["auto", "local", "full"],
        Query(
            description="the local recompute of the basins the edit touches, with fallback "
            "to the full pipeline (auto = local, the default), or always the full pipeline"
        ),
    ] = "auto",
    save: Annotated[bool, Query(description="also store the edits under their name")] = False,
    content_crs: Annotated[str | None, Header(description="CRS of the body")] = None,
) -> JSONResponse:
    """Validate the edits (422 at once when invalid) and queue the run; answers 202."""
    se = scenario_from_geojson(body, area_crs=ws.cfg.crs, bounds=ws.bounds, content_crs=content_crs)
    sc = ws.scenario(se.scenario)
    if save:
        GpkgWhatIfStore.for_area(ws.cfg, ws.bounds).save(se)
    jobs, _tiles = _state(request)
    job = jobs.submit(
        lambda progress: evaluate(ws.cfg, ws.hz, se, scenario=sc, method=method, progress=progress),
        expected_steps=22,
        label=se.name,
    )
    url = f"{_base(request)}/whatif/{job.id}"
    return JSONResponse(_job_body(request, job), status_code=202, headers={"Location": url})


@router.get("/whatif/edits", summary="Names of the stored what-if edit sets")
def stored_edits(ws: WorkspaceDep) -> dict[str, Any]:
    """The edit sets stored with the area (``POST /whatif?save=true``)."""
    return {"names": GpkgWhatIfStore.for_area(ws.cfg, ws.bounds).names()}


@router.get("/whatif/edits/{name}", summary="A stored what-if edit set (GeoJSON, CRS84)")
def stored_edit(ws: WorkspaceDep, name: str) -> JSONResponse:
    """The stored set as a FeatureCollection that ``POST /whatif`` accepts back."""
    se = GpkgWhatIfStore.for_area(ws.cfg, ws.bounds).get(name)
    return JSONResponse(se.to_geojson(ws.cfg.crs), media_type="application/geo+json")


@router.get("/whatif/{job_id}", summary="Status, progress and result links of a what-if")
def whatif_status(request: Request, job_id: JobId) -> dict[str, Any]:
    """``status`` (queued, running, done, failed), ``percent``, ``messages`` and links."""
    return _job_body(request, _state(request)[0].get(job_id))


@router.get(
    "/whatif/{job_id}/report",
    summary="The difference report of a finished what-if",
    responses={200: {"content": {"application/json": {}, "text/html": {}}}},
)
def whatif_report(
    request: Request,
    job_id: JobId,
    f: Annotated[Literal["json", "html"], Query(description="json or html")] = "json",
) -> Response:
    """Per-hazard statistics (area and volume removed from flooding) and every parcel and
    building whose flooded area changed (``dry``, ``better``, ``worse``, ``newly_flooded``)."""
    report = _result(request, job_id).report()
    if f == "html":
        return HTMLResponse(render_html(report))
    return JSONResponse(json.loads(json.dumps(report, default=str)))


@router.get(
    "/whatif/{job_id}/tiles/{tms}/{z}/{x}/{y}.png",
    summary="Difference raster tile (red deeper, blue shallower or dry)",
    response_class=Response,
    responses={200: {"content": {"image/png": {}}}},
)
def whatif_tile(
    request: Request, job_id: JobId, tms: str, z: int, x: int, y: int, hazard: HazardQ = "combined"
) -> Response:
    """A 256 x 256 PNG of depth after minus before; changes under 1 cm are transparent."""
    result = _result(request, job_id)
    tiles = _state(request)[1]
    diff = result.comparison.hazards[hazard].difference
    tile = tiles.tile((job_id, hazard), diff, tms, z, x, y)
    return Response(
        tile.png,
        media_type="image/png",
        headers={"ETag": tile.etag, "Cache-Control": "private, max-age=3600"},
    )


@router.get(
    "/whatif/{job_id}/changes",
    summary="Parcels or buildings whose flooded area changed (GeoJSON, CRS84)",
    responses={200: {"content": {"application/geo+json": {}}}},
)
def whatif_changes(
    request: Request,
    ws: WorkspaceDep,
    job_id: JobId,
    layer: Annotated[Literal["parcels", "buildings"], Query()] = "parcels",
) -> JSONResponse:
    """Changed features with ``status`` and before/after flooded areas."""
    cmp = _result(request, job_id).comparison
    gdf = cmp.parcels if layer == "parcels" else cmp.buildings
    features = []
    for rec, geom in zip(
        gdf.drop(columns="geometry").to_dict("records"), gdf.geometry, strict=True
    ):
        props = {k: (None if isinstance(v, float) and v != v else v) for k, v in rec.items()}
        g = json.loads(to_crs84_json(geom, ws.cfg.crs))
        features.append({"type": "Feature", "geometry": g, "properties": props})
    return JSONResponse(
        {"type": "FeatureCollection", "features": features}, media_type="application/geo+json"
    )


def to_crs84_json(geom: Any, area_crs: str) -> str:
    """A geometry in CRS84 as GeoJSON text."""
    import shapely

    return str(shapely.to_geojson(to_crs84(geom, area_crs)))
