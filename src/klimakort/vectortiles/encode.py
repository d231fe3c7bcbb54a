"""Geometry to Mapbox Vector Tile (MVT 2.1) commands with numpy, and tile assembly.

The geometry commands of all features of a tile are computed at once on flat numpy
arrays of coordinates (move-to/line-to/close-path, zig-zag deltas from a cursor that
restarts at every feature); polygon rings are dropped when they collapse after
snapping to the integer grid and re-oriented to the MVT winding order (exterior
rings positive by the surveyor's formula with y down, holes negative). The protobuf
message itself comes from the ``mapbox-vector-tile`` package (its generated
``vector_tile_pb2``), so no protobuf is written by hand.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from mapbox_vector_tile.Mapbox import vector_tile_pb2

#: MVT geometry types
POINT, LINESTRING, POLYGON = 1, 2, 3
_MOVE_TO, _LINE_TO, _CLOSE = 1, 2, 7
_CLOSE_CMD = (1 << 3) | _CLOSE
_MOVE1_CMD = (1 << 3) | _MOVE_TO
#: shapely type ids of the single parts each MVT type keeps
_PART_TYPES = {POINT: (0,), LINESTRING: (1, 2), POLYGON: (3,)}
_I64 = np.int64


@dataclass(frozen=True)
class Commands:
    """Encoded geometry of the features that survived snapping.

    Attributes
    ----------
    feature : ndarray of int
        Index (into the input) of each encoded feature, ascending.
    gtype : ndarray of int
        MVT geometry type of each encoded feature.
    stream : list of int
        All command integers, feature after feature.
    offsets : ndarray of int
        ``stream[offsets[i]:offsets[i + 1]]`` is the geometry of feature ``i``.
    """

    feature: np.ndarray
    gtype: np.ndarray
    stream: list[int]
    offsets: np.ndarray


def _single_parts(
    geoms: np.ndarray, index: np.ndarray, gtype: int
) -> tuple[np.ndarray, np.ndarray]:
    """Single non-empty parts of ``geoms`` of the kind ``gtype`` keeps, with feature index."""
    parts, pidx = shapely.get_parts(geoms, return_index=True)
    pidx = index[pidx]
    while True:
        tid = shapely.get_type_id(parts)
        multi = tid >= 4
        if not multi.any():
            break
        sub, sidx = shapely.get_parts(parts[multi], return_index=True)
        parts = np.concatenate([parts[~multi], sub])
        pidx = np.concatenate([pidx[~multi], pidx[multi][sidx]])
        order = np.argsort(pidx, kind="stable")
        parts, pidx = parts[order], pidx[order]
    keep = np.isin(shapely.get_type_id(parts), _PART_TYPES[gtype]) & ~shapely.is_empty(parts)
    return parts[keep], pidx[keep]


def _starts(group: np.ndarray) -> np.ndarray:
    """Boolean mask of the first element of each run of equal values."""
    first = np.ones(group.size, dtype=bool)
    first[1:] = group[1:] != group[:-1]
    return first


def _snap(coords: np.ndarray, bounds: tuple[float, float, float, float], extent: int) -> np.ndarray:
    """EPSG:3857 coordinates to integer tile coordinates (y down)."""
    xmin, _, xmax, ymax = bounds
    scale = extent / (xmax - xmin)
    out = np.empty(coords.shape, dtype=_I64)
    out[:, 0] = np.rint((coords[:, 0] - xmin) * scale)
    out[:, 1] = np.rint((ymax - coords[:, 1]) * scale)
    return out


def _dedupe(xy: np.ndarray, elem: np.ndarray, closed: bool) -> np.ndarray:
    """Mask dropping repeated points in each element (and the closing point of rings)."""
    keep = np.ones(len(xy), dtype=bool)
    if len(xy) > 1:
        keep[1:] = (xy[1:] != xy[:-1]).any(axis=1) | (elem[1:] != elem[:-1])
    if closed and len(xy):
        # after removing repeats, a ring's last kept point may equal its first
        first_idx = np.flatnonzero(_starts(elem))
        kept = np.flatnonzero(keep)
        last_kept = kept[np.r_[elem[kept][1:] != elem[kept][:-1], True]]
        first_of_last = first_idx[np.searchsorted(elem[first_idx], elem[last_kept])]
        same = (xy[last_kept] == xy[first_of_last]).all(axis=1) & (last_kept != first_of_last)
        keep[last_kept[same]] = False
    return keep


def _ring_areas(xy: np.ndarray, ring: np.ndarray, n_rings: int) -> np.ndarray:
    """Twice the signed area of each ring by the surveyor's formula (tile coords, y down)."""
    start = _starts(ring)
    idx = np.arange(len(xy))
    last = np.r_[start[1:], True]
    first_pos = np.maximum.accumulate(np.where(start, idx, 0))
    nxt = np.where(last, first_pos, idx + 1)
    cross = (xy[:, 0] * xy[nxt, 1] - xy[nxt, 0] * xy[:, 1]).astype(np.float64)
    return np.bincount(ring, weights=cross, minlength=n_rings)


def _polygon_elements(
    parts: np.ndarray, feat: np.ndarray, bounds: tuple[float, float, float, float], extent: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Snapped, oriented, valid rings: points, ring id per point, feature per ring."""
    rings, ring_poly = shapely.get_rings(parts, return_index=True)
    coords, pt_ring = shapely.get_coordinates(rings, return_index=True)
    xy = _snap(coords, bounds, extent)
    keep = _dedupe(xy, pt_ring, closed=True)
    xy, pt_ring = xy[keep], pt_ring[keep]
    n_rings = len(rings)
    count = np.bincount(pt_ring, minlength=n_rings)
    area2 = _ring_areas(xy, pt_ring, n_rings)
    exterior = _starts(ring_poly)
    ring_ok = (count >= 3) & (area2 != 0)
    poly_ok = np.zeros(len(parts), dtype=bool)
    poly_ok[ring_poly[exterior]] = ring_ok[exterior]
    ring_ok &= poly_ok[ring_poly]
    flip = np.where(exterior, area2 < 0, area2 > 0)
    sel = ring_ok[pt_ring]
    xy, pt_ring = xy[sel], pt_ring[sel]
    # reverse the rings with the wrong winding order
    start = _starts(pt_ring)
    idx = np.arange(len(xy))
    first_pos = np.maximum.accumulate(np.where(start, idx, 0))
    j = idx - first_pos
    n = count[pt_ring]
    src = np.where(flip[pt_ring], first_pos + n - 1 - j, idx)
    xy = xy[src]
    kept = np.flatnonzero(ring_ok)
    return xy, pt_ring, feat[ring_poly[kept]]


def _line_elements(
    parts: np.ndarray, feat: np.ndarray, bounds: tuple[float, float, float, float], extent: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    coords, pt_line = shapely.get_coordinates(parts, return_index=True)
    xy = _snap(coords, bounds, extent)
    keep = _dedupe(xy, pt_line, closed=False)
    xy, pt_line = xy[keep], pt_line[keep]
    count = np.bincount(pt_line, minlength=len(parts))
    ok = count >= 2
    sel = ok[pt_line]
    return xy[sel], pt_line[sel], feat[np.flatnonzero(ok)]


def _zigzag(v: np.ndarray) -> np.ndarray:
    return (v << 1) ^ (v >> 63)


def _deltas(xy: np.ndarray, pt_feat: np.ndarray) -> np.ndarray:
    """Zig-zag encoded moves from the previous point; the cursor restarts per feature."""
    prev = np.zeros_like(xy)
    if len(xy) > 1:
        prev[1:] = xy[:-1]
    prev[_starts(pt_feat)] = 0
    return _zigzag(xy - prev)


def _element_stream(
    xy: np.ndarray, elem: np.ndarray, elem_feat: np.ndarray, closed: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Command stream of lines or rings; returns the stream and each element's offset."""
    elem_ids, n = np.unique(elem, return_counts=True)
    rank = np.searchsorted(elem_ids, elem)
    size = 2 * n + (3 if closed else 2)
    off = np.concatenate([[0], np.cumsum(size)])
    out = np.empty(int(off[-1]), dtype=_I64)
    o = off[:-1]
    out[o] = _MOVE1_CMD
    out[o + 3] = ((n - 1) << 3) | _LINE_TO
    if closed:
        out[o + size - 1] = _CLOSE_CMD
    start = _starts(elem)
    idx = np.arange(len(xy))
    j = idx - np.maximum.accumulate(np.where(start, idx, 0))
    pos = off[rank] + 2 * j + 1 + (j > 0)
    d = _deltas(xy, elem_feat[rank])
    out[pos] = d[:, 0]
    out[pos + 1] = d[:, 1]
    return out, o


def _point_stream(
    parts: np.ndarray, feat: np.ndarray, bounds: tuple[float, float, float, float], extent: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    coords = shapely.get_coordinates(parts)
    xy = _snap(coords, bounds, extent)
    feats, n = np.unique(feat, return_counts=True)
    rank = np.searchsorted(feats, feat)
    size = 2 * n + 1
    off = np.concatenate([[0], np.cumsum(size)])
    out = np.empty(int(off[-1]), dtype=_I64)
    out[off[:-1]] = (n << 3) | _MOVE_TO
    start = _starts(feat)
    idx = np.arange(len(xy))
    j = idx - np.maximum.accumulate(np.where(start, idx, 0))
    pos = off[rank] + 1 + 2 * j
    d = _deltas(xy, feat)
    out[pos] = d[:, 0]
    out[pos + 1] = d[:, 1]
    return feats, out, off


def _kind_stream(
    geoms: np.ndarray,
    index: np.ndarray,
    gtype: int,
    bounds: tuple[float, float, float, float],
    extent: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Features, stream and per-feature offsets (len + 1) of one geometry type."""
    parts, feat = _single_parts(geoms, index, gtype)
    empty = (np.empty(0, _I64), np.empty(0, _I64), np.zeros(1, _I64))
    if len(parts) == 0:
        return empty
    if gtype == POINT:
        return _point_stream(parts, feat, bounds, extent)
    elements = (_polygon_elements if gtype == POLYGON else _line_elements)(
        parts, feat, bounds, extent
    )
    xy, elem, elem_feat = elements
    if len(xy) == 0:
        return empty
    stream, elem_off = _element_stream(xy, elem, elem_feat, closed=gtype == POLYGON)
    first = _starts(elem_feat)
    offsets = np.concatenate([elem_off[first], [len(stream)]])
    return elem_feat[first], stream, offsets


def geometry_commands(
    geoms: np.ndarray,
    gtypes: np.ndarray,
    bounds: tuple[float, float, float, float],
    extent: int = 4096,
) -> Commands:
    """MVT geometry commands of ``geoms`` in the tile with EPSG:3857 ``bounds``.

    Parameters
    ----------
    geoms : ndarray of shapely geometries
        Geometries in EPSG:3857, already clipped near the tile (may be empty or
        collections, e.g. after clipping).
    gtypes : ndarray of int
        MVT type per geometry (:data:`POINT`, :data:`LINESTRING`, :data:`POLYGON`);
        parts of other dimensions (a polygon clipped down to a line) are dropped.
    bounds : tuple of float
        Tile bounds (xmin, ymin, xmax, ymax) in EPSG:3857.
    extent : int
        Tile units across the tile.

    Returns
    -------
    Commands
        Only the features with a non-degenerate geometry after snapping.
    """
    feats: list[np.ndarray] = []
    streams: list[np.ndarray] = []
    base = 0
    index = np.arange(len(geoms))
    for gtype in (POINT, LINESTRING, POLYGON):
        sel = gtypes == gtype
        if not sel.any():
            continue
        f, s, o = _kind_stream(geoms[sel], index[sel], gtype, bounds, extent)
        if len(f) == 0:
            continue
        feats.append(np.column_stack([f, np.full(len(f), gtype), o[:-1] + base, o[1:] + base]))
        streams.append(s)
        base += len(s)
    if not feats:
        return Commands(np.empty(0, _I64), np.empty(0, _I64), [], np.zeros(1, _I64))
    table = np.concatenate(feats)
    table = table[np.argsort(table[:, 0], kind="stable")]
    stream = np.concatenate(streams)
    # lay the streams out in feature order
    lengths = table[:, 3] - table[:, 2]
    offsets_new = np.concatenate([[0], np.cumsum(lengths)])
    gather = np.repeat(table[:, 2] - offsets_new[:-1], lengths) + np.arange(int(offsets_new[-1]))
    return Commands(table[:, 0], table[:, 1], stream[gather].tolist(), offsets_new)


def _value_key(v: Any) -> tuple[type, Any]:
    return (type(v), v)


def build_tile(
    name: str,
    commands: Commands,
    properties: Sequence[Sequence[tuple[str, Any]]],
    ids: Sequence[int] | None = None,
    extent: int = 4096,
) -> bytes:
    """Serialise one layer as an MVT tile.

    Parameters
    ----------
    name : str
        Layer name.
    commands : Commands
        Geometry of the features (:func:`geometry_commands`).
    properties : sequence
        ``(key, value)`` pairs per input feature (indexed by ``commands.feature``);
        values are ``str``, ``bool``, ``int`` or ``float``.
    ids : sequence of int, optional
        Non-negative MVT feature ids per input feature.
    extent : int
        Tile units across the tile.

    Returns
    -------
    bytes
        The encoded tile (empty bytes when no feature survived).
    """
    if len(commands.feature) == 0:
        return b""
    tile = vector_tile_pb2.tile()
    layer = tile.layers.add()
    layer.name = name
    layer.version = 2
    layer.extent = extent
    keys: dict[str, int] = {}
    values: dict[tuple[type, Any], int] = {}
    stream = commands.stream
    offsets = commands.offsets.tolist()
    rows = zip(commands.feature.tolist(), commands.gtype.tolist(), strict=True)
    for i, (fi, gt) in enumerate(rows):
        f = layer.features.add()
        if ids is not None:
            f.id = ids[fi]
        tags: list[int] = []
        for k, v in properties[fi]:
            ki = keys.get(k)
            if ki is None:
                ki = keys[k] = len(keys)
                layer.keys.append(k)
            vk = _value_key(v)
            vi = values.get(vk)
            if vi is None:
                vi = values[vk] = len(values)
                _set_value(layer.values.add(), v)
            tags += (ki, vi)
        f.tags.extend(tags)
        f.type = gt
        f.geometry.extend(stream[offsets[i] : offsets[i + 1]])
    data: bytes = tile.SerializeToString()
    return data


def _set_value(val: Any, v: Any) -> None:
    if isinstance(v, bool):
        val.bool_value = v
    elif isinstance(v, int):
        if v < 0:
            val.sint_value = v
        else:
            val.uint_value = v
    elif isinstance(v, float):
        val.double_value = v
    else:
        val.string_value = str(v)
