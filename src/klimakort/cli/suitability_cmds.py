"""The ``suitability`` command: suitability map, candidate sites and a chosen portfolio."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from klimakort.cli.hazards_area_cmds import NoCache, Recompute, StoreDir, area_hazards
from klimakort.cli.progress import console, steps
from klimakort.errors import InputError


class InfeasiblePortfolioError(InputError):
    """The portfolio asked for cannot be chosen under its rules (spacing, districts)."""

    title = "Infeasible portfolio"


def suitability_cmd(
    area: Annotated[Path, typer.Argument(help="The area.toml.")],
    measure: Annotated[
        str, typer.Option("--measure", help="Measure profile, e.g. miyawaki_forest.")
    ] = "miyawaki_forest",
    scenario: Annotated[str, typer.Option("--scenario", help="Climate scenario.")] = "2100",
    choose: Annotated[
        int, typer.Option("--choose", min=0, help="Number of sites in the portfolio.")
    ] = 10,
    min_spacing: Annotated[
        float,
        typer.Option("--min-spacing", min=0.0, help="Minimum distance between chosen sites, m."),
    ] = 500.0,
    samples: Annotated[
        int, typer.Option("--samples", min=1, help="Monte Carlo draws for weight sensitivity.")
    ] = 500,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the sensitivity draws.")] = 0,
    profiles: Annotated[
        Path | None, typer.Option("--profiles", help="TOML overriding the built-in profiles.")
    ] = None,
    out: Annotated[Path, typer.Option("--out", help="Output folder.")] = Path("suitability"),
    no_cache: NoCache = False,
    recompute: Recompute = False,
    store: StoreDir = None,
    strict: Annotated[
        bool,
        typer.Option("--strict", help="Fail when a constraint's or criterion's layer is missing."),
    ] = False,
) -> None:
    """Map suitability of a measure, find candidate sites and choose a spaced portfolio.

    Writes OUT/suitability.tif (weighted score 0-1), OUT/candidates.gpkg (every candidate
    with criterion scores, constraint values, rank sensitivity and a JSON explanation),
    OUT/portfolio.gpkg (the chosen sites) and OUT/portfolio.json (solver status, MIP gap,
    objective, chosen sites with explanations, and rank sensitivity under ±20 % weights).
    A portfolio that the spacing cannot hold exits with status 2 and names the largest
    number of sites that can be chosen (the other outputs are still written).

    A constraint whose layer the area lacks is not checked (a warning says which); a
    criterion whose layer is missing is dropped and the weights renormalised. --strict
    makes either an error.
    """
    from klimakort.config.area import load_area
    from klimakort.suitability.workflow import run_suitability, write_suitability

    cfg = load_area(area)
    with steps(f"Suitability of {measure} in {cfg.name} ({scenario})") as say:
        hz = area_hazards(
            cfg, (scenario,), say, no_cache=no_cache, recompute=recompute, store=store
        )
        run = run_suitability(
            cfg,
            hz,
            measure,
            scenario,
            choose=choose,
            min_spacing_m=min_spacing,
            samples=samples,
            seed=seed,
            profiles_path=profiles,
            progress=say,
            strict=strict,
        )
        files = write_suitability(run, out)
    portfolio, cands = run.portfolio, run.candidates
    for note in run.result.notes:
        console.print(f"[yellow]warning[/]: {note}")
    colour = "green" if portfolio.feasible or choose == 0 else "red"
    gap = "n/a" if portfolio.mip_gap is None else f"{portfolio.mip_gap:.2g}"
    console.print(
        f"[{colour}]portfolio {portfolio.status}[/]: {len(portfolio.chosen_ids)} of "
        f"{len(cands)} candidates, objective "
        f"{portfolio.objective if portfolio.objective is not None else 'n/a'}, gap {gap}"
    )
    for path in files:
        typer.echo(str(path))
    if not portfolio.feasible and choose > 0:
        raise InfeasiblePortfolioError(f"{portfolio.message} The other outputs are in {out}.")


def register(app: typer.Typer) -> None:
    """Add the suitability command to the CLI."""
    app.command("suitability")(suitability_cmd)
