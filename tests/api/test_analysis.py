"""HTTP of /measures, POST /suitability/{measure} and POST /portfolio."""

from __future__ import annotations

from fastapi.testclient import TestClient


def test_measures_list_the_weights(client: TestClient) -> None:
    r = client.get("/measures")
    assert r.status_code == 200
    w = r.json()["miyawaki_forest"]["weights"]
    assert abs(sum(w.values()) - 1.0) < 1e-9


def test_suitability_with_overrides(client: TestClient) -> None:
    base = client.post("/suitability/miyawaki_forest", json={"top": 5})
    assert base.status_code == 200, base.text
    fc = base.json()
    assert fc["type"] == "FeatureCollection" and 0 < len(fc["features"]) <= 5
    tilted = client.post(
        "/suitability/miyawaki_forest",
        json={"top": 5, "weights": {"heat": 10.0}, "scenario": "2050"},
    ).json()
    assert tilted["scenario"] == "2050"
    assert tilted["weights"]["heat"] > fc["weights"]["heat"]
    r = client.post("/suitability/miyawaki_forest", json={"weights": {"nope": 1}})
    assert r.status_code == 422 and "nope" in r.json()["detail"]
    r = client.post("/suitability/miyawaki_forest", json={"top": 0})
    assert r.status_code == 422
    r = client.post("/suitability/no_such_measure")
    assert r.status_code == 422 and "known measures" in r.json()["detail"]


def test_portfolio(client: TestClient) -> None:
    r = client.post("/portfolio", json={"n": 3, "min_spacing_m": 100})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "optimal" and len(body["features"]) == 3
    r = client.post("/portfolio", json={"n": 500})
    assert r.status_code == 422
    r = client.post("/portfolio", json={"n": 3, "bogus": 1})
    assert r.status_code == 422
