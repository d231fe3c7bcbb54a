"""CQL2-text parsing and evaluation against hand-written pandas expressions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from klimakort.errors import ParameterError
from klimakort.features.cql2 import (
    SPATIAL_OPS,
    And,
    Comparison,
    GeometryColumn,
    GeometryLiteral,
    Literal,
    Not,
    Or,
    Property,
    Spatial,
    cql2_mask,
    evaluate,
    like_to_regex,
    parse_cql2,
    properties,
    spatial_prefilters,
)


@pytest.fixture
def frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "name": pd.Series(["Skole", "Skov", None, "Sø's bred", "park_1", "Å"], dtype="str"),
            "depth": [0.1, 0.5, np.nan, 2.0, 1.0, 0.0],
            "cls": np.array([1, 2, 3, 4, 2, 1], dtype=np.int64),
            "public": [True, False, True, False, True, False],
            "scenario": pd.Series(["2100", "2050", "2100", "present", "2100", "2050"], dtype="str"),
            "when": pd.to_datetime(
                np.array(
                    ["2024-01-01", "2024-06-01", "NaT", "2023-12-31", "2025-01-01", "2024-01-01"],
                    dtype="datetime64[s]",
                )
            ),
        }
    )


def sel(mask: np.ndarray | pd.Series) -> list[int]:
    m = np.asarray(pd.Series(mask).fillna(False), dtype=bool)
    return np.flatnonzero(m).tolist()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("scenario = '2100' AND cls >= 2", lambda d: (d.scenario == "2100") & (d.cls >= 2)),
        ("scenario='2100' and not cls=3", lambda d: (d.scenario == "2100") & (d.cls != 3)),
        ("cls <> 2", lambda d: d.cls != 2),
        ("depth < 1 OR cls > 3", lambda d: (d.depth < 1) | (d.cls > 3)),
        (
            "(depth <= 0.5 OR cls = 4) AND public",
            lambda d: ((d.depth <= 0.5) | (d.cls == 4)) & d.public,
        ),
        ("public = false", lambda d: ~d.public),
        ("NOT public", lambda d: ~d.public),
        ("name LIKE 'Sk%'", lambda d: d.name.str.startswith("Sk").fillna(False)),
        ("name NOT LIKE 'Sk%'", lambda d: (~d.name.str.startswith("Sk")) & d.name.notna()),
        ("name LIKE 'S_o%'", lambda d: d.name.isin(["Skole", "Skov"])),
        (r"name LIKE 'park\_%'", lambda d: d.name == "park_1"),
        ("name = 'Sø''s bred'", lambda d: d.name == "Sø's bred"),
        ("name = 'Å'", lambda d: d.name == "Å"),
        ("cls IN (1, 4)", lambda d: d.cls.isin([1, 4])),
        ("cls NOT IN (1, 4)", lambda d: ~d.cls.isin([1, 4])),
        ("scenario IN ('2100','present')", lambda d: d.scenario.isin(["2100", "present"])),
        ("depth BETWEEN 0.1 AND 1", lambda d: (d.depth >= 0.1) & (d.depth <= 1)),
        ("depth NOT BETWEEN 0.1 AND 1", lambda d: (d.depth < 0.1) | (d.depth > 1)),
        ("depth IS NULL", lambda d: d.depth.isna()),
        ("name IS NOT NULL", lambda d: d.name.notna()),
        ("depth > -1", lambda d: d.depth > -1),
        ("depth >= 1e-1", lambda d: d.depth >= 0.1),
        ("when >= DATE('2024-01-01')", lambda d: d.when >= pd.Timestamp("2024-01-01")),
        (
            "when < TIMESTAMP('2024-01-01T00:00:01Z')",
            lambda d: d.when <= pd.Timestamp("2024-01-01"),
        ),
        ('"cls" = 2', lambda d: d.cls == 2),
        ("1 = 1", lambda d: pd.Series(True, index=d.index)),
        ("TRUE AND cls = 1", lambda d: d.cls == 1),
    ],
)
def test_filters_match_pandas(frame: pd.DataFrame, text: str, expected) -> None:  # type: ignore[no-untyped-def]
    assert sel(cql2_mask(text, frame)) == sel(expected(frame))


def test_missing_values_are_unknown_not_true(frame: pd.DataFrame) -> None:
    # row 2 has depth NaN: neither depth < 1 nor NOT (depth < 1) selects it (SQL logic)
    assert 2 not in sel(cql2_mask("depth < 1", frame))
    assert 2 not in sel(cql2_mask("NOT (depth < 1)", frame))
    # unknown OR true is true
    assert 2 in sel(cql2_mask("depth < 1 OR public", frame))
    # unknown AND false is false, NOT of that is true
    assert 2 in sel(cql2_mask("NOT (depth < 1 AND cls = 99)", frame))


def test_parse_tree_and_precedence() -> None:
    expr = parse_cql2("a = 1 OR b = 2 AND NOT c = 3")
    assert expr == Or(
        (
            Comparison("=", Property("a"), Literal(1)),
            And(
                (
                    Comparison("=", Property("b"), Literal(2)),
                    Not(Comparison("=", Property("c"), Literal(3))),
                )
            ),
        )
    )
    assert properties(expr) == {"a", "b", "c"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("cls >", "expected a property name or a value"),
        ("cls = 1 AND", "expected a property name or a value"),
        ("(cls = 1", "expected ')'"),
        ("cls = 1)", "expected AND, OR or the end"),
        ("cls = 'x", "unterminated string"),
        ("cls # 1", "unexpected character '#'"),
        ("", "empty"),
        ("cls IN (1, name)", "literal values only"),
        ("name LIKE 3", "quoted pattern"),
        ("FOO(cls) = 1", "not supported"),
        ("S_INTERSECTS(geometry, 1)", "expected the geometry property or a geometry literal"),
        ("S_INTERSECTS(geometry, POINT(1))", "not valid WKT"),
        ("S_INTERSECTS(geometry, POLYGON((0 0, 1 1)", "complete WKT geometry"),
        ("S_INTERSECTS(geometry, BBOX(1, 2, 3))", "takes 4 numbers"),
        ("S_INTERSECTS(geometry, BBOX(3, 2, 1, 4))", "minimum is above"),
        ("S_INTERSECTS(geometry, CIRCLE(1 2))", "is not a geometry"),
        ("S_INTERSECTS(geometry POINT(1 2))", "expected ','"),
        ("S_WITHIN(cls, POINT(1 2))", "property 'cls' is not one"),
        ("S_WITHIN(geometry, POINT(1 2))", "unknown property 'geometry'"),
        ("cls", "is not boolean"),
        ("cls = 'two'", "cannot compare property 'cls' (number) with 'two' (text)"),
        ("name = 3", "cannot compare"),
        ("depth LIKE '1%'", "LIKE needs a text value"),
        ("when > DATE('not a date')", "not a valid date"),
        ("nope = 1", "unknown property 'nope'"),
        ("when = DATE('')", "is not a date"),
        ("(" * 500 + "cls = 1" + ")" * 500, "nested"),
        ("NOT " * 500 + "cls = 1", "nested"),
    ],
)
def test_errors_name_the_problem(frame: pd.DataFrame, text: str, message: str) -> None:
    with pytest.raises(ParameterError, match=message.replace("(", r"\(").replace(")", r"\)")):
        cql2_mask(text, frame)


def test_unknown_property_lists_queryables(frame: pd.DataFrame) -> None:
    with pytest.raises(ParameterError, match="the queryables are: depth, cls") as info:
        cql2_mask("fid = '1' AND foo > 2", frame, queryables=["depth", "cls"])
    assert "'fid', 'foo'" in str(info.value)


@pytest.mark.parametrize(
    ("pattern", "hits", "misses"),
    [
        ("a%", ["a", "abc"], ["ba", ""]),
        ("_b", ["ab", "bb"], ["b", "abb"]),
        ("100\\%", ["100%"], ["1000"]),
        ("a.c", ["a.c"], ["abc"]),
        ("%", ["", "x\ny"], []),
    ],
)
def test_like_patterns(pattern: str, hits: list[str], misses: list[str]) -> None:
    import re

    rx = like_to_regex(pattern)
    assert all(re.fullmatch(rx, h, flags=re.DOTALL) for h in hits)
    assert not any(re.fullmatch(rx, m, flags=re.DOTALL) for m in misses)


values = st.floats(min_value=-5, max_value=5, allow_nan=False, width=32)


@settings(max_examples=50, deadline=None)
@given(
    depth=st.lists(st.one_of(values, st.just(float("nan"))), min_size=1, max_size=30),
    lo=values,
    hi=values,
    op=st.sampled_from(["=", "<>", "<", "<=", ">", ">="]),
)
def test_random_thresholds(depth: list[float], lo: float, hi: float, op: str) -> None:
    d = pd.DataFrame({"depth": np.asarray(depth, dtype=float), "k": np.arange(len(depth))})
    ops = {
        "=": d.depth == lo,
        "<>": d.depth != lo,
        "<": d.depth < lo,
        "<=": d.depth <= lo,
        ">": d.depth > lo,
        ">=": d.depth >= lo,
    }
    known = d.depth.notna()
    got = cql2_mask(f"depth {op} {lo!r}", d)
    assert sel(got) == sel(ops[op] & known)
    # NOT of a comparison keeps missing values out (three-valued logic)
    got_not = cql2_mask(f"NOT depth {op} {lo!r}", d)
    assert sel(got_not) == sel(~ops[op] & known)
    between = cql2_mask(f"depth BETWEEN {lo!r} AND {hi!r}", d)
    assert sel(between) == sel((d.depth >= lo) & (d.depth <= hi))
    # De Morgan on known values
    a = cql2_mask(f"NOT (depth > {lo!r} OR k < 3)", d)
    b = cql2_mask(f"NOT depth > {lo!r} AND NOT k < 3", d)
    assert np.array_equal(a, b)


# ---------------------------------------------------------------------------- spatial


def _random_geometries(rng: np.random.Generator, n: int) -> np.ndarray:
    """Points, lines and (multi)polygons in 0..100, some missing."""
    out = []
    for i in range(n):
        x, y = rng.uniform(0, 100, 2)
        kind = i % 5
        if kind == 0:
            out.append(shapely.Point(x, y))
        elif kind == 1:
            out.append(shapely.LineString([(x, y), (x + rng.uniform(-20, 20), y + 10)]))
        elif kind == 2:
            out.append(shapely.box(x, y, x + rng.uniform(1, 30), y + rng.uniform(1, 30)))
        elif kind == 3:
            out.append(
                shapely.MultiPolygon(
                    [shapely.box(x, y, x + 3, y + 3), shapely.box(x + 5, y, x + 9, y + 4)]
                )
            )
        else:
            out.append(None if i % 10 == 4 else shapely.Point(round(x), round(y)))
    return np.array(out, dtype=object)


LITERALS = [
    ("POLYGON((10 10, 60 10, 60 70, 10 70, 10 10))", shapely.box(10, 10, 60, 70)),
    ("BBOX(10, 10, 60, 70)", shapely.box(10, 10, 60, 70)),
    ("LINESTRING(0 50, 100 50)", shapely.LineString([(0, 50), (100, 50)])),
    ("POINT(40 40)", shapely.Point(40, 40)),
    (
        "MULTIPOLYGON(((0 0, 20 0, 20 20, 0 20, 0 0)), ((50 50, 90 50, 90 90, 50 50)))",
        shapely.MultiPolygon(
            [shapely.box(0, 0, 20, 20), shapely.Polygon([(50, 50), (90, 50), (90, 90)])]
        ),
    ),
]


@pytest.mark.parametrize("op", sorted(SPATIAL_OPS))
@pytest.mark.parametrize(("wkt", "geom"), LITERALS)
def test_spatial_operators_match_shapely(op: str, wkt: str, geom: shapely.Geometry) -> None:
    geoms = _random_geometries(np.random.default_rng(7), 400)
    geoms[10] = shapely.box(10, 10, 60, 70)  # equal to the polygon literals
    frame = pd.DataFrame({"cls": np.arange(len(geoms)) % 3})
    tree = shapely.STRtree(geoms)

    def near(g: shapely.Geometry) -> np.ndarray:
        mask = np.zeros(len(geoms), dtype=bool)
        mask[tree.query(g)] = True
        return mask

    column = GeometryColumn(geoms, near)
    predicate = SPATIAL_OPS[op]
    present = ~shapely.is_missing(geoms)
    expected = present & np.array([g is not None and bool(predicate(g, geom)) for g in geoms])
    got = evaluate(parse_cql2(f"{op}(geometry, {wkt})"), frame, column)
    assert got.tolist() == expected.tolist()
    # the same without the STRtree pre-selection, and with the literal first
    assert evaluate(
        parse_cql2(f"{op}(geometry, {wkt})"), frame, GeometryColumn(geoms)
    ).tolist() == (expected.tolist())
    flipped = present & np.array([g is not None and bool(predicate(geom, g)) for g in geoms])
    assert evaluate(parse_cql2(f"{op}({wkt}, geometry)"), frame, column).tolist() == (
        flipped.tolist()
    )
    both = evaluate(parse_cql2(f"{op}(geometry, {wkt}) AND cls = 1"), frame, column)
    assert both.tolist() == (expected & (frame["cls"] == 1).to_numpy()).tolist()


def test_spatial_literals_and_prefilters() -> None:
    expr = parse_cql2(
        "s_intersects(geometry, point(1 2)) AND S_DISJOINT(geometry, BBOX(0, 0, 1, 1)) "
        "AND S_WITHIN(geometry, POLYGON Z((0 0 1, 4 0 1, 4 4 1, 0 0 1)))"
    )
    assert isinstance(expr, And) and all(isinstance(p, Spatial) for p in expr.operands)
    pre = spatial_prefilters(expr)
    assert [g.geom_type for g in pre] == ["Point", "Polygon"]  # not the disjoint one
    assert spatial_prefilters(parse_cql2("S_INTERSECTS(geometry, POINT(1 2)) OR cls = 1")) == []
    empty = parse_cql2("S_INTERSECTS(geometry, POINT EMPTY)")
    assert isinstance(empty, Spatial) and isinstance(empty.right, GeometryLiteral)
    assert empty.right.geometry.is_empty
    frame = pd.DataFrame({"cls": [1]})
    with pytest.raises(ParameterError, match="only be used in a spatial function"):
        cql2_mask("geometry = 1", frame, geometry=GeometryColumn(np.array([shapely.Point(0, 0)])))
