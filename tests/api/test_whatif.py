"""POST /whatif: a dike in the sample's beach-ridge gap, run as a job, with its report,
difference tiles and changed parcels."""

from __future__ import annotations

import time
from typing import Any

import morecantile
import pytest
import shapely
from fastapi.testclient import TestClient

from klimakort.io.geojson_input import to_crs84
from klimakort.io.vector import read_vector
from klimakort.service import Workspace
from klimakort.tiles.service import EMPTY_TILE

API_KEY = "test-key"
KEY = {"X-API-Key": API_KEY}


def gap_line(ws: Workspace) -> shapely.LineString:
    ref = ws.cfg.layers["barriers"]
    barriers = read_vector(ref.path, crs=ws.cfg.crs)
    return barriers.loc[barriers["crest_m"].idxmin()].geometry


def dike_body(ws: Workspace, **props: Any) -> dict[str, Any]:
    geom = to_crs84(gap_line(ws), ws.cfg.crs)
    return {
        "type": "FeatureCollection",
        "name": "Dike in the gap",
        "scenario": "2100",
        "features": [
            {
                "type": "Feature",
                "geometry": shapely.geometry.mapping(geom),
                "properties": {"kind": "raise_to", "level_m": 2.8, "width_m": 8.0, **props},
            }
        ],
    }


def wait(client: TestClient, url: str, timeout: float = 300.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        body = client.get(url).json()
        if body["status"] in ("done", "failed") or time.monotonic() > deadline:
            return body
        time.sleep(0.2)


@pytest.fixture(scope="module")
def done_job(client: TestClient, workspace: Workspace) -> dict[str, Any]:
    r = client.post("/whatif?method=full", json=dike_body(workspace), headers=KEY)
    assert r.status_code == 202, r.text
    assert r.headers["Location"].endswith(f"/whatif/{r.json()['job_id']}")
    assert r.json()["status"] in ("queued", "running", "done")
    body = wait(client, r.headers["Location"])
    assert body["status"] == "done", body
    return body


def test_writes_need_the_api_key(client: TestClient, workspace: Workspace) -> None:
    r = client.post("/whatif", json=dike_body(workspace))
    assert r.status_code == 401
    assert r.headers["content-type"].startswith("application/problem+json")


def test_invalid_edits_are_refused_at_once_as_problem_json(
    client: TestClient, workspace: Workspace
) -> None:
    body = dike_body(workspace)
    body["features"][0]["properties"] = {"kind": "basin", "depth_m": 1.0}
    r = client.post("/whatif", json=body, headers=KEY)
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")
    assert "feature 0: a basin edit must be a Polygon" in r.json()["detail"]
    body = dike_body(workspace)
    body["scenario"] = "2200"
    assert client.post("/whatif", json=body, headers=KEY).status_code == 404


def test_the_job_reports_progress_and_links(done_job: dict[str, Any]) -> None:
    assert done_job["percent"] == 100.0
    assert any("rain-flow" in m or "filling" in m for m in done_job["messages"])
    rels = {link["rel"] for link in done_job["links"]}
    assert {"report", "difference-tiles", "parcels", "buildings"} <= rels
    summary = done_job["summary"]
    assert summary["scenario"] == "2100"
    assert summary["hazards"]["sea"]["area_dried_m2"] > 1e6
    assert summary["parcels_changed"] > 100


def test_report_json_and_html(client: TestClient, done_job: dict[str, Any]) -> None:
    url = f"/whatif/{done_job['job_id']}/report"
    report = client.get(url).json()
    assert report["name"] == "Dike in the gap"
    assert len(report["parcels"]) == done_job["summary"]["parcels_changed"]
    assert {p["status"] for p in report["parcels"]} <= {
        "dry",
        "better",
        "shifted",
        "worse",
        "newly_flooded",
    }
    html = client.get(url, params={"f": "html"})
    assert html.headers["content-type"].startswith("text/html")
    assert "Parcels (" in html.text and report["parcels"][0]["matrikel_id"] in html.text


def test_difference_tiles_show_the_dried_land(
    client: TestClient, workspace: Workspace, done_job: dict[str, Any]
) -> None:
    lon, lat = to_crs84(gap_line(workspace).centroid, workspace.cfg.crs).coords[0]
    t = morecantile.tms.get("WebMercatorQuad").tile(lon, lat + 0.002, 15)
    url = f"/whatif/{done_job['job_id']}/tiles/WebMercatorQuad/15/{t.x}/{t.y}.png"
    r = client.get(url, params={"hazard": "sea"})
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    assert r.content != EMPTY_TILE.png
    assert client.get(url, params={"hazard": "nonsense"}).status_code == 422


def test_changed_parcels_as_geojson(client: TestClient, done_job: dict[str, Any]) -> None:
    r = client.get(f"/whatif/{done_job['job_id']}/changes", params={"layer": "parcels"})
    fc = r.json()
    assert r.headers["content-type"].startswith("application/geo+json")
    assert len(fc["features"]) == done_job["summary"]["parcels_changed"]
    lon, lat = fc["features"][0]["geometry"]["coordinates"][0][0]
    assert 5 < lon < 16 and 54 < lat < 58  # CRS84


def test_unknown_jobs_are_404(client: TestClient) -> None:
    r = client.get("/whatif/0123456789abcdef")
    assert r.status_code == 404
    assert "POST /whatif" in r.json()["detail"]
