"""CQL2-JSON filters (``filter-lang=cql2-json``), parsed into the tree of :mod:`.cql2`.

The same operators as the text encoding, written as JSON (CQL2 1.0, clause 8)::

    {"op": "and", "args": [
        {"op": ">=", "args": [{"property": "area_m2"}, 500]},
        {"op": "s_intersects", "args": [{"property": "geometry"},
                                         {"type": "Point", "coordinates": [12.39, 55.62]}]}]}

Operators: ``and or not``, ``= <> < <= > >=``, ``like``, ``between``, ``in``, ``isNull``
and the spatial functions ``s_intersects`` ... ``s_crosses``. Operands: ``{"property":
name}``, strings, numbers, booleans, ``{"date": ...}``, ``{"timestamp": ...}``, GeoJSON
geometries and ``{"bbox": [minx, miny, maxx, maxy]}``. Evaluation is
:func:`klimakort.features.cql2.evaluate`, shared with CQL2-text.
"""

from __future__ import annotations

import json
from typing import Any

import shapely
from shapely.errors import GEOSException

from klimakort.errors import ParameterError
from klimakort.features.cql2 import (
    MAX_NESTING,
    SPATIAL_OPS,
    And,
    Between,
    BoolValue,
    Comparison,
    Expr,
    GeometryLiteral,
    GeometryOperand,
    In,
    IsNull,
    Like,
    Literal,
    Not,
    Or,
    Property,
    Scalar,
    Spatial,
    bbox_literal,
    geometry_literal,
    instant_literal,
)

_COMPARISONS = frozenset({"=", "<>", "<", "<=", ">", ">="})
_GEOJSON_TYPES = frozenset(
    {
        "Point",
        "LineString",
        "Polygon",
        "MultiPoint",
        "MultiLineString",
        "MultiPolygon",
        "GeometryCollection",
    }
)
_OPS_HINT = "and, or, not, =, <>, <, <=, >, >=, like, between, in, isNull, s_intersects, ..."


def parse_cql2_json(text: str) -> Expr:
    """Parse a CQL2-JSON filter.

    Parameters
    ----------
    text : str
        The filter as JSON text.

    Returns
    -------
    Expr
        The same expression tree as :func:`klimakort.features.cql2.parse_cql2` gives.

    Raises
    ------
    ParameterError
        Not JSON, or not a CQL2-JSON expression (the message says where and why).
    """
    try:
        doc = json.loads(text)
    except RecursionError:
        raise ParameterError(
            f"filter: nested more than {MAX_NESTING} levels; simplify it"
        ) from None
    except ValueError as exc:
        raise ParameterError(f"filter: not valid JSON (filter-lang=cql2-json): {exc}") from None
    return _expr(doc, 0)


def _args(node: dict[str, Any], count: int | None = None) -> list[Any]:
    args = node.get("args")
    if not isinstance(args, list):
        raise ParameterError(f"filter: {node.get('op')!r} needs an 'args' list")
    if count is not None and len(args) != count:
        raise ParameterError(
            f"filter: {node.get('op')!r} takes {count} argument{'s' * (count > 1)}, got {len(args)}"
        )
    return args


def _expr(node: Any, depth: int) -> Expr:
    if depth > MAX_NESTING:
        raise ParameterError(f"filter: nested more than {MAX_NESTING} levels; simplify it")
    if isinstance(node, bool):
        return BoolValue(Literal(node))
    if isinstance(node, dict) and set(node) == {"property"}:
        return BoolValue(_scalar(node))
    if not isinstance(node, dict) or not isinstance(node.get("op"), str):
        raise ParameterError(
            f"filter: expected an expression {{'op': ..., 'args': [...]}}, got {_show(node)}"
        )
    op = node["op"]
    low = op.lower()
    if low in ("and", "or", "not"):
        return _logical(node, low, depth)
    if op.upper() in SPATIAL_OPS:
        a, b = _args(node, 2)
        return Spatial(op.upper(), _geometry(a, op), _geometry(b, op))
    return _predicate(node, op, low)


def _logical(node: dict[str, Any], low: str, depth: int) -> Expr:
    if low == "not":
        return Not(_expr(_args(node, 1)[0], depth + 1))
    args = _args(node)
    if len(args) < 2:
        raise ParameterError(f"filter: {node['op']!r} takes 2 or more arguments")
    parts = tuple(_expr(a, depth + 1) for a in args)
    return And(parts) if low == "and" else Or(parts)


def _predicate(node: dict[str, Any], op: str, low: str) -> Expr:
    if op in _COMPARISONS:
        a, b = _args(node, 2)
        return Comparison(op, _scalar(a), _scalar(b))
    if low == "like":
        subject, pattern = _args(node, 2)
        if not isinstance(pattern, str):
            raise ParameterError("filter: like needs a string pattern, e.g. 'Sk%'")
        return Like(_scalar(subject), pattern)
    if low == "between":
        s, lo, hi = _args(node, 3)
        return Between(_scalar(s), _scalar(lo), _scalar(hi))
    if low == "in":
        subject, values = _args(node, 2)
        if not isinstance(values, list) or not values:
            raise ParameterError("filter: in takes a value and a non-empty list of values")
        items = [_scalar(v) for v in values]
        literals = tuple(v for v in items if isinstance(v, Literal))
        if len(literals) != len(items):
            raise ParameterError("filter: in (...) takes literal values only")
        return In(_scalar(subject), literals)
    if low == "isnull":
        return IsNull(_scalar(_args(node, 1)[0]))
    raise ParameterError(f"filter: operator {op!r} is not supported; use one of {_OPS_HINT}")


def _scalar(node: Any) -> Scalar:
    if isinstance(node, (str, bool, int, float)):
        return Literal(node)
    if isinstance(node, dict) and len(node) == 1:
        ((key, value),) = node.items()
        if key == "property" and isinstance(value, str):
            return Property(value)
        if key in ("date", "timestamp") and isinstance(value, str):
            return instant_literal(key.upper(), value)
    raise ParameterError(
        f"filter: expected a property {{'property': name}}, a value or "
        f"{{'date': ...}} / {{'timestamp': ...}}, got {_show(node)}"
    )


def _geometry(node: Any, op: str) -> GeometryOperand:
    if isinstance(node, dict) and set(node) == {"property"}:
        return Property(str(node["property"]))
    if isinstance(node, dict) and set(node) == {"bbox"}:
        box = node["bbox"]
        if not isinstance(box, list) or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in box
        ):
            raise ParameterError("filter: bbox takes a list of 4 numbers: minx, miny, maxx, maxy")
        return bbox_literal([float(v) for v in box], "bbox")
    if isinstance(node, dict) and node.get("type") in _GEOJSON_TYPES:
        return _geojson(node)
    raise ParameterError(
        f"filter: {op} compares geometries: expected {{'property': 'geometry'}}, a GeoJSON "
        f"geometry or {{'bbox': [...]}}, got {_show(node)}"
    )


def _geojson(node: dict[str, Any]) -> GeometryLiteral:
    try:
        geom = shapely.from_geojson(json.dumps(node))
    except (GEOSException, ValueError, TypeError) as exc:
        raise ParameterError(
            f"filter: {_show(node)} is not a valid GeoJSON geometry: {exc}"
        ) from None
    return geometry_literal(geom, _show(node))


def _show(node: Any) -> str:
    text = json.dumps(node, ensure_ascii=False, default=str)
    return text if len(text) <= 80 else text[:77] + "..."
