"""Exposure overlay: what each parcel, building or plan area is exposed to, per scenario.

:func:`exposure` summarises the hazard rasters of an :class:`~klimakort.hazards.area.AreaHazards`
over polygons with exact cell coverage (`exactextract <https://isciences.github.io/exactextract/>`_):
a cell that a polygon covers by 30 % counts with weight 0.3 in means and shares, and
counts in minima and maxima whenever the polygon touches it (coverage > 0). Cells
without data (NaN: outside the terrain model, the sea on land-only rasters) are left
out; a feature with no valid cell gets NaN. The vector parts (flow paths, heating
zones, planned sites) use exact geometry.

The columns are documented in :data:`COLUMNS` (name -> (unit, description)).

Geometry handling: features must be polygons in the hazards' CRS (no silent
reprojection). Invalid polygons are repaired with ``shapely.make_valid`` (reported in
the log, like :func:`klimakort.io.read_vector`); features that cannot be repaired or
have an empty geometry raise :class:`~klimakort.errors.GeometryError`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import xarray as xr
from exactextract import exact_extract
from exactextract.feature import Feature, FeatureSource
from exactextract.operation import Operation
from exactextract.raster import NumPyRasterSource
from pyproj import CRS
from rasterio.windows import Window as RasterWindow

from klimakort.errors import (
    GeometryError,
    GridMismatchError,
    InputError,
    ParameterError,
)
from klimakort.hazards.area import AreaHazards, ScenarioHazards
from klimakort.io.raster import cell_size, check_same_grid, check_vector_crs
from klimakort.io.vector import repair_geometries

log = logging.getLogger(__name__)

__all__ = ["COLUMNS", "FLOOD_THRESHOLD_M", "exposure", "threshold_indicator", "zonal_stats"]

#: depth (m) from which a cell counts in ``flood_share_ge_10cm``
FLOOD_THRESHOLD_M = 0.10

#: output columns of :func:`exposure`: name -> (unit, description)
COLUMNS: dict[str, tuple[str, str]] = {
    "flood_depth_max_m": ("m", "largest cloudburst flood depth on the feature"),
    "flood_depth_mean_m": (
        "m",
        "area-weighted mean cloudburst flood depth over the feature (dry land counts as 0)",
    ),
    "flood_share_ge_10cm": (
        "fraction 0-1",
        "share of the feature's area with cloudburst flood depth >= 0.10 m",
    ),
    "bluespot_volume_m3": (
        "m³",
        "bluespot storage inside the feature: sum of (filled - terrain) x cell area x coverage "
        "over bluespot cells",
    ),
    "flowpath_length_m": ("m", "length of flow paths (vandets veje) inside the feature"),
    "flowpath_max_upstream_m2": (
        "m²",
        "largest upstream area of a flow path crossing the feature (NaN: no flow path)",
    ),
    "gw_depth_min_m": ("m below terrain", "shallowest depth to groundwater on the feature"),
    "gw_depth_mean_m": ("m below terrain", "area-weighted mean depth to groundwater"),
    "gw_class": (
        "class",
        "groundwater depth class of the shallowest cell: 1: <1 m, 2: 1-2 m, 3: 2-3 m, 4: >=3 m",
    ),
    "sea_share": (
        "fraction 0-1",
        "share of the feature's land area flooded by the sea (connected) at the scenario's "
        "storm-surge level",
    ),
    "sea_depth_max_m": ("m", "largest sea-flood depth on the feature"),
    "min_flood_level_m": (
        "m DVR90",
        "lowest sea level that reaches the feature (-inf: touches the sea, +inf: never)",
    ),
    "terrain_min_m": ("m DVR90", "lowest terrain height on the feature"),
    "terrain_mean_m": ("m DVR90", "area-weighted mean terrain height"),
    "heating_zone": ("name", "district-heating zone holding the largest part of the feature"),
    "nearest_planned_site_m": (
        "m",
        "distance to the nearest planned site (0 if they overlap; NaN: no planned sites)",
    ),
    "flood_depth_max_buffer_m": (
        "m",
        "largest cloudburst flood depth within building_buffer_m of the feature (footprint "
        "included)",
    ),
    "water_level_max_buffer_m": (
        "m DVR90",
        "highest water level (terrain + depth where depth > 0) within building_buffer_m of the "
        "feature (NaN: dry)",
    ),
}

_BUFFER_COLUMNS = ("flood_depth_max_buffer_m", "water_level_max_buffer_m")


# ----------------------------------------------------------------------------- rasters


def threshold_indicator(da: xr.DataArray, threshold: float) -> np.ndarray:
    """1.0 where ``da >= threshold``, 0.0 where below, NaN where ``da`` is NaN (float32).

    Its coverage-weighted mean over a polygon is the share of the polygon's valid area
    at or above the threshold.
    """
    values = np.asarray(da.values)
    out = (values >= threshold).astype(np.float32)
    out[np.isnan(values)] = np.nan
    return out


def _source(values: np.ndarray, template: xr.DataArray, name: str) -> NumPyRasterSource:
    t = template.rio.transform()
    ny, nx = values.shape
    xmin, ymax = t.c, t.f
    xmax, ymin = xmin + t.a * nx, ymax + t.e * ny
    nodata = np.nan if np.issubdtype(values.dtype, np.floating) else None
    return NumPyRasterSource(
        values,
        xmin,
        ymin,
        xmax,
        ymax,
        nodata=nodata,
        name=name,
        srs_wkt=CRS.from_user_input(template.rio.crs).to_wkt(),
    )


class _WKBFeature(Feature):
    """A polygon as WKB with its row number (no GeoJSON round trip, unlike GeoDataFrames)."""

    def __init__(self, row: int, wkb: bytes) -> None:
        Feature.__init__(self)
        self._row, self._wkb = row, wkb

    def geometry(self) -> bytes:
        return self._wkb

    def set_geometry_format(self) -> str:
        return "wkb"

    def get(self, name: str) -> int:
        if name != "_row":
            raise KeyError(name)
        return self._row

    def set(self, name: str, value: Any) -> None:
        raise NotImplementedError("input features are read-only")

    def fields(self) -> list[str]:
        return ["_row"]


class _WKBFeatureSource(FeatureSource):
    """Feeds shapely geometries to exactextract as WKB, converted in one vectorised call."""

    def __init__(self, geoms: np.ndarray, crs: Any) -> None:
        super().__init__()
        self._wkb = shapely.to_wkb(geoms)
        self._wkt = CRS.from_user_input(crs).to_wkt()

    def count(self) -> int:
        return len(self._wkb)

    def __iter__(self) -> Iterator[_WKBFeature]:
        for i, wkb in enumerate(self._wkb):
            yield _WKBFeature(i, wkb)

    def srs_wkt(self) -> str:
        return self._wkt


def zonal_stats(
    geometries: gpd.GeoSeries,
    layers: Mapping[str, tuple[xr.DataArray | np.ndarray, Sequence[str]]],
    template: xr.DataArray | None = None,
) -> pd.DataFrame:
    """Coverage-weighted statistics of several rasters over polygons, in one pass.

    Parameters
    ----------
    geometries : GeoSeries
        Polygons in the rasters' CRS.
    layers : mapping
        Name -> (raster, operations). A raster is a DataArray on the grid of
        ``template`` (or of the first DataArray) or a plain array of that shape;
        NaN is nodata. Operations are exactextract names (``"mean"``, ``"max"``,
        ``"min"``, ``"sum"``, ``"count"``, ...).
    template : xarray.DataArray, optional
        The grid (CRS and transform); defaults to the first DataArray in ``layers``.

    Returns
    -------
    pandas.DataFrame
        Index of ``geometries``; one column ``f"{name}_{op}"`` per layer and operation.
        Features outside the rasters get NaN (``sum``/``count``: 0).

    Raises
    ------
    CRSError
        ``geometries`` have no CRS or another CRS than the rasters.
    GridMismatchError
        The rasters are not on one grid.
    """
    grids = [r for r, _ in layers.values() if isinstance(r, xr.DataArray)]
    ref = template if template is not None else (grids[0] if grids else None)
    if ref is None:
        raise InputError("zonal_stats needs a template grid when all layers are arrays")
    check_vector_crs(geometries, ref, "the features")
    sources, ops = [], []
    for name, (raster, names) in layers.items():
        if isinstance(raster, xr.DataArray):
            check_same_grid(ref, raster, f"raster {name!r} vs {ref.name or 'template'}")
            values = np.asarray(raster.values)
        else:
            values = np.asarray(raster)
            if values.shape != ref.shape:
                raise GridMismatchError(
                    f"raster {name!r} has shape {values.shape}, the grid is {ref.shape}"
                )
        src = _source(values, ref, name)
        sources.append(src)
        ops += [Operation(op, f"{name}_{op}", src) for op in names]
    if not len(geometries):
        return pd.DataFrame({op.name: pd.Series([], dtype=float) for op in ops})
    vec = _WKBFeatureSource(geometries.to_numpy(), geometries.crs)
    res = exact_extract(sources, vec, ops, include_cols=["_row"], output="pandas")
    res = res.set_index("_row").reindex(np.arange(len(geometries)))
    res.index = geometries.index
    return res[[op.name for op in ops]].astype(float)


# ----------------------------------------------------------------------------- features


def _prepare(features: gpd.GeoDataFrame, id_field: str, template: xr.DataArray) -> gpd.GeoSeries:
    """Checked, repaired polygons indexed by feature id."""
    if id_field not in features.columns:
        raise InputError(
            f"id field {id_field!r} is not a column of the features "
            f"({sorted(c for c in features.columns if c != features.geometry.name)})"
        )
    ids = features[id_field]
    if ids.isna().any():
        raise InputError(f"{int(ids.isna().sum())} feature(s) have no {id_field!r}")
    dup = ids[ids.duplicated(keep=False)]
    if len(dup):
        raise InputError(
            f"{id_field!r} must be unique; duplicated: {sorted(map(str, set(dup)))[:10]}"
        )
    check_vector_crs(features, template, "the features")
    geoms = features.geometry.to_numpy()
    empty = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    if empty.any():
        raise GeometryError(
            f"{int(empty.sum())} feature(s) have no geometry: {id_field} "
            f"{[str(v) for v in ids[empty]][:10]}; remove them or give them a polygon"
        )
    types = set(shapely.get_type_id(geoms).tolist())
    polygonal = {int(shapely.GeometryType.POLYGON), int(shapely.GeometryType.MULTIPOLYGON)}
    if not types <= polygonal:
        raise GeometryError(
            "exposure needs polygons (parcels, footprints, plan areas); buffer points or "
            "lines first, e.g. gdf.buffer(1.0)"
        )
    fixed, report = repair_geometries(features[[id_field, features.geometry.name]], id_field)
    if report.n_invalid:
        log.warning("exposure: %s", report.summary())
    out = gpd.GeoSeries(fixed.geometry.to_numpy(), index=ids.to_numpy(), crs=features.crs)
    return gpd.GeoSeries(shapely.force_2d(out.to_numpy()), index=out.index, crs=out.crs)


def _flowpaths(geoms: gpd.GeoSeries, flowpaths: gpd.GeoDataFrame) -> pd.DataFrame:
    length = np.zeros(len(geoms))
    upstream = np.full(len(geoms), np.nan)
    if len(flowpaths) and len(geoms):
        lines = flowpaths.geometry.to_numpy()
        area = flowpaths["upstream_area_m2"].to_numpy(dtype=float)
        fi, li = shapely.STRtree(lines).query(geoms.to_numpy(), predicate="intersects")
        clipped = shapely.length(shapely.intersection(geoms.to_numpy()[fi], lines[li]))
        keep = clipped > 0
        fi, li, clipped = fi[keep], li[keep], clipped[keep]
        np.add.at(length, fi, clipped)
        np.fmax.at(upstream, fi, area[li])
    return pd.DataFrame(
        {"flowpath_length_m": length, "flowpath_max_upstream_m2": upstream}, index=geoms.index
    )


def _heating_zone(geoms: gpd.GeoSeries, zones: gpd.GeoDataFrame | None, field: str) -> pd.Series:
    out = pd.Series([None] * len(geoms), index=geoms.index, dtype=object)
    if zones is None or not len(zones) or not len(geoms):
        return out
    if field not in zones.columns:
        raise InputError(f"heating zones have no field {field!r}; pass zone_field=")
    check_vector_crs(zones, _crs_template(geoms), "the heating zones")
    zg = zones.geometry.to_numpy()
    fi, zi = shapely.STRtree(zg).query(geoms.to_numpy(), predicate="intersects")
    if not len(fi):
        return out
    area = shapely.area(shapely.intersection(geoms.to_numpy()[fi], zg[zi]))
    pairs = pd.DataFrame({"f": fi, "z": zi, "a": area})
    pairs = pairs[pairs.a > 0].sort_values(["f", "a"], ascending=[True, False])
    best = pairs.drop_duplicates("f")
    names = zones[field].to_numpy()
    values = np.array(out.to_numpy(), dtype=object)
    values[best.f.to_numpy()] = [str(v) for v in names[best.z.to_numpy()]]
    return pd.Series(values, index=geoms.index, dtype=object)


def _crs_template(geoms: gpd.GeoSeries) -> xr.DataArray:
    """A 1x1 DataArray carrying ``geoms.crs`` (for the CRS check of other layers)."""
    return xr.DataArray(np.zeros((1, 1)), dims=("y", "x")).rio.write_crs(geoms.crs)


def _nearest_site(geoms: gpd.GeoSeries, sites: gpd.GeoDataFrame | None) -> np.ndarray:
    out = np.full(len(geoms), np.nan)
    if sites is None or not len(sites) or not len(geoms):
        return out
    check_vector_crs(sites, _crs_template(geoms), "the planned sites")
    sg = sites.geometry.to_numpy()
    sg = sg[~(shapely.is_missing(sg) | shapely.is_empty(sg))]
    if not len(sg):
        return out
    (fi, _si), dist = shapely.STRtree(sg).query_nearest(
        geoms.to_numpy(), return_distance=True, all_matches=False
    )
    out[fi] = dist
    return out


# ----------------------------------------------------------------------------- scenario


def _grid_checks(hz: AreaHazards) -> None:
    ref = hz.terrain
    rf = hz.rainflow
    for name, da in (("rain-flow terrain", rf.terrain), ("filled", rf.filled)):
        check_same_grid(ref, da, f"terrain vs {name}")
    check_same_grid(ref, rf.bluespots, "terrain vs bluespots")
    for sc, sh in hz.scenarios.items():
        check_same_grid(ref, sh.cloudburst.flood_depth, f"terrain vs {sc} flood depth")
        check_same_grid(ref, sh.sea.depth, f"terrain vs {sc} sea depth")
        check_same_grid(ref, sh.sea.min_flood_level, f"terrain vs {sc} min flood level")
        if sh.groundwater is not None:
            check_same_grid(ref, sh.groundwater.depth, f"terrain vs {sc} groundwater depth")
            check_same_grid(ref, sh.groundwater.classes, f"terrain vs {sc} groundwater classes")


Window = tuple[slice, slice] | None


def _window(geoms: gpd.GeoSeries, grid: xr.DataArray, pad_m: float = 0.0) -> Window:
    """Rows and columns of ``grid`` around the features (+ ``pad_m`` and a cell); None: all.

    The statistics only see cells the features touch, so reading this window instead of
    the whole area gives the same numbers at the cost of the features' extent.
    """
    ny, nx = grid.shape
    x0, y0, x1, y1 = geoms.total_bounds
    if not np.isfinite([x0, y0, x1, y1]).all():
        return None
    inv = ~grid.rio.transform()
    cols, rows = zip(
        *(inv * (x, y) for x in (x0 - pad_m, x1 + pad_m) for y in (y0 - pad_m, y1 + pad_m)),
        strict=True,
    )
    r0, r1 = max(int(np.floor(min(rows))) - 1, 0), min(int(np.ceil(max(rows))) + 1, ny)
    c0, c1 = max(int(np.floor(min(cols))) - 1, 0), min(int(np.ceil(max(cols))) + 1, nx)
    if r0 >= r1 or c0 >= c1 or (r1 - r0) * (c1 - c0) >= ny * nx:
        return None
    return slice(r0, r1), slice(c0, c1)


def _crop(da: xr.DataArray, win: Window) -> xr.DataArray:
    """``da`` cut to ``win`` (lazy for memory-mapped or Dask data); the grid as it was."""
    if win is None:
        return da
    return da.isel({da.rio.y_dim: win[0], da.rio.x_dim: win[1]})


def _template(grid: xr.DataArray, win: Window) -> xr.DataArray:
    """The grid of ``win`` with its own transform."""
    if win is None:
        return grid
    rows, cols = win
    return grid.rio.isel_window(
        RasterWindow(cols.start, rows.start, cols.stop - cols.start, rows.stop - rows.start)
    )


def _static_layers(hz: AreaHazards, win: Window) -> dict[str, tuple[np.ndarray, list[str]]]:
    rf = hz.rainflow
    dx, dy = cell_size(hz.terrain)
    terrain = np.asarray(_crop(rf.terrain, win).values, dtype=np.float64)
    depth = np.asarray(_crop(rf.filled, win).values, dtype=np.float64) - terrain
    volume = np.where(np.asarray(_crop(rf.bluespots, win).values) > 0, depth, 0.0) * (dx * dy)
    volume[np.isnan(terrain)] = np.nan
    return {
        "terrain": (np.asarray(_crop(hz.terrain, win).values, dtype=np.float32), ["min", "mean"]),
        "bsvol": (volume.astype(np.float64), ["sum", "count"]),
    }


def _scenario_layers(sh: ScenarioHazards, win: Window) -> dict[str, tuple[np.ndarray, list[str]]]:
    depth = _crop(sh.cloudburst.flood_depth, win)
    sea = _crop(sh.sea.depth, win)
    layers: dict[str, tuple[np.ndarray, list[str]]] = {
        "fd": (np.asarray(depth.values, dtype=np.float32), ["max", "mean"]),
        "fd10": (threshold_indicator(depth, FLOOD_THRESHOLD_M), ["mean"]),
        "sea": (np.asarray(sea.values, dtype=np.float32), ["max"]),
        "sea0": (_positive_indicator(sea), ["mean"]),
        "mfl": (np.asarray(_crop(sh.sea.min_flood_level, win).values, dtype=np.float32), ["min"]),
    }
    gw = sh.groundwater
    if gw is not None:
        cls = np.asarray(_crop(gw.classes, win).values).astype(np.float32)
        cls[cls == 0] = np.nan
        layers["gw"] = (np.asarray(_crop(gw.depth, win).values, dtype=np.float32), ["min", "mean"])
        layers["gwc"] = (cls, ["min"])
    return layers


def _positive_indicator(da: xr.DataArray) -> np.ndarray:
    values = np.asarray(da.values)
    out = (values > 0).astype(np.float32)
    out[np.isnan(values)] = np.nan
    return out


def _buffer_layers(
    hz: AreaHazards, sh: ScenarioHazards, win: Window
) -> dict[str, tuple[np.ndarray, list[str]]]:
    depth = np.asarray(_crop(sh.cloudburst.flood_depth, win).values, dtype=np.float32)
    terrain = np.asarray(_crop(hz.rainflow.terrain, win).values)
    level = np.where(depth > 0, terrain + depth, np.nan)
    return {"fd": (depth, ["max"]), "wl": (level.astype(np.float32), ["max"])}


def _never_as_inf(values: np.ndarray) -> np.ndarray:
    """exactextract's min over cells that are all +inf is float32's max: restore +inf."""
    out = values.astype(np.float64, copy=True)
    out[out >= np.finfo(np.float32).max] = np.inf
    return out


def _scenario_frame(
    stats: pd.DataFrame, has_gw: bool, index: pd.Index, static: pd.DataFrame
) -> pd.DataFrame:
    nan = np.full(len(index), np.nan)
    classes = stats["gwc_min"].to_numpy() if has_gw else nan
    gw_class = pd.array([pd.NA if np.isnan(v) else round(v) for v in classes], dtype="Int64")
    return pd.DataFrame(
        {
            "flood_depth_max_m": stats["fd_max"].to_numpy(),
            "flood_depth_mean_m": stats["fd_mean"].to_numpy(),
            "flood_share_ge_10cm": stats["fd10_mean"].to_numpy(),
            "bluespot_volume_m3": np.where(
                static["bsvol_count"].to_numpy() > 0, static["bsvol_sum"].to_numpy(), np.nan
            ),
            "gw_depth_min_m": stats["gw_min"].to_numpy() if has_gw else nan,
            "gw_depth_mean_m": stats["gw_mean"].to_numpy() if has_gw else nan,
            "gw_class": gw_class,
            "sea_share": stats["sea0_mean"].to_numpy(),
            "sea_depth_max_m": stats["sea_max"].to_numpy(),
            "min_flood_level_m": _never_as_inf(stats["mfl_min"].to_numpy()),
            "terrain_min_m": static["terrain_min"].to_numpy(),
            "terrain_mean_m": static["terrain_mean"].to_numpy(),
        },
        index=index,
    )


def exposure(
    features: gpd.GeoDataFrame,
    id_field: str,
    hz: AreaHazards,
    *,
    heating_zones: gpd.GeoDataFrame | None = None,
    planned_sites: gpd.GeoDataFrame | None = None,
    building_buffer_m: float | None = None,
    zone_field: str = "zone",
) -> pd.DataFrame:
    """Exposure of every feature to every hazard of every scenario in ``hz``.

    Parameters
    ----------
    features : GeoDataFrame
        Polygons (parcels, building footprints, plan areas) in the hazards' CRS.
    id_field : str
        Column with a unique, non-empty feature id.
    hz : AreaHazards
        From :func:`klimakort.hazards.area.compute_hazards`.
    heating_zones : GeoDataFrame, optional
        District-heating zones with a ``zone_field`` column
        (:func:`klimakort.constraints.loaders.load_heating_zones`).
    planned_sites : GeoDataFrame, optional
        Planned sites (any geometry) for ``nearest_planned_site_m``.
    building_buffer_m : float, optional
        If given (e.g. 1.0), also ``flood_depth_max_buffer_m`` and
        ``water_level_max_buffer_m`` over each feature buffered by this distance.
    zone_field : str
        Zone-name column of ``heating_zones``.

    Returns
    -------
    pandas.DataFrame
        One row per (feature, scenario), scenario blocks in the order of
        ``hz.scenarios`` and features in input order within each block. Columns:
        ``id_field``, ``scenario``, then :data:`COLUMNS` in that order (the two
        buffer columns only with ``building_buffer_m``). ``gw_class`` is ``Int64``
        (``<NA>`` without groundwater data), ``heating_zone`` text or None.

    Raises
    ------
    InputError
        Missing, empty or duplicate ids.
    CRSError
        Features, zones or sites in another CRS than the rasters.
    GridMismatchError
        Hazard rasters on different grids.
    GeometryError
        Non-polygon or empty features, or polygons that cannot be repaired.
    ParameterError
        ``building_buffer_m`` not a positive number.
    """
    if building_buffer_m is not None and not (
        np.isfinite(building_buffer_m) and building_buffer_m > 0
    ):
        raise ParameterError(f"building_buffer_m={building_buffer_m!r} must be > 0 m")
    _grid_checks(hz)
    geoms = _prepare(features, id_field, hz.terrain)
    win = _window(geoms, hz.terrain, pad_m=building_buffer_m or 0.0)
    grid = _template(hz.terrain, win)
    static = zonal_stats(geoms, _static_layers(hz, win), template=grid)
    vector = _flowpaths(geoms, hz.rainflow.flowpaths)
    vector["heating_zone"] = _heating_zone(geoms, heating_zones, zone_field)
    vector["nearest_planned_site_m"] = _nearest_site(geoms, planned_sites)
    buffered = geoms.buffer(building_buffer_m) if building_buffer_m is not None else None
    frames = []
    for name, sh in hz.scenarios.items():
        stats = zonal_stats(geoms, _scenario_layers(sh, win), template=grid)
        frame = _scenario_frame(stats, sh.groundwater is not None, geoms.index, static)
        frame = frame.join(vector)
        if buffered is not None:
            b = zonal_stats(buffered, _buffer_layers(hz, sh, win), template=grid)
            frame["flood_depth_max_buffer_m"] = b["fd_max"].to_numpy()
            frame["water_level_max_buffer_m"] = b["wl_max"].to_numpy()
        frame.insert(0, "scenario", name)
        frame.insert(0, id_field, features[id_field].to_numpy())
        frames.append(frame)
    cols = [id_field, "scenario"] + [
        c for c in COLUMNS if building_buffer_m is not None or c not in _BUFFER_COLUMNS
    ]
    if not frames:
        return pd.DataFrame({c: [] for c in cols})
    return pd.concat(frames, ignore_index=True)[cols]
