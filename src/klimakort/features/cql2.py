"""CQL2-text filters (OGC API - Features Part 3: Basic CQL2 and the spatial operators)
evaluated on a data frame.

A small hand-written parser turns the filter text into a tree of frozen dataclasses
(:func:`parse_cql2`; CQL2-JSON gives the same tree, :mod:`klimakort.features.cql2_json`);
:func:`evaluate` turns that tree into a boolean mask over the
rows of a :class:`pandas.DataFrame`. Logic is three-valued as in SQL (a comparison
with a missing value is *unknown*, ``NOT unknown`` stays unknown, and only rows that
are *true* are selected), using pandas' nullable ``boolean`` arrays (Kleene logic).

Supported (Basic CQL2): ``= <> < <= > >=``, ``AND OR NOT``, parentheses, ``LIKE``
(``%`` and ``_`` wildcards, ``\\`` escapes), ``IN (...)``, ``BETWEEN a AND b``,
``IS [NOT] NULL``, the negated forms ``NOT LIKE``/``NOT IN``/``NOT BETWEEN``, string
(``'it''s'``), number and boolean literals, ``DATE('...')``/``TIMESTAMP('...')``
literals, and property names (plain or ``"double quoted"``). A boolean property may
stand alone as a predicate (``public AND area_m2 > 500``).

Spatial operators: ``S_INTERSECTS S_WITHIN S_CONTAINS S_DISJOINT S_EQUALS S_TOUCHES
S_OVERLAPS S_CROSSES`` on the geometry property (``geometry``) and WKT literals
(``POINT``, ``LINESTRING``, ``POLYGON``, ``MULTI*``, ``GEOMETRYCOLLECTION``) or
``BBOX(minx, miny, maxx, maxy)``, in the filter CRS. They are evaluated with shapely's
vectorised predicates, on the rows a :class:`GeometryColumn` pre-selects by the
literal's bounds (the collection's STRtree).
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import shapely
from shapely.errors import GEOSException

from klimakort.errors import ParameterError

# ---------------------------------------------------------------------------- AST


@dataclass(frozen=True)
class Property:
    """A property (column) name."""

    name: str


@dataclass(frozen=True)
class Literal:
    """A literal value: str, int, float, bool or :class:`pandas.Timestamp`."""

    value: Any


Scalar = Property | Literal


@dataclass(frozen=True)
class Comparison:
    """``left op right`` with op one of ``= <> < <= > >=``."""

    op: str
    left: Scalar
    right: Scalar


@dataclass(frozen=True)
class Like:
    """``subject [NOT] LIKE pattern``."""

    subject: Scalar
    pattern: str
    negated: bool = False


@dataclass(frozen=True)
class Between:
    """``subject [NOT] BETWEEN low AND high`` (both ends included)."""

    subject: Scalar
    low: Scalar
    high: Scalar
    negated: bool = False


@dataclass(frozen=True)
class In:
    """``subject [NOT] IN (values...)``."""

    subject: Scalar
    values: tuple[Literal, ...]
    negated: bool = False


@dataclass(frozen=True)
class IsNull:
    """``subject IS [NOT] NULL``."""

    subject: Scalar
    negated: bool = False


@dataclass(frozen=True)
class Not:
    """``NOT operand``."""

    operand: Expr


@dataclass(frozen=True)
class And:
    """``a AND b AND ...``."""

    operands: tuple[Expr, ...]


@dataclass(frozen=True)
class Or:
    """``a OR b OR ...``."""

    operands: tuple[Expr, ...]


@dataclass(frozen=True)
class BoolValue:
    """A bare boolean operand: ``TRUE``, ``FALSE`` or a boolean property."""

    operand: Scalar


@dataclass(frozen=True)
class GeometryLiteral:
    """A geometry literal (WKT, ``BBOX(...)`` or GeoJSON) in the filter CRS."""

    geometry: shapely.Geometry


GeometryOperand = Property | GeometryLiteral


@dataclass(frozen=True)
class Spatial:
    """``op(left, right)`` with op one of :data:`SPATIAL_OPS` (``S_INTERSECTS``, ...)."""

    op: str
    left: GeometryOperand
    right: GeometryOperand


Expr = Comparison | Like | Between | In | IsNull | Not | And | Or | BoolValue | Spatial

#: the spatial comparison functions of CQL2 and the shapely predicate of each
SPATIAL_OPS: Mapping[str, Callable[..., Any]] = {
    "S_INTERSECTS": shapely.intersects,
    "S_WITHIN": shapely.within,
    "S_CONTAINS": shapely.contains,
    "S_DISJOINT": shapely.disjoint,
    "S_EQUALS": shapely.equals,
    "S_TOUCHES": shapely.touches,
    "S_OVERLAPS": shapely.overlaps,
    "S_CROSSES": shapely.crosses,
}
#: ``op(a, b) == CONVERSE[op](b, a)``
CONVERSE: Mapping[str, str] = {
    **{op: op for op in SPATIAL_OPS},
    "S_WITHIN": "S_CONTAINS",
    "S_CONTAINS": "S_WITHIN",
}
#: WKT geometry types a filter may write
WKT_TYPES = frozenset(
    {
        "POINT",
        "LINESTRING",
        "POLYGON",
        "MULTIPOINT",
        "MULTILINESTRING",
        "MULTIPOLYGON",
        "GEOMETRYCOLLECTION",
    }
)
#: name of the geometry property in filters (and the queryables)
GEOMETRY = "geometry"


def geometry_literal(geom: shapely.Geometry, source: str) -> GeometryLiteral:
    """A checked geometry literal (finite coordinates)."""
    coords = shapely.get_coordinates(geom)
    if not np.isfinite(coords).all():
        raise ParameterError(f"filter: the geometry {source} has coordinates that are not finite")
    return GeometryLiteral(geom)


def bbox_literal(nums: list[float], source: str = "BBOX") -> GeometryLiteral:
    """``BBOX(minx, miny, maxx, maxy)`` (or 6 numbers, heights dropped) as a polygon."""
    if len(nums) == 6:
        nums = [nums[0], nums[1], nums[3], nums[4]]
    if len(nums) != 4:
        raise ParameterError(f"filter: {source} takes 4 numbers: minx, miny, maxx, maxy")
    x0, y0, x1, y1 = nums
    if x0 > x1 or y0 > y1:
        raise ParameterError(
            f"filter: {source}({x0}, {y0}, {x1}, {y1}): the minimum is above the maximum"
        )
    return geometry_literal(shapely.box(x0, y0, x1, y1), source)


# ---------------------------------------------------------------------------- tokens

#: deepest nesting of NOT and parentheses a filter may use
MAX_NESTING = 50

_KEYWORDS = frozenset({"AND", "OR", "NOT", "LIKE", "IN", "BETWEEN", "IS", "NULL", "TRUE", "FALSE"})
_TOKEN_RE = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<string>'(?:[^']|'')*')
  | (?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<qident>"(?:[^"]|"")+")
  | (?P<ident>[A-Za-z_][A-Za-z0-9_.:]*)
  | (?P<op><>|<=|>=|!=|=|<|>)
  | (?P<punct>[(),+-])
    """,
    re.VERBOSE,
)


@dataclass(frozen=True)
class _Token:
    kind: str  # string number ident kw op punct end
    text: str
    pos: int
    value: Any = None


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN_RE.match(text, pos)
        if m is None:
            if text[pos] == "'":
                raise ParameterError(f"filter: unterminated string starting at position {pos}")
            raise ParameterError(
                f"filter: unexpected character {text[pos]!r} at position {pos}: "
                f"{_excerpt(text, pos)}"
            )
        kind = m.lastgroup or ""
        raw = m.group()
        if kind == "string":
            tokens.append(_Token("string", raw, pos, raw[1:-1].replace("''", "'")))
        elif kind == "number":
            num = float(raw) if any(c in raw for c in ".eE") else int(raw)
            tokens.append(_Token("number", raw, pos, num))
        elif kind == "qident":
            tokens.append(_Token("ident", raw, pos, raw[1:-1].replace('""', '"')))
        elif kind == "ident":
            up = raw.upper()
            if up in _KEYWORDS:
                tokens.append(_Token("kw", up, pos))
            else:
                tokens.append(_Token("ident", raw, pos, raw))
        elif kind in ("op", "punct"):
            tokens.append(_Token(kind, "<>" if raw == "!=" else raw, pos))
        pos = m.end()
    tokens.append(_Token("end", "", len(text)))
    return tokens


def _excerpt(text: str, pos: int) -> str:
    return f"{text[:pos]}⟨here⟩{text[pos:]}" if len(text) <= 200 else text[max(0, pos - 40) :]


# ---------------------------------------------------------------------------- parser


class _Parser:
    """Recursive descent over the token list (one token of look-ahead)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokenize(text)
        self.i = 0
        self.depth = 0

    @property
    def tok(self) -> _Token:
        return self.tokens[self.i]

    def _peek(self, offset: int = 1) -> _Token:
        return self.tokens[min(self.i + offset, len(self.tokens) - 1)]

    def _is(self, kind: str, text: str | None = None) -> bool:
        return self.tok.kind == kind and (text is None or self.tok.text == text)

    def _take(self) -> _Token:
        tok = self.tok
        self.i += 1
        return tok

    def _expect(self, kind: str, text: str, what: str) -> _Token:
        if not self._is(kind, text):
            self._fail(f"expected {what}")
        return self._take()

    def _fail(self, message: str) -> None:
        tok = self.tok
        found = "the end of the filter" if tok.kind == "end" else repr(tok.text)
        raise ParameterError(
            f"filter: {message} but found {found} at position {tok.pos}: "
            f"{_excerpt(self.text, tok.pos)}"
        )

    # grammar ---------------------------------------------------------------

    def parse(self) -> Expr:
        if self._is("end"):
            raise ParameterError("filter: the filter is empty")
        expr = self._or()
        if not self._is("end"):
            self._fail("expected AND, OR or the end of the filter")
        return expr

    def _or(self) -> Expr:
        parts = [self._and()]
        while self._is("kw", "OR"):
            self._take()
            parts.append(self._and())
        return parts[0] if len(parts) == 1 else Or(tuple(parts))

    def _and(self) -> Expr:
        parts = [self._not()]
        while self._is("kw", "AND"):
            self._take()
            parts.append(self._not())
        return parts[0] if len(parts) == 1 else And(tuple(parts))

    def _not(self) -> Expr:
        if self._is("kw", "NOT") or self._is("punct", "("):
            self.depth += 1
            if self.depth > MAX_NESTING:
                raise ParameterError(
                    f"filter: more than {MAX_NESTING} nested NOTs/parentheses; simplify it"
                )
            if self._take().text == "NOT":
                expr: Expr = Not(self._not())
            else:
                expr = self._or()
                self._expect("punct", ")", "')'")
            self.depth -= 1
            return expr
        return self._predicate()

    def _predicate(self) -> Expr:
        if self._is("ident") and self._peek().text == "(" and self.tok.text.upper() in SPATIAL_OPS:
            return self._spatial()
        subject = self._scalar()
        tok = self.tok
        if tok.kind == "op":
            self._take()
            return Comparison(tok.text, subject, self._scalar())
        negated = False
        if self._is("kw", "NOT") and self._peek().text in ("LIKE", "IN", "BETWEEN"):
            self._take()
            negated = True
        if self._is("kw", "LIKE"):
            self._take()
            pattern = self._scalar()
            if not (isinstance(pattern, Literal) and isinstance(pattern.value, str)):
                raise ParameterError("filter: LIKE needs a quoted pattern, e.g. name LIKE 'Sk%'")
            return Like(subject, pattern.value, negated)
        if self._is("kw", "BETWEEN"):
            self._take()
            low = self._scalar()
            self._expect("kw", "AND", "AND of BETWEEN ... AND ...")
            return Between(subject, low, self._scalar(), negated)
        if self._is("kw", "IN"):
            self._take()
            return In(subject, self._list(), negated)
        if self._is("kw", "IS"):
            self._take()
            neg = False
            if self._is("kw", "NOT"):
                self._take()
                neg = True
            self._expect("kw", "NULL", "NULL after IS")
            return IsNull(subject, neg)
        if isinstance(subject, Property) or isinstance(subject.value, bool):
            return BoolValue(subject)
        self._fail("expected a comparison (= <> < <= > >=), LIKE, IN, BETWEEN or IS NULL")
        raise AssertionError  # pragma: no cover - _fail raises

    def _spatial(self) -> Spatial:
        op = self._take().text.upper()
        self._expect("punct", "(", "'('")
        left = self._geometry_operand(op)
        self._expect("punct", ",", f"',' between the two geometries of {op}")
        right = self._geometry_operand(op)
        self._expect("punct", ")", f"')' closing {op}")
        return Spatial(op, left, right)

    def _geometry_operand(self, op: str) -> GeometryOperand:
        tok = self.tok
        if tok.kind != "ident":
            self._fail(f"expected the geometry property or a geometry literal in {op}")
        word = tok.text.upper()
        if word in WKT_TYPES:
            return self._wkt()
        if word == "BBOX" and self._peek().text == "(":
            self._take()
            self._take()
            nums = [self._number()]
            while self._is("punct", ","):
                self._take()
                nums.append(self._number())
            self._expect("punct", ")", "')' closing BBOX")
            return bbox_literal(nums)
        if self._peek().text == "(":
            raise ParameterError(
                f"filter: {tok.text}(...) is not a geometry; write WKT (POINT, LINESTRING, "
                "POLYGON, MULTI...) or BBOX(minx, miny, maxx, maxy)"
            )
        self._take()
        return Property(str(tok.value))

    def _number(self) -> float:
        tok = self.tok
        sign = 1.0
        if tok.kind == "punct" and tok.text in "+-":
            self._take()
            sign = -1.0 if tok.text == "-" else 1.0
        if not self._is("number"):
            self._fail("expected a number")
        return sign * float(self._take().value)

    def _wkt(self) -> GeometryLiteral:
        """A WKT literal: from its keyword to the matching ``)`` (or ``EMPTY``)."""
        start = self.tok.pos
        depth = 0
        end = None
        for k in range(self.i + 1, len(self.tokens)):
            t = self.tokens[k]
            if t.text == "(":
                depth += 1
            elif t.text == ")":
                depth -= 1
                if depth == 0:
                    end = k
                    break
            elif depth == 0 and t.text.upper() == "EMPTY":
                end = k
                break
            elif depth == 0 and not (t.kind == "ident" and t.text.upper() in ("Z", "M", "ZM")):
                break
        if end is None:
            self._fail("expected a complete WKT geometry, e.g. POINT(12.3 55.6)")
            raise AssertionError  # pragma: no cover - _fail raises
        last = self.tokens[end]
        raw = self.text[start : last.pos + len(last.text)]
        try:
            geom = shapely.from_wkt(raw)
        except GEOSException as exc:
            raise ParameterError(f"filter: {raw[:80]!r} is not valid WKT: {exc}") from None
        self.i = end + 1
        return geometry_literal(geom, repr(raw[:80]))

    def _list(self) -> tuple[Literal, ...]:
        self._expect("punct", "(", "'(' after IN")
        values: list[Literal] = []
        while True:
            item = self._scalar()
            if not isinstance(item, Literal):
                raise ParameterError("filter: IN (...) takes literal values only")
            values.append(item)
            if self._is("punct", ","):
                self._take()
                continue
            self._expect("punct", ")", "',' or ')' in the IN list")
            return tuple(values)

    def _scalar(self) -> Scalar:
        tok = self.tok
        if tok.kind == "punct" and tok.text in "+-" and self._peek().kind == "number":
            self._take()
            num = self._take().value
            return Literal(-num if tok.text == "-" else num)
        if tok.kind in ("string", "number"):
            self._take()
            return Literal(tok.value)
        if tok.kind == "kw" and tok.text in ("TRUE", "FALSE"):
            self._take()
            return Literal(tok.text == "TRUE")
        if tok.kind == "ident":
            if tok.text.upper() in ("DATE", "TIMESTAMP") and self._peek().text == "(":
                return self._instant()
            if self._peek().text == "(":
                raise ParameterError(
                    f"filter: function {tok.text}() is not supported (Basic CQL2 only)"
                )
            self._take()
            return Property(str(tok.value))
        self._fail("expected a property name or a value")
        raise AssertionError  # pragma: no cover - _fail raises

    def _instant(self) -> Literal:
        kind = self._take().text.upper()
        self._expect("punct", "(", "'('")
        tok = self._take()
        if tok.kind != "string":
            raise ParameterError(f"filter: {kind}() takes a quoted date, e.g. {kind}('2024-05-01')")
        self._expect("punct", ")", "')'")
        return instant_literal(kind, tok.value, tok.text)


def instant_literal(kind: str, value: str, shown: str | None = None) -> Literal:
    """A ``DATE`` (midnight) or ``TIMESTAMP`` literal in naive UTC.

    Raises
    ------
    ParameterError
        ``value`` is not a date or time.
    """
    shown = repr(value) if shown is None else shown
    try:
        ts = pd.Timestamp(value)
    except ValueError as exc:
        raise ParameterError(f"filter: {kind}({shown}) is not a valid date: {exc}") from None
    if ts is pd.NaT:
        raise ParameterError(f"filter: {kind}({shown}) is not a date")
    if ts.tzinfo is not None:
        ts = ts.tz_convert("UTC").tz_localize(None)
    return Literal(ts.normalize() if kind == "DATE" else ts)


def parse_cql2(text: str) -> Expr:
    """Parse a CQL2-text filter.

    Parameters
    ----------
    text : str
        The filter, e.g. ``"scenario = '2100' AND depth_class >= 2"``.

    Returns
    -------
    Expr
        The expression tree.

    Raises
    ------
    ParameterError
        Syntax errors, naming the position and what was expected.
    """
    return _Parser(text).parse()


def properties(expr: Expr) -> set[str]:
    """Names of the properties an expression refers to."""
    out: set[str] = set()

    def visit(node: Any) -> None:
        if isinstance(node, Property):
            out.add(node.name)
        elif isinstance(node, (tuple, list)):
            for n in node:
                visit(n)
        elif hasattr(node, "__dataclass_fields__"):
            for name in node.__dataclass_fields__:
                visit(getattr(node, name))

    visit(expr)
    return out


def check_properties(expr: Expr, queryables: Iterable[str]) -> None:
    """Raise ParameterError naming the valid properties when ``expr`` uses others, or
    when a spatial function compares a property that is not the geometry."""
    known = list(queryables)
    unknown = sorted(properties(expr) - set(known))
    if unknown:
        raise ParameterError(
            f"filter: unknown propert{'y' if len(unknown) == 1 else 'ies'} "
            f"{', '.join(repr(u) for u in unknown)}; the queryables are: {', '.join(known)}"
        )
    _check_geometry_operands(expr)


def _check_geometry_operands(expr: Expr) -> None:
    """Raise ParameterError when a spatial function compares a non-geometry property."""
    if isinstance(expr, (And, Or)):
        for e in expr.operands:
            _check_geometry_operands(e)
    elif isinstance(expr, Not):
        _check_geometry_operands(expr.operand)
    elif isinstance(expr, Spatial):
        for node in (expr.left, expr.right):
            if isinstance(node, Property) and node.name != GEOMETRY:
                raise ParameterError(
                    f"filter: {expr.op} compares geometries; property {node.name!r} is not "
                    f"one: use {GEOMETRY!r} or a geometry literal"
                )


# ---------------------------------------------------------------------------- evaluator

_COMPARE: Mapping[str, Callable[[Any, Any], Any]] = {
    "=": operator.eq,
    "<>": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def _kind(value: Any) -> str:
    """'text', 'number', 'boolean', 'datetime' or 'other' of a column or literal."""
    if isinstance(value, pd.Series):
        dt = value.dtype
        if pd.api.types.is_bool_dtype(dt):
            return "boolean"
        if pd.api.types.is_numeric_dtype(dt):
            return "number"
        if pd.api.types.is_datetime64_any_dtype(dt):
            return "datetime"
        if pd.api.types.is_string_dtype(dt):
            return "text"
        return "other"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, pd.Timestamp):
        return "datetime"
    return "other"


_EXAMPLE = {
    "text": "'a text'",
    "number": "12.5",
    "boolean": "true",
    "datetime": "DATE('2024-01-31')",
}


@dataclass(frozen=True)
class GeometryColumn:
    """The geometries of the rows a filter is evaluated on, in the filter CRS.

    Attributes
    ----------
    values : numpy.ndarray of shapely geometries
        One per row of the evaluated frame (None where missing).
    candidates : callable, optional
        ``candidates(geom)`` -> boolean array over the rows: True where a row's bounds
        may intersect ``geom``'s (an STRtree query); every row when omitted.
    """

    values: np.ndarray
    candidates: Callable[[shapely.Geometry], np.ndarray] | None = None

    def near(self, geom: shapely.Geometry) -> np.ndarray:
        """Rows whose bounds intersect ``geom``'s bounds (a superset of its hits)."""
        if self.candidates is None:
            return np.ones(len(self.values), dtype=bool)
        return self.candidates(geom)


class _Evaluator:
    def __init__(self, frame: pd.DataFrame, geometry: GeometryColumn | None = None) -> None:
        self.frame = frame
        self.n = len(frame)
        self.geometry = geometry

    def value(self, node: Scalar) -> Any:
        if isinstance(node, Property):
            if node.name == GEOMETRY and node.name not in self.frame.columns:
                raise ParameterError(
                    f"filter: the geometry property {GEOMETRY!r} can only be used in a "
                    "spatial function, e.g. S_INTERSECTS(geometry, POINT(12.3 55.6))"
                )
            if node.name not in self.frame.columns:
                raise ParameterError(f"filter: unknown property {node.name!r}")
            col = self.frame[node.name]
            if pd.api.types.is_datetime64_any_dtype(col.dtype) and col.dt.tz is not None:
                col = col.dt.tz_convert("UTC").dt.tz_localize(None)
            return col
        return node.value

    def describe(self, node: Scalar) -> str:
        return f"property {node.name!r}" if isinstance(node, Property) else repr(node.value)

    def check_types(self, nodes: Iterable[Scalar]) -> None:
        nodes = list(nodes)
        kinds = [_kind(self.value(n)) for n in nodes]
        if len(set(kinds)) > 1:
            first = kinds[0]
            bad = next(n for n, k in zip(nodes, kinds, strict=True) if k != first)
            raise ParameterError(
                f"filter: cannot compare {self.describe(nodes[0])} ({first}) with "
                f"{self.describe(bad)} ({_kind(self.value(bad))}); "
                f"write {first} values like {_EXAMPLE.get(first, 'a literal')}"
            )

    def to_mask(self, result: Any, null_of: Iterable[Any] = ()) -> pd.Series:
        """A nullable boolean Series; NA where any of ``null_of`` is missing."""
        if isinstance(result, pd.Series):
            mask = result.astype("boolean")
        else:
            mask = pd.Series(np.full(self.n, bool(result)), index=self.frame.index, dtype="boolean")
        for v in null_of:
            if isinstance(v, pd.Series):
                isna = v.isna().to_numpy()
                if isna.any():
                    mask = mask.mask(isna, pd.NA)
        return mask

    def eval(self, node: Expr) -> pd.Series:
        if isinstance(node, And):
            out = self.eval(node.operands[0])
            for op in node.operands[1:]:
                out = out & self.eval(op)
            return out
        if isinstance(node, Or):
            out = self.eval(node.operands[0])
            for op in node.operands[1:]:
                out = out | self.eval(op)
            return out
        if isinstance(node, Not):
            return ~self.eval(node.operand)
        if isinstance(node, Comparison):
            self.check_types([node.left, node.right])
            a, b = self.value(node.left), self.value(node.right)
            return self.to_mask(_COMPARE[node.op](a, b), (a, b))
        if isinstance(node, Between):
            self.check_types([node.subject, node.low, node.high])
            s, lo, hi = (self.value(n) for n in (node.subject, node.low, node.high))
            out = self.to_mask((s >= lo) & (s <= hi), (s, lo, hi))
            return ~out if node.negated else out
        if isinstance(node, In):
            self.check_types([node.subject, *node.values])
            s = self.value(node.subject)
            vals = [v.value for v in node.values]
            res = s.isin(vals) if isinstance(s, pd.Series) else s in vals
            out = self.to_mask(res, (s,))
            return ~out if node.negated else out
        if isinstance(node, Like):
            return self.like(node)
        if isinstance(node, Spatial):
            return self.spatial(node)
        if isinstance(node, IsNull):
            s = self.value(node.subject)
            isna = s.isna() if isinstance(s, pd.Series) else s is None
            return self.to_mask(~isna if node.negated else isna)
        if isinstance(node, BoolValue):
            v = self.value(node.operand)
            if _kind(v) != "boolean":
                raise ParameterError(
                    f"filter: {self.describe(node.operand)} is not boolean; compare it, "
                    f"e.g. {getattr(node.operand, 'name', 'x')} = ..."
                )
            return self.to_mask(v, (v,))
        raise ParameterError(f"filter: unsupported expression {node!r}")  # pragma: no cover

    def geometries(self, node: GeometryOperand, op: str) -> np.ndarray:
        if isinstance(node, GeometryLiteral):
            return np.full(self.n, node.geometry, dtype=object)
        if node.name != GEOMETRY:
            raise ParameterError(
                f"filter: {op} compares geometries; property {node.name!r} is not one: "
                f"use {GEOMETRY!r} or a geometry literal"
            )
        if self.geometry is None:
            raise ParameterError(f"filter: {op} needs features with a geometry")
        return self.geometry.values

    def spatial(self, node: Spatial) -> pd.Series:
        op, left, right = node.op, node.left, node.right
        if isinstance(left, GeometryLiteral) and isinstance(right, Property):
            op, left, right = CONVERSE[op], right, left
        a = self.geometries(left, node.op)
        predicate = SPATIAL_OPS[op]
        if isinstance(right, GeometryLiteral) and self.geometry is not None:
            # only rows whose bounds meet the literal's can intersect it; the literal goes
            # first, prepared, with the converse predicate (much faster in GEOS)
            lit = right.geometry
            shapely.prepare(lit)
            near = np.flatnonzero(self.geometry.near(lit))
            hit = np.full(self.n, op == "S_DISJOINT", dtype=bool)
            hit[near] = SPATIAL_OPS[CONVERSE[op]](lit, a[near])
        else:
            hit = np.asarray(predicate(a, self.geometries(right, node.op)), dtype=bool)
        out = pd.Series(hit, index=self.frame.index, dtype="boolean")
        missing = shapely.is_missing(a)
        if not isinstance(right, GeometryLiteral):
            missing |= shapely.is_missing(self.geometries(right, node.op))
        return out.mask(missing, pd.NA) if missing.any() else out

    def like(self, node: Like) -> pd.Series:
        s = self.value(node.subject)
        if _kind(s) != "text":
            raise ParameterError(
                f"filter: LIKE needs a text value, {self.describe(node.subject)} is {_kind(s)}"
            )
        regex = like_to_regex(node.pattern)
        res: Any
        if isinstance(s, pd.Series):
            res = s.astype("string").str.fullmatch(regex, flags=re.DOTALL)
        else:
            res = re.fullmatch(regex, s, flags=re.DOTALL) is not None
        out = self.to_mask(res, (s,))
        return ~out if node.negated else out


def like_to_regex(pattern: str) -> str:
    """Regular expression of a CQL2 LIKE pattern (``%`` any run, ``_`` one character,
    ``\\`` escapes the next character)."""
    parts: list[str] = []
    chars = iter(pattern)
    for c in chars:
        if c == "\\":
            nxt = next(chars, "\\")
            parts.append(re.escape(nxt))
        elif c == "%":
            parts.append(".*")
        elif c == "_":
            parts.append(".")
        else:
            parts.append(re.escape(c))
    return "".join(parts)


def evaluate(expr: Expr, frame: pd.DataFrame, geometry: GeometryColumn | None = None) -> np.ndarray:
    """Rows of ``frame`` for which ``expr`` is true.

    Parameters
    ----------
    expr : Expr
        A parsed filter (:func:`parse_cql2`).
    frame : DataFrame
        The rows; property names are its columns.
    geometry : GeometryColumn, optional
        The rows' geometries in the filter CRS, for the spatial functions (property
        ``geometry``).

    Returns
    -------
    numpy.ndarray of bool
        One entry per row; rows where the filter is false or unknown (a missing
        value took part) are False.

    Raises
    ------
    ParameterError
        A property not in the frame, or values of different types compared.
    """
    mask = _Evaluator(frame, geometry).eval(expr)
    return mask.fillna(False).to_numpy(dtype=bool)


def cql2_mask(
    text: str,
    frame: pd.DataFrame,
    queryables: Iterable[str] | None = None,
    geometry: GeometryColumn | None = None,
) -> np.ndarray:
    """Parse ``text``, check its properties against ``queryables`` and evaluate it.

    With ``geometry``, the property ``geometry`` is queryable too.
    """
    expr = parse_cql2(text)
    known = list(frame.columns if queryables is None else queryables)
    check_properties(expr, [*known, GEOMETRY] if geometry is not None else known)
    return evaluate(expr, frame, geometry)


def spatial_prefilters(expr: Expr) -> list[shapely.Geometry]:
    """Geometry literals that every row matching ``expr`` must meet the bounds of.

    The literals of the spatial functions that are ``expr`` itself or one of its
    top-level ``AND`` operands, except ``S_DISJOINT`` (all others are false for a
    geometry whose bounds do not meet the literal's).
    """
    parts = expr.operands if isinstance(expr, And) else (expr,)
    out = []
    for part in parts:
        if isinstance(part, Spatial) and part.op != "S_DISJOINT":
            out += [g.geometry for g in (part.left, part.right) if isinstance(g, GeometryLiteral)]
    return out


def has_spatial(expr: Expr) -> bool:
    """Whether ``expr`` uses a spatial function."""
    if isinstance(expr, Spatial):
        return True
    if isinstance(expr, (And, Or)):
        return any(has_spatial(e) for e in expr.operands)
    if isinstance(expr, Not):
        return has_spatial(expr.operand)
    return False
