"""Commands about areas: ``sample``, ``info`` and ``demo``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from klimakort.cli.progress import console, steps


def sample(
    directory: Annotated[Path, typer.Argument(help="Folder to write the sample area into.")],
    seed: Annotated[
        int, typer.Option(help="Random seed; the same seed gives the same area.")
    ] = 2050,
) -> None:
    """Write the built-in synthetic sample area (area.toml plus its inputs) to DIRECTORY."""
    from klimakort.sample import write_sample

    with steps("Generating the synthetic sample area") as say:
        toml = write_sample(directory, seed=seed, progress=say)
    typer.echo(str(toml))


def info(
    area: Annotated[Path, typer.Argument(help="The area.toml to summarise.")],
) -> None:
    """Summarise an area: inputs, CRS, bounds and cell counts."""
    from klimakort.config.area import load_area
    from klimakort.config.validate import check_area

    cfg = load_area(area, check_files=False)
    terrain, rasters, layers = check_area(cfg)
    typer.echo(f"area:      {cfg.name}{'  [synthetic sample]' if cfg.synthetic else ''}")
    typer.echo(f"crs:       {cfg.crs}")
    b = terrain.bounds
    typer.echo(
        f"bounds:    {b[0]:.1f} {b[1]:.1f} {b[2]:.1f} {b[3]:.1f}  "
        f"({(b[2] - b[0]) / 1000:.2f} x {(b[3] - b[1]) / 1000:.2f} km)"
    )
    ny, nx = terrain.shape
    typer.echo(
        f"terrain:   {terrain.path.name}  {nx} x {ny} cells = {nx * ny:,} cells of "
        f"{terrain.res[0]:g} x {terrain.res[1]:g} m ({terrain.dtype})"
    )
    for r in rasters:
        typer.echo(f"{r.key + ':':<10} {r.path.name}  {r.shape[1]} x {r.shape[0]} cells")
    for lyr in layers:
        typer.echo(
            f"{lyr.key + ':':<24} {lyr.path.name}  {lyr.features:>6} features  {lyr.geometry_type}"
        )
    if cfg.scenarios:
        typer.echo(f"scenario overrides: {', '.join(sorted(cfg.scenarios))}")


def demo(
    out: Annotated[Path, typer.Option(help="Output folder.")] = Path("build/demo"),
    seed: Annotated[int, typer.Option(help="Seed of the sample area.")] = 2050,
) -> None:
    """Build the sample area, compute its layers and write the interactive map."""
    from klimakort.demo import run_demo

    with steps("klimakort demo") as say:
        result = run_demo(out, seed=seed, progress=say)
    if result.trees_target:
        console.print(
            f"tree potential on public parcels: {result.trees_total:,} trees "
            f"({result.trees_total / result.trees_target:.0%} of the "
            f"{result.trees_target:,} target)"
        )
    console.print(f"map: [bold]{result.map_path}[/]")
    typer.echo(str(result.map_path))


def register(app: typer.Typer) -> None:
    """Add the area commands to the CLI."""
    app.command()(sample)
    app.command()(info)
    app.command()(demo)
