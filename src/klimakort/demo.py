"""The demo job: the sample area, its derived layers and the interactive map."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from klimakort.config.area import load_area
from klimakort.constraints.examples import write_examples
from klimakort.hazards.area import compute_hazards, write_hazards
from klimakort.hydro.rainflow import write_rainflow
from klimakort.io.vector import write_vector
from klimakort.maps.standalone import MapView, write_standalone_map
from klimakort.service import Workspace
from klimakort.suitability.workflow import (
    area_tree_potential,
    run_suitability,
    write_suitability,
)

#: spacing of the demo's 10 Miyawaki sites: the 4 x 3 km sample cannot hold 10 public
#: sites 500 m apart (the solver proves it infeasible), so the demo asks for 250 m
DEMO_SPACING_M = 250.0
#: the demo map opens on the 2100 story of docs/map.png: cloudburst and sea flooding,
#: flow paths, parcels and plans, planned sites, candidate and chosen Miyawaki sites
DEMO_VIEW = MapView(
    rasters=("hillshade", "cloudburst_depth", "sea_depth"),
    collections=(
        "parcels",
        "local_plans",
        "planned_sites",
        "flowpaths",
        "candidate_sites",
    ),
    scenario="2100",
)


@dataclass(frozen=True)
class DemoResult:
    """Where the demo wrote its results."""

    area_toml: Path
    map_path: Path
    outputs: dict[str, Path] = field(default_factory=dict)
    trees_total: int = 0
    trees_target: int = 0


def run_demo(
    out: str | Path,
    *,
    seed: int = 2050,
    cell: float = 1.6,
    progress: Callable[[str], None] | None = None,
) -> DemoResult:
    """Sample area, rain-flow, hazards for present/2050/2100 and the map ``out/map.html``.

    Parameters
    ----------
    out : path-like
        Output folder (created).
    seed : int
        Seed of the sample area.
    cell : float
        Cell size of the sample area (m); coarser is faster.
    progress : callable, optional
        Receives a message at the start of each step.
    """
    from klimakort.sample import write_sample

    say = progress or (lambda _m: None)
    out = Path(out)
    say("sample area")
    toml = write_sample(out / "sample", seed=seed, cell=cell)
    cfg = load_area(toml)
    outputs: dict[str, Path] = {}
    hz = compute_hazards(cfg, ("present", "2050", "2100"), progress=say)
    outputs.update(write_rainflow(hz.rainflow, out / "rainflow", progress=say))
    outputs.update(write_hazards(hz, out / "hazards", progress=say))
    miyawaki = run_suitability(
        cfg, hz, "miyawaki_forest", "2100", choose=10, min_spacing_m=DEMO_SPACING_M, progress=say
    )
    written = write_suitability(miyawaki, out / "suitability" / "miyawaki_forest")
    outputs.update({f"suitability/{p.name}": p for p in written})
    say("tree potential of public parcels")
    trees = area_tree_potential(cfg)
    outputs["tree_potential"] = write_vector(
        trees.parcels, out / "suitability" / "tree_potential.gpkg", layer="parcels"
    )
    say("example parcel and plan reports (2100)")
    examples = write_examples(cfg, hz, out / "reports")
    outputs.update({"parcel_report": examples.parcel_html, "plan_report": examples.plan_html})
    say("map")
    ws = Workspace(cfg, hz)
    ws.remember_suitability(miyawaki, "2100")
    map_path = write_standalone_map(
        ws, out / "map.html", progress=lambda m: say(f"map: {m}"), view=DEMO_VIEW
    )
    return DemoResult(
        area_toml=toml,
        map_path=map_path,
        outputs=outputs,
        trees_total=trees.total,
        trees_target=trees.target,
    )
