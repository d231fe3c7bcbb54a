"""The ``hazards`` command: every hazard of an area for chosen scenarios.

The options shared by every command that needs an area's hazards (``--no-cache``,
``--recompute``, ``--store``) and :func:`area_hazards`, which honours them, live here too.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from klimakort.cli.progress import console, steps

if TYPE_CHECKING:
    from klimakort.config.area import AreaConfig
    from klimakort.hazards.area import AreaHazards, HazardOptions

#: ``--no-cache``: neither read nor write the hazard store
NoCache = Annotated[
    bool,
    typer.Option(
        "--no-cache", help="Compute the hazards without reading or writing the hazard store."
    ),
]
#: ``--recompute``: compute afresh and replace the stored hazards
Recompute = Annotated[
    bool,
    typer.Option("--recompute", help="Compute the hazards afresh and replace the stored ones."),
]
#: ``--store``: where computed hazards are kept
StoreDir = Annotated[
    Path | None,
    typer.Option(
        "--store",
        envvar="KLIMAKORT_HAZARD_STORE",
        help="Folder of the hazard store (default AREA_DIR/.klimakort/hazards).",
    ),
]


def area_hazards(
    cfg: AreaConfig,
    scenarios: Sequence[str],
    say: Callable[[str], None],
    *,
    options: HazardOptions | None = None,
    no_cache: bool = False,
    recompute: bool = False,
    store: Path | None = None,
) -> AreaHazards:
    """The hazards of ``cfg``: from the hazard store unless ``no_cache`` (then computed)."""
    from klimakort.hazards.area import compute_hazards
    from klimakort.hazards.store import HazardStore, load_or_compute_hazards

    if no_cache:
        say("computing hazards (--no-cache: the hazard store is not used)")
        return compute_hazards(cfg, tuple(scenarios), options, progress=say)
    return load_or_compute_hazards(
        cfg,
        tuple(scenarios),
        options,
        progress=say,
        store=HazardStore.for_area(cfg, store),
        recompute=recompute,
    )


def hazards_cmd(
    area: Annotated[Path, typer.Argument(help="The area.toml.")],
    out: Annotated[Path, typer.Option("--out", help="Output folder.")] = Path("hazards"),
    scenario: Annotated[
        list[str] | None, typer.Option("--scenario", help="Scenario (repeatable).")
    ] = None,
    rain_return_period: Annotated[
        int, typer.Option(help="Design rain return period, years.")
    ] = 100,
    surge_return_period: Annotated[
        int, typer.Option(help="Storm-surge return period, years.")
    ] = 100,
    sewer_mm: Annotated[float, typer.Option(help="Rain the sewer takes away, mm.")] = 0.0,
    no_cache: NoCache = False,
    recompute: Recompute = False,
    store: StoreDir = None,
) -> None:
    """Compute cloudburst, sea-level and groundwater hazards per scenario into COGs.

    Writes OUT/rainflow/ (shared) and OUT/SCENARIO/ with cloudburst/flood_depth.tif,
    cloudburst/bluespot_state.gpkg, sea_inundation_depth.tif, sea_at_risk.tif,
    critical_points.gpkg, groundwater_depth.tif and groundwater_classes.tif, each tagged
    with scenario, units and sources. Hazards computed before from the same inputs are
    taken from the hazard store.
    """
    from klimakort.config.area import load_area
    from klimakort.hazards.area import HazardOptions, write_hazards
    from klimakort.hydro.rainflow import write_rainflow

    names = tuple(scenario) if scenario else ("present", "2050", "2100")
    cfg = load_area(area)
    opts = HazardOptions(
        rain_return_period=rain_return_period,
        surge_return_period=surge_return_period,
        sewer_mm=sewer_mm,
    )
    with steps(f"Hazards of {cfg.name}") as say:
        hz = area_hazards(
            cfg, names, say, options=opts, no_cache=no_cache, recompute=recompute, store=store
        )
        files = write_rainflow(hz.rainflow, out / "rainflow", progress=say)
        files.update(write_hazards(hz, out, progress=say))
    for name, sh in hz.scenarios.items():
        console.print(
            f"{name}: rain {sh.rain_mm:.1f} mm, sea level {sh.sea_level_m:.2f} m DVR90,"
            f" stored {sh.cloudburst.mass_balance['stored_m3']:.0f} m³"
        )
    for path in files.values():
        typer.echo(str(path))


def register(app: typer.Typer) -> None:
    """Add the hazards command to the CLI."""
    app.command("hazards")(hazards_cmd)
