"""Geometry commands and tile assembly against an independent command reader and
mapbox_vector_tile.decode."""

from __future__ import annotations

import mapbox_vector_tile
import numpy as np
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import LineString, MultiPoint, Point, Polygon, box
from shapely.geometry.base import BaseGeometry

from klimakort.vectortiles import build_tile, geometry_commands
from klimakort.vectortiles.encode import LINESTRING, POINT, POLYGON

from .mvt_check import raw_features, read_commands, rings, surveyor_area

# a tile of 4096 units whose EPSG:3857 coordinates equal tile units flipped in y
B = (0.0, 0.0, 4096.0, 4096.0)


def _encode(geoms: list, types: list[int]) -> tuple[bytes, list]:
    cmds = geometry_commands(np.array(geoms, dtype=object), np.array(types), B)
    props = [(("fid", str(i)), ("i", i)) for i in range(len(geoms))]
    data = build_tile("t", cmds, props, ids=list(range(1, len(geoms) + 1)))
    return data, cmds.feature.tolist()


def test_polygon_with_hole_orientation_and_values() -> None:
    outer = [(10, 10), (100, 10), (100, 100), (10, 100)]
    hole = [(20, 20), (30, 20), (30, 30), (20, 30)]
    for poly in (Polygon(outer, [hole]), Polygon(outer[::-1], [hole[::-1]])):
        data, kept = _encode([poly], [POLYGON])
        assert kept == [0]
        (f,) = raw_features(data)
        assert f.type == 3 and f.id == 1
        r = rings(list(f.geometry))
        assert len(r) == 2
        assert surveyor_area(r[0]) == 90 * 90 and surveyor_area(r[1]) == -100
        # y is flipped: 3857 y = 10 is tile row 4086
        assert {p[1] for p in r[0]} == {4086, 3996}


def test_degenerate_parts_are_dropped() -> None:
    sliver = Polygon([(5, 5), (5.2, 5), (5.2, 5.3)])  # collapses on the grid
    tiny_line = LineString([(1, 1), (1.2, 1.1)])
    with_tiny_hole = Polygon([(0, 0), (50, 0), (50, 50), (0, 50)], [[(9, 9), (9.2, 9), (9.2, 9.2)]])
    line_from_poly = shapely.clip_by_rect(box(-10, -10, 0, 10), 0, -10, 10, 10)  # edge only
    data, kept = _encode(
        [sliver, tiny_line, with_tiny_hole, line_from_poly], [POLYGON, LINESTRING, POLYGON, POLYGON]
    )
    assert kept == [2]
    (f,) = raw_features(data)
    assert len(rings(list(f.geometry))) == 1


def test_lines_points_and_multi() -> None:
    multi = box(0, 0, 10, 10).union(box(20, 20, 30, 30))
    line = LineString([(0, 0), (0, 0.1), (40, 0), (40, 30)])
    pts = MultiPoint([(1, 1), (3, 4)])
    data, kept = _encode([pts, line, multi, Point(7, 8)], [POINT, LINESTRING, POLYGON, POINT])
    assert kept == [0, 1, 2, 3]
    feats = raw_features(data)
    assert [f.type for f in feats] == [1, 2, 3, 1]
    assert read_commands(list(feats[0].geometry)) == [("move", [(1, 4095), (3, 4092)])]
    assert read_commands(list(feats[1].geometry)) == [
        ("move", [(0, 4096)]),
        ("line", [(40, 4096), (40, 4066)]),
    ]
    assert [surveyor_area(r) for r in rings(list(feats[2].geometry))] == [100, 100]
    decoded = mapbox_vector_tile.decode(data, default_options={"y_coord_down": True})["t"]
    assert decoded["features"][2]["geometry"]["type"] == "MultiPolygon"
    assert [f["properties"] for f in decoded["features"]] == [
        {"fid": str(i), "i": i} for i in range(4)
    ]


def test_property_types_round_trip() -> None:
    cmds = geometry_commands(np.array([Point(1, 1)]), np.array([POINT]), B)
    props = [(("s", "æøå"), ("b", True), ("n", -3), ("u", 7), ("f", 0.25))]
    data = build_tile("t", cmds, props)
    got = mapbox_vector_tile.decode(data)["t"]["features"][0]["properties"]
    assert got == {"s": "æøå", "b": True, "n": -3, "u": 7, "f": 0.25}
    assert isinstance(got["b"], bool)


def test_empty_tile_is_empty_bytes() -> None:
    data, kept = _encode([Polygon()], [POLYGON])
    assert data == b"" and kept == []


coords = st.floats(-200, 4300, allow_nan=False)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(coords, coords, st.floats(1, 400)), min_size=1, max_size=12))
def test_random_polygons_round_trip(spec: list[tuple[float, float, float]]) -> None:
    # buffered points: valid polygons and multipolygons of any orientation, some holes
    geoms: list[BaseGeometry] = []
    for i, (x, y, r) in enumerate(spec):
        g: BaseGeometry = Point(x, y).buffer(r, quad_segs=3)
        if i % 3 == 0:
            g = g.difference(Point(x, y).buffer(r / 3, quad_segs=2))
        if i % 2:
            g = g.reverse()
        geoms.append(g)
    data, kept = _encode(geoms, [POLYGON] * len(geoms))
    if not kept:
        return
    feats = raw_features(data)
    decoded = mapbox_vector_tile.decode(data, default_options={"y_coord_down": True})["t"]
    for f, d, i in zip(feats, decoded["features"], kept, strict=True):
        r = rings(list(f.geometry))
        assert surveyor_area(r[0]) > 0  # a polygon starts with an exterior ring
        assert all(surveyor_area(ring) != 0 for ring in r)
        # decoded (y down) back to the 3857-like frame equals the snapped source
        got = shapely.transform(
            shapely.geometry.shape(d["geometry"]), lambda c: c * [1, -1] + [0, 4096]
        )
        got = shapely.make_valid(got)  # snapping may make small rings touch
        src = shapely.set_precision(geoms[i], 1.0)
        assert got.symmetric_difference(src).area <= 0.02 * max(src.area, 1) + 4 * len(r)
