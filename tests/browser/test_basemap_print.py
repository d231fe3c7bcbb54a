"""The Danish base map, the address search and the print sheet in a real browser.

A tiny tile server on 127.0.0.1 stands in for Dataforsyningen: a WMTS (KVP GetTile on the
View1 / DKUTM32 grid, EPSG:25832, refusing requests without the token) and an XYZ server
(Web Mercator), both drawing the sample area's terrain with klimakort's own tile renderer.
Never an outside address. Screenshots go to build/artifacts/ (basemap_utm.png,
basemap_xyz.png, address_search.png, print_page.png).
"""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import BytesIO
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pytest
from PIL import Image
from pyproj import Transformer

from klimakort.config.area import AddressesRef
from klimakort.errors import KlimakortError
from klimakort.maps.basemap import dk_level_for
from klimakort.service import Workspace
from klimakort.tiles.service import TileService

TOKEN = "test-token"
_XYZ = re.compile(r"^/xyz/(\d+)/(\d+)/(\d+)\.png$")
OVERLAYS = ("hillshade", "cloudburst_depth")
VECTORS = ("parcels", "local_plans", "planned_sites")


class TileServer:
    """WMTS (View1) and XYZ (Web Mercator) tiles of the terrain, requests recorded."""

    def __init__(self, ws: Workspace) -> None:
        self.tiles = TileService(ws, cache_mb=64)
        self.requests: list[str] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                owner.requests.append(self.path)
                status, body = owner.answer(self.path)
                self.send_response(status)
                self.send_header("Content-Type", "image/png" if status == 200 else "text/plain")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def answer(self, path: str) -> tuple[int, bytes]:
        parts = urlsplit(path)
        try:
            if parts.path == "/wmts":
                q = {k.upper(): v[0] for k, v in parse_qs(parts.query).items()}
                if q.get("TOKEN") != TOKEN:
                    return 403, b"token missing"
                if q.get("REQUEST") != "GetTile" or q.get("TILEMATRIXSET") != "View1":
                    return 400, b"not a View1 GetTile"
                z, x, y = int(q["TILEMATRIX"]), int(q["TILECOL"]), int(q["TILEROW"])
                return 200, self.tiles.tile("terrain", "DKUTM32", z, x, y).png
            m = _XYZ.match(parts.path)
            if m:
                z, x, y = (int(v) for v in m.groups())
                return 200, self.tiles.tile("terrain", "WebMercatorQuad", z, x, y).png
        except KlimakortError as exc:
            return 404, str(exc).encode()
        return 404, b"no such tile"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def serve(app: Any) -> tuple[Any, threading.Thread, socket.socket, str]:
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(
        app, log_level="warning", ws="none", http="h11", lifespan="on", access_log=False
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("uvicorn did not start")
        time.sleep(0.05)
    return server, thread, sock, f"http://127.0.0.1:{sock.getsockname()[1]}"


def sample_addresses(ws: Workspace, path: Path) -> Path:
    """DAWA-schema addresses at the sample's buildings (street Søndergade, numbers 1..)."""
    blds = ws.features("buildings").reset_index(drop=True)
    pts = blds.geometry.representative_point()
    lines = ["id,vejnavn,husnr,postnr,postnrnavn,etrs89koordinat_øst,etrs89koordinat_nord"]
    lines += [
        f"a{i},Søndergade,{i + 1},2625,Vallensbæk,{p.x:.2f},{p.y:.2f}" for i, p in enumerate(pts)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def tile_server(browser_area: Workspace) -> Iterator[TileServer]:
    ts = TileServer(browser_area)
    try:
        yield ts
    finally:
        ts.close()


@pytest.fixture(scope="module")
def addr_area(browser_area: Workspace, tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    path = sample_addresses(browser_area, tmp_path_factory.mktemp("addr") / "adresser.csv")
    cfg = browser_area.cfg.model_copy(update={"addresses": AddressesRef(path=path)})
    return Workspace(cfg, browser_area.hz)


def _site(addr_area: Workspace, **basemap: Any) -> Iterator[str]:
    from klimakort_api import Settings, create_app

    settings = Settings(area=None, **{f"basemap_{k}": v for k, v in basemap.items()})
    server, thread, sock, url = serve(create_app(settings, workspace=addr_area))
    try:
        yield url
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


@pytest.fixture(scope="module")
def utm_site(addr_area: Workspace, tile_server: TileServer) -> Iterator[str]:
    """The map with an EPSG:25832 WMTS base map (Dataforsyningen-style, with token)."""
    yield from _site(
        addr_area,
        kind="wmts",
        url=f"{tile_server.url}/wmts",
        layer="terrain",
        matrix_set="View1",
        crs="EPSG:25832",
        title="Skærmkort (test-WMTS, EPSG:25832)",
        attribution="test tiles",
        token=TOKEN,
    )


@pytest.fixture(scope="module")
def xyz_site(addr_area: Workspace, tile_server: TileServer) -> Iterator[str]:
    """The map with a Web Mercator XYZ base map."""
    yield from _site(
        addr_area,
        kind="xyz",
        url=f"{tile_server.url}/xyz/{{z}}/{{x}}/{{y}}.png",
        crs="EPSG:3857",
        title="XYZ (test)",
    )


class Page:
    """A page of the map with console errors and responses recorded."""

    def __init__(self, chromium: Any, url: str) -> None:
        self.context = chromium.new_context(viewport={"width": 1400, "height": 900})
        self.page = self.context.new_page()
        self.page.set_default_timeout(20_000)
        self.errors: list[str] = []
        self.responses: list[tuple[int, str]] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(f"pageerror: {e}"))
        self.page.on("response", lambda r: self.responses.append((r.status, r.url)))
        self.page.goto(f"{url}/map", wait_until="load")

    def only_basemap(self, lat: float, lon: float, zoom: int) -> None:
        """Overlays off, the view set, and wait until the base map has drawn."""
        self.page.evaluate(
            "([ov, vec, lat, lon, z]) => { ov.forEach(id => klimakort.setRaster(id, false));"
            " vec.forEach(id => klimakort.setVector(id, false));"
            " klimakort.map.setView([lat, lon], z, {animate: false}); }",
            [list(OVERLAYS), list(VECTORS), lat, lon, zoom],
        )
        self.page.wait_for_function(
            "() => { const c = document.querySelectorAll('.kk-basemap canvas, .kk-basemap img');"
            " return c.length > 0 && !document.querySelector("
            "'.kk-basemap .leaflet-tile:not(.leaflet-tile-loaded)'); }"
        )
        self.page.wait_for_timeout(400)

    def map_pixels(self, path: Path | None = None) -> np.ndarray:
        png = self.page.locator("#kk-map").screenshot(path=str(path) if path else None)
        return np.asarray(Image.open(BytesIO(png)).convert("RGB"), dtype=np.float64)


@pytest.fixture(scope="module")
def centre(browser_area: Workspace) -> tuple[float, float]:
    x0, y0, x1, y1 = browser_area.bounds
    lon, lat = Transformer.from_crs(browser_area.crs, 4326, always_xy=True).transform(
        (x0 + x1) / 2, (y0 + y1) / 2
    )
    return lat, lon


@pytest.fixture(scope="module")
def utm_page(chromium: Any, utm_site: str) -> Iterator[Page]:
    p = Page(chromium, utm_site)
    yield p
    p.context.close()


@pytest.fixture(scope="module")
def xyz_page(chromium: Any, xyz_site: str) -> Iterator[Page]:
    p = Page(chromium, xyz_site)
    yield p
    p.context.close()


def _external(responses: list[tuple[int, str]]) -> list[str]:
    return [u for _, u in responses if not u.startswith(("http://127.0.0.1", "data:", "blob:"))]


def test_utm_base_map_shows_its_tiles(
    utm_page: Page, tile_server: TileServer, centre: tuple[float, float], artifacts: Path
) -> None:
    page = utm_page.page
    assert page.evaluate("klimakort.config.basemap.crs") == "EPSG:25832"
    before = len(tile_server.requests)
    utm_page.only_basemap(*centre, 15)
    stats = page.evaluate(
        "() => { let s; klimakort.map.eachLayer(l => { if (l.kkStats) s = l.kkStats; });"
        " return s; }"
    )
    assert stats["loaded"] > 0 and stats["failed"] == 0, stats
    wmts = [r for r in tile_server.requests[before:] if r.startswith("/wmts")]
    assert wmts and all(f"token={TOKEN}" in r and "TILEMATRIXSET=View1" in r for r in wmts)
    # the View1 level asked for is the one that matches the screen resolution
    lat = page.evaluate("klimakort.map.getCenter().lat")
    res = 2 * np.pi * 6378137.0 / 256 / 2**15 * np.cos(np.radians(lat))
    levels = {int(parse_qs(urlsplit(r).query)["TILEMATRIX"][0]) for r in wmts}
    assert dk_level_for(res) in levels and levels <= {dk_level_for(res), dk_level_for(res) + 1}
    # the layer panel names the configured base map, checked; OpenStreetMap is not used
    label = page.locator("#kk-basemap").locator("xpath=..").inner_text()
    assert "Skærmkort (test-WMTS" in label and page.locator("#kk-basemap").is_checked()
    assert _external(utm_page.responses) == []
    assert utm_page.errors == []
    utm_page.map_pixels(artifacts / "basemap_utm_only.png")
    # with the overlays back on: the screenshot for people
    page.evaluate(
        "([ov, vec]) => { ov.forEach(id => klimakort.setRaster(id, true));"
        " vec.forEach(id => klimakort.setVector(id, true));"
        " klimakort.setRaster('hillshade', false); }",
        [list(OVERLAYS), list(VECTORS)],
    )
    page.wait_for_timeout(1500)
    page.screenshot(path=str(artifacts / "basemap_utm.png"))


def test_utm_tiles_line_up_with_web_mercator(
    utm_page: Page, xyz_page: Page, centre: tuple[float, float], artifacts: Path
) -> None:
    """The same terrain drawn from View1 tiles (reprojected in the browser) and from Web
    Mercator tiles (reprojected on the server) gives the same picture."""
    lat, lon = centre
    utm_page.only_basemap(lat, lon, 16)
    xyz_page.only_basemap(lat, lon, 16)
    a = utm_page.map_pixels()
    b = xyz_page.map_pixels(artifacts / "basemap_xyz_only.png")
    h, w = a.shape[:2]
    crop = (slice(h // 5, 4 * h // 5), slice(w // 5, 3 * w // 5))  # clear of the panel
    same = np.abs(a[crop] - b[crop]).mean()
    shifted = np.abs(a[crop] - np.roll(b, 12, axis=1)[crop]).mean()
    assert same < 6.0 and same < shifted / 2, (same, shifted)
    assert a[crop].std() > 5  # there is a picture to compare


def test_xyz_base_map(
    xyz_page: Page, tile_server: TileServer, centre: tuple[float, float], artifacts: Path
) -> None:
    page = xyz_page.page
    assert page.evaluate("klimakort.config.basemap.crs") == "EPSG:3857"
    xyz_page.only_basemap(*centre, 14)
    xyz = [u for s, u in xyz_page.responses if "/xyz/14/" in u]
    assert xyz and all(s == 200 for s, u in xyz_page.responses if "/xyz/" in u)
    assert _external(xyz_page.responses) == [] and xyz_page.errors == []
    page.screenshot(path=str(artifacts / "basemap_xyz.png"))


def test_address_search_zooms_to_the_address(
    utm_page: Page, addr_area: Workspace, artifacts: Path
) -> None:
    page = utm_page.page
    blds = addr_area.features("buildings").reset_index(drop=True)
    pt = blds.geometry.iloc[41].representative_point()
    page.evaluate("['parcels', 'buildings'].forEach(id => klimakort.setVector(id, true))")
    page.fill("#kk-address", "sondergade 42")  # ø typed as o
    page.click("#kk-address-form button[type=submit]")
    page.locator("#kk-address-results li").first.wait_for()
    assert (
        page.locator("#kk-address-results li").first.inner_text()
        == "Søndergade 42, 2625 Vallensbæk"
    )
    page.wait_for_function("() => klimakort.map.getZoom() >= 17")
    page.wait_for_timeout(500)
    c = page.evaluate("(() => { const c = klimakort.map.getCenter(); return [c.lat, c.lng]; })()")
    to_utm = Transformer.from_crs(4326, addr_area.crs, always_xy=True)
    cx, cy = to_utm.transform(c[1], c[0])
    assert np.hypot(cx - pt.x, cy - pt.y) < 5.0
    assert page.locator(".kk-address-tip").inner_text() == "Søndergade 42, 2625 Vallensbæk"
    assert utm_page.errors == []
    page.wait_for_function(
        "() => !document.querySelector('.kk-basemap .leaflet-tile:not(.leaflet-tile-loaded)')"
    )
    page.wait_for_timeout(800)
    page.screenshot(path=str(artifacts / "address_search.png"))


def test_print_links_give_the_pdf_and_the_print_page(
    utm_page: Page, chromium: Any, addr_area: Workspace, artifacts: Path
) -> None:
    page = utm_page.page
    base = page.url.split("/map")[0]
    page.evaluate("klimakort.setRaster('cloudburst_depth', true)")
    page.select_option("#kk-scenario", "2050")
    href = page.locator("#kk-print-pdf-link").get_attribute("href")
    assert href and "scenario=2050" in href and "bbox=" in href and "cloudburst_depth" in href
    pdf = page.request.get(base + href if href.startswith("/") else href)
    assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.body()[:5] == b"%PDF-"
    # a parcel searched: its own sheet
    pid = str(addr_area.features("parcels")["parcel_id"].iloc[100])
    page.fill("#kk-search", pid)
    page.click("#kk-search-form button[type=submit]")
    page.locator("#kk-print-parcel-link").wait_for()
    parcel_href = page.locator("#kk-print-parcel-link").get_attribute("href")
    assert parcel_href and f"parcel={pid}" in parcel_href
    page_href = page.locator("#kk-print-page-link").get_attribute("href")
    assert page_href and "f=html" in page_href
    ctx = chromium.new_context(viewport={"width": 1320, "height": 980})
    try:
        sheet = ctx.new_page()
        sheet.goto(base + parcel_href.replace("f=pdf", "f=html"), wait_until="load")
        sheet.wait_for_function(
            "() => document.getElementById('kk-print-sheet').naturalWidth > 1000"
        )
        pdf_link = sheet.locator("#kk-print-pdf").get_attribute("href")
        assert pdf_link and "f=pdf" in pdf_link and f"parcel={pid}" in pdf_link
        sheet.screenshot(path=str(artifacts / "print_page.png"), full_page=True)
    finally:
        ctx.close()
    page.select_option("#kk-scenario", "2100")
    assert utm_page.errors == []
