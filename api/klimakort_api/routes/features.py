"""OGC API - Features: ``/collections`` and their items (GET; writes are in ``sites``)."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from klimakort.errors import DataNotFoundError
from klimakort.features import geojson, html, ogc, query
from klimakort.features.queryables import SCHEMA_JSON, queryables
from klimakort.io import crs_uri
from klimakort.service import Workspace
from klimakort_api.deps import SettingsDep, WorkspaceDep
from klimakort_api.problems import OGC_RESPONSES, OGCRoute
from klimakort_api.routes.landing import AcceptHeader, FormatQuery, base_url

router = APIRouter(tags=["OGC API - Features"], route_class=OGCRoute, responses=OGC_RESPONSES)

_GEOJSON_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"content": {geojson.GEOJSON: {}, "text/html": {}}, "description": "GeoJSON or HTML"}
}


def _collection_doc(ws: Workspace, cid: str, base: str) -> dict[str, Any]:
    index = query.feature_index(ws, cid)
    return ogc.collection_document(base, ws.collection(cid), index, scenarios=ws.scenarios)


def _etag(*parts: object) -> str:
    digest = hashlib.sha1("|".join(map(str, parts)).encode(), usedforsecurity=False)
    return f'W/"{digest.hexdigest()[:20]}"'


def _not_modified(request: Request, etag: str) -> Response | None:
    inm = request.headers.get("if-none-match")
    if inm and etag in [t.strip() for t in inm.split(",")]:
        return Response(status_code=304, headers={"ETag": etag})
    return None


@router.get("/collections", summary="Vector collections", response_model=None)
def collections(
    request: Request, ws: WorkspaceDep, f: FormatQuery = None, accept: AcceptHeader = None
) -> Response:
    """Every vector collection of the area with extent, CRSs and links."""
    base = base_url(request)
    docs = [_collection_doc(ws, cid, base) for cid in ws.collections]
    doc = ogc.collections_document(base, docs, crs_uri.supported_crs(ws.crs))
    if ogc.negotiate(f, accept) == "html":
        return HTMLResponse(html.collections_html(doc, base))
    return JSONResponse(doc)


@router.get("/collections/{cid}", summary="One vector collection", response_model=None)
def collection(
    request: Request,
    ws: WorkspaceDep,
    cid: str,
    f: FormatQuery = None,
    accept: AcceptHeader = None,
) -> Response:
    """Title, description, extent (CRS84 and storage CRS), CRSs and links of ``cid``."""
    base = base_url(request)
    doc = _collection_doc(ws, cid, base)
    if ogc.negotiate(f, accept) == "html":
        return HTMLResponse(html.collection_html(doc, base))
    return JSONResponse(doc)


@router.get(
    "/collections/{cid}/queryables",
    summary="Queryable properties (JSON Schema)",
    response_model=None,
    responses={200: {"content": {SCHEMA_JSON: {}}, "description": "JSON Schema 2020-12"}},
)
def collection_queryables(request: Request, ws: WorkspaceDep, cid: str) -> Response:
    """The properties a ``filter`` may use, with their types."""
    info = ws.collection(cid)
    index = query.feature_index(ws, cid)
    doc = queryables(
        index.frame,
        schema_id=f"{base_url(request)}/collections/{cid}/queryables",
        title=info.title.get("da", cid),
        description=info.description,
    )
    return JSONResponse(doc, media_type=SCHEMA_JSON)


@router.get(
    "/collections/{cid}/items",
    summary="Features of a collection",
    response_model=None,
    responses=_GEOJSON_RESPONSE,
)
def items(
    request: Request,
    ws: WorkspaceDep,
    settings: SettingsDep,
    cid: str,
    bbox: Annotated[
        str | None,
        Query(description="minx,miny,maxx,maxy in bbox-crs (default CRS84 lon/lat)"),
    ] = None,
    bbox_crs: Annotated[
        str | None,
        Query(
            alias="bbox-crs",
            description="CRS of bbox: http://www.opengis.net/def/crs/OGC/1.3/CRS84 "
            "(default) or http://www.opengis.net/def/crs/EPSG/0/25832",
        ),
    ] = None,
    crs: Annotated[
        str | None, Query(description="Output CRS (default CRS84; or EPSG:25832's URI)")
    ] = None,
    limit: Annotated[int, Query(description="Features per page (1 to the service maximum)")] = 100,
    offset: Annotated[int, Query(description="Features to skip")] = 0,
    filter: Annotated[
        str | None,
        Query(
            description="CQL2 filter, e.g. scenario='2100' AND depth_class >= 2, or "
            "S_INTERSECTS(geometry, POLYGON((12.38 55.62, 12.4 55.62, 12.4 55.63, 12.38 55.62)))"
        ),
    ] = None,
    filter_lang: Annotated[
        str | None,
        Query(alias="filter-lang", description="cql2-text (default) or cql2-json"),
    ] = None,
    filter_crs: Annotated[
        str | None,
        Query(
            alias="filter-crs",
            description="CRS of the filter's geometries: CRS84 (default) or EPSG:25832's URI",
        ),
    ] = None,
    f: FormatQuery = None,
    accept: AcceptHeader = None,
) -> Response:
    """A page of features matching ``bbox`` and ``filter``, as GeoJSON or HTML."""
    info = ws.collection(cid)
    fmt = ogc.negotiate(f, accept)
    lang = query.filter_lang(filter_lang)
    query.check_paging(limit, offset, settings.max_features)
    supported = crs_uri.supported_crs(ws.crs)
    out_crs = crs_uri.resolve_crs(crs, supported, "crs")
    box = None
    box_crs = crs_uri.resolve_crs(bbox_crs, supported, "bbox-crs")
    geom_crs = crs_uri.resolve_crs(filter_crs, supported, "filter-crs")
    if bbox is not None:
        box = query.parse_bbox(bbox)
        query.check_bbox(box, box_crs, ws.crs, settings.max_bbox_km2)
    index = query.feature_index(ws, cid)
    etag = _etag(cid, index.revision, fmt, request.url.query)
    if (cached := _not_modified(request, etag)) is not None:
        return cached
    q = query.ItemsQuery(box, box_crs, out_crs, limit, offset, filter, lang, geom_crs)
    result = query.run_query(index, q)
    base = base_url(request)
    params = dict(request.query_params)
    headers = {"Content-Crs": f"<{out_crs}>", "ETag": etag}
    features = geojson.features_json(result.features)
    if fmt == "html":
        links = ogc.items_links(
            base,
            cid,
            params,
            offset=offset,
            limit=limit,
            number_matched=result.number_matched,
            html=True,
        )
        page = html.items_html(
            info.title.get("da", cid),
            json.loads(features),
            number_matched=result.number_matched,
            offset=offset,
            links=links,
            base=base,
            item_base=f"{base}/collections/{cid}/items",
            json_href=next(lk["href"] for lk in links if lk["rel"] == "alternate"),
        )
        return HTMLResponse(page, headers=headers)
    body = geojson.feature_collection_json(
        features,
        numberMatched=result.number_matched,
        numberReturned=len(result.features),
        timeStamp=datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        links=ogc.items_links(
            base, cid, params, offset=offset, limit=limit, number_matched=result.number_matched
        ),
    )
    return Response(body, media_type=geojson.GEOJSON, headers=headers)


@router.get(
    "/collections/{cid}/items/{fid}",
    summary="One feature",
    response_model=None,
    responses=_GEOJSON_RESPONSE,
)
def item(
    request: Request,
    ws: WorkspaceDep,
    cid: str,
    fid: str,
    crs: Annotated[
        str | None, Query(description="Output CRS (default CRS84; or EPSG:25832's URI)")
    ] = None,
    f: FormatQuery = None,
    accept: AcceptHeader = None,
) -> Response:
    """The feature ``fid`` of ``cid``; 404 when there is none."""
    info = ws.collection(cid)
    fmt = ogc.negotiate(f, accept)
    out_crs = crs_uri.resolve_crs(crs, crs_uri.supported_crs(ws.crs), "crs")
    index = query.feature_index(ws, cid)
    pos = index.position(fid)
    if pos is None:
        raise DataNotFoundError(f"collection {cid!r} has no feature {fid!r}")
    etag = _etag(cid, index.revision, fid, fmt, out_crs)
    if (cached := _not_modified(request, etag)) is not None:
        return cached
    base = base_url(request)
    links = ogc.item_links(base, cid, fid)
    text = geojson.feature_json(index.in_crs(out_crs).iloc[[pos]], links)
    headers = {"Content-Crs": f"<{out_crs}>", "ETag": etag}
    if fmt == "html":
        title = f"{info.title.get('da', cid)}: {fid}"
        return HTMLResponse(html.item_html(title, json.loads(text), base=base), headers=headers)
    return Response(text, media_type=geojson.GEOJSON, headers=headers)
