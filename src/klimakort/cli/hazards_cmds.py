"""CLI commands for hazards: ``klimakort sealevel`` and ``klimakort groundwater``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    import xarray as xr

__all__ = ["groundwater_cmd", "register", "sealevel_cmd"]

_RASTER_SUFFIXES = {".tif", ".tiff", ".vrt", ".img", ".asc"}


def sealevel_cmd(
    dem: Annotated[Path, typer.Option("--dem", help="Terrain model (GeoTIFF, m DVR90).")],
    level: Annotated[float, typer.Option("--level", help="Still-water sea level (m DVR90).")],
    out: Annotated[Path, typer.Option("--out", help="Output folder.")],
    sea: Annotated[
        Path | None,
        typer.Option("--sea", help="Sea polygons; default: edge nodata + edge cells < 0 m."),
    ] = None,
    barriers: Annotated[
        Path | None, typer.Option("--barriers", help="Dikes/walls (lines or polygons).")
    ] = None,
    crest_field: Annotated[
        str, typer.Option("--crest-field", help="Crest-height field of the barriers (m).")
    ] = "crest_m",
    min_area: Annotated[
        float, typer.Option("--min-area", help="Critical points: minimum extra area (m2).")
    ] = 10_000.0,
    connectivity: Annotated[int, typer.Option("--connectivity", help="4 or 8.")] = 8,
) -> None:
    """Connected sea-level inundation: depth, minimum flooding level, critical points."""
    from klimakort.hazards.sealevel import sealevel_analysis
    from klimakort.io.raster import read_raster, write_cog
    from klimakort.io.vector import read_vector, write_vector

    terrain = read_raster(dem)
    crs = terrain.rio.crs
    sea_gdf = read_vector(sea, crs=crs) if sea is not None else None
    barrier_gdf = read_vector(barriers, crs=crs) if barriers is not None else None
    result = sealevel_analysis(
        terrain,
        level,
        sea_gdf,
        barrier_gdf,
        crest_field=crest_field,
        min_area_m2=min_area,
        connectivity=connectivity,
    )
    source = f"klimakort sealevel: connected bathtub model on {dem.name}"
    scen = f"sea level {level:g} m"
    out.mkdir(parents=True, exist_ok=True)
    write_cog(
        result.depth,
        out / "inundation_depth.tif",
        units="m",
        source=source,
        scenario=scen,
        description="inundation depth connected to the sea",
    )
    write_cog(
        result.min_flood_level,
        out / "min_flood_level.tif",
        units="m DVR90",
        source=source,
        description="minimum sea level that floods the cell (-inf = sea, +inf = never)",
        resampling="NEAREST",  # averaging +-inf with levels would spoil the overviews
    )
    write_cog(
        result.at_risk,
        out / "at_risk.tif",
        units="class",
        source=source,
        scenario=scen,
        description="1 = below the sea level but not connected (at risk if a barrier fails)",
    )
    write_vector(result.critical_points, out / "critical_points.gpkg", layer="critical_points")
    n_wet = int((result.depth.values > 0).sum())
    typer.echo(
        f"sea level {level:g} m: {n_wet} flooded cells, "
        f"{int((result.at_risk.values == 1).sum())} at-risk cells, "
        f"{len(result.critical_points)} critical points -> {out}"
    )


def groundwater_cmd(
    dem: Annotated[Path, typer.Option("--dem", help="Terrain model (GeoTIFF, m DVR90).")],
    head: Annotated[
        Path, typer.Option("--head", help="Head raster, or contour lines / points (vector).")
    ],
    out: Annotated[Path, typer.Option("--out", help="Output folder.")],
    rise: Annotated[float, typer.Option("--rise", help="Groundwater rise (m).")] = 0.0,
    head_field: Annotated[
        str | None, typer.Option("--head-field", help="Head field of a vector head (m).")
    ] = None,
    spacing: Annotated[
        float, typer.Option("--spacing", help="Contour densification distance (m).")
    ] = 10.0,
) -> None:
    """Depth to groundwater (terrain - head - rise) and its classes 0-1/1-2/2-3/>3 m."""
    from klimakort.errors import GridMismatchError, InputError
    from klimakort.hazards.groundwater import (
        HeadSurface,
        groundwater_depth,
        head_surface_from_vector,
        resample_head,
    )
    from klimakort.io.raster import check_same_grid, read_raster, write_cog
    from klimakort.io.vector import read_vector

    terrain = read_raster(dem)
    head_src: xr.DataArray | HeadSurface
    if head.suffix.lower() in _RASTER_SUFFIXES:
        head_src = read_raster(head)
        try:
            check_same_grid(terrain, head_src, "terrain and head")
        except GridMismatchError:
            typer.echo(f"{head.name}: resampled bilinearly onto the terrain grid")
            head_src = resample_head(head_src, terrain)
    else:
        if head_field is None:
            raise InputError(f"{head.name} is a vector layer: give its head field (--head-field)")
        head_src = head_surface_from_vector(
            read_vector(head, crs=terrain.rio.crs), head_field, spacing=spacing
        )
    result = groundwater_depth(terrain, head_src, rise=rise)
    source = f"klimakort groundwater: {dem.name} minus head from {head.name}"
    scen = f"groundwater rise {rise:g} m"
    out.mkdir(parents=True, exist_ok=True)
    write_cog(
        result.depth,
        out / "depth.tif",
        units="m",
        source=source,
        scenario=scen,
        description="depth to groundwater below terrain (negative = above terrain)",
    )
    write_cog(
        result.classes,
        out / "classes.tif",
        units="class",
        source=source,
        scenario=scen,
        description="1: <1 m (incl. above terrain), 2: 1-2 m, 3: 2-3 m, 4: >3 m, 0: nodata",
    )
    outside = int(result.outside_hull.sum())
    msg = f"depth to groundwater -> {out}"
    if outside:
        msg += f" ({outside} cells outside the head data's convex hull left as nodata)"
    typer.echo(msg)


def register(app: typer.Typer) -> None:
    """Add ``sealevel`` and ``groundwater`` to a Typer app."""
    app.command("sealevel")(sealevel_cmd)
    app.command("groundwater")(groundwater_cmd)
