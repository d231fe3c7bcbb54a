"""Raster tile routes: PNG tiles, 304s, errors as problem+json, TileJSON, legends."""

from __future__ import annotations

import io

import morecantile
import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from klimakort.service import Workspace

PNG = "image/png"


def _area_tiles(ws: Workspace, z: int) -> list[morecantile.Tile]:
    from rasterio.warp import transform_bounds

    w, s, e, n = transform_bounds(ws.crs, "EPSG:4326", *ws.bounds)
    return list(morecantile.tms.get("WebMercatorQuad").tiles(w, s, e, n, [z]))


def _rgba(content: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(content)) as img:
        assert img.size == (256, 256)
        assert img.mode in ("P", "RGBA")
        return np.asarray(img.convert("RGBA"))


def _problem(r: object, status: int) -> None:
    assert r.status_code == status  # type: ignore[attr-defined]
    assert r.headers["content-type"].startswith("application/problem+json")  # type: ignore[attr-defined]
    assert r.json()["status"] == status  # type: ignore[attr-defined]


def test_tile_png_etag_and_304(client: TestClient, workspace: Workspace) -> None:
    tiles = _area_tiles(workspace, 15)
    t = tiles[len(tiles) // 2]
    url = f"/rasters/terrain/tiles/WebMercatorQuad/{t.z}/{t.x}/{t.y}.png"
    r = client.get(url)
    assert r.status_code == 200 and r.headers["content-type"] == PNG
    assert (_rgba(r.content)[..., 3] == 255).mean() > 0.5
    etag = r.headers["etag"]
    assert etag.startswith('"') and "max-age" in r.headers["cache-control"]
    r304 = client.get(url, headers={"If-None-Match": etag})
    assert r304.status_code == 304 and r304.headers["etag"] == etag and r304.content == b""
    assert client.get(url, headers={"If-None-Match": '"other"'}).status_code == 200


def test_outside_area_is_transparent_200(client: TestClient) -> None:
    r = client.get("/rasters/terrain/tiles/WebMercatorQuad/15/0/0.png")
    assert r.status_code == 200 and r.headers["content-type"] == PNG
    assert (_rgba(r.content)[..., 3] == 0).all()
    r = client.get("/rasters/terrain/tiles/DKUTM32/3/0/0.png")
    assert r.status_code == 200 and (_rgba(r.content)[..., 3] == 0).all()


def test_dkutm32_tile(client: TestClient, workspace: Workspace) -> None:
    xmin, ymin, xmax, ymax = workspace.bounds
    span = 1638.4 / 2**8 * 256  # level 8: 6.4 m cells
    x = int(((xmin + xmax) / 2 - 120_000) // span)
    y = int((6_500_000 - (ymin + ymax) / 2) // span)
    r = client.get(f"/rasters/terrain/tiles/DKUTM32/8/{x}/{y}.png")
    assert r.status_code == 200
    assert (_rgba(r.content)[..., 3] == 255).any()


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("/rasters/nope/tiles/WebMercatorQuad/15/0/0.png", 404),
        ("/rasters/terrain/tiles/NoTMS/15/0/0.png", 404),
        ("/rasters/cloudburst_depth/tiles/WebMercatorQuad/15/0/0.png?scenario=2200", 404),
        ("/rasters/terrain/tiles/WebMercatorQuad/25/0/0.png", 422),
        ("/rasters/terrain/tiles/WebMercatorQuad/2/4/0.png", 422),
        ("/rasters/terrain/tiles/WebMercatorQuad/2/0/-1.png", 422),
        ("/rasters/terrain/tiles/DKUTM32/14/0/0.png", 422),
        ("/rasters/terrain/tiles/WebMercatorQuad/a/0/0.png", 422),
        ("/rasters/terrain/tiles/WebMercatorQuad/15/0/0.png?rescale=2,1", 422),
        ("/rasters/terrain/tiles/WebMercatorQuad/15/0/0.png?rescale=0,nan", 422),
        ("/rasters/terrain/tiles/WebMercatorQuad/15/0/0.png?rescale=x", 422),
        ("/rasters/terrain/tiles/WebMercatorQuad/15/0/0.png?colormap=nope", 422),
        ("/rasters/terrain/tiles/WebMercatorQuad/15/0/0.png?colormap=classes", 422),
        ("/rasters/nope/tilejson.json", 404),
        ("/rasters/terrain/tilejson.json?tms=nope", 404),
        ("/rasters/terrain/legend?lang=de", 422),
        ("/rasters/nope/legend", 404),
        ("/rasters/nope/legend.png", 404),
        ("/tileMatrixSets/nope", 404),
    ],
)
def test_errors_are_problems(client: TestClient, url: str, status: int) -> None:
    _problem(client.get(url), status)


def test_every_layer_and_scenario_renders(client: TestClient, workspace: Workspace) -> None:
    tiles = _area_tiles(workspace, 13)
    for layer, info in workspace.raster_layers.items():
        scenarios = workspace.scenarios if info.scenario_dependent else [None]
        for sc in scenarios:
            seen = 0
            for t in tiles:
                url = f"/rasters/{layer}/tiles/WebMercatorQuad/{t.z}/{t.x}/{t.y}.png"
                r = client.get(url, params={"scenario": sc} if sc else None)
                assert r.status_code == 200, (layer, sc, r.text)
                seen += int((_rgba(r.content)[..., 3] > 0).sum())
            if layer not in ("sea_at_risk",):  # may be empty in a scenario
                assert seen > 0, (layer, sc)


def test_scenarios_differ(client: TestClient, workspace: Workspace) -> None:
    tiles = _area_tiles(workspace, 13)
    etags = {
        sc: tuple(
            client.get(
                f"/rasters/sea_depth/tiles/WebMercatorQuad/13/{t.x}/{t.y}.png",
                params={"scenario": sc},
            ).headers["etag"]
            for t in tiles
        )
        for sc in ("present", "2100")
    }
    assert etags["present"] != etags["2100"]


def test_rasters_and_tms(client: TestClient, workspace: Workspace) -> None:
    doc = client.get("/rasters").json()
    ids = [r["id"] for r in doc["rasters"]]
    assert ids == list(workspace.raster_layers)
    cb = next(r for r in doc["rasters"] if r["id"] == "cloudburst_depth")
    assert cb["scenario_dependent"] and cb["scenarios"] == workspace.scenarios
    assert set(cb["title"]) == {"da", "en"} and cb["units"] == "m"
    rels = {lk["rel"] for lk in cb["links"]}
    assert {"tilejson", "legend", "item"} <= rels
    tms = client.get("/tileMatrixSets").json()["tileMatrixSets"]
    assert [t["id"] for t in tms] == ["WebMercatorQuad", "DKUTM32"]
    dk = client.get("/tileMatrixSets/DKUTM32").json()
    assert dk["id"] == "DKUTM32" and len(dk["tileMatrices"]) == 14
    assert dk["tileMatrices"][10]["cellSize"] == pytest.approx(1.6)
    assert dk["tileMatrices"][0]["pointOfOrigin"] == [120000.0, 6500000.0]


def test_tilejson(client: TestClient, workspace: Workspace) -> None:
    r = client.get(
        "/rasters/cloudburst_depth/tilejson.json",
        params={"scenario": "2050", "colormap": "viridis", "rescale": "0,2"},
    )
    doc = r.json()
    assert doc["tilejson"] == "3.0.0"
    url = doc["tiles"][0]
    assert url.startswith("http://testserver/rasters/cloudburst_depth/tiles/WebMercatorQuad/")
    assert "{z}/{x}/{y}.png" in url
    assert "scenario=2050" in url and "colormap=viridis" in url and "rescale=0,2" in url
    w, s, e, n = doc["bounds"]
    assert 12 < w < e < 13 and 55 < s < n < 56
    assert w <= doc["center"][0] <= e and s <= doc["center"][1] <= n
    assert doc["minzoom"] <= doc["center"][2] <= doc["maxzoom"]
    assert "klimakort" in doc["attribution"]
    # the template works
    t = _area_tiles(workspace, 15)[0]
    tile_url = url.replace("{z}", "15").replace("{x}", str(t.x)).replace("{y}", str(t.y))
    assert client.get(tile_url.removeprefix("http://testserver")).status_code == 200
    dk = client.get("/rasters/terrain/tilejson.json?tms=DKUTM32").json()
    assert dk["maxzoom"] == 13 and "/tiles/DKUTM32/" in dk["tiles"][0]
    _problem(client.get("/rasters/terrain/tilejson.json?rescale=3,1"), 422)


def test_legends(client: TestClient) -> None:
    doc = client.get("/rasters/groundwater_classes/legend", params={"lang": "en"}).json()
    assert doc["type"] == "classes" and doc["title"] == "Groundwater depth classes"
    assert [e["value"] for e in doc["entries"]] == [1, 2, 3, 4]
    doc = client.get("/rasters/cloudburst_depth/legend?scenario=2050&rescale=0,3").json()
    assert doc["type"] == "continuous" and doc["scenario"] == "2050"
    assert doc["stops"][-1]["value"] == 3.0 and doc["units"] == "m"
    r = client.get("/rasters/terrain/legend.png")
    assert r.status_code == 200 and r.headers["content-type"] == PNG
    with Image.open(io.BytesIO(r.content)) as img:
        assert img.format == "PNG"
