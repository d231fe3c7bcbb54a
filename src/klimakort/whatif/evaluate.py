"""One call from a scenario edit to the comparison: run, compare, report."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import geopandas as gpd

from klimakort.config.area import AreaConfig
from klimakort.hazards.area import AreaHazards
from klimakort.whatif.compare import Comparison, compare, report
from klimakort.whatif.edits import ScenarioEdit
from klimakort.whatif.recompute import Method, WhatIfRun, area_buildings, run_whatif


@dataclass
class WhatIfResult:
    """A what-if run and its comparison with the base run."""

    run: WhatIfRun
    comparison: Comparison

    def report(self) -> dict[str, Any]:
        """JSON-ready report: the edits, how the run went, statistics, changed features."""
        run = self.run
        return report(
            self.comparison,
            {
                "name": run.edit.name,
                "method": run.method,
                "notes": run.notes,
                "edits": run.applied.summary,
            },
        )


def _parcels(cfg: AreaConfig) -> tuple[gpd.GeoDataFrame, str] | None:
    ref = cfg.layers.get("parcels")
    if ref is None:
        return None
    from klimakort.constraints.loaders import load_parcels

    gdf = load_parcels(ref.path, cfg.crs, layer=ref.layer)
    return gdf, "matrikel_id" if "matrikel_id" in gdf.columns else str(ref.id_field)


def _buildings(cfg: AreaConfig) -> tuple[gpd.GeoDataFrame, str] | None:
    ref = cfg.layers.get("buildings")
    gdf = area_buildings(cfg)
    if ref is None or gdf is None:
        return None
    if ref.id_field and ref.id_field in gdf.columns:
        return gdf.reset_index(drop=True), ref.id_field
    return gdf.reset_index(drop=True).assign(building_id=[str(i) for i in range(len(gdf))]), (
        "building_id"
    )


def evaluate(
    cfg: AreaConfig,
    base: AreaHazards,
    edit: ScenarioEdit,
    *,
    scenario: str | None = None,
    method: Method = "auto",
    progress: Callable[[str], None] | None = None,
) -> WhatIfResult:
    """Run a scenario edit (:func:`~klimakort.whatif.recompute.run_whatif`) and compare it
    with the base run for the parcels and buildings of the area."""
    say = progress or (lambda _m: None)
    run = run_whatif(cfg, base, edit, scenario=scenario, method=method, progress=say)
    say("comparing with the base run (parcels and buildings)")
    cmp = compare(
        run.scenario,
        base.scenarios[run.scenario],
        run.edited.scenarios[run.scenario],
        parcels=_parcels(cfg),
        buildings=_buildings(cfg),
    )
    return WhatIfResult(run, cmp)
