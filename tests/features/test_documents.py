"""OGC documents, links, format negotiation, queryables and HTML pages."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import geopandas as gpd
import jsonschema
import numpy as np
import pandas as pd
import pytest
import shapely

from klimakort.errors import ParameterError
from klimakort.features import geojson, html, ogc
from klimakort.features.query import CRS84, FeatureIndex
from klimakort.features.queryables import queryables
from klimakort.service.catalog import COLLECTIONS

UTM = "http://www.opengis.net/def/crs/EPSG/0/25832"


@pytest.fixture
def frame() -> gpd.GeoDataFrame:
    n = 30
    return gpd.GeoDataFrame(
        {
            "scenario": pd.Series(["present", "2050", "2100"] * 10, dtype="str"),
            "depth_class": np.arange(n, dtype=np.int64) % 4,
            "area_m2": np.linspace(10, 300, n),
            "note": pd.Series([None] + [f"<b>n{i}</b>" for i in range(1, n)], dtype="str"),
            "ok": [True, False] * 15,
            "fid": [str(i) for i in range(1, n + 1)],
        },
        geometry=[shapely.box(712_000 + i, 6_168_000, 712_001 + i, 6_168_001) for i in range(n)],
        crs="EPSG:25832",
    )


def test_negotiate() -> None:
    assert ogc.negotiate(None, None) == "json"
    assert ogc.negotiate("html", "application/json") == "html"
    assert ogc.negotiate("JSON", "text/html") == "json"
    assert ogc.negotiate(None, "text/html,application/xhtml+xml,*/*;q=0.8") == "html"
    assert ogc.negotiate(None, "application/geo+json, text/html;q=0.5") == "json"
    with pytest.raises(ParameterError, match="f=json or f=html"):
        ogc.negotiate("xml", None)


def test_landing_and_conformance() -> None:
    doc = ogc.landing_page("http://h/api", "t", "d")
    rels = {lk["rel"] for lk in doc["links"]}
    assert {"self", "alternate", "service-desc", "service-doc", "conformance", "data"} <= rels
    hrefs = {lk["href"] for lk in doc["links"]}
    assert {"http://h/api/openapi.json", "http://h/api/collections", "http://h/api/map"} <= hrefs
    conf = ogc.conformance()["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core" in conf
    cql2 = "http://www.opengis.net/spec/cql2/1.0/conf/"
    for cls in ("cql2-text", "cql2-json", "basic-spatial-functions", "spatial-functions"):
        assert cql2 + cls in conf
    assert len(set(conf)) == len(conf)


def test_collection_document(frame: gpd.GeoDataFrame) -> None:
    idx = FeatureIndex("flooded_areas", 0, frame, UTM)
    doc = ogc.collection_document(
        "http://h", COLLECTIONS["flooded_areas"], idx, scenarios=["present", "2100"]
    )
    assert doc["id"] == "flooded_areas" and doc["title"].startswith("Oversvømmede")
    assert doc["title_en"] == "Flooded areas (cloudburst)"
    assert doc["crs"] == [CRS84, UTM] and doc["storageCrs"] == UTM
    assert doc["scenarios"] == ["present", "2100"]
    spatial = doc["extent"]["spatial"]
    assert spatial["storageCrsBbox"] == [[712_000.0, 6_168_000.0, 712_030.0, 6_168_001.0]]
    lon0, lat0, lon1, lat1 = spatial["bbox"][0]
    assert 12.0 < lon0 < lon1 < 13.0 and 55.0 < lat0 < lat1 < 56.0
    rels = {lk["rel"] for lk in doc["links"]}
    assert {"self", "items", "http://www.opengis.net/def/rel/ogc/1.0/queryables"} <= rels
    tiles = [lk for lk in doc["links"] if lk.get("templated")]
    assert tiles and tiles[0]["href"].endswith(
        "/flooded_areas/tiles/WebMercatorQuad/{z}/{x}/{y}.mvt"
    )
    lakes = ogc.collection_document("http://h", COLLECTIONS["lakes"], idx)
    assert not any(lk.get("templated") for lk in lakes["links"]) and "scenarios" not in lakes


@pytest.mark.parametrize(
    ("offset", "limit", "matched", "has_next", "has_prev"),
    [
        (0, 10, 25, True, False),
        (10, 10, 25, True, True),
        (20, 10, 25, False, True),
        (0, 10, 10, False, False),
        (0, 10, 0, False, False),
        (5, 10, 12, False, True),
    ],
)
def test_items_links(offset: int, limit: int, matched: int, has_next: bool, has_prev: bool) -> None:
    params = {"filter": "a = 'x y'", "offset": "99", "f": "json"}
    links = ogc.items_links(
        "http://h", "parcels", params, offset=offset, limit=limit, number_matched=matched
    )
    by_rel = {lk["rel"]: lk for lk in links}
    assert ("next" in by_rel) == has_next and ("prev" in by_rel) == has_prev
    for rel in ("self", "next", "prev"):
        if rel in by_rel:
            q = parse_qs(urlsplit(by_rel[rel]["href"]).query)
            assert q["filter"] == ["a = 'x y'"] and q["limit"] == [str(limit)]
            assert "f" not in q
    if has_next:
        assert parse_qs(urlsplit(by_rel["next"]["href"]).query)["offset"] == [str(offset + limit)]
    assert parse_qs(urlsplit(by_rel["alternate"]["href"]).query)["f"] == ["html"]
    html_links = ogc.items_links(
        "http://h", "parcels", params, offset=offset, limit=limit, number_matched=matched, html=True
    )
    assert all("f=html" in lk["href"] for lk in html_links if lk["rel"] in ("self", "next", "prev"))


def test_queryables_types_and_validation(frame: gpd.GeoDataFrame) -> None:
    doc = queryables(frame, schema_id="http://h/q", title="T")
    jsonschema.Draft202012Validator.check_schema(doc)
    props = doc["properties"]
    assert set(props) == {"geometry", "scenario", "depth_class", "area_m2", "note", "ok"}
    assert props["geometry"]["x-ogc-role"] == "primary-geometry"  # for S_INTERSECTS etc.
    assert props["depth_class"]["type"] == "integer"
    assert props["area_m2"]["type"] == "number"
    assert props["ok"]["type"] == "boolean"
    assert props["note"]["type"] == ["string", "null"]
    assert props["scenario"]["enum"] == ["2050", "2100", "present"]
    # every feature's properties validate against the schema
    validator = jsonschema.Draft202012Validator(doc)
    for feat in json.loads(geojson.features_json(frame)):
        validator.validate(feat["properties"])
    with pytest.raises(jsonschema.ValidationError):
        validator.validate({"depth_class": 1.5})


def test_html_pages_escape_and_link(frame: gpd.GeoDataFrame) -> None:
    feats = json.loads(geojson.features_json(frame.iloc[:3]))
    links = ogc.items_links("http://h", "x", {}, offset=0, limit=3, number_matched=30, html=True)
    page = html.items_html(
        "Titel <x>",
        feats,
        number_matched=30,
        offset=0,
        links=links,
        base="http://h",
        item_base="http://h/collections/x/items",
        json_href="http://h/collections/x/items?limit=3",
    )
    assert page.startswith("<!DOCTYPE html>") and 'lang="da"' in page
    assert "<b>n1</b>" not in page and "&lt;b&gt;n1&lt;/b&gt;" in page
    assert "Titel &lt;x&gt;" in page and "Viser 1–3 af 30 objekter" in page
    assert "Næste »" in page and "Forrige" not in page
    assert 'href="http://h/collections/x/items/2?f=html"' in page
    assert "<script" not in page and "http://" not in page.split("<body>")[0]
    one = html.item_html("Et objekt", {**feats[0], "links": []}, base="http://h")
    assert "Egenskab" in one and "scenario" in one
    landing = html.landing_html(ogc.landing_page("http://h", "K", "D"), "http://h")
    assert "http://h/openapi.json" in landing
