"""/docs serves Swagger UI from the package (no CDN)."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient


def test_docs_page_links_only_local_assets(client: TestClient) -> None:
    r = client.get("/docs")
    assert r.status_code == 200
    refs = re.findall(r"""(?:src|href)\s*=\s*['"]([^'"]+)['"]""", r.text)
    assert refs and all(ref.startswith("/docs/static/") for ref in refs), refs
    assert "cdn" not in r.text and "https://" not in r.text
    for ref in refs:
        asset = client.get(ref)
        assert asset.status_code == 200 and len(asset.content) > 500, ref
        again = client.get(ref, headers={"If-None-Match": asset.headers["etag"]})
        assert again.status_code == 304


def test_docs_static_unknown_file_is_404(client: TestClient) -> None:
    r = client.get("/docs/static/nothing.js")
    assert r.status_code == 404
    assert "swagger-ui-bundle.js" in r.json()["detail"]


def test_no_redoc_from_a_cdn(client: TestClient) -> None:
    assert client.get("/redoc").status_code == 404
