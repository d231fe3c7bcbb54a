"""The interactive map in a real browser: /map against a live API, and the offline file.

The tests of the served map share one page, in order: load, tiles, layer panel, scenario
switch, click on a parcel, drawn polygon (with the draw tool), language; a screenshot
for people to look at is saved as build/artifacts/map.png.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pyproj import Transformer

from klimakort.service import Workspace
from klimakort.service.catalog import GROUPS

VERDICTS = {"pass", "applies", "attention", "fail"}


class Watched:
    """A page with its console errors, page errors and HTTP responses recorded."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.errors: list[str] = []
        self.responses: list[tuple[int, str]] = []
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(f"pageerror: {e}"))
        page.on("response", lambda r: self.responses.append((r.status, r.url)))

    def tiles(self, layer: str) -> list[tuple[int, str]]:
        return [(s, u) for s, u in self.responses if f"/rasters/{layer}/tiles/" in u]

    def wait_tiles(self) -> None:
        self.page.wait_for_function(
            "() => { const t = document.querySelectorAll('.kk-raster-cloudburst_depth img');"
            " return t.length > 0 && Array.from(t).every(i => i.complete); }",
            timeout=15_000,
        )

    def center_on(self, lat: float, lon: float, zoom: int) -> tuple[float, float]:
        """Centre the map on (lat, lon) and return that point in page pixels."""
        px = self.page.evaluate(
            "([lat, lon, z]) => { const m = klimakort.map; m.setView([lat, lon], z,"
            " {animate: false}); const p = m.latLngToContainerPoint([lat, lon]);"
            " return [p.x, p.y]; }",
            [lat, lon, zoom],
        )
        box = self.page.locator("#kk-map").bounding_box()
        return box["x"] + px[0], box["y"] + px[1]


def _readable_popup(text: str, parcel_id: str, fields: Any) -> None:
    """A popup a planner can read: labels, not field names; the id once; no Markdown."""
    assert "`" not in text, text
    words = set(text.replace(":", " ").split())
    raw = [f for f in fields if "_" in f or f in ("ejerlavskode", "public", "matrikelnummer")]
    assert not [f for f in raw if f in words], (raw, text)
    assert not words & {"true", "false", "True", "False"}, text
    assert text.count(parcel_id) == 1, text


@pytest.fixture(scope="module")
def served(chromium: Any, live_server: str) -> Iterator[Watched]:
    context = chromium.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    watched = Watched(page)
    page.goto(f"{live_server}/map", wait_until="load")
    watched.wait_tiles()
    yield watched
    context.close()


def test_page_loads_without_errors(served: Watched) -> None:
    assert served.page.evaluate("typeof klimakort") == "object"
    assert served.page.title().startswith("Klimakort")
    assert served.errors == [], [r for r in served.responses if r[0] >= 400]


def test_raster_tiles_answer(served: Watched) -> None:
    tiles = served.tiles("cloudburst_depth") + served.tiles("hillshade")
    assert len(served.tiles("cloudburst_depth")) >= 2 and len(served.tiles("hillshade")) >= 2
    assert all(status == 200 for status, _ in tiles), tiles
    assert all("scenario=2100" in u for _, u in served.tiles("cloudburst_depth"))


def test_layer_panel_lists_groups(served: Watched, browser_area: Workspace) -> None:
    titles = served.page.locator(".kk-group-title").all_inner_texts()
    expected = [
        GROUPS[g]["da"]
        for g in GROUPS
        if any(r.group == g for r in browser_area.raster_layers.values())
        or any(c.group == g for c in browser_area.collections.values())
    ]
    assert [t.lower() for t in titles] == [t.lower() for t in expected]
    assert served.page.locator("#kk-r-cloudburst_depth").is_checked()
    for cid in browser_area.collections:  # buildings too: the panel lists /collections
        assert served.page.locator(f"#kk-v-{cid}").count() == 1, cid
    assert served.page.locator("#kk-legend-cloudburst_depth .kk-bar").count() == 1


def test_scenario_switch_changes_tile_urls(served: Watched) -> None:
    page = served.page
    seen = len(served.errors)
    before = len(served.responses)
    page.select_option("#kk-scenario", "present")
    page.wait_for_function(
        "() => Array.from(document.querySelectorAll('.kk-raster-cloudburst_depth img'))"
        ".every(i => i.src.includes('scenario=present') && i.complete)"
    )
    new = [u for s, u in served.responses[before:] if "/rasters/cloudburst_depth/" in u]
    assert new and all("scenario=present" in u for u in new)
    hill = [u for s, u in served.responses[before:] if "/rasters/hillshade/" in u]
    assert hill == []  # not scenario-dependent: not reloaded
    page.select_option("#kk-scenario", "2100")
    assert served.errors[seen:] == []


def test_click_on_parcel_opens_point_popup_and_report(
    served: Watched, browser_area: Workspace
) -> None:
    page = served.page
    seen = len(served.errors)
    parcels = browser_area.features("parcels")
    big = parcels.loc[parcels.geometry.area.idxmax()]
    pid = str(big["parcel_id"])
    pt = big.geometry.representative_point()
    lon, lat = Transformer.from_crs(browser_area.crs, 4326, always_xy=True).transform(pt.x, pt.y)
    x, y = served.center_on(lat, lon, 17)
    page.wait_for_timeout(300)
    page.mouse.click(x, y)
    link = page.locator(".leaflet-popup .kk-parcel-report")
    link.wait_for()
    popup = page.locator(".leaflet-popup-content").inner_text()
    assert pid in popup
    _readable_popup(popup, pid, parcels.columns)
    assert "Skybrud: vanddybde" in popup and "Terræn (DVR90)" in popup
    href = link.get_attribute("href")
    assert href is not None and "f=html" in href and "scenario=2100" in href
    report = page.request.get(href if href.startswith("http") else page.url.split("/map")[0] + href)
    assert report.status == 200 and "text/html" in report.headers["content-type"]
    assert pid in report.text()
    page.keyboard.press("Escape")
    assert served.errors[seen:] == []


def test_drawn_polygon_report(served: Watched, artifacts: Path) -> None:
    page = served.page
    seen = len(served.errors)
    page.evaluate("klimakort.map.closePopup()")  # Escape may have closed it already
    page.locator(".leaflet-draw-draw-polygon").click()
    box = page.locator("#kk-map").bounding_box()
    cx, cy = box["x"] + box["width"] * 0.45, box["y"] + box["height"] * 0.55
    corners = [(cx - 90, cy - 60), (cx + 90, cy - 70), (cx + 100, cy + 60), (cx - 80, cy + 70)]
    for px, py in corners:
        page.mouse.move(px - 5, py - 5)
        page.mouse.move(px, py, steps=3)  # leaflet-draw follows the pointer with a marker
        page.wait_for_timeout(100)
        page.mouse.click(px, py)
        page.wait_for_timeout(400)  # apart, so that two clicks are not a double click
    page.locator(".leaflet-draw-actions a", has_text="Finish").click()  # close the ring
    try:
        page.locator("#kk-report-worst .kk-verdict").wait_for()
    except Exception as exc:
        page.screenshot(path=str(artifacts / "map_draw_failed.png"))
        report = page.locator("#kk-report").inner_text()
        raise AssertionError(f"no report shown; panel says: {report!r}") from exc
    shown = page.locator("#kk-report-worst .kk-verdict").get_attribute("class") or ""
    geometry = page.evaluate("klimakort.state.drawnGeometry")
    assert geometry["type"] == "Polygon" and len(geometry["coordinates"][0]) == 5
    base = page.url.split("/map")[0]
    direct = page.request.post(
        f"{base}/reports/polygon?scenario=2100&f=json",
        data=json.dumps(geometry),
        headers={"Content-Type": "application/json"},
    )
    assert direct.status == 200
    worst = direct.json()["worst_verdict"]
    assert worst in VERDICTS and f"kk-verdict-{worst}" in shown
    n_findings = len(direct.json()["findings"])
    assert page.locator("#kk-report-findings li").count() == n_findings
    assert page.locator("#kk-report-html").is_visible()
    assert served.errors[seen:] == []
    # a planner's view for the screenshot: the drawn area with parcels and flooding around
    page.evaluate("klimakort.map.setZoom(16, {animate: false})")
    served.wait_tiles()
    page.wait_for_timeout(800)
    page.screenshot(path=str(artifacts / "map.png"))


def test_side_by_side_compares_scenarios(served: Watched) -> None:
    page = served.page
    seen = len(served.errors)
    page.check("#kk-compare")
    page.locator(".leaflet-sbs-divider").wait_for()
    tiles = "() => ['kkLeft', 'kkRight'].every(p => document.querySelectorAll("
    tiles += "'.leaflet-' + p + '-pane img.leaflet-tile-loaded').length > 0)"
    page.wait_for_function(tiles)
    srcs = "els => els.map(e => e.src)"
    left = page.eval_on_selector_all(".leaflet-kkLeft-pane img.leaflet-tile", srcs)
    right = page.eval_on_selector_all(".leaflet-kkRight-pane img.leaflet-tile", srcs)
    assert all("/cloudburst_depth/" in u and "scenario=present" in u for u in left)
    assert all("/cloudburst_depth/" in u and "scenario=2100" in u for u in right)
    assert page.evaluate("klimakort.map.getPane('kkLeft').style.clip").startswith("rect(")
    page.uncheck("#kk-compare")
    assert page.locator(".leaflet-sbs").count() == 0
    assert page.evaluate("klimakort.map.getPane('kkLeft').style.clip") == ""
    assert served.errors[seen:] == []


def _shown_legends(page: Any) -> dict[str, str]:
    """Layer id -> text of its legend box, for every visible legend of the panel."""
    return dict(
        page.eval_on_selector_all(
            ".kk-legend:not([hidden])",
            "els => els.map(e => [e.id.replace('kk-legend-', ''), e.innerText])",
        )
    )


def _wait_legends(page: Any, units: str) -> None:
    page.wait_for_function(
        "u => { const c = document.querySelector('#kk-legend-cloudburst_depth .kk-units');"
        " const shown = document.querySelectorAll('.kk-legend:not([hidden])');"
        " return c && c.innerText === u && shown.length > 0"
        " && Array.from(shown).every(b => b.querySelector('.kk-bar, .kk-swatch')); }",
        arg=units,
    )


def _cell_centres(ws: Workspace, n: int = 6) -> list[tuple[float, float, float, float]]:
    """``n`` terrain cell centres spread over the area: (x, y, lat, lon)."""
    import numpy as np

    terrain = ws.raster("terrain")
    tr = terrain.rio.transform()
    rows, cols = terrain.shape[-2:]
    to_lonlat = Transformer.from_crs(ws.crs, 4326, always_xy=True)
    out = []
    for k in range(n):
        r, c = int(rows * (k + 1) / (n + 2)), int(cols * ((3 * k) % n + 1) / (n + 2))
        x, y = tr * (c + 0.5, r + 0.5)
        lon, lat = to_lonlat.transform(x, y)
        if np.isfinite(terrain.values[..., r, c]).all():
            out.append((x, y, lat, lon))
    return out


def _same_values(page: Any, ws: Workspace, scenario: str) -> None:
    """What the page shows at a point is what Workspace.point_values reads there."""
    points = _cell_centres(ws)
    assert len(points) >= 4
    for x, y, lat, lon in points:
        shown = page.evaluate("([lat, lon]) => klimakort.valuesAt(lat, lon)", [lat, lon])
        truth = ws.point_values(x, y, scenario)
        for layer, value in truth.items():
            got = shown.get(layer)
            if value is None:
                assert got is None, (layer, x, y, got)
                continue
            assert got is not None, (layer, x, y)
            tol = max(0.005 + 1e-6, 1e-6 * abs(value))  # offline grids hold centimetres
            assert abs(got - value) <= tol, (layer, x, y, got, value)


def test_served_map_values_equal_point_values(served: Watched, browser_area: Workspace) -> None:
    _same_values(served.page, browser_area, "2100")


def test_language_toggle(served: Watched) -> None:
    page = served.page
    seen = len(served.errors)
    page.locator("#kk-lang").click()
    titles = page.locator(".kk-group-title").all_inner_texts()
    assert "hazards" in [t.lower() for t in titles]
    assert page.locator("label[for=kk-scenario]").inner_text() == "Climate scenario"
    page.locator("#kk-lang").click()
    assert page.locator("label[for=kk-scenario]").inner_text() == "Klimascenarie"
    assert served.errors[seen:] == []


def test_legends_survive_language_switch(served: Watched, artifacts: Path) -> None:
    """After each switch every visible raster layer shows its legend in the new language."""
    page = served.page
    seen = len(served.errors)
    base = page.url.split("/map")[0]
    page.check("#kk-r-sea_depth")  # a second legend, loaded only after the switch
    for lang, button in (("en", "Dansk"), ("da", "English"), ("en", "Dansk")):
        page.locator("#kk-lang").click()
        assert page.locator("#kk-lang").inner_text() == button
        api = page.request.get(f"{base}/rasters/cloudburst_depth/legend?lang={lang}").json()
        _wait_legends(page, api["units"])
        legends = _shown_legends(page)
        assert set(legends) == {"cloudburst_depth", "sea_depth"}, legends
        for layer, text in legends.items():
            expected = page.request.get(f"{base}/rasters/{layer}/legend?lang={lang}").json()
            assert text.strip(), f"the legend of {layer} is empty after switching to {lang}"
            labels = [s["label"] for s in expected["stops"]]
            assert all(label in text for label in labels), (layer, lang, text, labels)
        assert page.locator(".kk-legend:not([hidden]) .kk-bar").count() == 2
    page.screenshot(path=str(artifacts / "map_en.png"))
    # the legends in view, for people to look at
    page.locator("#kk-legend-sea_depth").scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / "map_legends_en.png"))
    page.locator("#kk-lang").click()  # back to Danish for the tests after this one
    page.uncheck("#kk-r-sea_depth")
    assert served.errors[seen:] == []


def test_standalone_map_works_offline(
    chromium: Any, browser_area: Workspace, tmp_path: Path, artifacts: Path
) -> None:
    from klimakort.maps.standalone import write_standalone_map

    path = write_standalone_map(browser_area, tmp_path / "map.html", image_max_px=600)
    context = chromium.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    watched = Watched(page)
    outside: list[str] = []

    def offline(route: Any) -> None:
        if route.request.url.startswith(("file:", "data:", "blob:")):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page.route("**/*", offline)
    page.goto(path.as_uri(), wait_until="load")
    overlay = page.locator("img.kk-raster-cloudburst_depth")
    overlay.wait_for()
    src_2100 = overlay.get_attribute("src")
    page.select_option("#kk-scenario", "present")
    assert overlay.get_attribute("src") != src_2100
    page.select_option("#kk-scenario", "2100")
    parcels = browser_area.features("parcels")
    big = parcels.loc[parcels.geometry.area.idxmax()]
    pt = big.geometry.representative_point()
    lon, lat = Transformer.from_crs(browser_area.crs, 4326, always_xy=True).transform(pt.x, pt.y)
    x, y = watched.center_on(lat, lon, 17)
    page.wait_for_timeout(200)
    page.mouse.click(x, y)
    page.locator(".leaflet-popup .kk-popup table").first.wait_for()
    popup = page.locator(".leaflet-popup-content").inner_text()
    assert str(big["parcel_id"]) in popup and "Skybrud: vanddybde" in popup
    _readable_popup(popup, str(big["parcel_id"]), parcels.columns)
    assert page.locator("#kk-search").count() == 1
    for cid in browser_area.collections:  # the offline panel lists what /collections lists
        assert page.locator(f"#kk-v-{cid}").count() == 1, cid
    page.check("#kk-v-buildings")
    assert page.evaluate("klimakort.state.vectors.buildings.layer.getLayers().length") == len(
        browser_area.features("buildings")
    )
    page.uncheck("#kk-v-buildings")
    page.fill("#kk-search", str(big["parcel_id"]))
    page.locator("#kk-search-form button").click()
    page.locator(f'#kk-search-results li[data-parcel="{big["parcel_id"]}"]').wait_for()
    assert outside == [] and watched.errors == []
    _same_values(page, browser_area, "2100")  # the same truth as the served map
    page.screenshot(path=str(artifacts / "map_standalone.png"))
    context.close()
