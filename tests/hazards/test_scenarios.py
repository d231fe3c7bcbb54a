"""Tests of the named climate scenarios and their overrides."""

from __future__ import annotations

import dataclasses

import pytest

from klimakort.errors import ConfigError, ParameterError
from klimakort.hazards.scenarios import (
    OVERRIDE_SOURCE,
    Scenario,
    SourcedValue,
    load_scenario,
    scenario_names,
)


def test_names() -> None:
    assert scenario_names() == ("present", "2050", "2100")


@pytest.mark.parametrize("name", ["present", "2050", "2100"])
def test_every_value_has_unit_and_source(name: str) -> None:
    scen = load_scenario(name)
    assert isinstance(scen, Scenario)
    assert scen.name == name
    assert set(scen.storm_surge_m) == {20, 50, 100}
    assert set(scen.rain_depth_mm) == {5, 10, 100}
    assert set(scen.climate_factor) == {5, 10, 100}
    for source in scen.sources().values():
        assert len(source) > 10
    assert scen.sea_level_rise_m.unit == "m"
    assert all(v.unit == "m DVR90" for v in scen.storm_surge_m.values())
    assert any("34 %" in note for note in scen.notes)


def test_default_values_follow_the_sources() -> None:
    s2100 = load_scenario("2100")
    assert s2100.sea_level_rise_m.value == pytest.approx(0.52)
    assert "DK2020" in s2100.sea_level_rise_m.source
    s2050 = load_scenario("2050")
    assert 0.2 <= s2050.sea_level_rise_m.value <= 0.25
    assert "ASSUMPTION" in s2050.sea_level_rise_m.source
    assert s2050.groundwater_rise_m.value == pytest.approx(0.10)
    present = load_scenario("present")
    assert present.sea_level_rise_m.value == 0.0
    surge = [present.storm_surge_m[t].value for t in (20, 50, 100)]
    assert surge == sorted(surge)
    assert "Højvandsstatistikker 2017" in present.storm_surge_m[100].source
    assert 30 <= present.rain_depth_mm[10].value <= 35
    assert 55 <= present.rain_depth_mm[100].value <= 65
    assert s2100.climate_factor[100].value == pytest.approx(1.4)
    assert s2100.climate_factor[10].value == pytest.approx(1.3)
    # 2050 lies between today and 2100
    s2050 = load_scenario("2050")
    assert 1.0 < s2050.climate_factor[100].value < s2100.climate_factor[100].value


def test_levels_and_rain_combine_surge_rise_and_factors() -> None:
    present = load_scenario("present")
    s2100 = load_scenario("2100")
    for t in (20, 50, 100):
        assert s2100.still_water_level(t) == pytest.approx(
            present.storm_surge_m[t].value + s2100.sea_level_rise_m.value
        )
        assert present.still_water_level(t) == present.storm_surge_m[t].value
    assert s2100.design_rain_mm(100) == pytest.approx(
        present.rain_depth_mm[100].value * s2100.climate_factor[100].value
    )
    assert s2100.still_water_level(100) > load_scenario("2050").still_water_level(100)
    with pytest.raises(ParameterError, match="1000-year"):
        s2100.still_water_level(1000)


def test_overrides_replace_values_and_mark_the_source() -> None:
    scen = load_scenario(
        "2100",
        {
            "sea_level_rise_m": 0.6,
            "storm_surge_m": {"T100": 1.7},
            "groundwater_rise_m": {"value": 0.3, "source": "municipal model 2024"},
            "rain_depth_mm": {10: 33},
        },
    )
    assert scen.sea_level_rise_m == SourcedValue(0.6, "m", OVERRIDE_SOURCE)
    assert scen.storm_surge_m[100].value == 1.7
    assert scen.storm_surge_m[20].value == load_scenario("2100").storm_surge_m[20].value
    assert scen.still_water_level(100) == pytest.approx(2.3)
    assert scen.groundwater_rise_m.source == "municipal model 2024"
    assert scen.rain_depth_mm[10].value == 33.0
    # the defaults are untouched
    assert load_scenario("2100").sea_level_rise_m.value == pytest.approx(0.52)


def test_scenario_is_immutable() -> None:
    scen = load_scenario("2050")
    with pytest.raises(dataclasses.FrozenInstanceError):
        scen.sea_level_rise_m = SourcedValue(1.0, "m", "x")  # type: ignore[misc]
    with pytest.raises(TypeError):
        scen.storm_surge_m[100] = SourcedValue(1.0, "m DVR90", "x")  # type: ignore[index]


@pytest.mark.parametrize(
    ("name", "overrides", "match"),
    [
        ("2200", None, r"scenarios\.2200"),
        ("2100", {"sea_level_rise": 0.6}, r"scenarios\.2100\.sea_level_rise\b"),
        ("2100", {"sea_level_rise_m": "high"}, r"scenarios\.2100\.sea_level_rise_m"),
        ("2100", {"sea_level_rise_m": True}, r"sea_level_rise_m"),
        ("2100", {"storm_surge_m": {"hundred": 1.7}}, r"storm_surge_m"),
        ("2100", {"storm_surge_m": 1.7}, r"storm_surge_m"),
        ("2100", {"climate_factor": {100: 0}}, r"climate_factor\.100"),
        ("2100", {"rain_depth_mm": {10: -1}}, r"rain_depth_mm\.10"),
        ("2100", {"coast": "vadehavet"}, r"coast"),
        ("2100", {"groundwater_rise_m": {"value": 0.1, "unit": "cm"}}, r"unit"),
        ("2100", {"groundwater_rise_m": {"valu": 0.1}}, r"valu"),
    ],
)
def test_bad_names_and_keys_raise_config_error_naming_the_key(
    name: str, overrides: dict | None, match: str
) -> None:
    with pytest.raises(ConfigError, match=match):
        load_scenario(name, overrides)
