"""Commands about areas: ``sample``, ``info``, ``demo`` and ``area init``."""

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


area_app = typer.Typer(help="Set up an area from real files (``area init``).", no_args_is_help=True)

_FILES = "File (FILE or FILE:LAYER; repeat for several files)."


def _key_value(specs: list[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for spec in specs:
        key, sep, path = spec.partition("=")
        if not sep or not key or not path:
            raise typer.BadParameter(f"--layer wants KEY=FILE, got {spec!r}")
        out.setdefault(key.strip(), []).append(path)
    return out


def _bbox(text: str | None) -> list[float] | None:
    if text is None:
        return None
    try:
        return [float(v) for v in text.replace(" ", "").split(",")]
    except ValueError:
        raise typer.BadParameter(f"--bbox wants XMIN,YMIN,XMAX,YMAX, got {text!r}") from None


@area_app.command("init")
def init_cmd(
    directory: Annotated[Path, typer.Argument(help="Folder to write the area into.")],
    terrain: Annotated[
        str,
        typer.Option(
            help="Folder, zip or glob of DHM GeoTIFF tiles (DTM_1km_{N}_{E}.tif); "
            "the 10 km zips of Dataforsyningen are read without unpacking."
        ),
    ],
    boundary: Annotated[
        Path | None, typer.Option(help="Municipal boundary polygons (e.g. DAGI kommune).")
    ] = None,
    municipality: Annotated[
        str | None, typer.Option(help="Name or code of the municipality in --boundary.")
    ] = None,
    bbox: Annotated[
        str | None, typer.Option(help="XMIN,YMIN,XMAX,YMAX in EPSG:25832 instead of a boundary.")
    ] = None,
    parcels: Annotated[
        list[str] | None, typer.Option(help="Datafordeler matrikel jordstykker. " + _FILES)
    ] = None,
    buildings: Annotated[
        list[str] | None, typer.Option(help="GeoDanmark / BBR buildings. " + _FILES)
    ] = None,
    institutions: Annotated[
        list[str] | None,
        typer.Option(
            help="Schools and kindergartens: BBR buildings (use codes) or polygons "
            "with a 'kind' field. " + _FILES
        ),
    ] = None,
    local_plans: Annotated[
        list[str] | None, typer.Option(help="Plandata.dk local plans. " + _FILES)
    ] = None,
    heat_plans: Annotated[
        list[str] | None, typer.Option(help="Plandata.dk heat-plan areas. " + _FILES)
    ] = None,
    coastal_flood_risk: Annotated[
        list[str] | None, typer.Option(help="Kystdirektoratet coastal flood risk area. " + _FILES)
    ] = None,
    hip: Annotated[
        list[str] | None,
        typer.Option(help="HIP depth-to-groundwater class polygons (reference). " + _FILES),
    ] = None,
    groundwater: Annotated[
        str | None, typer.Option(help="Groundwater head contours or points (m DVR90).")
    ] = None,
    groundwater_field: Annotated[
        str | None, typer.Option(help="Head field of --groundwater (e.g. Vsp_2024).")
    ] = None,
    layer: Annotated[
        list[str] | None,
        typer.Option(help="Any other area layer as KEY=FILE (e.g. lakes=soeer.geojson)."),
    ] = None,
    name: Annotated[str | None, typer.Option(help="Area name (default: the municipality).")] = None,
    resolution: Annotated[
        float | None, typer.Option(help="Terrain cell size in m (default: the tiles').")
    ] = None,
    buffer: Annotated[float, typer.Option(help="Grow the boundary by this many metres.")] = 0.0,
    force: Annotated[bool, typer.Option(help="Replace an existing area.toml.")] = False,
) -> None:
    """Write DIRECTORY/area.toml from downloaded Danish files (boundary, DHM tiles, layers)."""
    from klimakort.setup.init import init_area

    layers: dict[str, list[str]] = {}
    for key, specs in (
        ("parcels", parcels),
        ("buildings", buildings),
        ("institutions", institutions),
        ("local_plans", local_plans),
        ("heat_plans", heat_plans),
        ("coastal_flood_risk", coastal_flood_risk),
        ("groundwater_depth_reference", hip),
    ):
        if specs:
            layers[key] = list(specs)
    for key, specs in _key_value(layer or []).items():
        layers.setdefault(key, []).extend(specs)
    with steps(f"Setting up the area in {directory}") as say:
        result = init_area(
            directory, terrain=terrain, boundary=boundary, municipality=municipality,
            bbox=_bbox(bbox), layers=layers, groundwater=groundwater,
            groundwater_field=groundwater_field, name=name, resolution=resolution,
            buffer_m=buffer, overwrite=force, progress=say,
        )  # fmt: skip
    _summary(result)
    typer.echo(str(result.toml))


def _summary(result: object) -> None:
    from rich.table import Table

    from klimakort.setup.init import InitResult

    assert isinstance(result, InitResult)
    t = result.terrain
    console.print(
        f"[bold]{result.name}[/]: terrain from {result.tiles} tile(s), {t.width} x {t.height} "
        f"cells of {t.res:g} m, heights {t.height_min:.2f} to {t.height_max:.2f} m DVR90"
    )
    if t.cells_missing:
        console.print(
            f"[yellow]{t.cells_missing:,} cells inside the boundary have no height[/]"
            + (
                f" (missing tiles: {', '.join(result.missing_tiles[:8])})"
                if result.missing_tiles
                else ""
            )
        )
    table = Table("layer", "read", "kept", "outside", "dropped", "repaired", "unknown fields")
    for rep in result.layers:
        unknown = ", ".join(rep.fields_unknown[:6]) + (
            " ..." if len(rep.fields_unknown) > 6 else ""
        )
        table.add_row(
            rep.key, str(rep.features_read), str(rep.features_kept), str(rep.features_outside),
            str(rep.features_dropped), str(rep.invalid_repaired), unknown or "-",
        )  # fmt: skip
    console.print(table)
    for hint in result.hints:
        console.print(f"[yellow]hint[/]: {hint}")
    console.print(f"field report: {result.report}")


def register(app: typer.Typer) -> None:
    """Add the area commands to the CLI."""
    app.command()(sample)
    app.command()(info)
    app.command()(demo)
    app.add_typer(area_app, name="area")
