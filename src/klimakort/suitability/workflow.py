"""The engineer's workflow in one call: suitability -> candidates -> sensitivity -> portfolio."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd

from klimakort.config.area import AreaConfig
from klimakort.errors import DataNotFoundError
from klimakort.hazards.area import AreaHazards, runoff_coefficient
from klimakort.hazards.cloudburst import route_event
from klimakort.io.vector import read_vector, write_vector
from klimakort.suitability.benefits import site_benefits
from klimakort.suitability.candidates import candidate_sites
from klimakort.suitability.effect import add_cloudburst_effect, cloudburst_effect
from klimakort.suitability.portfolio import (
    PortfolioResult,
    choose_portfolio,
    write_portfolio_gpkg,
    write_portfolio_json,
)
from klimakort.suitability.profiles import Profile
from klimakort.suitability.raster import SuitabilityResult, suitability
from klimakort.suitability.sensitivity import SensitivityResult, rank_sensitivity
from klimakort.suitability.trees import TreePotential, tree_potential

Progress = Callable[[str], None]


@dataclass
class SuitabilityRun:
    """Everything the workflow derived, ready to write or map."""

    result: SuitabilityResult
    candidates: gpd.GeoDataFrame
    sensitivity: SensitivityResult | None
    portfolio: PortfolioResult
    summary: dict[str, Any]


def run_suitability(
    cfg: AreaConfig,
    hz: AreaHazards,
    measure: str = "miyawaki_forest",
    scenario: str = "2100",
    *,
    choose: int = 10,
    min_spacing_m: float = 500.0,
    samples: int = 500,
    seed: int = 0,
    profiles_path: Path | None = None,
    profile: Profile | None = None,
    progress: Progress | None = None,
    strict: bool = False,
) -> SuitabilityRun:
    """Score a measure, delineate and explain candidate sites, test rank stability, choose.

    Parameters
    ----------
    cfg, hz
        The area and its hazards (``scenario`` must be among ``hz.scenarios``).
    measure : str
        Measure profile, e.g. ``miyawaki_forest``.
    scenario : str
        Climate scenario of the hazards used as criteria and constraints.
    choose : int
        Number of sites in the portfolio.
    min_spacing_m : float
        Minimum edge-to-edge distance between chosen sites.
    samples, seed : int
        Monte Carlo weight draws for the rank sensitivity, and their seed.
    profiles_path : Path, optional
        TOML overriding the built-in measure profiles.
    profile : Profile, optional
        Use this profile (e.g. with overridden weights) instead of looking ``measure`` up.
    progress : callable, optional
        Step messages.
    strict : bool
        A constraint or criterion whose layer the area lacks is an error; by default it
        is skipped and ``summary["notes"]`` (and every explanation) says so.
    """
    say = progress or (lambda _m: None)
    say(f"{measure}: scoring criteria and constraints")
    result = suitability(
        cfg, hz, measure, scenario, profile=profile, profiles_path=profiles_path, strict=strict
    )
    say(f"{measure}: delineating candidate sites")
    cands = candidate_sites(result)
    inst_ref = cfg.layers.get("institutions")
    if len(cands):
        institutions = read_vector(inst_ref.path, crs=cfg.crs) if inst_ref else None
        cands = site_benefits(cands, result, institutions=institutions)
        say(f"{measure}: modelled cloudburst effect of {len(cands)} sites")
        cands = with_cloudburst_effect(cfg, hz, scenario, result, cands)
    sens = None
    if len(cands):
        say(f"{measure}: rank sensitivity ({samples} weight draws)")
        sens = rank_sensitivity(cands, top_n=max(choose, 1), n_samples=samples, seed=seed)
        for col in ("base_rank", "mc_min_rank", "mc_max_rank", "p_top_n"):
            cands[col] = cands["site_id"].map(sens.table[col])
    say(f"{measure}: choosing {choose} sites at least {min_spacing_m:g} m apart")
    portfolio = choose_portfolio(cands, choose, min_spacing_m=min_spacing_m)
    summary: dict[str, Any] = {
        "area": cfg.name,
        "measure": result.measure,
        "scenario": scenario,
        "weights": result.weights,
        "notes": list(result.notes),
        "not_checked": dict(result.not_checked),
        "dropped_criteria": dict(result.dropped_criteria),
        "sensitivity": None if sens is None else sens.to_dict(portfolio.chosen_ids),
    }
    return SuitabilityRun(result, cands, sens, portfolio, summary)


def with_cloudburst_effect(
    cfg: AreaConfig,
    hz: AreaHazards,
    scenario: str,
    result: SuitabilityResult,
    sites: gpd.GeoDataFrame,
) -> gpd.GeoDataFrame:
    """Sites with their modelled cloudburst effect (columns and explanation).

    Routes the scenario's design cloudburst again with the area's runoff coefficient and
    sewer capacity, then takes each site out on its own
    (:func:`klimakort.suitability.effect.cloudburst_effect`).
    """
    sh = hz.scenarios[scenario]
    rf = hz.rainflow
    ev = route_event(
        rf, sh.rain_mm, runoff=runoff_coefficient(cfg, rf.terrain), sewer_mm=hz.options.sewer_mm
    )
    b = result.profile.benefits
    threshold = sh.cloudburst.depth_classes[0]
    eff = cloudburst_effect(sites, ev, rf.flowdir, b, depth_threshold_m=threshold)
    ret = b.retention_depth_m
    about: dict[str, Any] = {
        "scenario": scenario,
        "rain_mm": round(ev.rain_mm, 2),
        "return_period": hz.options.rain_return_period,
        "sewer_mm": ev.sewer_mm,
        "runoff_coefficient": ev.runoff,
        "retention_depth_m": ret.model_dump() if ret else None,
        "runoff_coefficient_after": b.runoff_coefficient_after,
        "runoff_coefficient_source": b.runoff_coefficient_source,
        "flooded_from_m": threshold,
        "method": (
            "static fill-spill routing of the design cloudburst; each site on its own holds "
            "up to area x retention depth of the runoff whose D8 path reaches it before a "
            "bluespot (klimakort.suitability.effect)"
        ),
    }
    return add_cloudburst_effect(sites, eff, about)


def write_suitability(run: SuitabilityRun, out_dir: str | Path) -> list[Path]:
    """Write suitability.tif, candidates.gpkg, portfolio.gpkg and portfolio.json."""
    out = Path(out_dir)
    return [
        run.result.write(out / "suitability.tif"),
        write_vector(run.candidates, out / "candidates.gpkg", layer="candidates"),
        write_portfolio_gpkg(run.portfolio, out / "portfolio.gpkg"),
        write_portfolio_json(run.portfolio, out / "portfolio.json", extra=run.summary),
    ]


def area_tree_potential(cfg: AreaConfig, *, public_only: bool = True) -> TreePotential:
    """Tree potential of an area's (public) parcels, clear of buildings, mains and roads.

    Parameters
    ----------
    cfg : AreaConfig
        Needs the ``parcels`` layer; buildings, heating mains and roads are used when present.
    public_only : bool
        Count only parcels whose ``public`` field is true (where the municipality plants).
    """

    def layer(key: str) -> gpd.GeoDataFrame | None:
        ref = cfg.layers.get(key)
        return read_vector(ref.path, crs=cfg.crs, layer=ref.layer) if ref else None

    parcels = layer("parcels")
    if parcels is None:
        raise DataNotFoundError("tree potential needs the parcels layer")
    if public_only and "public" in parcels.columns:
        parcels = parcels[parcels["public"].astype(bool)]
    return tree_potential(
        parcels,
        buildings=layer("buildings"),
        heating_mains=layer("heating_mains"),
        roads=layer("roads"),
    )
