"""The app factory, lifespan and problem+json errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from klimakort.errors import ParameterError
from klimakort_api import Settings, create_app


def test_healthz_without_area() -> None:
    with TestClient(create_app(Settings(area=None))) as client:
        r = client.get("/healthz")
    assert r.status_code == 200 and r.json()["status"] == "ok" and r.json()["area"] is None


def test_errors_are_problem_json() -> None:
    app = create_app(Settings(area=None))

    @app.get("/boom")
    def boom(x: int) -> None:
        raise ParameterError(f"x={x} is out of range 0..10")

    with TestClient(app) as client:
        r = client.get("/boom", params={"x": 99})
        assert r.status_code == 422
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["detail"] == "x=99 is out of range 0..10"
        assert r.json()["title"] == "Parameter out of range"
        r = client.get("/boom", params={"x": "abc"})
        assert r.status_code == 422 and "query.x" in r.json()["detail"]
        r = client.get("/nope")
        assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"


def test_bad_area_fails_at_startup_not_import(tmp_path: Path) -> None:
    from klimakort.errors import ConfigError

    app = create_app(Settings(area=tmp_path / "missing.toml"))
    with pytest.raises(ConfigError, match="not found"), TestClient(app):
        pass


def test_settings_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KLIMAKORT_API_KEY", "secret")
    monkeypatch.setenv("KLIMAKORT_MAX_FEATURES", "500")
    s = Settings()
    assert s.api_key == "secret" and s.max_features == 500
