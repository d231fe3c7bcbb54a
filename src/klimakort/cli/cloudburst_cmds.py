"""The ``cloudburst`` command: fill–spill flooding of a rain event over the bluespots."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

__all__ = ["cloudburst_cmd", "register"]


def _rain_and_label(
    rain_mm: float | None, scenario: str | None, return_period: int
) -> tuple[float, str | None]:
    """Rain depth (given, or the scenario's design rain) and the scenario label."""
    from klimakort.errors import ParameterError

    if scenario is None:
        if rain_mm is None:
            raise ParameterError("give the rain depth (--rain-mm) or a scenario (--scenario)")
        return rain_mm, None
    label = f"{scenario}, T{return_period}"
    if rain_mm is not None:
        return rain_mm, label
    from klimakort.hazards.scenarios import load_scenario

    rain = load_scenario(scenario).design_rain_mm(return_period)
    return rain, f"{label}: design rain {rain:g} mm"


def cloudburst_cmd(
    rainflow: Annotated[
        Path, typer.Option("--rainflow", help="Folder written by `klimakort rainflow`.")
    ],
    out: Annotated[Path, typer.Option("--out", help="Output folder.")],
    rain_mm: Annotated[
        float | None,
        typer.Option("--rain-mm", help="Rain depth of the event, mm (default: the scenario's)."),
    ] = None,
    runoff: Annotated[
        float | None,
        typer.Option("--runoff", help="Constant runoff coefficient 0..1 (default 1.0)."),
    ] = None,
    runoff_raster: Annotated[
        Path | None,
        typer.Option(
            "--runoff-raster", help="Runoff coefficient raster 0..1 on the rain-flow grid."
        ),
    ] = None,
    sewer_mm: Annotated[
        float, typer.Option("--sewer-mm", help="Sewer capacity over the event, mm.")
    ] = 0.0,
    dem: Annotated[
        Path | None,
        typer.Option(
            "--dem",
            help="Terrain the rain-flow analysis ran on (default: RAINFLOW/terrain.tif).",
        ),
    ] = None,
    scenario: Annotated[
        str | None,
        typer.Option("--scenario", help="Scenario (present, 2050, 2100): label, or the rain."),
    ] = None,
    return_period: Annotated[
        int, typer.Option("--return-period", help="Return period (years) of the design rain.")
    ] = 100,
) -> None:
    """Cloudburst flooding: fill the bluespots with runoff and spill the excess downstream.

    Writes flood_depth.tif and bluespot_state.gpkg (layers bluespots, flooded_areas,
    spill_paths) into OUT. Without --rain-mm the rain is the scenario's design rain
    for the return period.
    """
    from klimakort.errors import ParameterError
    from klimakort.hazards.cloudburst import cloudburst, load_rainflow, write_cloudburst
    from klimakort.io.raster import read_raster

    if runoff is not None and runoff_raster is not None:
        raise ParameterError("give either --runoff or --runoff-raster, not both")
    rain, label = _rain_and_label(rain_mm, scenario, return_period)
    rf = load_rainflow(rainflow, dem)
    coeff = read_raster(runoff_raster, name="runoff") if runoff_raster is not None else runoff
    result = cloudburst(
        rf, rain, runoff=1.0 if coeff is None else coeff, sewer_mm=sewer_mm, scenario=label
    )
    files = write_cloudburst(result, out)
    mb = result.mass_balance
    full = int((result.state["fill_fraction"] >= 1.0).sum())
    typer.echo(
        f"{rain:g} mm: {mb['runoff_m3']:.0f} m³ runoff, {mb['stored_m3']:.0f} m³ stored in "
        f"{len(result.state)} bluespots ({full} full), {mb['left_area_m3']:.0f} m³ left the area"
    )
    for path in files.values():
        typer.echo(str(path))


def register(app: typer.Typer) -> None:
    """Add ``cloudburst`` to a Typer app."""
    app.command("cloudburst")(cloudburst_cmd)
