"""Candidate sites: area and width rules (analytic), scoring columns, explanation, sample run."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pytest
import xarray as xr
from shapely.geometry import LineString, box
from shapely.geometry.base import BaseGeometry

from klimakort.config.area import load_area
from klimakort.errors import DataNotFoundError
from klimakort.hazards.area import AreaHazards, compute_hazards
from klimakort.io import like
from klimakort.sample import write_sample
from klimakort.suitability import site_benefits, suitability
from klimakort.suitability.candidates import candidate_sites, disc
from klimakort.suitability.profiles import Profile, get_profile
from klimakort.suitability.raster import (
    SuitabilityInputs,
    SuitabilityResult,
    suitability_from_inputs,
)

X0, Y0 = 700_000.0, 6_170_000.0
CRS = "EPSG:25832"


def profile(min_area: float, min_width: float, **constraints: Any) -> Profile:
    return Profile.model_validate(
        {
            "name": "test",
            "min_area_m2": min_area,
            "min_width_m": min_width,
            "constraints": {"public_land": True, "avoid_buildings": False, **constraints},
            "criteria": [
                {
                    "name": "flood",
                    "source": "cloudburst_depth",
                    "weight": 3.0,
                    "transform": {"kind": "linear", "min": 0.0, "max": 1.0},
                },
                {
                    "name": "catch",
                    "source": "upstream_area",
                    "weight": 1.0,
                    "transform": {"kind": "linear", "min": 0.0, "max": 100.0},
                },
            ],
        }
    )


def run(
    make_dem: Callable[..., xr.DataArray],
    public: list[BaseGeometry],
    prof: Profile,
    shape: tuple[int, int],
    cell: float,
    **layers: gpd.GeoDataFrame,
) -> SuitabilityResult:
    dem = make_dem(np.zeros(shape), cell=cell, x0=X0, y0=Y0)
    f32 = np.float32
    inp = SuitabilityInputs(
        terrain=dem,
        filled=dem.copy(),
        accumulation=like(dem, np.full(shape, 25.0, f32), name="acc"),
        bluespots=like(dem, np.zeros(shape, np.int32), name="bs", nodata=0),
        flood_depth=like(dem, np.full(shape, 0.5, f32), name="fd"),
        layers={"public_land": gpd.GeoDataFrame(geometry=public, crs=CRS), **layers},
    )
    return suitability_from_inputs(inp, prof)


def rect(x: float, y: float, w: float, h: float) -> BaseGeometry:
    """Rectangle ``w`` x ``h`` m whose top-left corner is (X0 + x, Y0 - y)."""
    return box(X0 + x, Y0 - y - h, X0 + x + w, Y0 - y)


def test_disc_footprint() -> None:
    assert disc(4.0, 2.0).shape == (2, 2) and disc(4.0, 2.0).all()
    d = disc(4.0, 0.1)
    assert d.shape == (40, 40) and d[20, :].all() and not d[0, 0]
    assert disc(4.0, 0.3).shape == (14, 14)  # never narrower than the diameter


def test_patch_of_exactly_260_m2_passes_one_cell_less_fails(make_dem: Any) -> None:
    prof = profile(260.0, 4.0)
    patch = rect(4, 4, 10, 26)  # 5 x 13 cells of 2 m = 65 cells = 260 m2
    sites = candidate_sites(run(make_dem, [patch], prof, (20, 12), 2.0))
    assert len(sites) == 1
    assert sites.area_m2.iloc[0] == 260.0 == pytest.approx(sites.geometry.iloc[0].area)
    smaller = patch.difference(rect(4, 4, 2, 2))  # minus one corner cell: 256 m2
    assert len(candidate_sites(run(make_dem, [smaller], prof, (20, 12), 2.0))) == 0


@pytest.mark.parametrize(("width", "passes"), [(3.9, False), (4.0, True), (4.1, True)])
def test_width_rule_with_fine_cells(make_dem: Any, width: float, passes: bool) -> None:
    strip = rect(0.5, 0.5, 15.0, width)
    sites = candidate_sites(run(make_dem, [strip], profile(1.0, 4.0), (60, 160), 0.1))
    assert len(sites) == int(passes)
    if passes:
        area = sites.area_m2.iloc[0]
        # the opening rounds the corners with the 2 m radius disc: at most (4 - pi) r^2 lost
        lost = (4.0 - np.pi) * 2.0**2
        assert strip.area - lost - 0.5 < area <= strip.area + 1e-6
        assert sites.val_min_width.iloc[0] >= 4.0


def test_narrow_bridge_splits_two_sites(make_dem: Any) -> None:
    shapes = [rect(0, 0, 20, 20), rect(20, 9, 10, 2), rect(30, 0, 20, 20)]  # 2 m bridge
    sites = candidate_sites(run(make_dem, shapes, profile(100.0, 4.0), (20, 50), 1.0))
    assert len(sites) == 2
    # mirror-symmetric squares; the disc (4 x 4 cells without its corners) trims corner cells
    assert sites.area_m2.iloc[0] == sites.area_m2.iloc[1]
    assert 396.0 <= sites.area_m2.iloc[0] <= 400.0
    assert list(sites.site_id) == [1, 2]
    # with a 1.5 m width rule the bridge keeps them together
    assert len(candidate_sites(run(make_dem, shapes, profile(100.0, 1.5), (20, 50), 1.0))) == 1


def test_columns_scores_and_explanation(make_dem: Any) -> None:
    mains = gpd.GeoDataFrame(geometry=[LineString([(X0 + 24, Y0), (X0 + 24, Y0 - 40)])], crs=CRS)
    prof = profile(50.0, 4.0, heating_mains_clearance_m=2.5)
    res = run(make_dem, [rect(2, 2, 30, 30)], prof, (40, 40), 1.0, heating_mains=mains)
    sites = candidate_sites(res)
    assert len(sites) == 2 and sites.crs.to_epsg() == 25832
    row = sites.iloc[0]
    assert row.value_flood == pytest.approx(0.5) and row.score_flood == pytest.approx(0.5)
    assert row.weight_flood == pytest.approx(0.75) and row.weight_catch == pytest.approx(0.25)
    assert row.contrib_flood == pytest.approx(0.375) and row.contrib_catch == pytest.approx(0.0625)
    assert row.score == pytest.approx(0.4375) == pytest.approx(row.mean_score)
    for s in sites.itertuples():
        assert s.ok_heating_mains and s.val_heating_mains >= 2.5
        assert s.val_heating_mains == pytest.approx(s.geometry.distance(mains.geometry.iloc[0]))
        assert s.ok_public_land and s.ok_min_area and s.ok_min_width
    exp = json.loads(row.explanation)
    assert set(exp["criteria"]) == {"flood", "catch"}
    assert exp["criteria"]["flood"]["contrib"] == pytest.approx(0.375)
    assert {"public_land", "heating_mains", "min_area", "min_width"} <= set(exp["constraints"])
    assert exp["constraints"]["heating_mains"]["ok"] is True


def test_deterministic(make_dem: Any) -> None:
    shapes = [rect(1, 1, 9, 13), rect(14, 3, 11, 7)]
    a = candidate_sites(run(make_dem, shapes, profile(20.0, 3.0), (30, 30), 1.0))
    b = candidate_sites(run(make_dem, shapes, profile(20.0, 3.0), (30, 30), 1.0))
    assert len(a) == 2
    assert a.drop(columns="geometry").equals(b.drop(columns="geometry"))
    assert all(ga.equals(gb) for ga, gb in zip(a.geometry, b.geometry, strict=True))


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, AreaHazards]:
    cfg = load_area(write_sample(tmp_path_factory.mktemp("suit"), cell=8.0))
    return cfg, compute_hazards(cfg, ("2100",))


@pytest.mark.parametrize("measure", ["miyawaki_forest", "infiltration", "climate_park"])
def test_sample_area_yields_explained_candidates(
    sample: tuple[Any, AreaHazards], measure: str, tmp_path: Path
) -> None:
    cfg, hz = sample
    res = suitability(cfg, hz, measure, "2100")
    sites = site_benefits(candidate_sites(res), res)
    assert len(sites) > 0
    prof = res.profile
    assert (sites.area_m2 >= prof.min_area_m2).all()
    assert ((sites.score >= 0) & (sites.score <= 1)).all()
    assert sites.geometry.is_valid.all()
    np.testing.assert_allclose(sites.geometry.area, sites.area_m2)
    for e in sites.explanation:
        d = json.loads(e)
        assert d["measure"] == prof.name and set(d["criteria"]) == set(res.weights)
    # every site cell is suitable
    pub = gpd.GeoDataFrame(geometry=list(sites.geometry), crs=sites.crs)
    inside = res.mask.rio.clip(pub.geometry, drop=False, all_touched=False)
    assert bool(inside.fillna(True).all())
    if measure == "miyawaki_forest":
        assert (sites.co2_t_yr_central > 0).all() and (sites.children_500m > 0).any()
    res.write(tmp_path / "suitability.tif")
    assert (tmp_path / "suitability.tif").stat().st_size > 0


def test_sample_without_heating_mains_equals_clearance_zero(
    sample: tuple[Any, AreaHazards],
) -> None:
    cfg, hz = sample
    text = cfg.source.read_text()
    start = text.index("[layers.heating_mains]")
    end = text.index("\n[", start + 1)
    edited = cfg.source.with_name("area_no_mains.toml")
    edited.write_text(text[:start] + text[end + 1 :])
    no_mains = load_area(edited)
    assert "heating_mains" not in no_mains.layers and "heating_mains" in cfg.layers
    prof = get_profile("miyawaki_forest")
    zero = prof.model_copy(
        update={
            "constraints": prof.constraints.model_copy(update={"heating_mains_clearance_m": 0.0})
        }
    )
    missing = suitability(no_mains, hz, "miyawaki_forest", "2100")
    off = suitability(cfg, hz, "miyawaki_forest", "2100", profile=zero)
    applied = suitability(cfg, hz, "miyawaki_forest", "2100")
    # the sample's mains cross public land: the 2.5 m clearance removes suitable cells
    assert (applied.mask.values < off.mask.values).any()
    np.testing.assert_array_equal(missing.mask.values, off.mask.values)
    a, b = candidate_sites(missing), candidate_sites(off)
    assert len(a) > 0 and len(a) == len(b)
    assert a.geometry.geom_equals(b.geometry).all()
    np.testing.assert_allclose(a["score"], b["score"])
    note = "heating-mains clearance not checked: the area has no heating_mains layer"
    assert missing.not_checked["heating_mains"] == note and note not in off.notes
    for text_ in a["explanation"]:
        assert json.loads(text_)["not_checked"]["heating_mains"] == note
    with pytest.raises(DataNotFoundError, match="heating_mains"):
        suitability(no_mains, hz, "miyawaki_forest", "2100", strict=True)
