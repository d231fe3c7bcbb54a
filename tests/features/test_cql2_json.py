"""CQL2-JSON: every filter gives the same tree as its CQL2-text spelling."""

from __future__ import annotations

import json

import pytest

from klimakort.errors import ParameterError
from klimakort.features.cql2 import parse_cql2
from klimakort.features.cql2_json import parse_cql2_json


def P(name: str) -> dict[str, str]:
    return {"property": name}


SQUARE = {"type": "Polygon", "coordinates": [[[0, 0], [4, 0], [4, 4], [0, 4], [0, 0]]]}

PAIRS = [
    ("cls = 1", {"op": "=", "args": [P("cls"), 1]}),
    ("name <> 'Skov'", {"op": "<>", "args": [P("name"), "Skov"]}),
    (
        "cls >= 2 AND depth < 0.5 AND public",
        {
            "op": "and",
            "args": [
                {"op": ">=", "args": [P("cls"), 2]},
                {"op": "<", "args": [P("depth"), 0.5]},
                P("public"),
            ],
        },
    ),
    (
        "NOT (cls = 1 OR cls = 2)",
        {
            "op": "not",
            "args": [
                {
                    "op": "or",
                    "args": [
                        {"op": "=", "args": [P("cls"), 1]},
                        {"op": "=", "args": [P("cls"), 2]},
                    ],
                }
            ],
        },
    ),
    ("name LIKE 'Sk%'", {"op": "like", "args": [P("name"), "Sk%"]}),
    ("depth BETWEEN 0.1 AND 1", {"op": "between", "args": [P("depth"), 0.1, 1]}),
    ("cls IN (1, 3)", {"op": "in", "args": [P("cls"), [1, 3]]}),
    ("name IS NULL", {"op": "isNull", "args": [P("name")]}),
    ("when > DATE('2024-01-01')", {"op": ">", "args": [P("when"), {"date": "2024-01-01"}]}),
    (
        "when <= TIMESTAMP('2024-01-01T10:00:00Z')",
        {"op": "<=", "args": [P("when"), {"timestamp": "2024-01-01T10:00:00Z"}]},
    ),
    ("TRUE", True),
    (
        "S_INTERSECTS(geometry, POLYGON((0 0, 4 0, 4 4, 0 4, 0 0)))",
        {"op": "s_intersects", "args": [P("geometry"), SQUARE]},
    ),
    (
        "S_WITHIN(geometry, BBOX(0, 0, 4, 4))",
        {"op": "s_within", "args": [P("geometry"), {"bbox": [0, 0, 4, 4]}]},
    ),
    (
        "S_CONTAINS(POINT(1 2), geometry)",
        {"op": "S_CONTAINS", "args": [{"type": "Point", "coordinates": [1, 2]}, P("geometry")]},
    ),
    (
        "S_CROSSES(geometry, MULTILINESTRING((0 0, 1 1), (2 2, 3 1)))",
        {
            "op": "s_crosses",
            "args": [
                P("geometry"),
                {"type": "MultiLineString", "coordinates": [[[0, 0], [1, 1]], [[2, 2], [3, 1]]]},
            ],
        },
    ),
]


@pytest.mark.parametrize(("text", "doc"), PAIRS)
def test_json_equals_text(text: str, doc: object) -> None:
    assert parse_cql2_json(json.dumps(doc)) == parse_cql2(text)


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ("{not json", "not valid JSON"),
        ('{"op": "=", "args": [1]}', "takes 2 arguments, got 1"),
        ('{"op": "and", "args": [true]}', "2 or more"),
        ('{"op": "t_before", "args": [1, 2]}', "not supported"),
        ('{"op": "=", "args": [{"function": "x"}, 2]}', "expected a property"),
        ('{"op": "like", "args": [{"property": "a"}, 3]}', "string pattern"),
        ('{"op": "in", "args": [{"property": "a"}, []]}', "non-empty list"),
        ('{"op": "in", "args": [{"property": "a"}, [{"property": "b"}]]}', "literal values"),
        ('{"op": "s_intersects", "args": [{"property": "geometry"}, 5]}', "compares geometries"),
        ('{"op": "s_intersects", "args": [{"property": "g"}, {"bbox": [1, 2]}]}', "4 numbers"),
        ('{"op": "s_intersects", "args": [{"property": "g"}, {"bbox": "x"}]}', "list of 4"),
        (
            '{"op": "s_intersects", "args": [{"property": "g"}, '
            '{"type": "Point", "coordinates": 1}]}',
            "not a valid GeoJSON",
        ),
        ('{"op": "=", "args": [{"property": "a"}, {"date": "nope"}]}', "not a valid date"),
        ("[1, 2]", "expected an expression"),
        ('{"op": "not", "args": [' * 60 + "true" + "]}" * 60, "nested more than"),
        ('{"op": "not", "args": [' * 5000 + "true" + "]}" * 5000, "nested more than"),
    ],
)
def test_errors_name_the_problem(doc: str, message: str) -> None:
    with pytest.raises(ParameterError, match=message):
        parse_cql2_json(doc)
