"""Base-map configuration: presets, area.toml, settings overrides, tokens, the page entry."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from klimakort.config.area import BasemapRef, parse_area
from klimakort.errors import ConfigError
from klimakort.maps.basemap import (
    PRESETS,
    dk_level_for,
    page_config,
    resolve_basemap,
    without_token,
)
from klimakort.tiles.tms import get_tms


def test_nothing_configured_is_osm() -> None:
    assert resolve_basemap(None, env={}) is None
    assert page_config(None) is None


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_presets_build_wmts_getttile_urls(preset: str) -> None:
    bm = resolve_basemap(BasemapRef(preset=preset), token="t0k", env={})
    assert bm is not None and bm.kind == "wmts" and bm.needs_token
    url = bm.tile_url(12, 345, 678)
    assert url.startswith("https://api.dataforsyningen.dk/")
    assert "SERVICE=WMTS" in url and "REQUEST=GetTile" in url
    assert f"LAYER={PRESETS[preset]['layer']}" in url
    assert "TILEMATRIX=12&TILEROW=678&TILECOL=345" in url
    assert url.endswith("token=t0k")
    assert bm.crs == PRESETS[preset]["crs"]
    assert "t0k" not in repr(bm)


def test_token_from_the_variable_named_by_token_env() -> None:
    ref = BasemapRef(preset="skaermkort", token_env="MY_DAF_TOKEN")
    bm = resolve_basemap(ref, env={"MY_DAF_TOKEN": "abc", "KLIMAKORT_BASEMAP_TOKEN": "other"})
    assert bm is not None and bm.token == "abc"
    # an explicit token (KLIMAKORT_BASEMAP_TOKEN setting) wins
    bm2 = resolve_basemap(ref, token="xyz", env={"MY_DAF_TOKEN": "abc"})
    assert bm2 is not None and bm2.token == "xyz"


def test_missing_token_falls_back_in_the_page() -> None:
    bm = resolve_basemap(BasemapRef(preset="skaermkort_daempet"), env={})
    entry = page_config(bm)
    assert entry is not None and entry["available"] is False
    assert "KLIMAKORT_BASEMAP_TOKEN" in entry["reason"] and entry["url"] == ""


def test_offline_files_never_carry_the_token() -> None:
    bm = resolve_basemap(BasemapRef(preset="orto_foraar"), token="secret", env={})
    assert bm is not None
    served = page_config(bm)
    offline = page_config(bm, include_token=False)
    assert served is not None and "token=secret" in served["url"] and served["available"]
    assert offline is not None and "secret" not in str(offline) and not offline["available"]
    assert without_token(bm).token is None


def test_utm_entry_carries_the_dkutm32_grid() -> None:
    bm = resolve_basemap(BasemapRef(preset="skaermkort"), token="t", env={})
    entry = page_config(bm)
    assert entry is not None and entry["crs"] == "EPSG:25832"
    tms = get_tms("DKUTM32")
    m0 = tms.matrix(0)
    assert entry["grid"]["origin"] == list(m0.pointOfOrigin)
    assert entry["grid"]["cell0"] == m0.cellSize
    assert entry["grid"]["max_level"] == tms.maxzoom
    assert entry["max_zoom"] == tms.maxzoom
    assert "{z}" in entry["url"] and "{x}" in entry["url"] and "{y}" in entry["url"]


def test_xyz_web_mercator_without_token() -> None:
    ref = BasemapRef(kind="xyz", url="http://127.0.0.1:9/tiles/{z}/{x}/{y}.png", title="Lokal")
    bm = resolve_basemap(ref, env={})
    assert bm is not None and bm.crs == "EPSG:3857" and bm.kind == "xyz" and not bm.needs_token
    assert bm.tile_url(3, 4, 5) == "http://127.0.0.1:9/tiles/3/4/5.png"
    entry = page_config(bm)
    assert entry is not None and entry["available"] and "grid" not in entry
    assert entry["title"]["da"] == "Lokal" and entry["max_zoom"] == 19


def test_settings_override_the_area() -> None:
    ref = BasemapRef(preset="skaermkort", token_env="X")
    over = {"url": "http://127.0.0.1:9/wmts", "layer": "mine", "preset": None, "title": ""}
    bm = resolve_basemap(ref, over, token="t", env={})
    assert bm is not None and bm.tile_url(1, 2, 3).startswith("http://127.0.0.1:9/wmts?")
    assert "LAYER=mine" in bm.template and bm.crs == "EPSG:25832"
    # a new preset replaces the area's table whole; "osm" turns it off
    other = resolve_basemap(ref, {"preset": "orto_foraar_webm"}, token="t", env={})
    assert other is not None and other.crs == "EPSG:3857" and "orto_foraar_webm" in other.template
    assert resolve_basemap(ref, {"preset": "osm"}, env={}) is None


@pytest.mark.parametrize(
    ("ref", "message"),
    [
        (BasemapRef(preset="nope"), "unknown preset"),
        (BasemapRef(kind="wmts", url="https://x.dk/wmts"), "layer"),
        (BasemapRef(kind="xyz", url="https://x.dk/tiles.png"), "lacks"),
        (BasemapRef(kind="xyz", url="ftp://x.dk/{z}/{x}/{y}.png"), "http"),
        (BasemapRef(kind="xyz"), "url"),
    ],
)
def test_invalid_configurations_name_the_key(ref: BasemapRef, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        resolve_basemap(ref, env={})


def test_area_toml_tables(tmp_path: Path) -> None:
    data = {
        "name": "x",
        "terrain": {"path": "dtm.tif"},
        "basemap": {"preset": "skaermkort", "token_env": "DAF"},
        "addresses": {"path": "adresser.csv"},
    }
    cfg = parse_area(data, tmp_path)
    assert cfg.basemap is not None and cfg.basemap.preset == "skaermkort"
    assert cfg.addresses is not None and cfg.addresses.path == tmp_path / "adresser.csv"
    with pytest.raises(ConfigError, match=r"basemap\.tokn"):
        parse_area({**data, "basemap": {"preset": "skaermkort", "tokn": "abc"}}, tmp_path)
    with pytest.raises(ConfigError, match=r"basemap\.crs"):
        parse_area({**data, "basemap": {"crs": "EPSG:4326"}}, tmp_path)


@pytest.mark.parametrize("z", range(0, 14))
def test_level_choice_is_never_coarser_than_the_screen(z: int) -> None:
    cell = 1638.4 / 2**z
    assert dk_level_for(cell) == z  # exactly a level's cell: that level
    assert dk_level_for(cell * 0.9) == min(z + 1, 13)  # a little finer: the next level
    assert dk_level_for(cell * 1.1) == z
    assert dk_level_for(0.01) == 13 and dk_level_for(1e6) == 0


def test_served_page_carries_the_configured_base_map(workspace: Any) -> None:
    from fastapi.testclient import TestClient

    from klimakort_api import Settings, create_app

    settings = Settings(
        area=None,
        basemap_preset="skaermkort_daempet",
        basemap_token="tok123",  # type: ignore[arg-type]
    )
    with TestClient(create_app(settings, workspace=workspace)) as c:
        page = c.get("/map").text
    assert "topo_skaermkort_daempet_DAF" in page and "token=tok123" in page
    assert '"crs":"EPSG:25832"' in page and '"available":true' in page
    assert "basemap.js" in page
    # without settings: no base map configured (OpenStreetMap, off)
    with TestClient(create_app(Settings(area=None), workspace=workspace)) as c:
        assert '"basemap":null' in c.get("/map").text


def test_standalone_map_never_holds_the_token(workspace: Any, monkeypatch: Any) -> None:
    from klimakort.maps.standalone import standalone_config

    monkeypatch.setenv("KLIMAKORT_BASEMAP_TOKEN", "tok123")
    cfg = workspace.cfg.model_copy(update={"basemap": BasemapRef(preset="skaermkort")})
    ws = type(workspace)(cfg, workspace.hz)
    config = standalone_config(ws, image_max_px=64, grid_max_cells=32)
    assert config["basemap"]["available"] is False
    assert "tok123" not in str(config)
