"""OGC API - Features documents (landing page, conformance, collections) as plain dicts.

Every function takes the service's base URL (``http://host/prefix``, no trailing
slash) and returns JSON-ready dicts; HTTP lives in ``api/``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlencode

from klimakort.errors import ParameterError
from klimakort.features.geojson import GEOJSON
from klimakort.features.query import CRS84, FeatureIndex
from klimakort.features.queryables import SCHEMA_JSON
from klimakort.service.catalog import Collection

JSON = "application/json"
HTML = "text/html"
OPENAPI_JSON = "application/vnd.oai.openapi+json;version=3.1"
MVT = "application/vnd.mapbox-vector-tile"

_F1 = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/"
_F2 = "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/"
_F3 = "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/"
_CQL2 = "http://www.opengis.net/spec/cql2/1.0/conf/"

#: conformance classes implemented (OpenAPI 3.0 is not claimed: the API serves 3.1)
CONFORMANCE: tuple[str, ...] = (
    _F1 + "core",
    _F1 + "geojson",
    _F1 + "html",
    _F2 + "crs",
    _F3 + "queryables",
    _F3 + "filter",
    _F3 + "features-filter",
    _CQL2 + "cql2-text",
    _CQL2 + "cql2-json",
    _CQL2 + "basic-cql2",
    _CQL2 + "advanced-comparison-operators",
    _CQL2 + "basic-spatial-functions",
    _CQL2 + "basic-spatial-functions-plus",
    _CQL2 + "spatial-functions",
)

#: collections the vector-tile router serves
MVT_COLLECTIONS: frozenset[str] = frozenset({"parcels", "flooded_areas"})


def negotiate(f: str | None, accept: str | None) -> str:
    """``"json"`` or ``"html"``: the ``f`` parameter first, else the Accept header
    (HTML only when it asks for ``text/html`` and no JSON, as browsers do).

    Raises
    ------
    ParameterError
        ``f`` is neither ``json`` nor ``html``.
    """
    if f:
        fmt = f.strip().lower()
        if fmt in ("json", "geojson"):
            return "json"
        if fmt == "html":
            return "html"
        raise ParameterError(f"f={f!r} is not supported; use f=json or f=html")
    acc = (accept or "").lower()
    return "html" if "text/html" in acc and "json" not in acc else "json"


def link(href: str, rel: str, type_: str, title: str, **extra: Any) -> dict[str, Any]:
    """One OGC link object."""
    return {"href": href, "rel": rel, "type": type_, "title": title, **extra}


def url(base: str, path: str, params: Mapping[str, Any] | None = None) -> str:
    """``base + path`` with the non-empty ``params`` as query string."""
    query = {k: v for k, v in (params or {}).items() if v is not None and v != ""}
    return base + path + (("?" + urlencode(query)) if query else "")


def landing_page(base: str, title: str, description: str) -> dict[str, Any]:
    """The landing page (``/``)."""
    return {
        "title": title,
        "description": description,
        "links": [
            link(url(base, "/"), "self", JSON, "Denne side (JSON)"),
            link(url(base, "/", {"f": "html"}), "alternate", HTML, "Denne side (HTML)"),
            link(url(base, "/openapi.json"), "service-desc", OPENAPI_JSON, "API-beskrivelse"),
            link(url(base, "/docs"), "service-doc", HTML, "API-dokumentation"),
            link(url(base, "/conformance"), "conformance", JSON, "Overensstemmelsesklasser"),
            link(url(base, "/collections"), "data", JSON, "Vektordata (samlinger)"),
            link(url(base, "/rasters"), "data", JSON, "Rasterlag (kortfliser)"),
            link(url(base, "/map"), "related", HTML, "Kort"),
        ],
    }


def conformance() -> dict[str, Any]:
    """The conformance declaration (``/conformance``)."""
    return {"conformsTo": list(CONFORMANCE)}


def collection_document(
    base: str,
    info: Collection,
    index: FeatureIndex,
    *,
    scenarios: list[str] | None = None,
) -> dict[str, Any]:
    """The description of one collection (``/collections/{cid}``).

    Parameters
    ----------
    base : str
        Base URL of the service.
    info : Collection
        Catalogue entry.
    index : FeatureIndex
        The collection's features (for the extent).
    scenarios : list of str, optional
        Scenario names, listed for scenario-dependent collections.
    """
    cid = quote(info.id, safe="")
    path = f"/collections/{cid}"
    storage = index.storage_uri
    links = [
        link(url(base, path), "self", JSON, "Denne samling (JSON)"),
        link(url(base, path, {"f": "html"}), "alternate", HTML, "Denne samling (HTML)"),
        link(url(base, path + "/items"), "items", GEOJSON, "Objekter (GeoJSON)"),
        link(url(base, path + "/items", {"f": "html"}), "items", HTML, "Objekter (HTML)"),
        link(
            url(base, path + "/queryables"),
            "http://www.opengis.net/def/rel/ogc/1.0/queryables",
            SCHEMA_JSON,
            "Egenskaber der kan filtreres på",
        ),
    ]
    if info.id in MVT_COLLECTIONS:
        links.append(
            link(
                base + path + "/tiles/WebMercatorQuad/{z}/{x}/{y}.mvt",
                "http://www.opengis.net/def/rel/ogc/1.0/tiles-vector",
                MVT,
                "Vektorfliser (Mapbox Vector Tiles, WebMercatorQuad)",
                templated=True,
            )
        )
    description = info.description or info.title.get("en", "")
    doc: dict[str, Any] = {
        "id": info.id,
        "title": info.title.get("da", info.id),
        "title_en": info.title.get("en", info.id),
        "description": f"{info.title.get('en', '')}: {description}".strip(": "),
        "keywords": list(info.keywords),
        "itemType": "feature",
        "crs": [CRS84, storage],
        "storageCrs": storage,
        "extent": _extent(index),
        "editable": info.editable,
        "links": links,
    }
    if info.scenario_dependent and scenarios:
        doc["scenarios"] = list(scenarios)
    return doc


def _extent(index: FeatureIndex) -> dict[str, Any]:
    """Spatial extent in CRS84, plus the same in the storage CRS."""
    b84 = index.extent(CRS84)
    native = index.extent(index.storage_uri)
    spatial: dict[str, Any] = {"bbox": [b84] if b84 else [], "crs": CRS84}
    if native:
        spatial["storageCrsBbox"] = [native]
        spatial["storageCrs"] = index.storage_uri
    return {"spatial": spatial}


def collections_document(
    base: str, collections: list[dict[str, Any]], crs: list[str]
) -> dict[str, Any]:
    """The list of collections (``/collections``)."""
    return {
        "links": [
            link(url(base, "/collections"), "self", JSON, "Samlinger (JSON)"),
            link(url(base, "/collections", {"f": "html"}), "alternate", HTML, "Samlinger (HTML)"),
        ],
        "crs": crs,
        "collections": collections,
    }


def items_links(
    base: str,
    cid: str,
    params: Mapping[str, Any],
    *,
    offset: int,
    limit: int,
    number_matched: int,
    html: bool = False,
) -> list[dict[str, Any]]:
    """self/alternate/collection/next/prev links of an items page.

    ``params`` are the request's query parameters (``offset``, ``limit`` and ``f`` are
    replaced). ``next`` is there only when more features remain, ``prev`` only after
    the first page; both (and ``self``) are in the page's own format (HTML when
    ``html``).
    """
    path = f"/collections/{quote(cid, safe='')}/items"
    keep = {k: v for k, v in params.items() if k not in ("offset", "limit", "f")}
    own, own_type, other, other_type = (
        ("html", HTML, None, GEOJSON) if html else (None, GEOJSON, "html", HTML)
    )

    def page(off: int, f: str | None) -> str:
        return url(base, path, {**keep, "limit": limit, "offset": off or None, "f": f})

    links = [
        link(page(offset, own), "self", own_type, "Denne side"),
        link(page(offset, other), "alternate", other_type, "Denne side i andet format"),
        link(url(base, f"/collections/{quote(cid, safe='')}"), "collection", JSON, "Samlingen"),
    ]
    if offset + limit < number_matched:
        links.append(link(page(offset + limit, own), "next", own_type, "Næste side"))
    if offset > 0:
        links.append(link(page(max(0, offset - limit), own), "prev", own_type, "Forrige side"))
    return links


def item_links(base: str, cid: str, fid: str) -> list[dict[str, Any]]:
    """self/alternate/collection links of one feature."""
    coll = f"/collections/{quote(cid, safe='')}"
    path = f"{coll}/items/{quote(fid, safe='')}"
    return [
        link(url(base, path), "self", GEOJSON, "Dette objekt (GeoJSON)"),
        link(url(base, path, {"f": "html"}), "alternate", HTML, "Dette objekt (HTML)"),
        link(url(base, coll), "collection", JSON, "Samlingen"),
    ]
