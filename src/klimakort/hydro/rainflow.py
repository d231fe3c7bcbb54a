"""The rain-flow analysis of a terrain model (the Danish Bluespot screening method).

From a DEM (optionally conditioned by burning buildings, dikes and streams into it)
it derives, in order:

1. the flat-filled terrain (Priority-Flood) and bluespot depth = filled - terrain;
2. D8 directions on the flat fill with a deterministic flat resolution
   (:func:`klimakort.core.flats.d8_flat_resolved`: a flat cell drains towards the
   nearest equal-height cell that drains), so flats drain to their outlet;
3. flow accumulation as upstream area (m², float32 of the integer upstream cell count);
4. bluespots (filtered depressions) with area, volume, max depth, pour point,
   local watershed, downstream bluespot and fill rain (mm);
5. flow paths ("vandets veje") above an upstream-area threshold.

The kernels are in :mod:`klimakort.core`; this module keeps the rioxarray metadata
and builds the vector outputs. :func:`write_rainflow` writes the products as COGs
and GeoPackages, atomically.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import xarray as xr

from klimakort.core import d8codes
from klimakort.core.accumulation import upstream_area
from klimakort.core.bluespots import BluespotProperties, bluespot_properties, label_bluespots
from klimakort.core.fill import fill_depressions
from klimakort.core.flats import d8_flat_resolved
from klimakort.core.watersheds import (
    PourPoints,
    downstream_bluespots,
    fill_rain_mm,
    flow_path_cells,
    local_watersheds,
    pour_points,
    watershed_areas,
)
from klimakort.errors import NoDataError, ParameterError
from klimakort.hydro.flowpaths import flow_paths
from klimakort.hydro.timing import StageTimer, as_timer
from klimakort.hydro.vectorize import centres_on, label_polygons
from klimakort.io.raster import cell_size, check_projected_crs, like, write_cog
from klimakort.io.vector import write_layers, write_vector

Progress = Callable[[str], None]

#: raster products of :func:`write_rainflow` (``NAME.tif``)
RASTER_PRODUCTS: tuple[str, ...] = (
    "terrain",
    "filled",
    "flowdir",
    "accumulation",
    "bluespots",
    "watersheds",
)
#: vector products: ``bluespots.gpkg`` (4 layers) and ``flowpaths.gpkg``
VECTOR_PRODUCTS: tuple[str, ...] = ("bluespots_gpkg", "flowpaths")
#: every product, in writing order
PRODUCTS: tuple[str, ...] = (*RASTER_PRODUCTS, *VECTOR_PRODUCTS)

_ALIASES = {f"{p}.tif": p for p in RASTER_PRODUCTS} | {
    "bluespots.gpkg": "bluespots_gpkg",
    "flowpaths.gpkg": "flowpaths",
}


def parse_products(names: Iterable[str] | str | None) -> frozenset[str]:
    """Product names (``filled``, ``filled.tif``, ``bluespots.gpkg``, ...) as a set.

    ``None`` or ``"all"`` selects every product; a string is split at commas.

    Raises
    ------
    ParameterError
        An unknown name, or an empty selection.
    """
    if names is None:
        return frozenset(PRODUCTS)
    items = names.split(",") if isinstance(names, str) else list(names)
    out: set[str] = set()
    for raw in items:
        name = raw.strip().lower()
        if not name:
            continue
        if name == "all":
            out.update(PRODUCTS)
            continue
        name = _ALIASES.get(name, name)
        if name not in PRODUCTS:
            raise ParameterError(
                f"unknown rain-flow product {raw.strip()!r}; choose from {', '.join(PRODUCTS)}"
                " (or their file names, e.g. bluespots.gpkg) or 'all'"
            )
        out.add(name)
    if not out:
        raise ParameterError(f"no rain-flow product selected; choose from {', '.join(PRODUCTS)}")
    return frozenset(out)


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
    #: stage name -> wall seconds of :func:`rainflow` and :func:`write_rainflow`
    timings: dict[str, float] = field(default_factory=dict)


def _source(dem: xr.DataArray) -> str:
    return str(dem.attrs.get("source_path", dem.name or "terrain"))


def rainflow(
    dem: xr.DataArray,
    params: RainflowParams | None = None,
    progress: Progress | None = None,
    products: Collection[str] | None = None,
) -> Rainflow:
    """Run the rain-flow analysis on a (conditioned) terrain model.

    Parameters
    ----------
    dem : xarray.DataArray
        Terrain in m DVR90 with a projected CRS; NaN = nodata.
    params : RainflowParams, optional
        Thresholds and options.
    progress : callable, optional
        Receives a short message at the start of each step. Steps run side by side
        on two threads; the calls come from those threads, one at a time (a lock).
        A :class:`~klimakort.hydro.timing.StageTimer` also keeps the stage record;
        either way ``Rainflow.timings`` holds the seconds per stage (of overlapping
        steps: each its own duration).
    products : collection of str, optional
        The products that will be used (see :data:`PRODUCTS`; default all). The
        vector work of products left out is skipped: without ``"bluespots_gpkg"``
        the bluespot table has no geometries (``None``) and the watershed polygons
        and spill network are empty; without ``"flowpaths"`` the flow paths are empty.
        The rasters are always computed.

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
    want = parse_products(products)
    timer = as_timer(progress)
    n_before = len(timer.records)
    check_projected_crs(dem.rio.crs, f"terrain {dem.name or ''}".strip())
    z = np.asarray(dem.values)
    if not np.issubdtype(z.dtype, np.floating):
        z = z.astype(np.float32)
    if not np.isfinite(z).any():
        raise NoDataError("the terrain model has no valid cells")
    cell_size(dem)  # validates the grid before any work

    timer("filling depressions")
    filled = fill_depressions(z, flats="flat", inland_nodata=params.inland_nodata)
    timer.done()
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="rainflow") as pool:
        out = _derive(dem, z, filled, params, want, timer, pool)
    out.timings = _seconds(timer, n_before)
    return out


def _derive(
    dem: xr.DataArray,
    z: np.ndarray,
    filled: np.ndarray,
    params: RainflowParams,
    want: frozenset[str],
    timer: StageTimer,
    pool: ThreadPoolExecutor,
) -> Rainflow:
    """Everything after the fill, independent stages side by side on ``pool``.

    The kernels release the GIL, so on two cores D8 runs beside the bluespot
    labelling, the watersheds beside the accumulation, and the polygons and flow
    paths beside the pour points. Every task is deterministic: the result does not
    depend on the order in which they finish.
    """
    dx, dy = cell_size(dem)
    vectors = "bluespots_gpkg" in want
    f_fdir = pool.submit(
        timer.run,
        "D8 flow directions",
        d8_flat_resolved,
        filled,
        dx,
        dy,
        inland_nodata=params.inland_nodata,
    )
    with timer.task("bluespot labelling and properties"):
        depth = np.subtract(filled, z)  # NaN on nodata: the fill keeps it NaN
        labels = label_bluespots(
            depth,
            dx,
            dy,
            min_depth=params.min_depth,
            min_cells=params.min_cells,
            min_volume=params.min_volume,
        )
        props = bluespot_properties(labels, depth, filled, dx, dy)
        del depth
    attrs = {"source": f"klimakort rainflow of {_source(dem)}", "params": str(asdict(params))}
    spots = like(dem, labels, name="bluespots", nodata=0, attrs={**attrs, "units": "bluespot id"})
    f_spots = (
        pool.submit(timer.run, "polygonising bluespots", label_polygons, spots, "bluespot_id")
        if vectors and props.n
        else None
    )
    fdir = f_fdir.result()
    f_ws = pool.submit(timer.run, "watersheds", local_watersheds, fdir, labels)
    with timer.task("flow accumulation"):
        acc = upstream_area(fdir, dx * dy)
    ws = f_ws.result()
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
        bluespots=spots,
        watersheds=like(
            dem, ws, name="watersheds", nodata=-1, attrs={**attrs, "units": "bluespot id"}
        ),
        bluespot_table=gpd.GeoDataFrame(),
        watershed_polygons=gpd.GeoDataFrame(
            {"bluespot_id": np.zeros(0, dtype=np.int64)}, geometry=[], crs=dem.rio.crs
        ),
        network=gpd.GeoDataFrame(),
        flowpaths=_empty_flowpaths(dem),
        params=params,
    )
    f_sheds = (
        pool.submit(timer.run, "polygonising watersheds", _watershed_polygons, out)
        if vectors
        else None
    )
    f_paths = (
        pool.submit(
            timer.run,
            "flow-path vectorisation",
            flow_paths,
            out.flowdir,
            out.accumulation,
            params.stream_threshold_m2,
        )
        if "flowpaths" in want
        else None
    )
    with timer.task("pour points and network"):
        out.bluespot_table, out.network = _bluespot_table(out, props, filled, vectors, f_spots)
    if f_sheds is not None:
        out.watershed_polygons = f_sheds.result()
    if f_paths is not None:
        out.flowpaths = f_paths.result()
    return out


def _seconds(timer: StageTimer, start: int) -> dict[str, float]:
    out: dict[str, float] = {}
    for rec in timer.records[start:]:
        out[rec.stage] = out.get(rec.stage, 0.0) + rec.seconds
    return out


def _empty_flowpaths(dem: xr.DataArray) -> gpd.GeoDataFrame:
    from klimakort.hydro.flowpaths import _empty

    return _empty(dem.rio.crs)


def _bluespot_table(
    rf: Rainflow,
    props: BluespotProperties,
    filled: np.ndarray,
    vectors: bool,
    polygons: Future[gpd.GeoDataFrame] | None,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """The bluespot table (one row per bluespot) and the spill network.

    ``polygons`` is the running (or finished) polygonisation of the bluespots; its
    geometries are joined when ``vectors`` is set.
    """
    labels = np.asarray(rf.bluespots.values)
    fdir = np.asarray(rf.flowdir.values)
    ws = np.asarray(rf.watersheds.values)
    n = props.n
    crs = rf.terrain.rio.crs
    if n == 0:
        empty = gpd.GeoDataFrame({c: [] for c in TABLE_COLUMNS}, geometry=[], crs=crs)
        return empty, gpd.GeoDataFrame(
            {"bluespot_id": [], "downstream_id": []}, geometry=[], crs=crs
        )
    pour = pour_points(fdir, labels, ws, filled)
    down = downstream_bluespots(pour, ws)
    wsa = watershed_areas(ws, n, *cell_size(rf.terrain))
    rain = fill_rain_mm(props.volume, wsa)
    ids = np.arange(1, n + 1)
    t = rf.terrain.rio.transform()
    xy = centres_on(t, pour.row[1:], pour.col[1:])
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
    lines = np.full(n, None, dtype=object)
    if vectors and polygons is not None:
        lines = _spill_lines(fdir, labels, pour, t)
        table = table.merge(polygons.result(), on="bluespot_id", how="left")
    else:
        table["geometry"] = None
    gdf = gpd.GeoDataFrame(table, geometry="geometry", crs=crs)
    network = gpd.GeoDataFrame(
        {"bluespot_id": ids, "downstream_id": down[1:]},
        geometry=gpd.GeoSeries(lines, crs=crs),
        crs=crs,
    )
    return gdf[[*TABLE_COLUMNS, "geometry"]], network


def _spill_lines(fdir: np.ndarray, labels: np.ndarray, pour: PourPoints, t: object) -> np.ndarray:
    """LineString of every bluespot's spill path through cell centres (ids 1..n).

    A pour point on the raster edge spills straight out: a one-point path becomes a
    line of two equal vertices.
    """
    cells, ptr = flow_path_cells(fdir, labels, pour)
    n = pour.n
    lengths = np.diff(ptr)[1:]
    out = np.full(n, None, dtype=object)
    has = lengths > 0
    if not has.any():
        return out
    path = np.repeat(np.arange(n), lengths)
    reps = np.where(lengths[path] == 1, 2, 1)
    rows, cols = np.divmod(np.repeat(cells, reps), fdir.shape[1])
    xy = centres_on(t, rows, cols)
    index = np.repeat(path, reps)
    _, index = np.unique(index, return_inverse=True)  # consecutive, for shapely
    out[has] = shapely.linestrings(xy[:, 0], xy[:, 1], indices=index)
    return out


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
    rf: Rainflow,
    out_dir: str | Path,
    progress: Progress | None = None,
    products: Collection[str] | None = None,
) -> dict[str, Path]:
    """Write the products of :func:`rainflow` into ``out_dir``.

    Files: ``terrain.tif`` (the terrain as analysed, after burn-in), ``filled.tif``,
    ``flowdir.tif``, ``accumulation.tif``, ``bluespots.tif``, ``watersheds.tif`` (COGs),
    ``bluespots.gpkg`` (layers ``bluespots``, ``pour_points``, ``watersheds``,
    ``network``) and ``flowpaths.gpkg``.

    Parameters
    ----------
    rf : Rainflow
        From :func:`rainflow`.
    out_dir : path-like
        Output folder (created).
    progress : callable, optional
        Receives a message per file; a StageTimer also records the seconds, which
        are added to ``rf.timings`` as ``"writing NAME"``.
    products : collection of str, optional
        Write only these (names of :data:`PRODUCTS` or file names; default all).

    Returns
    -------
    dict
        Product name -> path, for the products written.
    """
    want = parse_products(products)
    timer = as_timer(progress)
    n_before = len(timer.records)
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
        if name not in want:
            continue
        with timer.task(f"writing {name}.tif"):
            written[name] = write_cog(
                da,
                out / f"{name}.tif",
                units=units,
                source=f"klimakort rainflow of {src}",
                description=desc,
                extra_tags={"params": str(asdict(rf.params))},
            )
    written.update(_write_vectors(rf, out, want, timer))
    timer.done()
    for stage, sec in _seconds(timer, n_before).items():
        rf.timings[stage] = rf.timings.get(stage, 0.0) + sec
    return written


def _write_vectors(
    rf: Rainflow, out: Path, want: frozenset[str], timer: StageTimer
) -> dict[str, Path]:
    written: dict[str, Path] = {}
    if "bluespots_gpkg" in want:
        with timer.task("writing bluespots.gpkg"):
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
    if "flowpaths" in want:
        with timer.task("writing flowpaths.gpkg"):
            path = write_vector(rf.flowpaths, out / "flowpaths.gpkg", layer="flowpaths")
        written["flowpaths"] = path
    return written


def _pour_point_layer(table: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    cols = [c for c in table.columns if c != "geometry"]
    pts = shapely.points(table["pour_x"].to_numpy(), table["pour_y"].to_numpy())
    return gpd.GeoDataFrame(table[cols].copy(), geometry=pts, crs=table.crs)
