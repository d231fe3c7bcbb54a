"""Vector tiles over HTTP on the small sample area: contents against the workspace's
features, scenarios, errors as problem+json, ETag/304 and TileJSON."""

from __future__ import annotations

import geopandas as gpd
import mapbox_vector_tile
import numpy as np
import pytest
from fastapi.testclient import TestClient
from shapely.geometry import box

from klimakort.service import Workspace
from klimakort.vectortiles import MEDIA_TYPE, pixel_size_m, tile_bounds, tiles_covering

URL = "/collections/{cid}/tiles/WebMercatorQuad/{z}/{x}/{y}.mvt"


def _busiest(frame: gpd.GeoDataFrame, z: int) -> tuple[int, int, gpd.GeoDataFrame]:
    """The tile of zoom ``z`` intersecting most features, and those features."""
    xs, ys = tiles_covering(tuple(frame.total_bounds), z)
    best = max(
        ((x, y) for x in xs for y in ys),
        key=lambda t: int(frame.intersects(box(*tile_bounds(z, *t))).sum()),
    )
    return best[0], best[1], frame[frame.intersects(box(*tile_bounds(z, *best)))]


def _decode(content: bytes, cid: str) -> list[dict]:
    layers = mapbox_vector_tile.decode(content, default_options={"y_coord_down": True})
    assert list(layers) == [cid]
    assert layers[cid]["extent"] == 4096
    features: list[dict] = layers[cid]["features"]
    return features


def _missing_are_slivers(
    frame: gpd.GeoDataFrame, missing: set[str], z: int, x: int, y: int
) -> None:
    px = pixel_size_m(z)
    tile = box(*tile_bounds(z, x, y))
    for fid in missing:
        part = frame.set_index("fid").geometry[fid].intersection(tile)
        assert part.area < 2 * px * px, fid


@pytest.mark.parametrize("z", [14, 16])
def test_parcel_tile_holds_the_parcels_of_the_tile(
    client: TestClient, workspace: Workspace, z: int
) -> None:
    parcels = workspace.features("parcels").to_crs(3857)
    x, y, hits = _busiest(parcels, z)
    r = client.get(URL.format(cid="parcels", z=z, x=x, y=y))
    assert r.status_code == 200
    assert r.headers["content-type"] == MEDIA_TYPE
    assert r.headers["etag"].startswith('"')
    feats = _decode(r.content, "parcels")
    got = {f["properties"]["fid"] for f in feats}
    assert got <= set(hits["fid"])
    _missing_are_slivers(parcels, set(hits["fid"]) - got, z, x, y)
    assert len(got) > 10
    src = hits.set_index("fid")
    for f in feats:
        p = f["properties"]
        assert set(p) == {"fid", "parcel_id", "area_m2", "land_use", "public"}
        assert p["parcel_id"] == p["fid"]
        assert p["land_use"] == src.loc[p["fid"], "land_use"]
        assert f["geometry"]["type"] in ("Polygon", "MultiPolygon")


def test_flooded_areas_follow_the_scenario(client: TestClient, workspace: Workspace) -> None:
    flooded = workspace.features("flooded_areas").to_crs(3857)
    z = 15
    x, y, _ = _busiest(flooded[flooded["scenario"] == "2100"], z)
    tile = box(*tile_bounds(z, x, y))
    counts = {}
    for sc in ("present", "2100"):
        r = client.get(URL.format(cid="flooded_areas", z=z, x=x, y=y), params={"scenario": sc})
        assert r.status_code in (200, 204)
        feats = _decode(r.content, "flooded_areas") if r.status_code == 200 else []
        assert {f["properties"]["scenario"] for f in feats} <= {sc}
        mine = flooded[(flooded["scenario"] == sc) & flooded.intersects(tile)]
        got = {f["properties"]["fid"] for f in feats}
        assert got <= set(mine["fid"])
        _missing_are_slivers(flooded, set(mine["fid"]) - got, z, x, y)
        for f in feats:
            assert {"fid", "bluespot_id", "depth_class", "label", "scenario"} <= set(
                f["properties"]
            )
        counts[sc] = len(got)
    assert counts["2100"] > 0
    default = client.get(URL.format(cid="flooded_areas", z=z, x=x, y=y))
    explicit = client.get(
        URL.format(cid="flooded_areas", z=z, x=x, y=y), params={"scenario": "2100"}
    )
    assert default.headers["etag"] == explicit.headers["etag"]
    assert default.content == explicit.content


def test_etag_and_304(client: TestClient, workspace: Workspace) -> None:
    parcels = workspace.features("parcels").to_crs(3857)
    x, y, _ = _busiest(parcels, 15)
    url = URL.format(cid="parcels", z=15, x=x, y=y)
    first = client.get(url)
    etag = first.headers["etag"]
    assert first.headers["cache-control"]
    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag
    listed = client.get(url, headers={"If-None-Match": f'"other", W/{etag}'})
    assert listed.status_code == 304
    stale = client.get(url, headers={"If-None-Match": '"other"'})
    assert stale.status_code == 200 and stale.content == first.content
    neighbour = client.get(URL.format(cid="parcels", z=15, x=x + 1, y=y))
    assert neighbour.headers["etag"] != etag


def test_empty_tile_is_204(client: TestClient) -> None:
    r = client.get(URL.format(cid="parcels", z=12, x=0, y=0))
    assert r.status_code == 204 and r.content == b"" and r.headers["etag"]


@pytest.mark.parametrize(
    ("path", "params", "status"),
    [
        (URL.format(cid="parcels", z=9, x=270, y=160), {}, 422),
        (URL.format(cid="parcels", z=23, x=0, y=0), {}, 422),
        (URL.format(cid="parcels", z=12, x=4096, y=0), {}, 422),
        (URL.format(cid="parcels", z=12, x=0, y=-1), {}, 422),
        (URL.format(cid="parcels", z="a", x=0, y=0), {}, 422),
        (URL.format(cid="nope", z=14, x=0, y=0), {}, 404),
        (URL.format(cid="flooded_areas", z=14, x=0, y=0), {"scenario": "2200"}, 404),
        ("/collections/nope/tiles/WebMercatorQuad/tilejson.json", {}, 404),
    ],
)
def test_errors_are_problem_json(
    client: TestClient, path: str, params: dict[str, str], status: int
) -> None:
    r = client.get(path, params=params)
    assert r.status_code == status
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["detail"]


def test_tilejson(client: TestClient, workspace: Workspace) -> None:
    r = client.get("/collections/parcels/tiles/WebMercatorQuad/tilejson.json")
    assert r.status_code == 200
    tj = r.json()
    assert tj["tilejson"] == "3.0.0" and (tj["minzoom"], tj["maxzoom"]) == (10, 22)
    assert tj["tiles"][0].endswith("/collections/parcels/tiles/WebMercatorQuad/{z}/{x}/{y}.mvt")
    (layer,) = tj["vector_layers"]
    assert layer["id"] == "parcels"
    assert layer["fields"]["fid"] == "String" and layer["fields"]["area_m2"] == "Number"
    lon = workspace.features("parcels").to_crs(4326).total_bounds
    assert np.allclose(tj["bounds"], lon, atol=1e-5)
    fl = client.get(
        "/collections/flooded_areas/tiles/WebMercatorQuad/tilejson.json",
        params={"scenario": "present"},
    ).json()
    assert fl["tiles"][0].endswith(".mvt?scenario=present") and fl["scenario"] == "present"
