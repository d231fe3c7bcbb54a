"""Hazards of a configured area per scenario (on the coarse sample area)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from klimakort.config import load_area
from klimakort.errors import ConfigError
from klimakort.hazards.area import HazardOptions, compute_hazards
from klimakort.sample import write_sample


@pytest.fixture(scope="module")
def hazards(tmp_path_factory: pytest.TempPathFactory):
    toml = write_sample(tmp_path_factory.mktemp("area"), cell=8.0)
    return compute_hazards(load_area(toml), ("present", "2100"))


def test_scenarios_get_worse(hazards) -> None:
    present, future = hazards.scenarios["present"], hazards.scenarios["2100"]
    assert future.sea_level_m == pytest.approx(present.sea_level_m + 0.52)
    assert future.rain_mm > present.rain_mm
    # more rain never stores less water; a higher sea floods at least the same cells
    assert (
        future.cloudburst.state.stored_m3.to_numpy()
        >= present.cloudburst.state.stored_m3.to_numpy() - 1e-9
    ).all()
    assert ((future.sea.depth.values > 0) >= (present.sea.depth.values > 0)).all()
    # groundwater rise makes the water table shallower everywhere
    d0, d1 = present.groundwater.depth.values, future.groundwater.depth.values
    ok = np.isfinite(d0)
    np.testing.assert_allclose(d0[ok] - d1[ok], 0.20, atol=1e-5)


def test_mass_balance_per_scenario(hazards) -> None:
    for sh in hazards.scenarios.values():
        assert abs(sh.cloudburst.mass_balance["relative_error"]) < 1e-6


def test_the_ridge_gap_is_the_critical_point(hazards) -> None:
    # the sample's beach ridge has one gap at about 1.7 m: present T100 (1.65 m) stays
    # out, 2100 (2.17 m) floods the low land behind it
    present, future = hazards.scenarios["present"], hazards.scenarios["2100"]
    flooded_now = (present.sea.depth.values > 0).sum()
    flooded_2100 = (future.sea.depth.values > 0).sum()
    assert flooded_2100 > 5 * flooded_now
    levels = future.sea.critical_points.level_m.to_numpy()
    assert ((levels > 1.6) & (levels < 1.85)).any()


def test_area_overrides_and_options(tmp_path: Path) -> None:
    toml = write_sample(tmp_path / "a", cell=16.0)
    text = toml.read_text() + "\n[scenarios.2100]\nsea_level_rise_m = 1.0\n"
    toml.write_text(text)
    hz = compute_hazards(load_area(toml), ("2100",), HazardOptions(surge_return_period=20))
    assert hz.scenarios["2100"].sea_level_m == pytest.approx(1.40 + 1.0)
    toml.write_text(text.replace("sea_level_rise_m = 1.0", "sea_level_rise = 1.0"))
    with pytest.raises(ConfigError, match="sea_level_rise"):
        compute_hazards(load_area(toml), ("2100",))
