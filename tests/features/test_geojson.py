"""GeoJSON encoding: geometry texts, properties (missing -> null), ids, collections."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from klimakort.features import geojson

WKTS = [
    "POINT (1.5 2)",
    "POINT Z (1 2 3)",
    "MULTIPOINT ((1 2), (3 4))",
    "LINESTRING (1 2, 3 4, -5.25 6)",
    "MULTILINESTRING ((0 0, 1e-09 1), (2 2, 3 3))",
    "POLYGON ((0 0, 1 0, 1 1, 0 0), (0.1 0.1, 0.2 0.1, 0.2 0.2, 0.1 0.1))",
    "MULTIPOLYGON (((0 0, 1 0, 1 1, 0 0)), "
    "((5 5, 6 5, 6 6, 5 5), (5.1 5.1, 5.2 5.1, 5.2 5.2, 5.1 5.1)))",
    "GEOMETRYCOLLECTION (POINT (1 2), LINESTRING (0 0, 1 1))",
]


@pytest.mark.parametrize("wkt", WKTS)
def test_geometry_strings_equal_geos_geojson(wkt: str) -> None:
    geom = shapely.from_wkt(wkt)
    (text,) = geojson.geometry_strings(np.array([geom]), 7)
    assert json.loads(text) == json.loads(shapely.to_geojson(geom))


def test_geometry_strings_round_and_stay_short() -> None:
    geoms = np.array([shapely.Point(12.370109049, 55.63799560000000012), None, shapely.Polygon()])
    texts = geojson.geometry_strings(geoms, 7)
    assert texts[0] == '{"type":"Point","coordinates":[12.370109,55.6379956]}'
    assert texts[1] == "null"
    assert json.loads(texts[2]) == {"type": "Polygon", "coordinates": []}


coord = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)


@settings(max_examples=60, deadline=None)
@given(
    pts=st.lists(st.tuples(coord, coord), min_size=3, max_size=12),
    kind=st.sampled_from(["line", "multiline", "multipoint", "polygon"]),
    decimals=st.integers(0, 7),
)
def test_random_geometries_round_like_numpy(
    pts: list[tuple[float, float]], kind: str, decimals: int
) -> None:
    arr = np.asarray(pts)
    geom: shapely.Geometry
    if kind == "line":
        geom = shapely.LineString(arr)
    elif kind == "multiline":
        geom = shapely.MultiLineString([arr, arr[::-1] + 1])
    elif kind == "multipoint":
        geom = shapely.MultiPoint(arr)
    else:
        geom = shapely.Polygon(np.vstack([arr, arr[:1]]))
    (text,) = geojson.geometry_strings(np.array([geom]), decimals)
    got = json.loads(text)
    ref = json.loads(shapely.to_geojson(geom))
    assert got["type"] == ref["type"]
    a = np.asarray(_flatten(got["coordinates"]), dtype=float)
    b = np.asarray(_flatten(ref["coordinates"]), dtype=float)
    assert a.shape == b.shape
    np.testing.assert_allclose(a, b, rtol=0, atol=0.5 * 10.0**-decimals * (1 + 1e-9) + 1e-9)


def _flatten(c: object) -> list[float]:
    if isinstance(c, list):
        return [v for x in c for v in _flatten(x)]
    return [float(c)]  # type: ignore[arg-type]


@pytest.fixture
def frame() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "name": pd.Series(["Skole", None, 'quote " and \\'], dtype="str"),
            "depth": [0.25, np.nan, np.inf],
            "n": np.array([1, 2, 3], dtype=np.int64),
            "nullable": pd.array([1, None, 3], dtype="Int64"),
            "ok": [True, False, True],
            "when": pd.to_datetime(
                np.array(["2024-01-02T03:04:05", "NaT", "2025-01-01"], dtype="datetime64[s]")
            ),
            "fid": ["a", "b", "c"],
        },
        geometry=[shapely.Point(1, 2), shapely.box(0, 0, 1, 1), None],
        crs="EPSG:25832",
    )


def test_features_json_ids_properties_and_nulls(frame: gpd.GeoDataFrame) -> None:
    feats = json.loads(geojson.features_json(frame))
    assert [f["id"] for f in feats] == ["a", "b", "c"]
    assert all(f["type"] == "Feature" and "fid" not in f["properties"] for f in feats)
    assert feats[0]["properties"] == {
        "name": "Skole",
        "depth": 0.25,
        "n": 1,
        "nullable": 1,
        "ok": True,
        "when": "2024-01-02T03:04:05",
    }
    assert feats[1]["properties"]["name"] is None
    assert feats[1]["properties"]["depth"] is None
    assert feats[1]["properties"]["nullable"] is None
    assert feats[1]["properties"]["when"] is None
    assert feats[2]["properties"]["depth"] is None  # infinity is not JSON
    assert feats[2]["properties"]["name"] == 'quote " and \\'
    assert feats[2]["geometry"] is None
    # same as the per-feature path and as geopandas' own encoder (properties)
    assert feats == [json.loads(s) for s in geojson.feature_strings(frame)]
    ref = json.loads(frame.drop(columns="when").to_json(na="null", drop_id=True))
    for f, r in zip(feats, ref["features"], strict=True):
        props = {k: v for k, v in f["properties"].items() if k != "when"}
        rprops = {k: v for k, v in r["properties"].items() if k != "fid"}
        if f["id"] == "c":  # geopandas writes inf as a number-ish; klimakort writes null
            rprops["depth"] = None
        assert props == rprops


def test_projected_output_rounds_to_mm() -> None:
    gdf = gpd.GeoDataFrame(
        {"fid": ["1"]}, geometry=[shapely.Point(712000.123456, 6168000.98765)], crs="EPSG:25832"
    )
    (f,) = json.loads(geojson.features_json(gdf))
    assert f["geometry"]["coordinates"] == [712000.123, 6168000.988]


def test_slot_marker_in_properties_falls_back(frame: gpd.GeoDataFrame) -> None:
    weird = frame.assign(name=[geojson._GEOM_SLOT, "x", "y"])
    feats = json.loads(geojson.features_json(weird))
    assert feats[0]["properties"]["name"] == geojson._GEOM_SLOT
    assert feats[0]["geometry"] == {"type": "Point", "coordinates": [1, 2]}


def test_feature_collection_and_single_feature(frame: gpd.GeoDataFrame) -> None:
    text = geojson.feature_collection_json(
        geojson.features_json(frame.iloc[:2]), numberMatched=3, numberReturned=2, links=[]
    )
    doc = json.loads(text)
    assert doc["type"] == "FeatureCollection" and len(doc["features"]) == 2
    assert doc["numberMatched"] == 3 and doc["numberReturned"] == 2 and doc["links"] == []
    one = json.loads(geojson.feature_json(frame.iloc[[1]], links=[{"href": "x", "rel": "self"}]))
    assert one["id"] == "b" and one["links"][0]["rel"] == "self"
    empty = json.loads(geojson.feature_collection_json(geojson.features_json(frame.iloc[:0])))
    assert empty["features"] == []
