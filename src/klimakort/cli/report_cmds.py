"""The ``report`` command: climate report of a parcel, a local plan or a polygon."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from klimakort.cli.progress import steps
from klimakort.errors import InputError


def report_cmd(
    area: Annotated[Path, typer.Argument(help="The area.toml.")],
    parcel: Annotated[
        str | None, typer.Option("--parcel", help="Parcel id (matrikel), e.g. 2000651-1a.")
    ] = None,
    plan: Annotated[str | None, typer.Option("--plan", help="Local plan number (plannr).")] = None,
    polygon: Annotated[
        Path | None, typer.Option("--polygon", help="Polygon file (GeoJSON, GeoPackage, ...).")
    ] = None,
    scenario: Annotated[str, typer.Option("--scenario", help="Climate scenario.")] = "2100",
    fmt: Annotated[str, typer.Option("--format", help="Output format: json or html.")] = "json",
    out: Annotated[Path | None, typer.Option("--out", help="Output file.")] = None,
    rules: Annotated[
        Path | None, typer.Option("--rules", help="Rules TOML merged over the defaults.")
    ] = None,
    lang: Annotated[str, typer.Option("--lang", help="Language of the report: da or en.")] = "da",
) -> None:
    """Write a climate report (findings of the climate rules) as JSON or HTML.

    Give exactly one of --parcel, --plan and --polygon. The hazards are computed for the
    one scenario asked, then the rules are evaluated for the feature and its buildings.
    """
    from klimakort.config.area import load_area
    from klimakort.constraints.report import (
        parcel_report,
        plan_report,
        polygon_report,
        write_report,
    )
    from klimakort.constraints.report_text import check_lang
    from klimakort.constraints.rules import load_rules
    from klimakort.hazards.area import compute_hazards

    chosen = [n for n, v in (("--parcel", parcel), ("--plan", plan), ("--polygon", polygon)) if v]
    if len(chosen) != 1:
        raise InputError(
            f"give exactly one of --parcel, --plan and --polygon (got {chosen or 'none'})"
        )
    if fmt not in ("json", "html"):
        raise InputError(f"--format {fmt!r} is not supported; use json or html")
    check_lang(lang)  # before the hazards are computed
    cfg = load_area(area)
    rule_set = load_rules(rules)
    with steps(f"Climate report, {cfg.name}, scenario {scenario}") as say:
        hz = compute_hazards(cfg, (scenario,), progress=say)
        say("evaluating the rules")
        if parcel is not None:
            report = parcel_report(cfg, hz, parcel, scenario, rules=rule_set, lang=lang)
        elif plan is not None:
            report = plan_report(cfg, hz, plan, scenario, rules=rule_set, lang=lang)
        else:
            assert polygon is not None
            report = polygon_report(cfg, hz, polygon, scenario, rules=rule_set, lang=lang)
        target = out or Path(f"report_{report['kind']}_{report['id'] or 'polygon'}.{fmt}")
        path = write_report(report, target, "html" if fmt == "html" else "json", hz=hz)
    typer.echo(f"{report['worst_verdict']}: {path}")


def register(app: typer.Typer) -> None:
    """Add the report command to the CLI."""
    app.command("report")(report_cmd)
