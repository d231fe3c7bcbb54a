"""Climate rules: loading, merging user files, and the verdict of each rule."""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from klimakort.constraints.rules import (
    VERDICT_ORDER,
    Finding,
    evaluate,
    load_rules,
    worst_verdict,
)
from klimakort.errors import ConfigError

RULES = load_rules()
RULE_IDS = [
    "building_flood",
    "floor_level",
    "basements",
    "infiltration",
    "flow_path",
    "sea",
    "district_heating",
]


def _one(measures: Mapping[str, object], rule_id: str) -> Finding:
    found = [f for f in evaluate(measures, RULES, scenario="2100") if f.rule_id == rule_id]
    assert len(found) == 1, found
    return found[0]


def test_defaults_have_every_rule_with_texts_sources_and_units() -> None:
    assert list(RULES) == RULE_IDS
    for rule in RULES.values():
        assert rule.text_da and rule.text_en and rule.source
        assert rule.thresholds
        assert all(t.unit for t in rule.thresholds.values())
    assert RULES["building_flood"].value("depth") == pytest.approx(0.20)
    assert RULES["basements"].value("depth") == pytest.approx(2.0)
    assert RULES["infiltration"].value("depth") == pytest.approx(1.0)
    assert "11 a" in RULES["sea"].source


def test_user_file_overrides_only_what_it_sets(tmp_path: Path) -> None:
    user = tmp_path / "rules.toml"
    user.write_text(
        "[basements.thresholds.depth]\nvalue = 3.0\n\n[sea]\nenabled = false\n", encoding="utf-8"
    )
    rules = load_rules(user)
    assert rules["basements"].value("depth") == 3.0
    assert rules["basements"].thresholds["depth"].unit == "m"
    assert rules["basements"].text_en == RULES["basements"].text_en
    assert not rules["sea"].enabled
    found = evaluate({"gw_depth_min_m": 2.5, "sea_share": 0.5}, rules, scenario="2100")
    assert [f.rule_id for f in found] == ["basements", "infiltration"]
    assert found[0].verdict == "fail"  # 2.5 m <= 3.0 m now


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("[no_such_rule]\nenabled = false\n", "no_such_rule"),
        ("[basements]\ncolour = 'red'\n", "basements.colour"),
        ("[basements.thresholds.nope]\nvalue = 1.0\n", "basements.thresholds.nope"),
        ("[basements.thresholds.depth]\nvalu = 1.0\n", "basements.thresholds.depth.valu"),
    ],
)
def test_unknown_keys_are_named(tmp_path: Path, text: str, named: str) -> None:
    user = tmp_path / "rules.toml"
    user.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=named.replace(".", r"\.")):
        load_rules(user)


@pytest.mark.parametrize(
    "text",
    [
        "[basements.thresholds.depth]\nunit = 'cm'\n",
        "[basements.thresholds.depth]\nvalue = 'deep'\n",
        "[basements]\nenabled = 'yes'\n",
        "this is = not toml [",
    ],
)
def test_bad_values_raise_config_error(tmp_path: Path, text: str) -> None:
    user = tmp_path / "rules.toml"
    user.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError):
        load_rules(user)


def test_missing_user_file_raises(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_rules(tmp_path / "missing.toml")


@pytest.mark.parametrize(
    ("depth", "verdict"), [(0.0, "pass"), (0.09, "pass"), (0.1, "attention"), (0.2, "fail")]
)
def test_building_flood_kamp_rule(depth: float, verdict: str) -> None:
    f = _one({"flood_depth_max_buffer_m": depth}, "building_flood")
    assert f.verdict == verdict
    assert f.measured == depth
    assert f.unit == "m"
    assert f.scenario == "2100"
    assert f.explanation_da and f.explanation_en


def test_floor_level_governed_by_cloudburst_or_sea() -> None:
    cloud = _one(
        {"terrain_mean_m": 5.0, "water_level_max_buffer_m": 5.4, "sea_level_m": 2.17},
        "floor_level",
    )
    assert cloud.verdict == "applies"
    assert cloud.details["recommended_level_m"] == pytest.approx(5.4 + 0.15)
    assert cloud.details["margin_to_terrain_m"] == pytest.approx(0.55)
    assert cloud.unit == "m DVR90"
    sea = _one(
        {"terrain_mean_m": 1.5, "water_level_max_buffer_m": 1.6, "sea_level_m": 2.17},
        "floor_level",
    )
    assert sea.details["recommended_level_m"] == pytest.approx(2.47)
    assert sea.details["margin_to_terrain_m"] == pytest.approx(0.97)
    assert "sea" in sea.explanation_en


def test_floor_level_without_standing_water_uses_terrain() -> None:
    f = _one({"terrain_mean_m": 8.0, "water_level_max_buffer_m": math.nan}, "floor_level")
    assert f.details["recommended_level_m"] == pytest.approx(8.15)


@pytest.mark.parametrize(("floor", "verdict"), [(5.0, "fail"), (5.6, "pass")])
def test_floor_level_checks_an_existing_floor(floor: float, verdict: str) -> None:
    m = {"terrain_mean_m": 5.0, "water_level_max_buffer_m": 5.4, "floor_level_m": floor}
    assert _one(m, "floor_level").verdict == verdict


@pytest.mark.parametrize(("gw", "verdict"), [(0.3, "fail"), (2.0, "fail"), (2.01, "pass")])
def test_basements(gw: float, verdict: str) -> None:
    assert _one({"gw_depth_min_m": gw}, "basements").verdict == verdict


@pytest.mark.parametrize(
    ("measures", "verdict"),
    [
        ({"gw_depth_min_m": 0.8}, "fail"),
        ({"gw_depth_min_m": 1.5}, "pass"),
        ({"gw_depth_min_m": 1.5, "contaminated": True}, "fail"),
        ({"contaminated": True}, "fail"),
        ({"contaminated": False}, "pass"),
    ],
)
def test_infiltration(measures: dict[str, object], verdict: str) -> None:
    assert _one(measures, "infiltration").verdict == verdict


@pytest.mark.parametrize(
    ("area", "verdict"), [(500.0, "pass"), (3000.0, "attention"), (1e4, "fail")]
)
def test_flow_path(area: float, verdict: str) -> None:
    assert _one({"flowpath_max_upstream_m2": area}, "flow_path").verdict == verdict


def test_sea_rule() -> None:
    f = _one({"sea_share": 0.25, "sea_depth_max_m": 0.7}, "sea")
    assert f.verdict == "fail"
    assert "0.70" in f.explanation_en and "25%" in f.explanation_en
    assert _one({"sea_share": 0.0}, "sea").verdict == "pass"


def test_district_heating() -> None:
    f = _one({"heating_zone": "Nord"}, "district_heating")
    assert f.verdict == "applies"
    assert "Nord" in f.explanation_da
    assert _one({"heating_zone": None}, "district_heating").verdict == "pass"
    assert _one({"heating_zone": math.nan}, "district_heating").verdict == "pass"


def test_missing_measures_give_no_findings() -> None:
    assert evaluate({}, RULES, scenario="present") == []
    found = evaluate({"gw_depth_min_m": math.nan, "sea_share": None}, RULES, scenario="present")
    assert found == []


def test_pandas_row_and_sources() -> None:
    row = pd.Series({"flood_depth_max_buffer_m": 0.3, "gw_depth_min_m": 0.5, "heating_zone": "A"})
    sources = {
        "flood_depth_max_buffer_m": {"layer": "cloudburst flood depth", "path": "/x/terrain.tif"},
        "gw_depth_min_m": {"layer": "groundwater depth", "path": "/x/head.tif"},
    }
    found = evaluate(row, RULES, scenario="2050", sources=sources)
    by_id = {f.rule_id: f for f in found}
    assert set(by_id) == {"building_flood", "basements", "infiltration", "district_heating"}
    assert by_id["building_flood"].sources == (
        {
            "measure": "flood_depth_max_buffer_m",
            "layer": "cloudburst flood depth",
            "path": "/x/terrain.tif",
        },
    )
    assert by_id["district_heating"].sources == ()
    d = by_id["basements"].to_dict()
    assert d["verdict"] == "fail" and d["scenario"] == "2050"
    assert d["sources"][0]["path"] == "/x/head.tif"


def test_worst_verdict() -> None:
    assert worst_verdict([]) == "pass"
    found = evaluate(
        {"flood_depth_max_buffer_m": 0.15, "heating_zone": "A"}, RULES, scenario="2100"
    )
    assert worst_verdict(found) == "attention"


finite = st.floats(min_value=-5, max_value=50, allow_nan=False)


@given(terrain=finite, water=finite, sea=finite)
def test_recommended_level_is_above_every_water_level(
    terrain: float, water: float, sea: float
) -> None:
    m = {"terrain_mean_m": terrain, "water_level_max_buffer_m": water, "sea_level_m": sea}
    f = _one(m, "floor_level")
    level = f.details["recommended_level_m"]
    assert level is not None
    assert level >= max(terrain, water) + 0.15 - 1e-9
    assert level >= sea + 0.30 - 1e-9
    assert math.isclose(f.details["margin_to_terrain_m"] or 0.0, level - terrain, abs_tol=1e-9)


@given(d1=st.floats(0, 3), d2=st.floats(0, 3))
def test_deeper_water_never_improves_the_verdict(d1: float, d2: float) -> None:
    lo, hi = sorted((d1, d2))
    v_lo = _one({"flood_depth_max_buffer_m": lo}, "building_flood").verdict
    v_hi = _one({"flood_depth_max_buffer_m": hi}, "building_flood").verdict
    assert VERDICT_ORDER.index(v_hi) >= VERDICT_ORDER.index(v_lo)


def test_danish_explanations_use_a_decimal_comma() -> None:
    from klimakort.constraints.rules import danish_decimals

    assert danish_decimals("Grundvand 0.12 m under terræn (≤ 2.0 m)") == (
        "Grundvand 0,12 m under terræn (≤ 2,0 m)"
    )
    assert danish_decimals("opland 16138 m², zone Nord.") == "opland 16138 m², zone Nord."
