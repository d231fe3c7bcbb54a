"""The ``report`` command: climate report of a parcel, a local plan or a polygon."""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from klimakort.cli.hazards_area_cmds import NoCache, Recompute, StoreDir, area_hazards
from klimakort.cli.progress import steps
from klimakort.errors import DataNotFoundError, InputError

if TYPE_CHECKING:
    from klimakort.config.area import AreaConfig


def _unknown(what: str, wanted: str, ids: Sequence[str], option: str) -> DataNotFoundError:
    close = difflib.get_close_matches(wanted, list(ids), n=5, cutoff=0.5)
    hint = f"did you mean {', '.join(close)}?" if close else f"e.g. {', '.join(sorted(ids)[:5])}"
    return DataNotFoundError(
        f"{what} {wanted!r} is not in the area's {len(ids)} {what}s ({hint}); check {option}"
    )


def _layer_ref(cfg: AreaConfig, key: str, what: str) -> tuple[Path, str | None]:
    ref = cfg.layers.get(key)
    if ref is None:
        raise DataNotFoundError(
            f"area {cfg.name!r} has no [layers.{key}] in its area.toml; add the {what} "
            "layer to report on them"
        )
    return ref.path, ref.layer


def check_feature_id(cfg: AreaConfig, parcel: str | None, plan: str | None) -> None:
    """Raise DataNotFoundError, with close matches, for an unknown parcel or plan id.

    Runs before any hazard work, so a mistyped id costs a second, not the hazards.
    """
    from klimakort.constraints.loaders import load_local_plans, load_parcels

    if parcel is not None:
        path, layer = _layer_ref(cfg, "parcels", "parcels")
        ids = load_parcels(path, cfg.crs, layer=layer)["parcel_id"].astype(str)
        if str(parcel) not in set(ids):
            raise _unknown("parcel", str(parcel), ids.tolist(), "--parcel")
    if plan is not None:
        path, layer = _layer_ref(cfg, "local_plans", "local plans")
        plans = load_local_plans(path, cfg.crs, layer=layer)
        known = set(plans["plan_id"].astype(str))
        if "planid" in plans.columns:
            known |= set(plans["planid"].astype(str))
        if str(plan) not in known:
            raise _unknown("local plan", str(plan), plans["plan_id"].astype(str).tolist(), "--plan")


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
    no_cache: NoCache = False,
    recompute: Recompute = False,
    store: StoreDir = None,
) -> None:
    """Write a climate report (findings of the climate rules) as JSON or HTML.

    Give exactly one of --parcel, --plan and --polygon. The hazards of the scenario are
    taken from the hazard store (computed and stored the first time), then the rules are
    evaluated for the feature and its buildings.
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

    chosen = [n for n, v in (("--parcel", parcel), ("--plan", plan), ("--polygon", polygon)) if v]
    if len(chosen) != 1:
        raise InputError(
            f"give exactly one of --parcel, --plan and --polygon (got {chosen or 'none'})"
        )
    if fmt not in ("json", "html"):
        raise InputError(f"--format {fmt!r} is not supported; use json or html")
    check_lang(lang)  # before the hazards are computed
    cfg = load_area(area)
    check_feature_id(cfg, parcel, plan)
    rule_set = load_rules(rules)
    with steps(f"Climate report, {cfg.name}, scenario {scenario}") as say:
        hz = area_hazards(
            cfg, (scenario,), say, no_cache=no_cache, recompute=recompute, store=store
        )
        say("evaluating the rules")
        if parcel is not None:
            report = parcel_report(cfg, hz, parcel, scenario, rules=rule_set, lang=lang)
        elif plan is not None:
            report = plan_report(cfg, hz, plan, scenario, rules=rule_set, lang=lang)
        else:
            assert polygon is not None
            report = polygon_report(cfg, hz, polygon, scenario, rules=rule_set, lang=lang)
        say(f"writing the {fmt} report")
        target = out or Path(f"report_{report['kind']}_{report['id'] or 'polygon'}.{fmt}")
        path = write_report(report, target, "html" if fmt == "html" else "json", hz=hz)
    typer.echo(f"report written to {path} (worst verdict: {report['worst_verdict']})")


def register(app: typer.Typer) -> None:
    """Add the report command to the CLI."""
    app.command("report")(report_cmd)
