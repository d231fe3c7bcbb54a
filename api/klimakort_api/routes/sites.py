"""Planned-site editing: create, replace and delete planned sites (writes need the API key).

Reading is OGC API Features (``routes/features.py``). Bodies are GeoJSON Features in CRS84,
or in EPSG:25832 with ``Content-Crs: <http://www.opengis.net/def/crs/EPSG/0/25832>``;
validation and storage are :mod:`klimakort.sites`.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Header, Path, Request, Response
from fastapi.responses import JSONResponse
from geojson_pydantic import Feature, MultiPolygon, Polygon
from pydantic import BaseModel, ConfigDict, Field

from klimakort.service import Workspace
from klimakort.sites import ReadOnlyError, SiteStore
from klimakort.sites.base import Site
from klimakort.sites.validate import CRS84_URI, YEAR_RANGE, site_from_feature, site_to_feature
from klimakort_api.deps import WorkspaceDep, WriteKey

COLLECTION = "planned_sites"
ITEMS = f"/collections/{COLLECTION}/items"
GEOJSON = "application/geo+json"

router = APIRouter(tags=["planned sites"])


class SiteProperties(BaseModel):
    """Properties of a planned site sent by a client."""

    model_config = ConfigDict(extra="allow")

    site_id: str | None = Field(
        None,
        description="unique id (letters, digits, . _ ~ -); generated (PS-<n>) when left out",
        examples=["PS-11"],
    )
    measure: str = Field(
        description=(
            "measure profile: miyawaki_forest, tree, tree_row, infiltration, "
            "retention_basin (climate_park), rain_garden"
        ),
        examples=["miyawaki_forest"],
    )
    name: str | None = Field(None, max_length=200, examples=["Miyawaki-skov i Bakkeparken"])
    planned_year: int | None = Field(
        None, description=f"year {YEAR_RANGE[0]}..{YEAR_RANGE[1]}", examples=[2028]
    )


class SiteOutProperties(SiteProperties):
    """Properties of a stored planned site."""

    site_id: str | None = Field(None, examples=["PS-11"])
    area_m2: float = Field(description="area of the site in m² (EPSG:25832)")


SiteFeature = Feature[Polygon | MultiPolygon, SiteProperties]
StoredSiteFeature = Feature[Polygon | MultiPolygon, SiteOutProperties]

ContentCrs = Annotated[
    str | None,
    Header(
        description=(
            "CRS of the body: none (CRS84 lon/lat) or <http://www.opengis.net/def/crs/EPSG/0/25832>"
        )
    ),
]
SiteId = Annotated[str, Path(description="site_id of the planned site")]

_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "missing or wrong X-API-Key"},
    404: {"description": "no such site, or the service serves no area"},
    409: {"description": "site_id taken, or the service is read-only"},
    422: {"description": "invalid geometry, CRS, measure, year or id (problem+json)"},
}


def _store(ws: Workspace) -> SiteStore:
    store = ws.sites
    if store is None or not isinstance(store, SiteStore):
        raise ReadOnlyError(
            "planned sites are read-only on this service: it was started without a site "
            "store (start it with `klimakort serve` so that it opens the area's "
            "planned-sites GeoPackage or KLIMAKORT_DATABASE_URL)"
        )
    return store


def _site(body: SiteFeature, ws: Workspace, content_crs: str | None, path_id: str | None) -> Site:
    return site_from_feature(
        body.model_dump(mode="json"),
        area_crs=ws.cfg.crs,
        bounds=ws.bounds,
        content_crs=content_crs,
        path_id=path_id,
    )


def _item_url(request: Request, site_id: str) -> str:
    return f"{str(request.base_url).rstrip('/')}{ITEMS}/{quote(site_id, safe='')}"


def _feature_response(
    request: Request, ws: Workspace, site: Site, status: int, *, location: bool = False
) -> JSONResponse:
    feature = site_to_feature(site, ws.cfg.crs)
    url = _item_url(request, str(site.site_id))
    feature["links"] = [
        {"href": url, "rel": "self", "type": GEOJSON, "title": "this planned site"},
        {
            "href": f"{str(request.base_url).rstrip('/')}/collections/{COLLECTION}",
            "rel": "collection",
            "type": "application/json",
        },
    ]
    headers = {"Content-Crs": f"<{CRS84_URI}>"}
    if location:
        headers["Location"] = url
    return JSONResponse(feature, status_code=status, media_type=GEOJSON, headers=headers)


@router.post(
    ITEMS,
    status_code=201,
    dependencies=[WriteKey],
    summary="Add a planned site",
    response_model=StoredSiteFeature,
    responses={201: {"content": {GEOJSON: {}}, "description": "the stored site"}, **_ERRORS},
)
def create_site(
    body: SiteFeature, request: Request, ws: WorkspaceDep, content_crs: ContentCrs = None
) -> JSONResponse:
    """Store a new planned site; answers 201 with its URL in ``Location`` and the stored
    Feature (CRS84, with ``area_m2``)."""
    site = _store(ws).create(_site(body, ws, content_crs, None))
    return _feature_response(request, ws, site, 201, location=True)


@router.put(
    ITEMS + "/{fid}",
    dependencies=[WriteKey],
    summary="Replace a planned site",
    response_model=StoredSiteFeature,
    responses={200: {"content": {GEOJSON: {}}, "description": "the stored site"}, **_ERRORS},
)
def replace_site(
    fid: SiteId,
    body: SiteFeature,
    request: Request,
    ws: WorkspaceDep,
    content_crs: ContentCrs = None,
) -> JSONResponse:
    """Replace the geometry and every property of a planned site (its id stays)."""
    store = _store(ws)
    site = store.replace(fid, _site(body, ws, content_crs, fid))
    return _feature_response(request, ws, site, 200)


@router.delete(
    ITEMS + "/{fid}",
    status_code=204,
    dependencies=[WriteKey],
    summary="Delete a planned site",
    responses=_ERRORS,
)
def delete_site(fid: SiteId, ws: WorkspaceDep) -> Response:
    """Delete a planned site."""
    _store(ws).delete(fid)
    return Response(status_code=204)
