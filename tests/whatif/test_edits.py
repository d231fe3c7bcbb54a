"""Validation of what-if edits: GeoJSON in, typed edits in the area CRS out, or a clear error."""

from __future__ import annotations

from typing import Any

import pytest
import shapely

from klimakort.errors import CRSError, GeometryError, ParameterError
from klimakort.io.geojson_input import to_crs84
from klimakort.whatif.edits import (
    KINDS,
    Edit,
    ScenarioEdit,
    check_edit,
    check_scenario_edit,
    check_values,
    scenario_from_geojson,
)

AREA = "EPSG:25832"
BOUNDS = (700_000.0, 6_169_200.0, 701_000.0, 6_170_000.0)
AREA_CRS_HEADER = "<http://www.opengis.net/def/crs/EPSG/0/25832>"
LINE = shapely.LineString([(700_100, 6_169_500), (700_400, 6_169_500)])
BOX = shapely.box(700_100, 6_169_500, 700_200, 6_169_600)


def feature(geom: shapely.Geometry, crs84: bool = True, **props: Any) -> dict[str, Any]:
    g = to_crs84(geom, AREA) if crs84 else geom
    return {"type": "Feature", "geometry": shapely.geometry.mapping(g), "properties": props}


def collection(*features: dict[str, Any], **members: Any) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": list(features), **members}


def parse(body: dict[str, Any], **kw: Any) -> ScenarioEdit:
    return scenario_from_geojson(body, area_crs=AREA, bounds=BOUNDS, **kw)


def test_a_dike_line_in_crs84_becomes_an_edit_in_the_area_crs() -> None:
    se = parse(
        collection(feature(LINE, kind="raise_to", level_m=2.8), name="Dike", scenario="2100")
    )
    assert se.name == "Dike" and se.scenario == "2100"
    (edit,) = se.edits
    assert edit.kind == "raise_to" and edit.values == {"level_m": 2.8}
    assert edit.edit_id == "E1"
    assert shapely.equals_exact(edit.geometry, LINE, tolerance=1e-3)


def test_the_area_crs_is_accepted_with_content_crs() -> None:
    body = collection(feature(BOX, crs84=False, kind="basin", volume_m3=500))
    se = parse(body, content_crs=AREA_CRS_HEADER, name="Basin")
    assert se.edits[0].geometry.equals(BOX) and se.edits[0].values == {"volume_m3": 500.0}


def test_every_kind_has_a_valid_example() -> None:
    examples = {
        "raise_to": (LINE, {"level_m": 3.0, "width_m": 5}),
        "raise_by": (BOX, {"height_m": 0.5}),
        "lower_by": (LINE, {"depth_m": 0.4}),
        "basin": (BOX, {"depth_m": 1.0}),
        "culvert": (LINE, {}),
        "remove_building": (shapely.Point(700_150, 6_169_550), {}),
    }
    assert set(examples) == set(KINDS)
    edits = [Edit(k, g, v) for k, (g, v) in examples.items()]
    checked = check_scenario_edit(ScenarioEdit("all", tuple(edits)), BOUNDS)
    assert [e.edit_id for e in checked.edits] == [f"E{i}" for i in range(1, 7)]


@pytest.mark.parametrize(
    ("kind", "values", "match"),
    [
        ("raise_to", {}, "level_m' is required"),
        ("raise_by", {"height_m": -1}, "must be > 0"),
        ("lower_by", {"depth_m": float("nan")}, "finite"),
        ("raise_by", {"height_m": "1"}, "must be a number"),
        ("basin", {}, "exactly one of depth_m"),
        ("basin", {"depth_m": 1, "volume_m3": 10}, "exactly one of depth_m"),
        ("culvert", {"invert_start_m": 1.0}, "both invert_start_m and invert_end_m"),
        ("raise_to", {"level_m": 2, "colour": 1}, "unknown property colour"),
        ("raise_to", {"level_m": True}, "must be a number"),
        ("dig", {}, "unknown edit kind"),
    ],
)
def test_bad_values_are_refused(kind: str, values: dict[str, Any], match: str) -> None:
    with pytest.raises(ParameterError, match=match):
        check_values(kind, values)


@pytest.mark.parametrize(
    ("kind", "geom", "match"),
    [
        ("basin", LINE, "must be a Polygon or MultiPolygon"),
        ("culvert", BOX, "must be a LineString"),
        (
            "basin",
            shapely.Polygon(
                [
                    (700_100, 6_169_500),
                    (700_200, 6_169_600),
                    (700_200, 6_169_500),
                    (700_100, 6_169_600),
                ]
            ),
            "invalid",
        ),
        ("raise_to", shapely.LineString([(700_100, 6_169_500), (700_100, 6_169_500)]), "invalid"),
        ("raise_to", shapely.LineString([(700_900, 6_169_500), (701_100, 6_169_500)]), "outside"),
    ],
)
def test_bad_geometries_are_refused_not_repaired(
    kind: str, geom: shapely.Geometry, match: str
) -> None:
    values = {"level_m": 2.0} if kind == "raise_to" else {"depth_m": 1.0} if kind == "basin" else {}
    with pytest.raises(GeometryError, match=match):
        check_edit(Edit(kind, geom, values), BOUNDS)


def test_metres_sent_as_crs84_are_refused_with_the_fix() -> None:
    body = collection(feature(LINE, crs84=False, kind="raise_to", level_m=2))
    with pytest.raises(CRSError, match="Content-Crs"):
        parse(body)


def test_errors_name_the_feature_position() -> None:
    body = collection(
        feature(LINE, kind="raise_to", level_m=2), feature(LINE, kind="basin", depth_m=1)
    )
    with pytest.raises(GeometryError, match=r"^feature 1: a basin edit must be a Polygon"):
        parse(body)


def test_set_level_checks() -> None:
    with pytest.raises(ParameterError, match="no edits"):
        parse(collection(name="empty"))
    with pytest.raises(ParameterError, match="name"):
        parse(collection(feature(LINE, kind="culvert"), name="  "))
    with pytest.raises(ParameterError, match="unique"):
        check_scenario_edit(
            ScenarioEdit("x", (Edit("culvert", LINE, {}, edit_id="a"),) * 2), BOUNDS
        )
    with pytest.raises(GeometryError, match="FeatureCollection"):
        parse({"type": "Feature"})


def test_given_ids_are_kept_and_generated_ones_skip_them() -> None:
    edits = (Edit("culvert", LINE, {}), Edit("culvert", LINE, {}, edit_id="E1"))
    out = check_scenario_edit(ScenarioEdit("ids", edits), BOUNDS)
    assert [e.edit_id for e in out.edits] == ["E2", "E1"]


def test_round_trip_through_geojson() -> None:
    se = check_scenario_edit(
        ScenarioEdit("rt", (Edit("raise_to", LINE, {"level_m": 2.5}, name="Dige"),), "2050"),
        BOUNDS,
    )
    back = parse(se.to_geojson(AREA))
    assert back.name == "rt" and back.scenario == "2050"
    assert back.edits[0].values == {"level_m": 2.5} and back.edits[0].name == "Dige"
    assert shapely.equals_exact(back.edits[0].geometry, LINE, tolerance=1e-3)
