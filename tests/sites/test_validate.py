"""Validation of planned sites sent by clients (klimakort.sites.validate)."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import Transformer

from klimakort.errors import CRSError, GeometryError, ParameterError
from klimakort.sites.base import Site, next_site_id
from klimakort.sites.validate import (
    CRS84_URI,
    check_site,
    known_measures,
    parse_content_crs,
    site_from_feature,
    site_to_feature,
)

AREA = "EPSG:25832"
BOUNDS = (700_000.0, 6_169_200.0, 701_000.0, 6_170_000.0)
EPSG_URI = "http://www.opengis.net/def/crs/EPSG/0/25832"
TO_LONLAT = Transformer.from_crs(AREA, "OGC:CRS84", always_xy=True)


def lonlat(geom: shapely.Geometry) -> dict[str, Any]:
    """A GeoJSON geometry in CRS84 of an EPSG:25832 geometry (independent of the module)."""
    out = shapely.transform(geom, lambda xy: np.column_stack(TO_LONLAT.transform(*xy.T)))
    return dict(json.loads(shapely.to_geojson(out)))


def feature(geometry: Any, **props: Any) -> dict[str, Any]:
    return {"type": "Feature", "geometry": geometry, "properties": props}


def metres(geom: shapely.Geometry) -> dict[str, Any]:
    return dict(json.loads(shapely.to_geojson(geom)))


def parse(feat: dict[str, Any], **kw: Any) -> Site:
    return site_from_feature(feat, area_crs=AREA, bounds=BOUNDS, **kw)


BOX = shapely.box(700_100, 6_169_500, 700_120, 6_169_513)  # 260 m²


def test_crs84_feature_is_reprojected_to_the_area_crs() -> None:
    site = parse(feature(lonlat(BOX), measure="miyawaki_forest", name=" Skov ", planned_year=2030))
    assert site.site_id is None and site.measure == "miyawaki_forest"
    assert site.name == "Skov" and site.planned_year == 2030
    assert shapely.hausdorff_distance(site.geometry, BOX) < 1e-3
    assert site.area_m2 == pytest.approx(260.0, abs=0.01)


def test_area_crs_with_content_crs_header_is_taken_as_is() -> None:
    for header in (f"<{EPSG_URI}>", EPSG_URI, "EPSG:25832"):
        site = parse(feature(metres(BOX), measure="tree"), content_crs=header)
        assert shapely.equals(site.geometry, BOX)


def test_content_crs_parsing() -> None:
    assert parse_content_crs(None, AREA) == "OGC:CRS84"
    assert parse_content_crs(f"<{CRS84_URI}>", AREA) == "OGC:CRS84"
    assert parse_content_crs(f" <{EPSG_URI}> ", AREA) == AREA
    with pytest.raises(CRSError, match=r"not supported.*CRS84.*25832"):
        parse_content_crs("<http://www.opengis.net/def/crs/EPSG/0/4326>", AREA)
    with pytest.raises(CRSError):
        parse_content_crs("EPSG:3857", AREA)


def test_metres_sent_as_crs84_are_refused_with_the_fix() -> None:
    with pytest.raises(CRSError, match=r"look like projected metres.*Content-Crs"):
        parse(feature(metres(BOX), measure="tree"))


def test_degrees_sent_as_epsg25832_are_refused() -> None:
    with pytest.raises(CRSError, match="look like longitude/latitude"):
        parse(feature(lonlat(BOX), measure="tree"), content_crs=EPSG_URI)


def test_swapped_lat_lon_is_recognised() -> None:
    geo = lonlat(BOX)
    geo["coordinates"] = [[[lat, lon] for lon, lat in ring] for ring in geo["coordinates"]]
    with pytest.raises(CRSError, match="longitude first"):
        parse(feature(geo, measure="tree"))


@pytest.mark.parametrize(
    ("geometry", "message"),
    [
        (None, "no geometry"),
        ({"type": "Point", "coordinates": [700_100, 6_169_500]}, "Polygon or MultiPolygon"),
        (
            {"type": "LineString", "coordinates": [[700_100, 6_169_500], [700_200, 6_169_500]]},
            "got a LineString",
        ),
        ({"type": "Polygon", "coordinates": []}, "empty"),
        (
            # a bow tie
            {
                "type": "Polygon",
                "coordinates": [
                    [
                        [700_100, 6_169_500],
                        [700_120, 6_169_520],
                        [700_120, 6_169_500],
                        [700_100, 6_169_520],
                        [700_100, 6_169_500],
                    ]
                ],
            },
            r"invalid \(Self-intersection\[700110 6169510\]\).*does not repair",
        ),
        (
            {
                "type": "Polygon",
                "coordinates": [
                    [[700_100, 6_169_500], [700_120, 6_169_500], [700_140, 6_169_500]] * 2
                ],
            },
            "invalid|zero area",
        ),
        ({"type": "Polygon", "coordinates": "nonsense"}, "malformed"),
    ],
)
def test_bad_geometries_are_refused(geometry: Any, message: str) -> None:
    with pytest.raises(GeometryError, match=message):
        parse(feature(geometry, measure="tree"), content_crs=EPSG_URI)


def test_invalid_geometry_is_not_repaired_on_crs84_either() -> None:
    bow = shapely.Polygon(
        [(700_100, 6_169_500), (700_120, 6_169_520), (700_120, 6_169_500), (700_100, 6_169_520)]
    )
    with pytest.raises(GeometryError, match="Self-intersection"):
        parse(feature(lonlat(bow), measure="tree"))


def test_multipolygon_with_hole_is_accepted() -> None:
    outer = shapely.box(700_100, 6_169_500, 700_200, 6_169_600)
    hole = shapely.box(700_140, 6_169_540, 700_160, 6_169_560)
    ring = shapely.Polygon(outer.exterior.coords, [hole.exterior.coords])
    multi = shapely.MultiPolygon([ring, shapely.box(700_300, 6_169_500, 700_310, 6_169_510)])
    site = parse(feature(metres(multi), measure="rain_garden"), content_crs=EPSG_URI)
    assert site.area_m2 == pytest.approx(100 * 100 - 20 * 20 + 100)


def test_site_partly_outside_names_the_overshoot() -> None:
    over = shapely.box(700_990, 6_169_500, 701_015, 6_169_510)  # 15 m beyond xmax
    with pytest.raises(GeometryError, match=r"150\.0 m² .*outside.*up to 15\.0 m"):
        parse(feature(metres(over), measure="tree"), content_crs=EPSG_URI)


def test_site_far_outside_names_the_distance_and_suspects_the_crs() -> None:
    far = shapely.box(800_000, 6_169_500, 800_010, 6_169_510)
    with pytest.raises(GeometryError, match=r"99,000 m outside.*another CRS"):
        parse(feature(metres(far), measure="tree"), content_crs=EPSG_URI)


def test_measures_are_the_profiles_with_aliases_and_tree_rows() -> None:
    from klimakort.suitability.profiles import load_profiles

    profiles = load_profiles()
    aliases = {a for p in profiles.values() for a in p.aliases}
    assert set(known_measures()) == {*profiles, *aliases}
    assert "tree_row" in aliases  # the sample's tree rows plant the tree profile
    assert {"miyawaki_forest", "tree", "climate_park", "rain_garden"} <= set(known_measures())
    with pytest.raises(ParameterError, match=r"unknown measure 'forest'; use one of .*miyawaki"):
        parse(feature(lonlat(BOX), measure="forest"))
    with pytest.raises(ParameterError, match="'measure' is required"):
        parse(feature(lonlat(BOX)))


@pytest.mark.parametrize("year", [1999, 2101, "2030", True, 2030.5])
def test_bad_years_are_refused(year: Any) -> None:
    with pytest.raises(ParameterError, match="planned_year"):
        parse(feature(lonlat(BOX), measure="tree", planned_year=year))


def test_year_bounds_and_integral_floats_are_accepted() -> None:
    for year in (2000, 2100, 2030.0):
        assert parse(feature(lonlat(BOX), measure="tree", planned_year=year)).planned_year == int(
            year
        )


def test_unknown_properties_are_refused_but_derived_ones_ignored() -> None:
    with pytest.raises(ParameterError, match="unknown property planed_year"):
        parse(feature(lonlat(BOX), measure="tree", planed_year=2030))
    site = parse(feature(lonlat(BOX), measure="tree", area_m2=1.0, fid="PS-01"))
    assert site.area_m2 == pytest.approx(260.0, abs=0.01)


def test_site_ids() -> None:
    feat = feature(lonlat(BOX), measure="tree", site_id="PS-77")
    assert parse(feat).site_id == "PS-77"
    assert parse({**feature(lonlat(BOX), measure="tree"), "id": "X-1"}).site_id == "X-1"
    with pytest.raises(ParameterError, match="differ"):
        parse({**feat, "id": "PS-78"})
    with pytest.raises(ParameterError, match="not allowed"):
        parse(feature(lonlat(BOX), measure="tree", site_id="a/b"))
    # PUT: the path decides; a different id in the body is refused
    assert parse(feature(lonlat(BOX), measure="tree"), path_id="PS-05").site_id == "PS-05"
    with pytest.raises(ParameterError, match="does not match 'PS-05'"):
        parse(feat, path_id="PS-05")


def test_not_a_feature() -> None:
    with pytest.raises(GeometryError, match="expected a GeoJSON Feature"):
        parse({"type": "Polygon", "coordinates": []})


def test_check_site_normalises_and_refuses() -> None:
    ok = check_site(Site(None, "tree", "  ", 2030, BOX), bounds=BOUNDS)
    assert ok.name is None
    with pytest.raises(ParameterError):
        check_site(Site(None, "nope", None, None, BOX))
    with pytest.raises(GeometryError):
        check_site(Site(None, "tree", None, None, shapely.Point(700_100, 6_169_500)))


def test_site_to_feature_round_trips() -> None:
    site = Site("PS-03", "tree", "Række", 2029, BOX)
    out = site_to_feature(site, AREA)
    assert out["id"] == "PS-03"
    assert out["properties"] == {
        "site_id": "PS-03",
        "measure": "tree",
        "name": "Række",
        "planned_year": 2029,
        "area_m2": 260.0,
    }
    lon, lat = out["geometry"]["coordinates"][0][0]
    assert 12.0 < lon < 13.0 and 55.0 < lat < 56.0
    back = parse(out)
    assert back.site_id == "PS-03" and shapely.hausdorff_distance(back.geometry, BOX) < 1e-3


def test_next_site_id() -> None:
    assert next_site_id([]) == "PS-01"
    assert next_site_id(["PS-01", "PS-09", "other", "PS-x"]) == "PS-10"
    assert next_site_id(["PS-099"]) == "PS-100"


@settings(max_examples=40, deadline=None)
@given(
    x=st.floats(700_000.0, 700_900.0),
    y=st.floats(6_169_200.0, 6_169_900.0),
    w=st.floats(1.0, 100.0),
    h=st.floats(1.0, 100.0),
)
def test_crs84_round_trip_keeps_sites_to_the_millimetre(
    x: float, y: float, w: float, h: float
) -> None:
    box = shapely.box(x, y, x + w, y + h)
    site = parse(feature(lonlat(box), measure="tree"))
    assert shapely.hausdorff_distance(site.geometry, box) < 1e-3
    assert site.area_m2 == pytest.approx(w * h, rel=1e-6, abs=1e-4)


@settings(max_examples=30, deadline=None)
@given(gap=st.floats(1.0, 40_000.0), side=st.sampled_from(["w", "e", "s", "n"]))
def test_sites_outside_report_their_distance(gap: float, side: str) -> None:
    xmin, ymin, xmax, ymax = BOUNDS
    x, y = {
        "w": (xmin - gap - 10, ymin + 100),
        "e": (xmax + gap, ymin + 100),
        "s": (xmin + 100, ymin - gap - 10),
        "n": (xmin + 100, ymax + gap),
    }[side]
    box = shapely.box(x, y, x + 10, y + 10)
    with pytest.raises(GeometryError, match="outside the area") as err:
        parse(feature(metres(box), measure="tree"), content_crs=EPSG_URI)
    shown = float(str(err.value).split(" m outside")[0].rsplit(" ", 1)[-1].replace(",", ""))
    assert shown == pytest.approx(gap, abs=0.5)
