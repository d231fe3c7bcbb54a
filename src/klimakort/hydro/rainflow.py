"""The rain-flow analysis of a terrain model (the Danish Bluespot screening method).

From a DEM (optionally conditioned by burning buildings, dikes and streams into it)
it derives, in order:

1. the flat-filled terrain (Priority-Flood) and bluespot depth = filled - terrain;
2. D8 directions on an epsilon-filled copy, so flats drain to their outlet;
3. flow accumulation as upstream area (m²);
4. bluespots (filtered depressions) with area, volume, max depth, pour point,
   local watershed, downstream bluespot and fill rain (mm);
5. flow paths ("vandets veje") above an upstream-area threshold.

The kernels are in :mod:`klimakort.core`; this module keeps the rioxarray metadata
and builds the vector outputs. :func:`write_rainflow` writes the products as COGs
and GeoPackages, atomically.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import xarray as xr

from klimakort.core import d8codes
from klimakort.core.accumulation import flow_accumulation
from klimakort.core.bluespots import bluespot_properties, label_bluespots
from klimakort.core.d8 import d8_directions
from klimakort.core.fill import fill_depressions
from klimakort.core.watersheds import (
    downstream_bluespots,
    fill_rain_mm,
    local_watersheds,
    pour_points,
    watershed_areas,
)
from klimakort.core.watersheds import (
    flow_paths as spill_paths,
)
from klimakort.errors import NoDataError, ParameterError
from klimakort.hydro.flowpaths import flow_paths
from klimakort.hydro.vectorize import cell_centres, label_polygons
from klimakort.io.raster import cell_size, check_projected_crs, like, write_cog
from klimakort.io.vector import write_layers, write_vector

Progress = Callable[[str], None]


@dataclass(frozen=True)
class RainflowParams:
    """Parameters of the rain-flow analysis.

    Attributes
    ----------
    min_depth : float
        A bluespot's maximum depth must exceed this (m). malstrøm: 0.05.
    min_cells : int
        A bluespot has at least this many cells. malstrøm's test data: 6.
    min_volume : float
        A bluespot's volume must exceed this (m³). malstrøm's test data: 255.
    stream_threshold_m2 : float
        Flow paths are cells with at least this upstream area (m²).
    inland_nodata : {"outlet", "barrier"}
        Nodata holes not connected to the raster edge: water drains into them
        ("outlet") or they are walls ("barrier"). Edge-connected nodata (the sea) is
        always an outlet.
    """

    min_depth: float = 0.05
    min_cells: int = 1
    min_volume: float = 0.0
    stream_threshold_m2: float = 10_000.0
    inland_nodata: Literal["outlet", "barrier"] = "outlet"

    def __post_init__(self) -> None:
        if not (np.isfinite(self.min_depth) and self.min_depth >= 0):
            raise ParameterError(f"min_depth={self.min_depth} must be >= 0 m")
        if self.min_cells < 1:
            raise ParameterError(f"min_cells={self.min_cells} must be >= 1")
        if not (np.isfinite(self.min_volume) and self.min_volume >= 0):
            raise ParameterError(f"min_volume={self.min_volume} must be >= 0 m³")
        if not (np.isfinite(self.stream_threshold_m2) and self.stream_threshold_m2 > 0):
            raise ParameterError(
                f"stream_threshold_m2={self.stream_threshold_m2} must be a positive area in m²"
            )
        if self.inland_nodata not in ("outlet", "barrier"):
            raise ParameterError(f"inland_nodata={self.inland_nodata!r}: use outlet or barrier")


@dataclass
class Rainflow:
    """Everything the rain-flow analysis derives from one terrain model."""

    terrain: xr.DataArray
    filled: xr.DataArray
    flowdir: xr.DataArray
    accumulation: xr.DataArray
    bluespots: xr.DataArray
    watersheds: xr.DataArray
    bluespot_table: gpd.GeoDataFrame
    watershed_polygons: gpd.GeoDataFrame
    network: gpd.GeoDataFrame
    flowpaths: gpd.GeoDataFrame
    params: RainflowParams
    notes: dict[str, str] = field(default_factory=dict)


def _source(dem: xr.DataArray) -> str:
    return str(dem.attrs.get("source_path", dem.name or "terrain"))


def rainflow(
    dem: xr.DataArray, params: RainflowParams | None = None, progress: Progress | None = None
) -> Rainflow:
    """Run the rain-flow analysis on a (conditioned) terrain model.

    Parameters
    ----------
    dem : xarray.DataArray
        Terrain in m DVR90 with a projected CRS; NaN = nodata.
    params : RainflowParams, optional
        Thresholds and options.
    progress : callable, optional
        Receives a short message at the start of each step.

    Returns
    -------
    Rainflow

    Raises
    ------
    CRSError
        ``dem`` has no projected CRS.
    NoDataError
        ``dem`` has no valid cell.
    """
    params = params or RainflowParams()
    say = progress or (lambda _m: None)
    check_projected_crs(dem.rio.crs, f"terrain {dem.name or ''}".strip())
    z = np.asarray(dem.values)
    if not np.issubdtype(z.dtype, np.floating):
        z = z.astype(np.float32)
    if not np.isfinite(z).any():
        raise NoDataError("the terrain model has no valid cells")
    dx, dy = cell_size(dem)
    src = _source(dem)

    say("filling depressions")
    filled = fill_depressions(z, flats="flat", inland_nodata=params.inland_nodata)
    depth = np.where(np.isnan(z), np.nan, filled - z).astype(z.dtype)
    say("D8 flow directions")
    eps = fill_depressions(z, flats="epsilon", inland_nodata=params.inland_nodata)
    fdir = d8_directions(eps, dx, dy)
    del eps
    say("flow accumulation")
    acc = flow_accumulation(fdir, cell_area=dx * dy)
    say("bluespots")
    labels = label_bluespots(
        depth,
        dx,
        dy,
        min_depth=params.min_depth,
        min_cells=params.min_cells,
        min_volume=params.min_volume,
    )
    ws = local_watersheds(fdir, labels)

    attrs = {"source": f"klimakort rainflow of {src}", "params": str(asdict(params))}
    out = Rainflow(
        terrain=dem,
        filled=like(dem, filled, name="filled", attrs={**attrs, "units": "m DVR90"}),
        flowdir=like(
            dem,
            fdir,
            name="flowdir",
            nodata=d8codes.NODATA,
            attrs={**attrs, "units": "ESRI D8 code"},
        ),
        accumulation=like(dem, acc, name="accumulation", attrs={**attrs, "units": "m2"}),
        bluespots=like(
            dem, labels, name="bluespots", nodata=0, attrs={**attrs, "units": "bluespot id"}
        ),
        watersheds=like(
            dem, ws, name="watersheds", nodata=-1, attrs={**attrs, "units": "bluespot id"}
        ),
        bluespot_table=gpd.GeoDataFrame(),
        watershed_polygons=gpd.GeoDataFrame(),
        network=gpd.GeoDataFrame(),
        flowpaths=gpd.GeoDataFrame(),
        params=params,
    )
    say("bluespot properties, pour points and network")
    out.bluespot_table, out.network = _bluespot_table(out, depth, filled, dx, dy)
    say("watershed polygons")
    out.watershed_polygons = _watershed_polygons(out)
    say("flow paths")
    out.flowpaths = flow_paths(out.flowdir, out.accumulation, params.stream_threshold_m2)
    return out


def _bluespot_table(
    rf: Rainflow, depth: np.ndarray, filled: np.ndarray, dx: float, dy: float
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    labels = np.asarray(rf.bluespots.values)
    fdir = np.asarray(rf.flowdir.values)
    ws = np.asarray(rf.watersheds.values)
    props = bluespot_properties(labels, depth, filled, dx, dy)
    n = props.n
    crs = rf.terrain.rio.crs
    if n == 0:
        empty = gpd.GeoDataFrame({c: [] for c in TABLE_COLUMNS}, geometry=[], crs=crs)
        return empty, gpd.GeoDataFrame(
            {"bluespot_id": [], "downstream_id": []}, geometry=[], crs=crs
        )
    pour = pour_points(fdir, labels, ws, filled)
    down = downstream_bluespots(pour, ws)
    wsa = watershed_areas(ws, n, dx, dy)
    rain = fill_rain_mm(props.volume, wsa)
    ids = np.arange(1, n + 1)
    xy = cell_centres(rf.terrain, pour.row[1:], pour.col[1:])
    table = pd.DataFrame(
        {
            "bluespot_id": ids,
            "area_m2": props.area[1:],
            "volume_m3": props.volume[1:],
            "max_depth_m": props.max_depth[1:],
            "cell_count": props.cell_count[1:],
            "spill_elevation_m": pour.spill_elevation[1:],
            "pour_row": pour.row[1:],
            "pour_col": pour.col[1:],
            "pour_x": xy[:, 0],
            "pour_y": xy[:, 1],
            "downstream_id": down[1:],
            "watershed_area_m2": wsa[1:],
            "fill_rain_mm": rain[1:],
        }
    )
    polys = label_polygons(rf.bluespots, "bluespot_id")
    gdf = gpd.GeoDataFrame(
        table.merge(polys, on="bluespot_id", how="left"), geometry="geometry", crs=crs
    )
    lines = []
    for path in spill_paths(fdir, labels, pour)[1:]:
        pts = cell_centres(rf.terrain, path[:, 0], path[:, 1])
        # a pour point on the raster edge spills straight out: a one-point "path"
        lines.append(shapely.linestrings(np.vstack([pts, pts]) if len(pts) == 1 else pts))
    network = gpd.GeoDataFrame(
        {"bluespot_id": ids, "downstream_id": down[1:]}, geometry=lines, crs=crs
    )
    return gdf[[*TABLE_COLUMNS, "geometry"]], network


#: fields of ``bluespots.gpkg`` (besides geometry)
TABLE_COLUMNS: tuple[str, ...] = (
    "bluespot_id",
    "area_m2",
    "volume_m3",
    "max_depth_m",
    "cell_count",
    "spill_elevation_m",
    "pour_row",
    "pour_col",
    "pour_x",
    "pour_y",
    "downstream_id",
    "watershed_area_m2",
    "fill_rain_mm",
)


def _watershed_polygons(rf: Rainflow) -> gpd.GeoDataFrame:
    polys = label_polygons(rf.watersheds, "bluespot_id")
    if polys.empty:
        return polys
    area = polys.geometry.area
    polys["area_m2"] = area.to_numpy()
    return polys


def write_rainflow(
    rf: Rainflow, out_dir: str | Path, progress: Progress | None = None
) -> dict[str, Path]:
    """Write the products of :func:`rainflow` into ``out_dir``.

    Files: ``terrain.tif`` (the terrain as analysed, after burn-in), ``filled.tif``,
    ``flowdir.tif``, ``accumulation.tif``, ``bluespots.tif``, ``watersheds.tif`` (COGs),
    ``bluespots.gpkg`` (layers ``bluespots``, ``pour_points``, ``watersheds``,
    ``network``) and ``flowpaths.gpkg``.

    Returns
    -------
    dict
        Product name -> path.
    """
    say = progress or (lambda _m: None)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    src = _source(rf.terrain)
    written: dict[str, Path] = {}
    rasters = {
        "terrain": (rf.terrain, "m DVR90", "terrain as analysed (after burn-in)"),
        "filled": (rf.filled, "m DVR90", "depression-filled terrain (flat fill)"),
        "flowdir": (
            rf.flowdir,
            "ESRI D8 code",
            "D8 directions: 1 E,2 SE,4 S,8 SW,16 W,32 NW,64 N,128 NE,0 outlet",
        ),
        "accumulation": (rf.accumulation, "m2", "upstream area"),
        "bluespots": (rf.bluespots, "bluespot id", "bluespot labels, 0 = none"),
        "watersheds": (rf.watersheds, "bluespot id", "local watershed of each bluespot"),
    }
    for name, (da, units, desc) in rasters.items():
        say(f"writing {name}.tif")
        written[name] = write_cog(
            da,
            out / f"{name}.tif",
            units=units,
            source=f"klimakort rainflow of {src}",
            description=desc,
            extra_tags={"params": str(asdict(rf.params))},
        )
    say("writing bluespots.gpkg")
    gpkg = out / "bluespots.gpkg"
    write_layers(
        gpkg,
        {
            "bluespots": (rf.bluespot_table, "MultiPolygon"),
            "pour_points": (_pour_point_layer(rf.bluespot_table), "Point"),
            "watersheds": (rf.watershed_polygons, "MultiPolygon"),
            "network": (rf.network, "LineString"),
        },
    )
    written["bluespots_gpkg"] = gpkg
    say("writing flowpaths.gpkg")
    written["flowpaths"] = write_vector(rf.flowpaths, out / "flowpaths.gpkg", layer="flowpaths")
    return written


def _pour_point_layer(table: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    cols = [c for c in table.columns if c != "geometry"]
    pts = shapely.points(table["pour_x"].to_numpy(), table["pour_y"].to_numpy())
    return gpd.GeoDataFrame(table[cols].copy(), geometry=pts, crs=table.crs)
