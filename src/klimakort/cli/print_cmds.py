"""The ``print`` command: an A4 map sheet (PDF) of a parcel, a local plan or an extent."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from klimakort.cli.progress import steps
from klimakort.errors import ParameterError


def _bbox(text: str | None) -> tuple[float, float, float, float] | None:
    if not text:
        return None
    try:
        values = tuple(float(v) for v in text.split(","))
    except ValueError:
        raise ParameterError(f"--bbox {text!r}: give xmin,ymin,xmax,ymax") from None
    if len(values) != 4:
        raise ParameterError(f"--bbox {text!r}: give xmin,ymin,xmax,ymax")
    return values


def print_cmd(
    area: Annotated[Path, typer.Argument(help="The area.toml.")],
    parcel: Annotated[str | None, typer.Option("--parcel", help="Parcel id (matrikel).")] = None,
    plan: Annotated[str | None, typer.Option("--plan", help="Local plan number (plannr).")] = None,
    bbox: Annotated[
        str | None, typer.Option("--bbox", help="xmin,ymin,xmax,ymax in EPSG:25832.")
    ] = None,
    scenario: Annotated[str, typer.Option("--scenario", help="Climate scenario.")] = "2100",
    layers: Annotated[
        str, typer.Option("--layers", help="Comma-separated raster layers.")
    ] = "cloudburst_depth,sea_depth",
    lang: Annotated[str, typer.Option("--lang", help="da or en.")] = "da",
    out: Annotated[Path, typer.Option("--out", help="Output .pdf (or .png).")] = Path("kort.pdf"),
) -> None:
    """Write a print sheet: map, legend, scale bar, north arrow, scenario, date, sources and
    the climate report summary of the parcel or plan (A4 landscape PDF)."""
    from klimakort.maps.printing import PrintRequest, write_print
    from klimakort.service import Workspace

    if lang not in ("da", "en"):
        raise ParameterError(f"--lang {lang!r}: use da or en")
    req = PrintRequest(
        parcel=parcel,
        plan=plan,
        bbox=_bbox(bbox),
        bbox_crs="EPSG:25832",
        scenario=scenario,
        layers=tuple(n.strip() for n in layers.split(",") if n.strip()),
        lang=lang,  # type: ignore[arg-type]
    )
    with steps(f"Print sheet, scenario {scenario}") as say:
        ws = Workspace.open(area, (scenario,), progress=say)
        say("drawing the sheet")
        path = write_print(ws, req, out)
    typer.echo(str(path))


def register(app: typer.Typer) -> None:
    """Add the print command to the CLI."""
    app.command("print")(print_cmd)
