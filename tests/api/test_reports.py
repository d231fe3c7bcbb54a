"""HTTP of /scenarios, /point, /parcels/search and the parcel, plan and polygon reports."""

from __future__ import annotations

import geopandas as gpd
import pytest
import shapely
from fastapi.testclient import TestClient

from klimakort.constraints.report import parcel_report
from klimakort.service import Workspace

PROBLEM = "application/problem+json"


def test_scenarios(client: TestClient) -> None:
    r = client.get("/scenarios")
    assert r.status_code == 200
    assert [s["id"] for s in r.json()] == ["present", "2050", "2100"]


def test_point_and_its_parcel_report(client: TestClient, workspace: Workspace) -> None:
    row = workspace.features("parcels").iloc[10]
    pt = gpd.GeoSeries([row.geometry.representative_point()], crs=25832).to_crs("OGC:CRS84")
    r = client.get("/point", params={"x": pt.x[0], "y": pt.y[0], "scenario": "2050"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["parcel_id"] == row["parcel_id"] and body["scenario"] == "2050"
    link = next(x["href"] for x in body["links"] if x["type"] == "text/html")
    html = client.get(link)
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
    assert row["parcel_id"] in html.text
    js = client.get(f"/parcels/{row['parcel_id']}/report", params={"scenario": "2050"}).json()
    direct = parcel_report(workspace.cfg, workspace.hz, row["parcel_id"], "2050")
    assert js["worst_verdict"] == direct["worst_verdict"]
    assert js["findings"] == direct["findings"]


def test_plan_report_json_and_html(client: TestClient, workspace: Workspace) -> None:
    plannr = str(workspace.features("local_plans")["plannr"].iloc[0])
    r = client.get(f"/plans/{plannr}/report")
    assert r.status_code == 200 and r.json()["kind"] == "plan"
    r = client.get(f"/plans/{plannr}/report", params={"f": "html"})
    assert r.status_code == 200 and "<html" in r.text.lower()


def test_polygon_report(client: TestClient, workspace: Workspace) -> None:
    poly = workspace.features("parcels").geometry.iloc[5].buffer(20)
    lonlat = gpd.GeoSeries([poly], crs=25832).to_crs("OGC:CRS84").iloc[0]
    r = client.post("/reports/polygon", json=shapely.geometry.mapping(lonlat))
    assert r.status_code == 200 and r.json()["kind"] == "polygon"
    r = client.post(
        "/reports/polygon", params={"crs": "EPSG:25832"}, json=shapely.geometry.mapping(poly)
    )
    assert r.status_code == 200


def test_search(client: TestClient, workspace: Workspace) -> None:
    target = str(workspace.features("parcels")["parcel_id"].iloc[7])
    r = client.get("/parcels/search", params={"q": target})
    assert r.status_code == 200 and r.json()[0]["parcel_id"] == target


def test_errors_are_problems(client: TestClient) -> None:
    cases = [
        client.get("/point", params={"x": 712000, "y": 6170000}),
        client.get("/point", params={"x": 12.4, "y": 55.6, "scenario": "1999"}),
        client.get("/point", params={"x": "abc", "y": 55.6}),
        client.get("/parcels/0000000-0/report"),
        client.get("/plans/no-such-plan/report"),
        client.get("/parcels/search", params={"q": "x" * 65}),
        client.post("/reports/polygon", json={"type": "Point", "coordinates": [12.4, 55.6]}),
        client.post("/reports/polygon", params={"crs": "EPSG:3857"}, json={"type": "Polygon"}),
    ]
    for r in cases:
        assert 400 <= r.status_code < 500, (r.request.url, r.status_code)
        assert r.headers["content-type"] == PROBLEM
        assert r.json()["detail"]


class _MemoryStore:
    """A site store held in memory (stands in for PostGIS)."""

    def __init__(self, sites: gpd.GeoDataFrame) -> None:
        self.sites = sites
        self.revision = 1

    def read(self) -> gpd.GeoDataFrame:
        return self.sites


def test_reports_use_the_site_store(workspace: Workspace) -> None:
    from klimakort_api import Settings, create_app

    parcel = workspace.features("parcels").iloc[123]
    site = parcel.geometry.centroid.buffer(4.0)  # a planned tree pit on the parcel
    stored = gpd.GeoDataFrame(
        {"site_id": ["DB-1"], "measure": ["tree"], "name": ["pit"], "planned_year": [2030]},
        geometry=[site],
        crs=25832,
    )
    ws = Workspace(workspace.cfg, workspace.hz, sites=_MemoryStore(stored))
    with TestClient(create_app(Settings(area=None), workspace=ws)) as c:
        url = f"/parcels/{parcel['parcel_id']}/report"
        measures = c.get(url).json()["measures"]
    assert measures["nearest_planned_site_m"] == 0.0  # the stored site, not the file's
    with TestClient(create_app(Settings(area=None), workspace=workspace)) as c:
        from_file = c.get(url).json()["measures"]["nearest_planned_site_m"]
    from_layer = workspace.features("planned_sites").distance(parcel.geometry).min()
    assert from_file == pytest.approx(from_layer, abs=0.01)


@pytest.mark.parametrize(
    ("lang", "heading", "foreign"),
    [("da", "Vurderinger", "Findings"), ("en", "Findings", "Vurderinger")],
)
def test_report_routes_take_the_language(
    client: TestClient, workspace: Workspace, lang: str, heading: str, foreign: str
) -> None:
    pid = str(workspace.features("parcels")["parcel_id"].iloc[3])
    plannr = str(workspace.features("local_plans")["plannr"].iloc[0])
    poly = workspace.features("parcels").geometry.iloc[5].buffer(20)
    pages = [
        client.get(f"/parcels/{pid}/report", params={"f": "html", "lang": lang}),
        client.get(f"/plans/{plannr}/report", params={"f": "html", "lang": lang}),
        client.post(
            "/reports/polygon",
            params={"crs": "EPSG:25832", "f": "html", "lang": lang},
            json=shapely.geometry.mapping(poly),
        ),
    ]
    for r in pages:
        assert r.status_code == 200, r.text
        assert f"<html lang='{lang}'>" in r.text
        assert f"<h2>{heading}</h2>" in r.text and f"<h2>{foreign}</h2>" not in r.text
    js = client.get(f"/parcels/{pid}/report", params={"lang": lang}).json()
    assert js["lang"] == lang
    assert all(not s["path"].startswith("/") for s in js["sources"])


def test_report_language_must_be_known(client: TestClient, workspace: Workspace) -> None:
    pid = str(workspace.features("parcels")["parcel_id"].iloc[3])
    r = client.get(f"/parcels/{pid}/report", params={"lang": "de"})
    assert r.status_code in (400, 422) and r.headers["content-type"].startswith(PROBLEM)
