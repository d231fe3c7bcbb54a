"""The ``klimakort`` command line.

Every command has ``--help``. Errors raised on purpose (``KlimakortError``) are
printed as one clear line and exit with status 2; anything else is a bug and shows
a traceback.
"""

from __future__ import annotations

import sys

import typer

from klimakort.errors import KlimakortError

app = typer.Typer(
    name="klimakort",
    help="Climate-adaptation planning maps for Danish municipalities (EPSG:25832, DVR90).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _register() -> None:
    from klimakort.cli import (
        area_cmds,
        cloudburst_cmds,
        hazards_area_cmds,
        hazards_cmds,
        print_cmds,
        rainflow_cmds,
        report_cmds,
        serve_cmds,
        suitability_cmds,
    )

    for module in (
        area_cmds,
        rainflow_cmds,
        cloudburst_cmds,
        hazards_cmds,
        hazards_area_cmds,
        report_cmds,
        print_cmds,
        suitability_cmds,
        serve_cmds,
    ):
        module.register(app)


def main(argv: list[str] | None = None) -> None:
    """Run the CLI (console-script entry point)."""
    _register()
    try:
        app(args=argv, standalone_mode=True)
    except KlimakortError as exc:
        typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
        sys.exit(2)
