"""Suitability with overrides, portfolios and polygon reports for the API."""

from __future__ import annotations

import itertools

import geopandas as gpd
import pytest
import shapely

from klimakort.constraints.report import polygon_report
from klimakort.errors import CRSError, GeometryError, ParameterError, RequestTooLargeError
from klimakort.service import Workspace
from klimakort.service.analysis import (
    geometry_from_geojson,
    override_profile,
    polygon_constraints_report,
    portfolio,
    suitability_candidates,
)
from klimakort.suitability.profiles import get_profile


def test_override_weights_normalise_and_keep_the_rest() -> None:
    base = get_profile("miyawaki_forest").weights()
    names = list(base)
    prof = override_profile("miyawaki_forest", {names[0]: 3.0})
    w = prof.weights()
    assert sum(w.values()) == pytest.approx(1.0)
    # the untouched criteria keep their ratio
    assert w[names[1]] / w[names[2]] == pytest.approx(base[names[1]] / base[names[2]])
    assert prof.constraints == get_profile("miyawaki_forest").constraints


def test_override_errors() -> None:
    with pytest.raises(ParameterError, match="unknown criteria"):
        override_profile("miyawaki_forest", {"nope": 1.0})
    with pytest.raises(ParameterError, match="> 0"):
        override_profile("miyawaki_forest", {"children": 0.0})
    with pytest.raises(ParameterError, match="max_bluespot_depth_m"):
        override_profile("miyawaki_forest", constraints={"max_bluespot_depth_m": -1})
    with pytest.raises(ParameterError, match="unknown measure"):
        override_profile("no_such_measure")


def test_candidates_rank_by_the_overridden_weights(workspace: Workspace) -> None:
    weights = {"children": 1.0, "heat": 5.0, "runoff": 1.0}
    fc = suitability_candidates(workspace, "miyawaki_forest", "2100", weights=weights, top=500)
    total = sum(weights.values())
    assert fc["weights"] == pytest.approx({k: v / total for k, v in weights.items()})
    feats = fc["features"]
    assert feats and fc["numberReturned"] == len(feats) <= fc["numberMatched"]
    scores = [f["properties"]["score"] for f in feats]
    assert scores == sorted(scores, reverse=True)
    assert [f["properties"]["rank"] for f in feats] == list(range(1, len(feats) + 1))
    for f in feats:  # the score is the weighted sum of the criterion scores
        p = f["properties"]
        recomputed = sum(fc["weights"][c] * p[f"score_{c}"] for c in weights)
        assert p["score"] == pytest.approx(recomputed, rel=1e-6, abs=1e-9)
        assert isinstance(p["explanation"], dict)
        lon, lat = shapely.geometry.shape(f["geometry"]).centroid.coords[0]
        assert 12 < lon < 13 and 55 < lat < 56


def test_a_stricter_constraint_never_adds_area(workspace: Workspace) -> None:
    loose = suitability_candidates(workspace, "miyawaki_forest", top=500)
    strict = suitability_candidates(
        workspace, "miyawaki_forest", top=500, constraints={"max_bluespot_depth_m": 0.0}
    )

    def area(fc: dict) -> float:
        return sum(f["properties"]["area_m2"] for f in fc["features"])

    assert area(strict) <= area(loose)


def test_portfolio_respects_spacing(workspace: Workspace) -> None:
    res = portfolio(workspace, "miyawaki_forest", 4, min_spacing_m=250.0, crs="EPSG:25832")
    assert res["status"] == "optimal" and res["n_chosen"] == 4
    geoms = [shapely.geometry.shape(f["geometry"]) for f in res["features"]]
    for a, b in itertools.combinations(geoms, 2):
        assert a.distance(b) >= 250.0 - 1e-6
    with pytest.raises(ParameterError):
        portfolio(workspace, "miyawaki_forest", 0)


def test_polygon_report_equals_the_direct_call(workspace: Workspace) -> None:
    parcel = workspace.features("parcels").geometry.iloc[300].buffer(25.0)
    lonlat = gpd.GeoSeries([parcel], crs=25832).to_crs("OGC:CRS84").iloc[0]
    body = {"type": "Feature", "geometry": shapely.geometry.mapping(lonlat), "properties": {}}
    via_api = polygon_constraints_report(workspace, body, "2100")
    back = geometry_from_geojson(body)
    assert back.symmetric_difference(parcel).area < 1e-3 * parcel.area
    direct = polygon_report(workspace.cfg, workspace.hz, back, "2100")
    assert via_api["worst_verdict"] == direct["worst_verdict"]
    assert via_api["summary"] == direct["summary"]


def test_polygon_errors(workspace: Workspace) -> None:
    with pytest.raises(GeometryError, match="Polygon"):
        geometry_from_geojson({"type": "Point", "coordinates": [12.4, 55.6]})
    bowtie = {
        "type": "Polygon",
        "coordinates": [[[12.4, 55.6], [12.41, 55.61], [12.41, 55.6], [12.4, 55.61], [12.4, 55.6]]],
    }
    with pytest.raises(GeometryError, match="invalid"):
        geometry_from_geojson(bowtie)
    metres = {
        "type": "Polygon",
        "coordinates": [
            [[712000, 6170000], [712100, 6170000], [712100, 6170100], [712000, 6170000]]
        ],
    }
    with pytest.raises(CRSError, match=r"not longitude/latitude.*crs=EPSG:25832"):
        geometry_from_geojson(metres)
    assert geometry_from_geojson(metres, "EPSG:25832").area == pytest.approx(5000.0)
    far = shapely.geometry.mapping(shapely.box(700_000, 6_150_000, 700_100, 6_150_100))
    with pytest.raises(GeometryError, match="outside"):
        polygon_constraints_report(workspace, far, crs="EPSG:25832")
    xmin, ymin, xmax, ymax = workspace.bounds
    huge = shapely.geometry.mapping(shapely.box(xmin - 1e4, ymin - 1e4, xmax + 1e4, ymax + 1e4))
    with pytest.raises(RequestTooLargeError, match="km²"):
        polygon_constraints_report(workspace, huge, crs="EPSG:25832")
    with pytest.raises(GeometryError, match="no geometry"):
        geometry_from_geojson({"type": "Feature"})
    with pytest.raises(GeometryError, match="malformed GeoJSON"):
        geometry_from_geojson({"type": "Polygon"})
    # degrees declared as metres, and (lat, lon) in place of (lon, lat)
    lonlat = shapely.geometry.mapping(shapely.box(12.38, 55.63, 12.39, 55.64))
    with pytest.raises(CRSError, match="look like longitude/latitude"):
        geometry_from_geojson(lonlat, "EPSG:25832")
    swapped = shapely.geometry.mapping(shapely.box(55.63, 12.38, 55.64, 12.39))
    with pytest.raises(CRSError, match="swap"):
        geometry_from_geojson(swapped, None, workspace.bounds)


@pytest.mark.slow
def test_area_without_heating_mains_serves_candidates_with_the_note(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    from klimakort.sample import write_sample

    toml = write_sample(tmp_path_factory.mktemp("no_mains"), cell=16.0)
    text = toml.read_text()
    start = text.index("[layers.heating_mains]")
    toml.write_text(text[:start] + text[text.index("\n[", start + 1) + 1 :])
    ws = Workspace.open(toml, ("2100",))
    note = "heating-mains clearance not checked: the area has no heating_mains layer"
    sites = ws.features("candidate_sites")  # raised DataNotFoundError before
    assert len(sites) > 0 and "candidate_sites" not in ws.unavailable
    fc = suitability_candidates(ws, "miyawaki_forest", "2100", top=5)
    assert note in fc["notes"] and fc["notChecked"]["heating_mains"] == note
    assert fc["features"]
    for f in fc["features"]:
        assert f["properties"]["explanation"]["not_checked"]["heating_mains"] == note
    body = portfolio(ws, "miyawaki_forest", 2, "2100", min_spacing_m=0.0)
    assert note in body["notes"] and body["notChecked"]["heating_mains"] == note
