"""OGC API - Features over the small sample area (landing, collections, items, errors)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jsonschema
import pytest
from fastapi.testclient import TestClient
from pyproj import Transformer

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
UTM = "http://www.opengis.net/def/crs/EPSG/0/25832"
PROBLEM = "application/problem+json"

# a minimal GeoJSON schema: enough to catch structural mistakes in the encoder
_POSITION = {"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 3}
_GEOMETRY = {
    "type": ["object", "null"],
    "required": ["type", "coordinates"],
    "properties": {
        "type": {
            "enum": [
                "Point",
                "MultiPoint",
                "LineString",
                "MultiLineString",
                "Polygon",
                "MultiPolygon",
            ]
        },
        "coordinates": {"type": "array"},
    },
}
_FEATURE = {
    "type": "object",
    "required": ["type", "id", "geometry", "properties"],
    "properties": {
        "type": {"const": "Feature"},
        "id": {"type": "string"},
        "geometry": _GEOMETRY,
        "properties": {"type": "object", "not": {"required": ["fid"]}},
    },
}
_COLLECTION = {
    "type": "object",
    "required": ["type", "features", "numberMatched", "numberReturned", "timeStamp", "links"],
    "properties": {
        "type": {"const": "FeatureCollection"},
        "features": {"type": "array", "items": _FEATURE},
        "numberMatched": {"type": "integer", "minimum": 0},
        "numberReturned": {"type": "integer", "minimum": 0},
    },
}


def _depth(c: object) -> int:
    return 1 + _depth(c[0]) if isinstance(c, list) and c else 0


def _first_position(c: list) -> tuple[float, float]:
    while isinstance(c[0], list):
        c = c[0]
    return float(c[0]), float(c[1])


def check_geometry(g: dict) -> None:
    want = {
        "Point": 1,
        "MultiPoint": 2,
        "LineString": 2,
        "MultiLineString": 3,
        "Polygon": 3,
        "MultiPolygon": 4,
    }[g["type"]]
    assert _depth(g["coordinates"]) == want, g["type"]


def get_items(client: TestClient, cid: str, **params: Any) -> dict:
    r = client.get(f"/collections/{cid}/items", params=params)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/geo+json")
    doc = r.json()
    jsonschema.validate(doc, _COLLECTION)
    return doc


def test_landing_and_conformance(client: TestClient) -> None:
    doc = client.get("/").json()
    rels = {lk["rel"]: lk["href"] for lk in doc["links"]}
    for rel in ("self", "service-desc", "service-doc", "conformance", "data"):
        assert rel in rels
    assert client.get(urlsplit(rels["service-desc"]).path).status_code == 200
    assert client.get(urlsplit(rels["conformance"]).path).status_code == 200
    conf = client.get("/conformance").json()["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson" in conf
    assert "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter" in conf
    r = client.get("/", headers={"Accept": "text/html"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")


def test_every_collection_answers(client: TestClient, workspace) -> None:  # type: ignore[no-untyped-def]
    doc = client.get("/collections").json()
    ids = [c["id"] for c in doc["collections"]]
    assert ids == list(workspace.collections)
    assert {"parcels", "flooded_areas", "bluespots"} <= set(ids)
    for c in doc["collections"]:
        assert c["storageCrs"] == UTM and CRS84 in c["crs"]
        one = client.get(f"/collections/{c['id']}").json()
        assert one["id"] == c["id"] and one["extent"] == c["extent"]
        page = get_items(client, c["id"], limit=3)
        n = len(workspace.features(c["id"]))
        assert page["numberMatched"] == n and page["numberReturned"] == min(3, n)
        for f in page["features"]:
            check_geometry(f["geometry"])
            lon, lat = _first_position(f["geometry"]["coordinates"])
            assert 12.0 < lon < 13.0 and 55.0 < lat < 56.0  # CRS84 by default
        q = client.get(f"/collections/{c['id']}/queryables")
        assert q.headers["content-type"].startswith("application/schema+json")
        jsonschema.Draft202012Validator.check_schema(q.json())
        validator = jsonschema.Draft202012Validator(q.json())
        for f in page["features"]:
            validator.validate(f["properties"])


def test_paging_with_next_links(client: TestClient) -> None:
    first = get_items(client, "bluespots", limit=300)
    total = first["numberMatched"]
    assert total > 600
    ids = [f["id"] for f in first["features"]]
    doc = first
    pages = 1
    while True:
        nxt = [lk["href"] for lk in doc["links"] if lk["rel"] == "next"]
        if not nxt:
            break
        u = urlsplit(nxt[0])
        r = client.get(u.path, params={k: v[0] for k, v in parse_qs(u.query).items()})
        doc = r.json()
        assert doc["numberMatched"] == total
        assert any(lk["rel"] == "prev" for lk in doc["links"])
        ids += [f["id"] for f in doc["features"]]
        pages += 1
    assert pages == -(-total // 300)
    assert len(ids) == total and len(set(ids)) == total
    whole = get_items(client, "bluespots", limit=10_000)
    assert ids == [f["id"] for f in whole["features"]]


def test_bbox_in_both_crs(client: TestClient) -> None:
    box = (713_000.0, 6_169_000.0, 714_000.0, 6_170_000.0)
    utm = get_items(
        client, "parcels", bbox=",".join(map(str, box)), **{"bbox-crs": UTM}, limit=10_000
    )
    ids_utm = {f["id"] for f in utm["features"]}
    assert 0 < len(ids_utm) == utm["numberMatched"] < c_count(client, "parcels")
    tr = Transformer.from_crs("EPSG:25832", "OGC:CRS84", always_xy=True)
    env = tr.transform_bounds(*box, densify_pts=21)  # lon/lat envelope contains the box
    lonlat = get_items(client, "parcels", bbox=",".join(map(str, env)), limit=10_000)
    ids84 = {f["id"] for f in lonlat["features"]}
    assert ids_utm <= ids84
    # the UTM envelope of the lon/lat box holds everything the lon/lat query found
    back = Transformer.from_crs("OGC:CRS84", "EPSG:25832", always_xy=True)
    env_utm = back.transform_bounds(*env, densify_pts=21)
    wide = get_items(
        client, "parcels", bbox=",".join(map(str, env_utm)), **{"bbox-crs": UTM}, limit=10_000
    )
    assert ids84 <= {f["id"] for f in wide["features"]}
    # a box around the whole area gives every parcel in both CRSs
    c = client.get("/collections/parcels").json()["extent"]["spatial"]
    all84 = get_items(client, "parcels", bbox=",".join(map(str, c["bbox"][0])), limit=1)
    allutm = get_items(
        client,
        "parcels",
        bbox=",".join(map(str, c["storageCrsBbox"][0])),
        **{"bbox-crs": UTM},
        limit=1,
    )
    assert all84["numberMatched"] == allutm["numberMatched"] == c_count(client, "parcels")


def c_count(client: TestClient, cid: str) -> int:
    return int(get_items(client, cid, limit=1)["numberMatched"])


def test_output_crs(client: TestClient) -> None:
    r = client.get("/collections/parcels/items", params={"limit": 2, "crs": UTM})
    assert r.headers["content-crs"] == f"<{UTM}>"
    x, y = r.json()["features"][0]["geometry"]["coordinates"][0][0]
    assert 700_000 < x < 730_000 and 6_160_000 < y < 6_180_000
    r84 = client.get("/collections/parcels/items", params={"limit": 2})
    assert r84.headers["content-crs"] == f"<{CRS84}>"
    lon, lat = r84.json()["features"][0]["geometry"]["coordinates"][0][0]
    tr = Transformer.from_crs("EPSG:25832", "OGC:CRS84", always_xy=True)
    elon, elat = tr.transform(x, y)
    assert abs(lon - elon) < 2e-7 and abs(lat - elat) < 2e-7


def test_filter_on_flooded_areas(client: TestClient, workspace) -> None:  # type: ignore[no-untyped-def]
    doc = get_items(
        client,
        "flooded_areas",
        filter="scenario='2100' AND depth_class >= 2",
        **{"filter-lang": "cql2-text"},
        limit=10_000,
    )
    gdf = workspace.features("flooded_areas")
    expected = gdf[(gdf["scenario"] == "2100") & (gdf["depth_class"] >= 2)]
    assert doc["numberMatched"] == len(expected) > 0
    assert [f["id"] for f in doc["features"]] == expected["fid"].tolist()
    assert all(f["properties"]["scenario"] == "2100" for f in doc["features"])


UTM = "http://www.opengis.net/def/crs/EPSG/0/25832"


def _wkt_polygon(coords: list[tuple[float, float]]) -> str:
    ring = ", ".join(f"{x:.3f} {y:.3f}" for x, y in [*coords, coords[0]])
    return f"POLYGON(({ring}))"


def test_spatial_filters_match_shapely(client: TestClient, workspace) -> None:  # type: ignore[no-untyped-def]
    import shapely

    gdf = workspace.features("parcels")
    x0, y0, x1, y1 = gdf.total_bounds
    cx, cy, w = (x0 + x1) / 2, (y0 + y1) / 2, (x1 - x0) / 5
    tri = [(cx - w, cy - w / 2), (cx + w, cy - w / 3), (cx, cy + w)]
    poly = shapely.Polygon(tri)
    geoms = gdf.geometry.to_numpy()
    for op, predicate in (
        ("S_INTERSECTS", shapely.intersects),
        ("S_WITHIN", shapely.within),
        ("S_DISJOINT", shapely.disjoint),
    ):
        text = f"{op}(geometry, {_wkt_polygon(tri)})"
        doc = get_items(client, "parcels", filter=text, **{"filter-crs": UTM}, limit=10_000)
        expected = gdf["fid"][predicate(geoms, poly)].tolist()
        assert doc["numberMatched"] == len(expected) > 10, op
        assert [f["id"] for f in doc["features"]] == expected, op
    # CQL2-JSON, the literal first, with a property filter and a bbox on top
    as_json = {
        "op": "and",
        "args": [
            {
                "op": "s_contains",
                "args": [shapely.geometry.mapping(poly), {"property": "geometry"}],
            },
            {"op": ">", "args": [{"property": "area_m2"}, 800]},
        ],
    }
    box = (cx - w, cy - w, cx, cy + w)
    doc = get_items(
        client,
        "parcels",
        filter=json.dumps(as_json),
        **{"filter-lang": "cql2-json", "filter-crs": UTM, "bbox-crs": UTM},
        bbox=",".join(map(str, box)),
        limit=10_000,
    )
    keep = shapely.within(geoms, poly) & (gdf["area_m2"] > 800).to_numpy()
    keep &= shapely.intersects(geoms, shapely.box(*box))
    assert [f["id"] for f in doc["features"]] == gdf["fid"][keep].tolist()
    assert 0 < doc["numberMatched"] < int(shapely.within(geoms, poly).sum())


def test_spatial_filter_in_crs84(client: TestClient, workspace) -> None:  # type: ignore[no-untyped-def]
    import shapely

    gdf = workspace.features("parcels").to_crs("OGC:CRS84")
    box = (12.385, 55.62, 12.40, 55.63)
    doc = get_items(
        client,
        "parcels",
        filter=f"S_WITHIN(geometry, BBOX({','.join(map(str, box))}))",
        limit=10_000,
    )
    expected = gdf["fid"][shapely.within(gdf.geometry.to_numpy(), shapely.box(*box))].tolist()
    assert [f["id"] for f in doc["features"]] == expected and len(expected) > 10
    # bbox= selects the parcels that intersect it: a superset, equal to S_INTERSECTS
    both = get_items(client, "parcels", bbox=",".join(map(str, box)), limit=10_000)
    assert set(expected) < {f["id"] for f in both["features"]}
    same = get_items(
        client,
        "parcels",
        filter=json.dumps(
            {"op": "s_intersects", "args": [{"property": "geometry"}, {"bbox": box}]}
        ),
        **{"filter-lang": "cql2-json"},
        limit=10_000,
    )
    assert [f["id"] for f in same["features"]] == [f["id"] for f in both["features"]]


def test_single_item(client: TestClient, workspace) -> None:  # type: ignore[no-untyped-def]
    fid = workspace.features("institutions")["fid"].iloc[1]  # a name with Danish letters
    page = get_items(client, "institutions", limit=10)
    href = next(f for f in page["features"] if f["id"] == fid)
    r = client.get(f"/collections/institutions/items/{fid}")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/geo+json")
    one = r.json()
    assert one["id"] == fid and one["properties"] == href["properties"]
    assert one["geometry"]["type"] == "Point"
    self_link = next(lk["href"] for lk in one["links"] if lk["rel"] == "self")
    assert client.get(urlsplit(self_link).path).json()["id"] == fid
    etag = r.headers["etag"]
    again = client.get(f"/collections/institutions/items/{fid}", headers={"If-None-Match": etag})
    assert again.status_code == 304
    missing = client.get("/collections/institutions/items/nope")
    assert missing.status_code == 404 and missing.headers["content-type"] == PROBLEM


def test_html_pages(client: TestClient) -> None:
    for path in (
        "/collections",
        "/collections/parcels",
        "/collections/parcels/items",
        "/collections/parcels/items/" + get_items(client, "parcels", limit=1)["features"][0]["id"],
    ):
        r = client.get(path, params={"f": "html"})
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/html"), path
        assert "<table>" in r.text and "Som JSON" in r.text
    r = client.get("/collections/parcels/items", headers={"Accept": "text/html"})
    assert r.headers["content-type"].startswith("text/html") and "Næste" in r.text


# OGC API - Features Part 1 (/req/core/query-param-invalid): an invalid query parameter
# answers 400 on every OGC route (other routes keep FastAPI's 422)
@pytest.mark.parametrize(
    ("path", "params", "status", "detail"),
    [
        ("/collections/nope", {}, 404, "parcels"),
        ("/collections/nope/items", {}, 404, "parcels"),
        ("/collections/parcels/items", {"bbox": "1,2,3"}, 400, "4 comma-separated numbers"),
        ("/collections/parcels/items", {"bbox": "12.4,55.6,12.3,55.7"}, 400, "minimum is above"),
        ("/collections/parcels/items", {"bbox": "12.3,55.6,12.4,95"}, 400, "outside the range"),
        ("/collections/parcels/items", {"bbox": "0,40,20,60"}, 413, "km²"),
        ("/collections/parcels/items", {"limit": 10_001}, 400, "between 1 and 10000"),
        ("/collections/parcels/items", {"limit": 0}, 400, "between 1 and 10000"),
        ("/collections/parcels/items", {"offset": -1}, 400, "0 or more"),
        ("/collections/parcels/items", {"limit": "many"}, 400, "limit"),
        ("/collections/parcels/items", {"crs": "EPSG:4326"}, 400, "use one of"),
        (
            "/collections/parcels/items",
            {"bbox-crs": "EPSG:3857", "bbox": "1,2,3,4"},
            400,
            "use one of",
        ),
        ("/collections/parcels/items", {"filter": "area_m2 >"}, 400, "position"),
        ("/collections/parcels/items", {"filter": "colour = 'red'"}, 400, "queryables are"),
        (
            "/collections/parcels/items",
            {"filter": "a=1", "filter-lang": "ecql"},
            400,
            "cql2-text",
        ),
        ("/collections/parcels/items", {"f": "xml"}, 400, "f=json or f=html"),
        ("/collections/parcels/items", {"filter-crs": "EPSG:3857"}, 400, "use one of"),
        (
            "/collections/parcels/items",
            {"filter": "S_INTERSECTS(geometry, POINT(1))"},
            400,
            "not valid WKT",
        ),
        (
            "/collections/parcels/items",
            {"filter": '{"op": "=", "args": [1]}', "filter-lang": "cql2-json"},
            400,
            "takes 2 arguments",
        ),
        (
            "/collections/parcels/items",
            {"filter": "S_INTERSECTS(area_m2, POINT(1 2))"},
            400,
            "is not one",
        ),
        ("/collections/parcels/items/does-not-exist", {}, 404, "does-not-exist"),
        ("/collections/parcels/items/x", {"crs": "EPSG:3857"}, 400, "use one of"),
        ("/", {"f": "xml"}, 400, "f=json or f=html"),
        ("/conformance", {"f": "pdf"}, 400, "f=json or f=html"),
        ("/collections", {"f": "xml"}, 400, "f=json or f=html"),
    ],
)
def test_errors_are_problem_json(
    client: TestClient,
    path: str,
    params: dict,
    status: int,
    detail: str,
) -> None:
    r = client.get(path, params=params)
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == PROBLEM
    assert detail in r.json()["detail"]


def test_invalid_parameters_are_400_only_on_ogc_routes(client: TestClient) -> None:
    """A FastAPI validation error: 400 on an OGC route, 422 elsewhere (both problem+json)."""
    ogc = client.get("/collections/parcels/items", params={"offset": "x"})
    other = client.get("/point", params={"x": "abc", "y": 1})
    assert (ogc.status_code, other.status_code) == (400, 422)
    assert ogc.headers["content-type"] == other.headers["content-type"] == PROBLEM
    assert "offset" in ogc.json()["detail"] and ogc.json()["status"] == 400


def test_openapi_declares_400_on_ogc_routes(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    ogc = ["/", "/conformance", "/collections", "/collections/{cid}", "/collections/{cid}/items"]
    ogc += ["/collections/{cid}/items/{fid}", "/collections/{cid}/queryables"]
    for path in ogc:
        responses = paths[path]["get"]["responses"]
        assert PROBLEM in responses["400"]["content"], path
        assert "422" not in responses, path
    assert "422" in paths["/point"]["get"]["responses"]


def test_items_etag_and_revalidation(client: TestClient) -> None:
    r = client.get("/collections/lakes/items")
    assert r.status_code == 200 and r.headers["etag"]
    r2 = client.get("/collections/lakes/items", headers={"If-None-Match": r.headers["etag"]})
    assert r2.status_code == 304
    r3 = client.get(
        "/collections/lakes/items",
        params={"limit": 5},
        headers={"If-None-Match": r.headers["etag"]},
    )
    assert r3.status_code == 200 and json.loads(r3.text)["type"] == "FeatureCollection"
