"""The /map page: its configuration, page rendering, static files and route."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pyproj import Transformer

from klimakort.errors import DataNotFoundError
from klimakort.maps import service_map
from klimakort.maps.service_map import (
    SCRIPTS,
    STYLES,
    map_config,
    render_page,
    service_map_html,
    static_asset,
)
from klimakort.service import Workspace
from klimakort.service.catalog import GROUPS
from klimakort_api import Settings, create_app

APP_DIR = Path(service_map.__file__).parent / "app"
_CONFIG = re.compile(r"window\.KLIMAKORT_CONFIG = (?P<json>.*?);</script>", re.S)


@pytest.fixture(scope="module")
def client(workspace: Workspace) -> Iterator[TestClient]:
    app = create_app(
        Settings(area=None, api_key="test-key", max_features=5000), workspace=workspace
    )
    with TestClient(app) as c:
        yield c


def page_config(page: str) -> dict:
    match = _CONFIG.search(page)
    assert match is not None, "the page has no KLIMAKORT_CONFIG"
    return json.loads(match.group("json"))


# ------------------------------------------------------------------ static files


@pytest.mark.parametrize("name", STYLES + SCRIPTS)
def test_static_assets_are_served_with_media_type_and_etag(name: str) -> None:
    asset = static_asset(name)
    assert len(asset.body) > 100
    assert asset.media_type.startswith("text/css" if name.endswith(".css") else "text/javascript")
    assert re.fullmatch(r'"[0-9a-f]{20}"', asset.etag)


def test_css_images_are_inlined() -> None:
    for name in STYLES:
        css = static_asset(name).body.decode()
        assert not re.search(r"url\(\s*['\"]?(images/|range-icon)", css), name
    draw = static_asset("leaflet.draw.css").body.decode()
    assert "data:image/svg+xml;base64," in draw and "data:image/png;base64," in draw


def test_commonjs_plugin_is_wrapped_unmodified() -> None:
    original = (APP_DIR.parent / "vendor" / "leaflet-side-by-side.js").read_bytes().decode()
    served = static_asset("leaflet-side-by-side.js").body.decode()
    assert original in served
    assert served.startswith("(function (require, module, exports)")
    assert 'name === "leaflet" ? window.L' in served


def test_unknown_static_file_is_not_found() -> None:
    with pytest.raises(DataNotFoundError, match=r"leaflet\.js"):
        static_asset("../service_map.py")


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
@pytest.mark.parametrize("name", ["app.js", "i18n.js", "leaflet-side-by-side.js"])
def test_scripts_parse(name: str, tmp_path: Path) -> None:
    path = tmp_path / name
    path.write_bytes(static_asset(name).body)
    proc = subprocess.run(["node", "--check", str(path)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def _i18n() -> dict[str, dict[str, str]]:
    text = (APP_DIR / "i18n.js").read_text()
    tables: dict[str, dict[str, str]] = {}
    for lang in ("da", "en"):
        block = re.search(rf"\n  {lang}: \{{(.*?)\n  \}}", text, re.S)
        assert block is not None
        tables[lang] = dict(re.findall(r'(\w+): "((?:[^"\\]|\\.)*)"', block.group(1)))
        for key in re.findall(r"^    (\w+): \{", block.group(1), re.M):
            tables[lang][key] = "{...}"
    return tables


def test_every_string_is_translated() -> None:
    tables = _i18n()
    assert tables["da"].keys() == tables["en"].keys()
    assert tables["da"]["scenario"] == "Klimascenarie"
    used = set(re.findall(r'\bt\("(\w+)"\)', (APP_DIR / "app.js").read_text()))
    used |= set(re.findall(r'data-i18n="(\w+)"', (APP_DIR / "index.html").read_text()))
    assert used, "no strings found in app.js"
    assert not used - tables["da"].keys(), "strings missing from i18n.js"


# ------------------------------------------------------------------ configuration


def test_config_lists_layers_groups_and_bounds(workspace: Workspace) -> None:
    cfg = map_config(workspace, api="/base", max_features=1234)
    json.dumps(cfg, allow_nan=False)  # JSON-ready, no NaN
    assert cfg["mode"] == "server" and cfg["api"] == "/base"
    assert cfg["scenarios"] == workspace.scenarios
    assert cfg["default_scenario"] == workspace.default_scenario
    assert [r["id"] for r in cfg["rasters"]] == list(workspace.raster_layers)
    for r in cfg["rasters"]:
        assert r["scenario_dependent"] == workspace.raster_layer(r["id"]).scenario_dependent
        assert 0 < r["opacity"] <= 1
    assert {c["id"] for c in cfg["collections"]} == set(workspace.collections)
    parcels = next(c for c in cfg["collections"] if c["id"] == "parcels")
    assert parcels["load"] == "bbox" and parcels["minzoom"] == 15 and parcels["limit"] == 1234
    group_ids = [g["id"] for g in cfg["groups"]]
    assert group_ids == [g for g in GROUPS if g in group_ids]  # catalogue order
    used = {r["group"] for r in cfg["rasters"]} | {c["group"] for c in cfg["collections"]}
    assert set(group_ids) == used
    west, south, east, north = cfg["bounds"]
    tr = Transformer.from_crs(workspace.crs, 4326, always_xy=True)
    x0, y0, x1, y1 = workspace.bounds
    for x, y in ((x0, y0), (x1, y1), (x0, y1), (x1, y0), ((x0 + x1) / 2, y0)):
        lon, lat = tr.transform(x, y)
        assert west - 1e-6 <= lon <= east + 1e-6 and south - 1e-6 <= lat <= north + 1e-6
    assert cfg["crs"]["name"] == "EPSG:25832" and "+zone=32" in cfg["crs"]["proj4"]


def test_page_embeds_config_and_links_static_files(workspace: Workspace) -> None:
    page = service_map_html(workspace, api="/x", static_prefix="/x/map/static/")
    assert page_config(page)["api"] == "/x"
    for name in STYLES + SCRIPTS:
        assert f'"/x/map/static/{name}?v=' in page
    assert "__KK_" not in page


def test_page_escapes_script_breaking_text(workspace: Workspace) -> None:
    cfg = map_config(workspace)
    cfg["area"]["name"] = "</script><script>alert(1)</script> & <b>"
    page = render_page(cfg, inline=False, static_prefix="/s/")
    assert "<script>alert(1)" not in page
    assert page_config(page)["area"]["name"] == cfg["area"]["name"]
    assert "<title>Klimakort – &lt;/script&gt;" in page


def test_inline_page_needs_no_network(workspace: Workspace) -> None:
    page = render_page(map_config(workspace, mode="standalone"), inline=True)
    assert not re.search(r"<script[^>]*\bsrc=", page)
    assert not re.search(r"<link[^>]*\bhref=", page.replace('<link rel="icon" href="data:,">', ""))
    assert page.count("<script>") == len(SCRIPTS) + 1


# ------------------------------------------------------------------ API route


def test_map_route_serves_page(client: TestClient) -> None:
    r = client.get("/map")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert r.headers["cache-control"] == "no-cache"
    cfg = page_config(r.text)
    assert cfg["mode"] == "server" and cfg["max_features"] == 5000
    assert page_config(client.get("/map", params={"lang": "en"}).text)["lang"] == "en"
    bad = client.get("/map", params={"lang": "fr"})
    assert bad.status_code == 422 and bad.headers["content-type"] == "application/problem+json"


def test_static_route_caches(client: TestClient) -> None:
    r = client.get("/map/static/app.js")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/javascript")
    assert r.content == static_asset("app.js").body
    assert "max-age" in r.headers["cache-control"]
    etag = r.headers["etag"]
    again = client.get("/map/static/app.js", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.headers["etag"] == etag
    missing = client.get("/map/static/secret.txt")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
