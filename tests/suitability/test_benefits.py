"""Benefits per site: CO2, retention, bluespot volume, shade proxy, children within 500 m."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import geopandas as gpd
import numpy as np
import pytest
import xarray as xr
from shapely.geometry import Point, box

from klimakort.io import like
from klimakort.suitability.benefits import site_benefits
from klimakort.suitability.candidates import candidate_sites
from klimakort.suitability.profiles import Profile, get_profile
from klimakort.suitability.raster import (
    SuitabilityInputs,
    SuitabilityResult,
    suitability_from_inputs,
)

X0, Y0 = 700_000.0, 6_170_000.0
CRS = "EPSG:25832"
EST = {"unit": "u", "source": "test source"}


def profile() -> Profile:
    return Profile.model_validate(
        {
            "name": "forest",
            "min_area_m2": 50.0,
            "min_width_m": 2.0,
            "constraints": {"public_land": True, "avoid_buildings": False},
            "criteria": [
                {
                    "name": "flood",
                    "source": "cloudburst_depth",
                    "weight": 1.0,
                    "transform": {"kind": "linear", "min": 0.0, "max": 1.0},
                }
            ],
            "benefits": {
                "co2_t_per_m2_yr": {"low": 0.001, "central": 0.002, "high": 0.004, **EST},
                "retention_depth_m": {"low": 0.1, "central": 0.2, "high": 0.5, **EST},
                "canopy_fraction": 0.5,
                "cooling_factor": 0.8,
                "walking_distance_m": 500.0,
            },
        }
    )


def run(make_dem: Callable[..., xr.DataArray], prof: Profile) -> SuitabilityResult:
    shape = (30, 30)
    dem = make_dem(np.zeros(shape), cell=1.0, x0=X0, y0=Y0)
    depth = np.zeros(shape)
    depth[2:5, 2:5] = 0.4  # 9 cells x 0.4 m = 3.6 m3 inside the site
    inst = gpd.GeoDataFrame(
        {"kind": ["school", "kindergarten", "school"], "children": [400, 60, 900]},
        geometry=[Point(X0 + 10, Y0 - 10), Point(X0 + 20 + 450, Y0 - 10), Point(X0 + 620, Y0)],
        crs=CRS,
    )
    inp = SuitabilityInputs(
        terrain=dem,
        filled=like(dem, depth.astype(np.float32), name="filled"),
        accumulation=like(dem, np.zeros(shape, np.float32), name="acc"),
        bluespots=like(dem, (depth > 0).astype(np.int32), name="bs", nodata=0),
        flood_depth=like(dem, np.full(shape, 0.25, np.float32), name="fd"),
        layers={
            "public_land": gpd.GeoDataFrame(geometry=[box(X0, Y0 - 20, X0 + 20, Y0)], crs=CRS),
            "institutions": inst,
        },
    )
    return suitability_from_inputs(inp, prof)


def test_benefit_columns_by_hand(make_dem: Any) -> None:
    res = run(make_dem, profile())
    sites = site_benefits(candidate_sites(res), res)
    assert len(sites) == 1
    s = sites.iloc[0]
    area = s.area_m2
    assert area == pytest.approx(400.0)
    assert (s.co2_t_yr_low, s.co2_t_yr_central, s.co2_t_yr_high) == pytest.approx((0.4, 0.8, 1.6))
    assert s.retention_m3_central == pytest.approx(80.0)
    assert s.bluespot_volume_m3 == pytest.approx(3.6, rel=1e-5)
    assert s.shade_m2 == pytest.approx(200.0) and s.cooling_proxy_m2 == pytest.approx(160.0)
    # the site's east edge is at x = 20; the 2nd institution is 450 m away, the 3rd 600 m
    assert s.children_500m == 460
    src = json.loads(s.benefit_sources)
    assert src["co2_t_per_m2_yr"]["source"] == "test source"


def test_walking_distance_parameter(make_dem: Any) -> None:
    prof = profile()
    short = prof.model_copy(
        update={"benefits": prof.benefits.model_copy(update={"walking_distance_m": 100.0})}
    )
    res = run(make_dem, short)
    assert site_benefits(candidate_sites(res), res).children_500m.iloc[0] == 400


def test_profile_without_co2_gives_zero_and_empty_sites_ok(make_dem: Any) -> None:
    res = run(make_dem, profile())
    sites = candidate_sites(res)
    infil = res.__class__(**{**res.__dict__, "profile": get_profile("infiltration")})
    out = site_benefits(sites, infil)
    assert (out.co2_t_yr_central == 0).all() and (out.retention_m3_central > 0).all()
    empty = site_benefits(sites.iloc[:0], res)
    assert len(empty) == 0 and "children_500m" in empty.columns


def test_default_miyawaki_estimates_are_ordered_and_sourced() -> None:
    b = get_profile("miyawaki_forest").benefits
    assert b.co2_t_per_m2_yr is not None
    assert 0 < b.co2_t_per_m2_yr.low < b.co2_t_per_m2_yr.central < b.co2_t_per_m2_yr.high
    # literature: young temperate forests sequester of order 0.2-1.5 kg CO2 per m2 per year
    assert 1e-4 <= b.co2_t_per_m2_yr.central <= 2e-3
    assert "Tiny Forest" in b.co2_t_per_m2_yr.source
