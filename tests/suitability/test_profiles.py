"""Measure profiles: built-ins, aliases, user overrides and validation."""

from __future__ import annotations

from pathlib import Path

import pytest

from klimakort.errors import ConfigError, ParameterError
from klimakort.suitability.profiles import CRITERION_SOURCES, get_profile, load_profiles

BUILT_IN = {"miyawaki_forest", "tree", "infiltration", "retention_basin", "rain_garden"}


def test_built_in_profiles_are_valid() -> None:
    profiles = load_profiles()
    assert set(profiles) == BUILT_IN
    for prof in profiles.values():
        w = prof.weights()
        assert sum(w.values()) == pytest.approx(1.0)
        assert all(v > 0 for v in w.values())
        assert all(c.source in CRITERION_SOURCES for c in prof.criteria)


def test_miyawaki_rules_and_sourced_benefits() -> None:
    m = get_profile("miyawaki_forest")
    assert (m.min_area_m2, m.min_width_m) == (260.0, 4.0)
    c = m.constraints
    assert c.public_land and c.avoid_buildings and not c.allow_protected_nature
    assert c.heating_mains_clearance_m == 2.5
    assert c.max_bluespot_depth_m == 0.3
    cr = m.consistency_ratio()
    assert cr is not None and cr < 0.1
    co2 = m.benefits.co2_t_per_m2_yr
    assert co2 is not None and co2.low < co2.central < co2.high and co2.source


def test_alias_climate_park() -> None:
    assert get_profile("climate_park").name == "retention_basin"
    with pytest.raises(ParameterError, match="known measures"):
        get_profile("palm_beach")


def test_infiltration_and_retention_constraints() -> None:
    assert get_profile("infiltration").constraints.min_groundwater_depth_m == 1.0
    assert get_profile("infiltration").constraints.avoid_contaminated_soil
    assert get_profile("retention_basin").constraints.max_distance_to_water_m == 20.0


USER = """
[profiles.tree]
min_area_m2 = 4.0
min_width_m = 2.0
[[profiles.tree.criteria]]
name = "heat"
source = "imperviousness"
transform = { kind = "linear", min = 0.0, max = 1.0 }
weight = 1.0

[profiles.pocket_park]
min_area_m2 = 100.0
min_width_m = 6.0
ahp = [[1.0, 3.0], [0.3333333333, 1.0]]
[[profiles.pocket_park.criteria]]
name = "heat"
source = "imperviousness"
transform = { kind = "linear", min = 0.0, max = 1.0 }
[[profiles.pocket_park.criteria]]
name = "kids"
source = "distance_to_institutions"
transform = { kind = "small", midpoint = 200.0, spread = 2.0 }
"""


def test_user_file_overrides_and_adds(tmp_path: Path) -> None:
    p = tmp_path / "m.toml"
    p.write_text(USER)
    profiles = load_profiles(p)
    assert profiles["tree"].min_area_m2 == 4.0
    assert profiles["pocket_park"].weights()["heat"] == pytest.approx(0.75)
    assert "miyawaki_forest" in profiles


@pytest.mark.parametrize(
    ("snippet", "match"),
    [
        ('source = "moon_phase"', "unknown criterion source"),
        ('transform = { kind = "linear", min = 1.0, max = 1.0 }', "min=1.0"),
        ("weight = -1.0", "weight"),
    ],
)
def test_invalid_user_profiles(tmp_path: Path, snippet: str, match: str) -> None:
    base = {
        "source": 'source = "imperviousness"',
        "transform": 'transform = { kind = "linear", min = 0.0, max = 1.0 }',
        "weight": "weight = 1.0",
    }
    key = snippet.split(" ")[0]
    base[key] = snippet
    text = "[profiles.x]\nmin_area_m2 = 1.0\nmin_width_m = 1.0\n[[profiles.x.criteria]]\n"
    text += 'name = "a"\n' + "\n".join(base.values()) + "\n"
    p = tmp_path / "bad.toml"
    p.write_text(text)
    with pytest.raises(ConfigError, match=match):
        load_profiles(p)


def test_inconsistent_ahp_in_profile_rejected(tmp_path: Path) -> None:
    text = "[profiles.x]\nmin_area_m2 = 1.0\nmin_width_m = 1.0\n"
    text += "ahp = [[1.0, 5.0, 0.142857], [0.2, 1.0, 5.0], [7.0, 0.2, 1.0]]\n"
    for n in "abc":
        text += f'[[profiles.x.criteria]]\nname = "{n}"\nsource = "imperviousness"\n'
        text += 'transform = { kind = "linear", min = 0.0, max = 1.0 }\n'
    p = tmp_path / "ahp.toml"
    p.write_text(text)
    with pytest.raises(ConfigError, match="CR="):
        load_profiles(p)


def test_require_layers_known_names_only(tmp_path: Path) -> None:
    body = "min_area_m2 = 1.0\nmin_width_m = 1.0\nrequire_layers = [{}]\n"
    crit = '[[profiles.x.criteria]]\nname = "a"\nsource = "imperviousness"\nweight = 1.0\n'
    crit += 'transform = { kind = "linear", min = 0.0, max = 1.0 }\n'
    good, bad = tmp_path / "good.toml", tmp_path / "bad.toml"
    good.write_text("[profiles.x]\n" + body.format('"heating_mains"') + crit)
    bad.write_text("[profiles.x]\n" + body.format('"district_heat"') + crit)
    assert load_profiles(good)["x"].require_layers == ["heating_mains"]
    assert load_profiles()["miyawaki_forest"].require_layers == []
    with pytest.raises(ConfigError, match=r"require_layers.*district_heat"):
        load_profiles(bad)
