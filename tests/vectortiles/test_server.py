"""The tile server on synthetic collections: tile contents against shapely, accuracy of
the simplified geometry, scenarios, revisions, cache and threads."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely.geometry import LineString, Point, box

from klimakort.errors import DataNotFoundError, ParameterError
from klimakort.service.catalog import COLLECTIONS, Collection
from klimakort.vectortiles import EXTENT, TileCache, VectorTileServer, pixel_size_m, tile_bounds
from klimakort.vectortiles.grid import tiles_covering

from .mvt_check import decoded_in_3857, raw_features, rings, surveyor_area

X0, Y0 = 700_000.0, 6_170_000.0


def _parcels(seed: int = 3) -> gpd.GeoDataFrame:
    """Jittered, wiggly 40 m parcels over 800 x 600 m (a coverage with shared edges)."""
    rng = np.random.default_rng(seed)
    geoms, ids = [], []
    for i in range(20):
        for j in range(15):
            b = box(X0 + 40 * i, Y0 + 40 * j, X0 + 40 * (i + 1), Y0 + 40 * (j + 1))
            b = shapely.segmentize(b, 3.0)
            c = shapely.get_coordinates(b)
            c = c + rng.normal(0, 0.15, c.shape) * (c % 40 != 0)  # wiggle inner vertices
            c[-1] = c[0]
            geoms.append(shapely.Polygon(c))
            ids.append(f"100-{i}{chr(97 + j)}")
    return gpd.GeoDataFrame(
        {"parcel_id": ids, "area_m2": [g.area for g in geoms], "land_use": "residential"},
        geometry=geoms,
        crs="EPSG:25832",
    )


def _flooded() -> gpd.GeoDataFrame:
    rows = []
    for k, sc in enumerate(("present", "2100")):
        for b in range(1, 6):
            g = Point(X0 + 100 * b, Y0 + 300).buffer(10 + 15 * k, quad_segs=8)
            rows.append((b, 1, "0.10-0.20 m", sc, g))
    return gpd.GeoDataFrame(
        rows,
        columns=["bluespot_id", "depth_class", "label", "scenario", "geometry"],
        crs="EPSG:25832",
    )


class Source:
    """A minimal workspace: parcels, flooded areas and roads (lines)."""

    name = "test"

    def __init__(self) -> None:
        self.frames = {
            "parcels": _parcels().assign(fid=lambda d: d["parcel_id"]),
            "flooded_areas": _flooded().assign(fid=lambda d: [str(i + 1) for i in range(len(d))]),
            "roads": gpd.GeoDataFrame(
                {"road_id": ["R1"], "fid": ["R1"]},
                geometry=[LineString([(X0, Y0 + 5), (X0 + 800, Y0 + 305)])],
                crs="EPSG:25832",
            ),
        }
        self.frames["lakes"] = gpd.GeoDataFrame(
            {"name": []}, geometry=gpd.GeoSeries([], crs="EPSG:25832")
        )
        self.revisions = dict.fromkeys(self.frames, 0)

    def collection(self, cid: str) -> Collection:
        if cid not in self.frames:
            raise DataNotFoundError(f"unknown collection {cid!r}")
        return COLLECTIONS[cid]

    def scenario(self, scenario: str | None) -> str:
        if scenario in (None, ""):
            return "2100"
        if scenario not in ("present", "2100"):
            raise DataNotFoundError(f"unknown scenario {scenario!r}")
        return str(scenario)

    def revision(self, cid: str) -> int:
        return self.revisions[cid]

    def features(self, cid: str) -> gpd.GeoDataFrame:
        return self.frames[cid]


@pytest.fixture
def server() -> VectorTileServer:
    return VectorTileServer(Source())


def _directed(a: shapely.Geometry, b: shapely.Geometry, step: float) -> float:
    """Largest distance from a point of ``a`` (densified vertices) to region ``b``."""
    pts = shapely.points(shapely.get_coordinates(shapely.segmentize(a, step)))
    return float(shapely.distance(pts, b).max())


def _tiles(server: VectorTileServer, cid: str, z: int) -> list[tuple[int, int]]:
    xs, ys = tiles_covering(server.layer(cid).bounds, z)
    return [(x, y) for x in xs for y in ys]


@pytest.mark.parametrize("z", [13, 15, 17])
def test_tile_features_are_those_intersecting_the_tile(server: VectorTileServer, z: int) -> None:
    src = server.source.features("parcels").to_crs(3857)
    for x, y in _tiles(server, "parcels", z):
        bounds = tile_bounds(z, x, y)
        tile = server.tile("parcels", z, x, y)
        hits = src[src.intersects(box(*bounds))]
        expected = set(hits["fid"])
        got = decoded_in_3857(tile.data, "parcels", z, x, y) if tile.data else {}
        assert set(got) <= expected
        # only features whose part in the tile is below a pixel may be missing
        px = pixel_size_m(z)
        for fid in expected - set(got):
            part = hits.set_index("fid").geometry[fid].intersection(box(*bounds))
            assert part.area < 2 * px * px, (z, x, y, fid)


@pytest.mark.parametrize("z", [10, 13, 16, 19])
def test_decoded_geometry_within_tolerance(server: VectorTileServer, z: int) -> None:
    src = server.source.features("parcels").to_crs(3857).set_index("fid")
    px = pixel_size_m(z)
    tol = 0.5 * px  # the simplification tolerance
    checked = 0
    tiles = [t for t in _tiles(server, "parcels", z) if server.tile("parcels", z, *t).data]
    for x, y in tiles[:: max(len(tiles) // 4, 1)]:
        bounds = box(*tile_bounds(z, x, y))
        data = server.tile("parcels", z, x, y).data
        for fid, (geom, props) in decoded_in_3857(data, "parcels", z, x, y).items():
            assert props["parcel_id"] == fid and props["land_use"] == "residential"
            assert props["area_m2"] == pytest.approx(src.loc[fid, "area_m2"])
            part = src.geometry[fid].intersection(bounds)
            if part.area < 4 * px * px:
                continue
            # Hausdorff distance between the regions: the decoded feature (clipped to the
            # tile plus its buffer) near the source, the source's part in the tile near it
            dist = max(_directed(geom, src.geometry[fid], px), _directed(part, geom, px))
            assert dist <= tol + px, (z, x, y, fid, dist)
            checked += 1
        for f in raw_features(data):
            assert surveyor_area(rings(list(f.geometry))[0]) > 0
    assert checked >= 4


def test_lines_are_clipped_with_a_buffer(server: VectorTileServer) -> None:
    z = 16
    for x, y in _tiles(server, "roads", z):
        data = server.tile("roads", z, x, y).data
        if not data:
            continue
        (f,) = raw_features(data)
        assert f.type == 2
        got = decoded_in_3857(data, "roads", z, x, y)["R1"][0]
        b = tile_bounds(z, x, y)
        pad = 64 * pixel_size_m(z) + pixel_size_m(z)
        assert shapely.box(b[0] - pad, b[1] - pad, b[2] + pad, b[3] + pad).covers(got)


def test_scenarios_filter_and_key(server: VectorTileServer) -> None:
    z = 14
    (x, y), *_ = [
        t for t in _tiles(server, "flooded_areas", z) if server.tile("flooded_areas", z, *t).data
    ]
    now = server.tile("flooded_areas", z, x, y, "present")
    later = server.tile("flooded_areas", z, x, y)  # default scenario 2100
    assert later.key.scenario == "2100" and now.etag != later.etag
    for t, sc in ((now, "present"), (later, "2100")):
        feats = decoded_in_3857(t.data, "flooded_areas", z, x, y)
        assert feats and {p["scenario"] for _, p in feats.values()} == {sc}
    area_now = sum(g.area for g, _ in decoded_in_3857(now.data, "flooded_areas", z, x, y).values())
    area_later = sum(
        g.area for g, _ in decoded_in_3857(later.data, "flooded_areas", z, x, y).values()
    )
    assert area_later > area_now
    # scenario-independent collections ignore (but check) the scenario
    assert server.tile("parcels", z, x, y, "present").etag == server.tile("parcels", z, x, y).etag
    with pytest.raises(DataNotFoundError, match="scenario"):
        server.tile("parcels", z, x, y, "2200")


def test_errors(server: VectorTileServer) -> None:
    with pytest.raises(DataNotFoundError):
        server.tile("nope", 14, 0, 0)
    with pytest.raises(ParameterError, match="zoom"):
        server.tile("parcels", 9, 0, 0)
    with pytest.raises(ParameterError, match="zoom"):
        server.tile("parcels", 23, 0, 0)
    with pytest.raises(ParameterError, match="does not exist"):
        server.tile("parcels", 12, 4096, 0)


def test_empty_tiles(server: VectorTileServer) -> None:
    t = server.tile("parcels", 14, 0, 0)
    assert t.data == b"" and t.etag.startswith('"')
    # a collection without features (and without fid column) has only empty tiles
    assert server.bounds("lakes") is None
    x, y = _tiles(server, "parcels", 14)[0]
    assert server.tile("lakes", 14, x, y).data == b""
    assert server.field_types("lakes") == {"fid": "String", "name": "String"}


def test_revision_changes_etag_and_content(server: VectorTileServer) -> None:
    src: Source = server.source  # type: ignore[assignment]
    z = 15
    x, y = next(t for t in _tiles(server, "parcels", z) if server.tile("parcels", z, *t).data)
    before = server.tile("parcels", z, x, y)
    assert server.tile("parcels", z, x, y).data is before.data  # from the cache
    src.frames["parcels"] = src.frames["parcels"].iloc[::2]
    src.revisions["parcels"] += 1
    after = server.tile("parcels", z, x, y)
    assert after.key.revision == 1 and after.etag != before.etag
    assert len(decoded_in_3857(after.data, "parcels", z, x, y)) < len(
        decoded_in_3857(before.data, "parcels", z, x, y)
    )


def test_threads_get_the_same_tiles(server: VectorTileServer) -> None:
    z = 16
    tiles = _tiles(server, "parcels", z)
    serial = {
        t: VectorTileServer(Source(), cache_bytes=0).tile("parcels", z, *t).data for t in tiles
    }
    with ThreadPoolExecutor(4) as pool:
        got = list(pool.map(lambda t: server.tile("parcels", z, *t).data, tiles * 3))
    assert got == [serial[t] for t in tiles * 3]


def test_tile_cache_is_bounded_lru() -> None:
    cache = TileCache(1000)
    for i in range(20):
        cache.put(i, bytes(100))
    assert cache.nbytes <= 1000 and len(cache) == 6
    assert cache.get(0) is None and cache.get(19) == bytes(100)
    cache.get(14)
    cache.put(20, bytes(100))  # evicts 15, the least recently used (14 was just used)
    assert cache.get(14) is not None and cache.get(15) is None
    cache.put("big", bytes(5000))  # larger than the cache: not stored
    assert cache.get("big") is None
    assert EXTENT == 4096
