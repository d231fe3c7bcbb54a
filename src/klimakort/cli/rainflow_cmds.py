"""The ``rainflow`` command: conditioned terrain, D8, accumulation, bluespots, flow paths."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal, cast

import typer

from klimakort.cli.progress import console, steps


def rainflow_cmd(
    dem: Annotated[Path, typer.Option("--dem", help="Terrain model (GeoTIFF/COG/ASCII grid).")],
    out: Annotated[Path, typer.Option("--out", help="Output folder.")],
    min_depth: Annotated[float, typer.Option(help="Minimum bluespot max depth, m.")] = 0.05,
    min_cells: Annotated[int, typer.Option(help="Minimum bluespot size, cells.")] = 1,
    min_volume: Annotated[float, typer.Option(help="Minimum bluespot volume, m³.")] = 0.0,
    stream_threshold: Annotated[
        float, typer.Option("--stream-threshold", help="Flow-path upstream area, m².")
    ] = 10_000.0,
    buildings: Annotated[
        Path | None, typer.Option(help="Building footprints to raise by --building-raise.")
    ] = None,
    building_raise: Annotated[float, typer.Option(help="Building raise, m.")] = 10.0,
    barriers: Annotated[
        Path | None, typer.Option(help="Dikes/walls (lines) raised to their crest height.")
    ] = None,
    crest_field: Annotated[str, typer.Option(help="Crest height field of --barriers.")] = "crest_m",
    streams: Annotated[
        Path | None, typer.Option(help="Streams/culverts (lines) carved into the terrain.")
    ] = None,
    inland_nodata: Annotated[
        str, typer.Option(help="Inland nodata holes: 'outlet' (drains) or 'barrier'.")
    ] = "outlet",
    chunks: Annotated[
        int | None,
        typer.Option(
            help="Run tiled on Dask with chunks of N x N cells (the rasters and the "
            "bluespots/pour_points layers of bluespots.gpkg)."
        ),
    ] = None,
    scheduler: Annotated[
        str | None,
        typer.Option(help="Dask scheduler address for --chunks (default: a LocalCluster)."),
    ] = None,
    products: Annotated[
        str,
        typer.Option(
            help="Products to write, comma-separated: terrain, filled, flowdir, accumulation, "
            "bluespots, watersheds (.tif), bluespots_gpkg, flowpaths (.gpkg), or 'all'. "
            "The vector work of products left out is skipped."
        ),
    ] = "all",
    no_vectors: Annotated[
        bool, typer.Option("--no-vectors", help="Write only the rasters (no GeoPackages).")
    ] = False,
    timings: Annotated[
        Path | None,
        typer.Option(help="Write the stage timings (seconds, peak memory) to this JSON file."),
    ] = None,
) -> None:
    """Rain-flow analysis of a terrain model (the Danish Bluespot method).

    Writes terrain.tif, filled.tif, flowdir.tif, accumulation.tif, bluespots.tif,
    watersheds.tif, bluespots.gpkg and flowpaths.gpkg into OUT (or the --products).
    """
    import json

    from klimakort.hydro.condition import BurnLayers, condition_terrain
    from klimakort.hydro.rainflow import (
        VECTOR_PRODUCTS,
        RainflowParams,
        parse_products,
        rainflow,
        write_rainflow,
    )
    from klimakort.io.raster import read_raster

    wanted = parse_products(products)
    if no_vectors:
        wanted = wanted - set(VECTOR_PRODUCTS)
        if not wanted:
            raise typer.BadParameter("--no-vectors leaves no product of --products to write")

    params = RainflowParams(
        min_depth=min_depth,
        min_cells=min_cells,
        min_volume=min_volume,
        stream_threshold_m2=stream_threshold,
        inland_nodata=cast(Literal["outlet", "barrier"], inland_nodata),  # validated there
    )
    if chunks is not None:
        burn = bool(buildings or barriers or streams)
        _tiled(dem, out, chunks, scheduler, params, burn, "bluespots_gpkg" in wanted)
        return
    with steps("Rain-flow analysis") as say:
        say("reading terrain")
        terrain = read_raster(dem)
        if buildings or barriers or streams:
            say("conditioning (burning vector layers)")
            terrain = condition_terrain(
                terrain,
                BurnLayers(
                    buildings=buildings,
                    barriers=barriers,
                    streams=streams,
                    crest_field=crest_field,
                    building_raise_m=building_raise,
                ),
            )
        result = rainflow(terrain, params, progress=say, products=wanted)
        files = write_rainflow(result, out, progress=say, products=wanted)
        say.done()
    if timings is not None:
        timings.write_text(json.dumps({"cells": int(terrain.size), "stages": say.as_json()}))
    n = len(result.bluespot_table)
    console.print(f"{n} bluespots, {len(result.flowpaths)} flow-path segments")
    for path in files.values():
        typer.echo(str(path))


def _tiled(
    dem: Path,
    out: Path,
    chunks: int,
    scheduler: str | None,
    params: object,
    burn: bool,
    vectors: bool,
) -> None:
    """``rainflow --chunks``: the products of :func:`klimakort.tiled.rainflow_tiled`."""
    from klimakort.errors import ParameterError
    from klimakort.tiled import rainflow_tiled

    if burn:
        raise ParameterError(
            "--chunks does not burn vector layers yet; condition the terrain first "
            "or run without --chunks"
        )
    with steps("Rain-flow analysis (tiled on Dask)") as say:
        res = rainflow_tiled(dem, out, chunks, params, scheduler, progress=say, vectors=vectors)
    console.print(f"{res.n_bluespots} bluespots on {res.shape[0]} x {res.shape[1]} cells")
    for path in res.files.values():
        typer.echo(str(path))


def register(app: typer.Typer) -> None:
    """Add the rain-flow command to the CLI."""
    app.command("rainflow")(rainflow_cmd)
