"""The ``hazards`` command: every hazard of an area for chosen scenarios."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from klimakort.cli.progress import console, steps


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
) -> None:
    """Compute cloudburst, sea-level and groundwater hazards per scenario into COGs.

    Writes OUT/rainflow/ (shared) and OUT/SCENARIO/ with cloudburst/flood_depth.tif,
    cloudburst/bluespot_state.gpkg, sea_inundation_depth.tif, sea_at_risk.tif,
    critical_points.gpkg, groundwater_depth.tif and groundwater_classes.tif, each tagged
    with scenario, units and sources.
    """
    from klimakort.config.area import load_area
    from klimakort.hazards.area import HazardOptions, compute_hazards, write_hazards
    from klimakort.hydro.rainflow import write_rainflow

    names = tuple(scenario) if scenario else ("present", "2050", "2100")
    cfg = load_area(area)
    opts = HazardOptions(
        rain_return_period=rain_return_period,
        surge_return_period=surge_return_period,
        sewer_mm=sewer_mm,
    )
    with steps(f"Hazards of {cfg.name}") as say:
        hz = compute_hazards(cfg, names, opts, progress=say)
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
