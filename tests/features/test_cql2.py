"""CQL2-text parsing and evaluation against hand-written pandas expressions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from klimakort.errors import ParameterError
from klimakort.features.cql2 import (
    And,
    Comparison,
    Literal,
    Not,
    Or,
    Property,
    cql2_mask,
    like_to_regex,
    parse_cql2,
    properties,
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
        ("S_INTERSECTS(geometry, 1)", "not supported"),
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
