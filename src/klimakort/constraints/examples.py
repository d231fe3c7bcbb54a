"""Example reports of an area: one parcel and one local plan (used by the demo)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd

from klimakort.config.area import AreaConfig
from klimakort.constraints.loaders import load_local_plans, load_parcels
from klimakort.constraints.report import parcel_report, plan_report, write_report
from klimakort.errors import DataNotFoundError
from klimakort.hazards.area import AreaHazards


@dataclass(frozen=True)
class ExampleReports:
    """Paths of the example reports, and what they are about."""

    parcel_id: str
    plannr: str
    parcel_html: Path
    parcel_json: Path
    plan_html: Path
    plan_json: Path


def pick_examples(cfg: AreaConfig) -> tuple[str, str]:
    """A plan (the one with the lowest-lying name, else the first) and a parcel inside it.

    The parcel is the one containing the plan polygon's representative point, so the
    choice is deterministic and the parcel lies in the plan.
    """
    plans_ref, parcels_ref = cfg.layers.get("local_plans"), cfg.layers.get("parcels")
    if plans_ref is None or parcels_ref is None:
        raise DataNotFoundError("example reports need the layers local_plans and parcels")
    plans = load_local_plans(plans_ref.path, cfg.crs, layer=plans_ref.layer)
    low = plans[plans["plannavn"].str.contains("lavtliggende", na=False)]
    plan = (low if len(low) else plans).sort_values("plan_id").iloc[0]
    parcels = load_parcels(parcels_ref.path, cfg.crs, layer=parcels_ref.layer)
    point = gpd.GeoSeries([plan.geometry.representative_point()], crs=cfg.crs)
    hit = parcels[parcels.contains(point.iloc[0])]
    if hit.empty:
        raise DataNotFoundError(f"no parcel at the centre of plan {plan['plan_id']}")
    return str(hit.iloc[0]["parcel_id"]), str(plan["plan_id"])


def write_examples(
    cfg: AreaConfig, hz: AreaHazards, out_dir: str | Path, scenario: str = "2100"
) -> ExampleReports:
    """Write JSON and HTML reports of an example parcel and plan into ``out_dir``."""
    out = Path(out_dir)
    parcel_id, plannr = pick_examples(cfg)
    parcel = parcel_report(cfg, hz, parcel_id, scenario)
    plan = plan_report(cfg, hz, plannr, scenario)
    stem_p, stem_l = f"parcel_{parcel_id}", f"plan_{plannr}"
    return ExampleReports(
        parcel_id=parcel_id,
        plannr=plannr,
        parcel_html=write_report(parcel, out / f"{stem_p}.html", "html", hz=hz),
        parcel_json=write_report(parcel, out / f"{stem_p}.json", "json"),
        plan_html=write_report(plan, out / f"{stem_l}.html", "html", hz=hz),
        plan_json=write_report(plan, out / f"{stem_l}.json", "json"),
    )
