"""Planned-site editing over HTTP: POST, PUT, DELETE /collections/planned_sites/items."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely
from fastapi.testclient import TestClient
from pyproj import Transformer

from klimakort.config.area import load_area
from klimakort.service import Workspace
from klimakort.sites import open_store
from klimakort_api import Settings, create_app

KEY = {"X-API-Key": "test-key"}
ITEMS = "/collections/planned_sites/items"
EPSG_URI = "http://www.opengis.net/def/crs/EPSG/0/25832"
TO_LONLAT = Transformer.from_crs("EPSG:25832", "OGC:CRS84", always_xy=True)


class Editable:
    """A client over a private copy of the small area, and that area's workspace."""

    def __init__(self, client: TestClient, ws: Workspace, gpkg: Path) -> None:
        self.client, self.ws, self.gpkg = client, ws, gpkg

    def digest(self) -> str:
        return hashlib.sha256(self.gpkg.read_bytes()).hexdigest()


@pytest.fixture
def editable(area_copy: Path, workspace: Workspace) -> Iterator[Editable]:
    cfg = load_area(area_copy)
    ws = Workspace(cfg, workspace.hz, sites=open_store(cfg, None))
    app = create_app(Settings(area=None, api_key="test-key"), workspace=ws)
    with TestClient(app) as client:
        yield Editable(client, ws, cfg.layers["planned_sites"].path)


def site_box(ws: Workspace, dx: float = 0.0, w: float = 20.0, h: float = 13.0) -> Any:
    """A w x h m rectangle near the middle of the area (EPSG:25832)."""
    xmin, ymin, xmax, ymax = ws.bounds
    x, y = (xmin + xmax) / 2 + dx, (ymin + ymax) / 2
    return shapely.box(x, y, x + w, y + h)


def lonlat(geom: Any) -> dict[str, Any]:
    out = shapely.transform(geom, lambda xy: np.column_stack(TO_LONLAT.transform(*xy.T)))
    return dict(json.loads(shapely.to_geojson(out)))


def metres(geom: Any) -> dict[str, Any]:
    return dict(json.loads(shapely.to_geojson(geom)))


def feature(geometry: dict[str, Any], **props: Any) -> dict[str, Any]:
    return {"type": "Feature", "geometry": geometry, "properties": props}


def stored(ws: Workspace) -> Any:
    return ws.features("planned_sites").set_index("fid")


def test_post_creates_a_site(editable: Editable) -> None:
    ws = editable.ws
    before = stored(ws)
    rev = ws.revision("planned_sites")
    box = site_box(ws)
    body = feature(lonlat(box), measure="miyawaki_forest", name="Skov", planned_year=2029)
    r = editable.client.post(ITEMS, json=body, headers=KEY)
    assert r.status_code == 201, r.text
    assert r.headers["content-type"] == "application/geo+json"
    out = r.json()
    new_id = f"PS-{len(before) + 1:02d}"
    assert out["id"] == new_id and out["properties"]["site_id"] == new_id
    assert r.headers["location"].endswith(f"{ITEMS}/{new_id}")
    assert out["properties"]["area_m2"] == pytest.approx(260.0, abs=0.01)
    assert out["properties"]["measure"] == "miyawaki_forest"
    lon, lat = out["geometry"]["coordinates"][0][0]
    assert 8.0 < lon < 15.5 and 54.5 < lat < 58.0  # CRS84 out, wherever the sample lies
    assert any(link["rel"] == "self" for link in out["links"])

    after = stored(ws)
    assert len(after) == len(before) + 1 and ws.revision("planned_sites") != rev
    assert after.loc[new_id, "name"] == "Skov" and after.loc[new_id, "planned_year"] == 2029
    assert shapely.hausdorff_distance(after.geometry[new_id], box) < 1e-3


def test_post_in_epsg25832_with_content_crs(editable: Editable) -> None:
    box = site_box(editable.ws, dx=100.0)
    r = editable.client.post(
        ITEMS,
        json=feature(metres(box), measure="tree_row", site_id="my-row"),
        headers={**KEY, "Content-Crs": f"<{EPSG_URI}>"},
    )
    assert r.status_code == 201, r.text
    assert r.json()["id"] == "my-row"
    assert shapely.equals(stored(editable.ws).geometry["my-row"], box)


def test_put_and_delete(editable: Editable) -> None:
    client, ws = editable.client, editable.ws
    sid = stored(ws).index[0]
    box = site_box(ws, w=10.0, h=10.0)
    r = client.put(f"{ITEMS}/{sid}", json=feature(lonlat(box), measure="rain_garden"), headers=KEY)
    assert r.status_code == 200, r.text
    assert r.json()["properties"] == {
        "site_id": sid,
        "measure": "rain_garden",
        "name": None,
        "planned_year": None,
        "area_m2": pytest.approx(100.0, abs=0.01),
    }
    row = stored(ws).loc[sid]
    assert row["measure"] == "rain_garden" and shapely.hausdorff_distance(row.geometry, box) < 1e-3

    n = len(stored(ws))
    r = client.delete(f"{ITEMS}/{sid}", headers=KEY)
    assert r.status_code == 204 and r.content == b""
    assert sid not in stored(ws).index and len(stored(ws)) == n - 1
    r = client.delete(f"{ITEMS}/{sid}", headers=KEY)
    assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"
    r = client.put(f"{ITEMS}/{sid}", json=feature(lonlat(box), measure="tree"), headers=KEY)
    assert r.status_code == 404


def test_writes_need_the_api_key(editable: Editable) -> None:
    before = editable.digest()
    body = feature(lonlat(site_box(editable.ws)), measure="tree")
    sid = stored(editable.ws).index[0]
    for headers in ({}, {"X-API-Key": "wrong"}):
        assert editable.client.post(ITEMS, json=body, headers=headers).status_code == 401
        assert editable.client.put(f"{ITEMS}/{sid}", json=body, headers=headers).status_code == 401
        assert editable.client.delete(f"{ITEMS}/{sid}", headers=headers).status_code == 401
    assert editable.digest() == before


@pytest.mark.parametrize(
    ("case", "status", "detail"),
    [
        ("duplicate", 409, "exists"),
        ("bowtie", 422, "Self-intersection"),
        ("metres_as_crs84", 422, "projected metres"),
        ("unknown_measure", 422, "miyawaki_forest"),
        ("outside", 422, "outside the area"),
        ("point", 422, "geometry"),
        ("bad_crs", 422, "Content-Crs"),
        ("year", 422, "planned_year"),
    ],
)
def test_bad_writes_are_problems_and_change_nothing(
    editable: Editable, case: str, status: int, detail: str
) -> None:
    ws = editable.ws
    box = site_box(ws)
    x0, y0, x1, y1 = box.bounds
    bow = shapely.Polygon([(x0, y0), (x1, y1), (x1, y0), (x0, y1)])
    existing = str(stored(ws).index[0])
    headers = dict(KEY)
    body = {
        "duplicate": feature(lonlat(box), measure="tree", site_id=existing),
        "bowtie": feature(lonlat(bow), measure="tree"),
        "metres_as_crs84": feature(metres(box), measure="tree"),
        "unknown_measure": feature(lonlat(box), measure="forest"),
        "outside": feature(lonlat(shapely.box(0, 0, 10, 10).union(box).envelope), measure="tree"),
        "point": feature({"type": "Point", "coordinates": [12.0, 55.0]}, measure="tree"),
        "bad_crs": feature(lonlat(box), measure="tree"),
        "year": feature(lonlat(box), measure="tree", planned_year=1850),
    }[case]
    if case == "bad_crs":
        headers["Content-Crs"] = "<http://www.opengis.net/def/crs/EPSG/0/3857>"
    before, rev = editable.digest(), ws.revision("planned_sites")
    r = editable.client.post(ITEMS, json=body, headers=headers)
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert detail in r.json()["detail"]
    assert editable.digest() == before and ws.revision("planned_sites") == rev


def test_put_cannot_rename_a_site(editable: Editable) -> None:
    sid = stored(editable.ws).index[0]
    body = feature(lonlat(site_box(editable.ws)), measure="tree", site_id="other")
    r = editable.client.put(f"{ITEMS}/{sid}", json=body, headers=KEY)
    assert r.status_code == 422 and "does not match" in r.json()["detail"]


def test_a_service_without_a_store_is_read_only(client: TestClient, workspace: Workspace) -> None:
    body = feature(lonlat(site_box(workspace)), measure="tree")
    r = client.post(ITEMS, json=body, headers=KEY)
    assert r.status_code == 409 and "read-only" in r.json()["detail"]
    assert client.delete(f"{ITEMS}/PS-01", headers=KEY).status_code == 409


def test_openapi_documents_the_body(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    post = spec["paths"][ITEMS]["post"]
    assert set(spec["paths"][f"{ITEMS}/{{fid}}"]) >= {"put", "delete"}
    ref = post["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    schema = spec["components"]["schemas"][ref.rsplit("/", 1)[-1]]
    assert {"type", "geometry", "properties"} <= set(schema["properties"])
    props = json.dumps(spec["components"]["schemas"])
    assert "planned_year" in props and "measure" in props
    assert {"201", "401", "409", "422"} <= set(post["responses"])
