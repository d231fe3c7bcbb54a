"""Test helpers: an independent reader of MVT geometry commands and tile checks."""

from __future__ import annotations

from typing import Any

import mapbox_vector_tile
import numpy as np
import shapely
from mapbox_vector_tile.Mapbox import vector_tile_pb2
from shapely.geometry import shape

from klimakort.vectortiles import EXTENT, tile_bounds


def _unzig(v: int) -> int:
    return (v >> 1) ^ -(v & 1)


def read_commands(geometry: list[int]) -> list[tuple[str, list[tuple[int, int]]]]:
    """Split a feature's command stream into ("move"/"line"/"close", points) steps,
    with absolute coordinates (the cursor starts at 0, 0)."""
    out: list[tuple[str, list[tuple[int, int]]]] = []
    i, cx, cy = 0, 0, 0
    while i < len(geometry):
        cmd, count = geometry[i] & 7, geometry[i] >> 3
        i += 1
        if cmd == 7:
            assert count == 1
            out.append(("close", []))
            continue
        assert cmd in (1, 2), f"unknown command {cmd}"
        pts = []
        for _ in range(count):
            cx += _unzig(geometry[i])
            cy += _unzig(geometry[i + 1])
            i += 2
            pts.append((cx, cy))
        out.append(("move" if cmd == 1 else "line", pts))
    return out


def rings(geometry: list[int]) -> list[list[tuple[int, int]]]:
    """Rings of a polygon feature (move, line, close triples), checked for shape."""
    steps = read_commands(geometry)
    assert len(steps) % 3 == 0
    out = []
    for k in range(0, len(steps), 3):
        (m, p0), (ln, pts), (c, _) = steps[k : k + 3]
        assert (m, ln, c) == ("move", "line", "close") and len(p0) == 1 and len(pts) >= 2
        out.append(p0 + pts)
    return out


def surveyor_area(ring: list[tuple[int, int]]) -> float:
    """Signed area (tile coordinates, y down; exterior rings positive by MVT 2.1)."""
    a = np.asarray(ring, dtype=float)
    b = np.roll(a, -1, axis=0)
    return float((a[:, 0] * b[:, 1] - b[:, 0] * a[:, 1]).sum() / 2)


def raw_features(data: bytes) -> list[Any]:
    """The features of the only layer of a tile, as protobuf messages."""
    tile = vector_tile_pb2.tile()
    tile.ParseFromString(data)
    assert len(tile.layers) == 1
    return list(tile.layers[0].features)


def decoded_in_3857(data: bytes, name: str, z: int, x: int, y: int) -> dict[str, Any]:
    """fid -> (geometry in EPSG:3857, properties) of a decoded tile."""
    xmin, _, xmax, ymax = tile_bounds(z, x, y)
    res = (xmax - xmin) / EXTENT
    layer = mapbox_vector_tile.decode(data, default_options={"y_coord_down": True})[name]
    assert layer["extent"] == EXTENT
    out = {}
    for f in layer["features"]:
        g = shapely.transform(
            shape(f["geometry"]),
            lambda c: np.column_stack([xmin + c[:, 0] * res, ymax - c[:, 1] * res]),
        )
        out[str(f["properties"]["fid"])] = (g, f["properties"])
    return out
