"""Cloudburst flooding: fill–spill routing of a rain event over the bluespot network.

Given the products of the rain-flow analysis (:mod:`klimakort.hydro.rainflow`) and a
rain event of ``D`` mm, :func:`cloudburst` computes

* the surface runoff of every local watershed (see :mod:`klimakort.core.fillspill`):
  per cell ``max(D * c - s, 0)`` mm with runoff coefficient ``c`` (a constant or a
  raster, e.g. the imperviousness fraction) and sewer capacity ``s`` mm, summed over
  the watershed and multiplied by the cell area. The runoff of watershed 0 (cells
  that reach an outlet without passing a bluespot) leaves the area at once;
* the cascade: each bluespot, upstream first, stores what it can and spills the rest
  from its pour point into its downstream bluespot (or out of the area);
* the water level of each bluespot: the exact level whose volume equals the stored
  volume on the level–volume curve of the (unfilled) terrain, the spill level when
  full, and the flood depth ``level - terrain`` on its cells;
* flooded-area polygons in depth classes, the spill paths that carry water, and a
  per-bluespot state table;
* a mass balance: ``rain = lost + sewer + stored + left_area``.

Rain is counted on valid cells only (nodata, e.g. the sea outside the terrain model,
receives none). Water moving along a spill path is not shown as flooding between
bluespots (the method is a static fill–spill screening, not a hydrodynamic model).

:func:`load_rainflow` reads a folder written by
:func:`klimakort.hydro.rainflow.write_rainflow`; the flood depth needs the terrain
the analysis was run on (``terrain.tif`` in the folder or an explicit terrain), which
is checked against the stored bluespot volumes.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import geopandas as gpd
import numpy as np
import pandas as pd
import xarray as xr

from klimakort.core.fillspill import (
    FillSpill,
    RunoffBudget,
    fill_spill,
    flood_depth,
    water_levels,
    watershed_runoff,
)
from klimakort.core.levelvolume import LevelVolumeCurves, level_volume_curves
from klimakort.errors import (
    DataNotFoundError,
    GridMismatchError,
    InputError,
    ParameterError,
)
from klimakort.hydro.vectorize import label_polygons
from klimakort.io.raster import cell_size, check_same_grid, like, read_raster, write_cog
from klimakort.io.vector import read_vector, write_layers

__all__ = [
    "DEFAULT_DEPTH_CLASSES",
    "STATE_FIELDS",
    "BluespotNetwork",
    "CloudburstResult",
    "EventRouting",
    "RainflowLike",
    "RainflowProducts",
    "cloudburst",
    "load_rainflow",
    "route_event",
    "write_cloudburst",
]

#: lower bounds (m) of the flooded-area depth classes
DEFAULT_DEPTH_CLASSES: tuple[float, ...] = (0.10, 0.20, 0.40)

#: fields the routing adds to the bluespot table (besides its own)
STATE_FIELDS: tuple[str, ...] = (
    "own_runoff_m3",
    "inflow_m3",
    "incoming_m3",
    "stored_m3",
    "spilled_m3",
    "fill_fraction",
    "water_level_m",
    "water_depth_max_m",
)

PathLike = str | os.PathLike[str]


class RainflowLike(Protocol):
    """What :func:`cloudburst` needs of a rain-flow result (``Rainflow`` fits)."""

    terrain: xr.DataArray
    filled: xr.DataArray
    bluespots: xr.DataArray
    watersheds: xr.DataArray
    bluespot_table: gpd.GeoDataFrame
    network: gpd.GeoDataFrame


@dataclass
class RainflowProducts:
    """The rain-flow products read back from a folder (see :func:`load_rainflow`).

    Attributes
    ----------
    terrain, filled, bluespots, watersheds : xarray.DataArray
        Terrain (m DVR90) the analysis ran on, flat-filled terrain, bluespot ids
        (0 = none) and local watersheds (-1 = nodata, 0 = drains to an outlet).
    bluespot_table : GeoDataFrame
        Layer ``bluespots`` of ``bluespots.gpkg``.
    network : GeoDataFrame
        Layer ``network``: the spill path of each bluespot (LineString).
    source : str
        The folder read.
    """

    terrain: xr.DataArray
    filled: xr.DataArray
    bluespots: xr.DataArray
    watersheds: xr.DataArray
    bluespot_table: gpd.GeoDataFrame
    network: gpd.GeoDataFrame
    source: str = ""


def load_rainflow(
    directory: PathLike, terrain: PathLike | xr.DataArray | None = None
) -> RainflowProducts:
    """Read the rain-flow products that :func:`cloudburst` needs from a folder.

    Parameters
    ----------
    directory : path-like
        Folder written by :func:`klimakort.hydro.rainflow.write_rainflow`
        (``filled.tif``, ``bluespots.tif``, ``watersheds.tif``, ``bluespots.gpkg``).
    terrain : path-like or DataArray, optional
        The (conditioned) terrain the analysis was run on. Defaults to
        ``terrain.tif`` in ``directory``.

    Returns
    -------
    RainflowProducts

    Raises
    ------
    DataNotFoundError
        A product is missing, or no terrain is given and the folder has none.
    GridMismatchError
        The terrain is on another grid than the products.
    """
    d = Path(directory)
    if not d.is_dir():
        raise DataNotFoundError(f"rain-flow folder not found: {d}")
    needed = ("filled.tif", "bluespots.tif", "watersheds.tif", "bluespots.gpkg")
    missing = [name for name in needed if not (d / name).exists()]
    if missing:
        raise DataNotFoundError(
            f"{d} lacks {', '.join(missing)}; run `klimakort rainflow --out {d}` first"
        )
    if terrain is None:
        if not (d / "terrain.tif").exists():
            raise DataNotFoundError(
                f"{d} has no terrain.tif; give the terrain model the rain-flow analysis was "
                "run on (after burning buildings/streams, if any), e.g. --dem TERRAIN"
            )
        terrain = d / "terrain.tif"
    dem = terrain if isinstance(terrain, xr.DataArray) else read_raster(terrain, name="terrain")
    filled = read_raster(d / "filled.tif", name="filled")
    check_same_grid(filled, dem, "terrain and rain-flow products")
    crs = filled.rio.crs
    gpkg = d / "bluespots.gpkg"
    return RainflowProducts(
        terrain=dem,
        filled=filled,
        bluespots=read_raster(d / "bluespots.tif", name="bluespots"),
        watersheds=read_raster(d / "watersheds.tif", name="watersheds"),
        bluespot_table=read_vector(gpkg, crs=crs, layer="bluespots"),
        network=read_vector(gpkg, crs=crs, layer="network"),
        source=str(d),
    )


@dataclass
class CloudburstResult:
    """Outcome of :func:`cloudburst`.

    Attributes
    ----------
    flood_depth : xarray.DataArray
        Water depth (m, float32): > 0 under water, 0 elsewhere, NaN at nodata.
    state : GeoDataFrame
        Bluespot polygons with the rain-flow fields plus :data:`STATE_FIELDS`
        (volumes in m³, level in m DVR90, depth in m).
    flooded_areas : GeoDataFrame
        Polygons per bluespot and depth class: ``bluespot_id``, ``depth_class``
        (1 = shallowest), ``depth_min_m``, ``depth_max_m`` (NaN for the deepest
        class), ``label``, ``area_m2``.
    spill_paths : GeoDataFrame
        Spill paths of bluespots that spill: ``bluespot_id``, ``downstream_id``
        (0 = leaves the area), ``spilled_m3``, ``leaves_area``.
    mass_balance : dict
        Volumes in m³: ``rain_m3``, ``lost_m3`` (rain that does not run off),
        ``sewer_m3``, ``runoff_m3``, ``stored_m3``, ``left_area_m3`` (to the edge or
        sea: ``direct_outlet_m3`` from watershed 0 plus ``spilled_out_m3``),
        ``depth_raster_m3`` (integral of the depth raster), ``error_m3`` and
        ``relative_error``.
    rain_mm, sewer_mm : float
        Event parameters.
    runoff : str
        The runoff coefficient (a number, or the raster it came from).
    scenario : str or None
        Scenario label.
    source : str
        The rain-flow products used.
    """

    flood_depth: xr.DataArray
    state: gpd.GeoDataFrame
    flooded_areas: gpd.GeoDataFrame
    spill_paths: gpd.GeoDataFrame
    mass_balance: dict[str, float]
    rain_mm: float
    sewer_mm: float
    runoff: str
    scenario: str | None = None
    source: str = ""
    depth_classes: tuple[float, ...] = field(default=DEFAULT_DEPTH_CLASSES)


def _check_event(rain_mm: float, sewer_mm: float) -> tuple[float, float]:
    out = []
    for name, value in (("rain_mm", rain_mm), ("sewer_mm", sewer_mm)):
        try:
            v = float(value)
        except (TypeError, ValueError):
            raise ParameterError(f"{name}={value!r} must be a number of mm") from None
        if not (math.isfinite(v) and v >= 0):
            raise ParameterError(f"{name}={value!r} must be a finite depth >= 0 mm")
        out.append(v)
    return out[0], out[1]


def _check_classes(classes: Sequence[float]) -> tuple[float, ...]:
    c = tuple(float(x) for x in classes)
    if not c or any(not (math.isfinite(x) and x > 0) for x in c) or list(c) != sorted(set(c)):
        raise ParameterError(
            f"depth_classes={classes!r} must be positive, finite and strictly increasing (m)"
        )
    return c


def _runoff_values(runoff: float | xr.DataArray, grid: xr.DataArray) -> tuple[Any, str]:
    """Coefficient as a float or an array on ``grid``, and a description for tags."""
    if isinstance(runoff, xr.DataArray):
        check_same_grid(grid, runoff, "runoff coefficient raster and rain-flow products")
        desc = str(runoff.attrs.get("source_path", runoff.name or "raster"))
        return np.asarray(runoff.values, dtype=np.float64), f"raster {desc}"
    if isinstance(runoff, bool) or not isinstance(runoff, int | float | np.number):
        raise ParameterError(
            f"runoff={runoff!r} must be a coefficient in 0..1 or a DataArray of them"
        )
    c = float(runoff)
    if not (math.isfinite(c) and 0.0 <= c <= 1.0):
        raise ParameterError(f"runoff coefficient {runoff!r} must lie in 0..1")
    return c, f"{c:g}"


@dataclass(frozen=True)
class BluespotNetwork:
    """The rain-flow network as arrays indexed by bluespot id."""

    labels: np.ndarray
    watersheds: np.ndarray
    terrain: np.ndarray
    downstream: np.ndarray
    spill: np.ndarray
    volume: np.ndarray
    table: gpd.GeoDataFrame


def _network(rf: RainflowLike) -> BluespotNetwork:
    """Check the products against each other; return them as id-indexed arrays."""
    grid = rf.filled
    for name, da in (("bluespots", rf.bluespots), ("watersheds", rf.watersheds)):
        check_same_grid(grid, da, f"filled and {name}")
    check_same_grid(grid, rf.terrain, "terrain and rain-flow products")
    labels = np.asarray(rf.bluespots.values).astype(np.int32, copy=False)
    n = int(labels.max()) if labels.size else 0
    table = rf.bluespot_table
    ids = np.asarray(table["bluespot_id"], dtype=np.int64) if len(table) else np.zeros(0, int)
    if not np.array_equal(np.sort(ids), np.arange(1, n + 1)):
        raise InputError(
            f"the bluespot table lists {len(ids)} ids but bluespots.tif has ids 1..{n}; "
            "the products do not belong together (rerun the rain-flow analysis)"
        )
    table = table.set_index(pd.Index(ids)).sort_index()
    pad = np.concatenate
    downstream = pad([[0], table["downstream_id"].to_numpy(np.int64)])
    spill = pad([[np.nan], table["spill_elevation_m"].to_numpy(np.float64)])
    volume = pad([[0.0], table["volume_m3"].to_numpy(np.float64)])
    terrain = np.asarray(rf.terrain.values)
    ws = np.asarray(rf.watersheds.values).astype(np.int32, copy=False)
    if np.any(np.isnan(terrain) != (ws < 0)):
        raise GridMismatchError(
            "the terrain's nodata cells differ from the rain-flow products' nodata; give "
            "the terrain model the rain-flow analysis was run on"
        )
    return BluespotNetwork(
        labels, ws, terrain, downstream, spill, volume, table.reset_index(drop=True)
    )


def _capacity(curves: LevelVolumeCurves, net: BluespotNetwork) -> np.ndarray:
    """Volume of each bluespot at its spill level on the terrain; checked against the table."""
    n = curves.n
    cap = np.zeros(n + 1, dtype=np.float64)
    if n == 0:
        return cap
    ids = np.arange(1, n + 1)
    cap[1:] = curves.volume_at_level(ids, net.spill[1:])
    bad = ~np.isclose(cap, net.volume, rtol=1e-4, atol=1e-3 * curves.cell_area)
    if bad.any():
        which = np.flatnonzero(bad)[:8].tolist()
        raise InputError(
            f"bluespot volumes on this terrain differ from the rain-flow table (ids {which}); "
            "give the terrain model the rain-flow analysis was run on (after burning)"
        )
    return cap


@dataclass(frozen=True)
class EventRouting:
    """One rain event routed over the bluespot network, with the inputs of the routing.

    What :func:`cloudburst` builds its layers from, kept for measures that change the
    runoff budget (see :mod:`klimakort.suitability.effect`).

    Attributes
    ----------
    network : BluespotNetwork
        Bluespot labels, local watersheds, terrain and the downstream table as arrays
        (``labels``, ``watersheds``, ``terrain``; ``downstream``, ``spill``, ``volume``
        indexed by bluespot id; ``table``).
    curves : LevelVolumeCurves
        Level–volume curves of the bluespots on the terrain.
    capacity : float64 array
        Volume of each bluespot when full (m³), index = bluespot id.
    budget : RunoffBudget
        Rain, losses, sewer and runoff per local watershed.
    routed : FillSpill
        The fill–spill state of every bluespot.
    levels : float64 array
        Water level of every bluespot (m DVR90).
    coefficient : float or float64 array
        Runoff coefficient (constant or per cell).
    rain_mm, sewer_mm, cell_area : float
        Event rain, sewer capacity (mm) and cell area (m²).
    runoff : str
        Description of the coefficient (a number or the raster it came from).
    grid : xarray.DataArray
        The rain-flow grid (the filled terrain) the arrays belong to.
    """

    network: BluespotNetwork
    curves: LevelVolumeCurves
    capacity: np.ndarray
    budget: RunoffBudget
    routed: FillSpill
    levels: np.ndarray
    coefficient: float | np.ndarray
    rain_mm: float
    sewer_mm: float
    cell_area: float
    runoff: str
    grid: xr.DataArray


def route_event(
    rf: RainflowLike,
    rain_mm: float,
    *,
    runoff: float | xr.DataArray = 1.0,
    sewer_mm: float = 0.0,
) -> EventRouting:
    """Route one rain event over the bluespot network (the core of :func:`cloudburst`).

    Parameters are those of :func:`cloudburst`; raises the same errors.
    """
    rain, sewer = _check_event(rain_mm, sewer_mm)
    coeff, runoff_desc = _runoff_values(runoff, rf.filled)
    net = _network(rf)
    dx, dy = cell_size(rf.filled)
    curves = level_volume_curves(net.labels, net.terrain, dx, dy)
    cap = _capacity(curves, net)
    budget = watershed_runoff(net.watersheds, curves.n, rain, coeff, sewer, dx * dy)
    fs = fill_spill(budget.runoff, cap, net.downstream)
    levels = water_levels(curves, fs.stored, net.spill)
    return EventRouting(
        network=net,
        curves=curves,
        capacity=cap,
        budget=budget,
        routed=fs,
        levels=levels,
        coefficient=coeff,
        rain_mm=rain,
        sewer_mm=sewer,
        cell_area=dx * dy,
        runoff=runoff_desc,
        grid=rf.filled,
    )


def cloudburst(
    rf_or_dir: RainflowLike | PathLike,
    rain_mm: float,
    *,
    runoff: float | xr.DataArray = 1.0,
    sewer_mm: float = 0.0,
    scenario: str | None = None,
    terrain: PathLike | xr.DataArray | None = None,
    depth_classes: Sequence[float] = DEFAULT_DEPTH_CLASSES,
) -> CloudburstResult:
    """Route a cloudburst over the bluespot network (fill and spill).

    Parameters
    ----------
    rf_or_dir : Rainflow, RainflowProducts or path-like
        The rain-flow analysis, in memory or as a folder (see :func:`load_rainflow`).
    rain_mm : float
        Event rain depth ``D`` (mm), >= 0.
    runoff : float or xarray.DataArray, default 1.0
        Runoff coefficient in 0..1: a constant, or a raster on the grid of the
        rain-flow products (e.g. the imperviousness fraction), finite on every valid cell.
    sewer_mm : float, default 0.0
        Sewer capacity over the event (mm), subtracted per cell, floored at 0.
    scenario : str, optional
        Scenario label stored with the result (e.g. ``"2100, T100"``).
    terrain : path-like or DataArray, optional
        Terrain for a folder without ``terrain.tif`` (ignored for in-memory input).
    depth_classes : sequence of float, default (0.10, 0.20, 0.40)
        Lower bounds (m) of the flooded-area classes; class ``k`` covers
        ``classes[k-1] <= depth < classes[k]``, the last one is open-ended.

    Returns
    -------
    CloudburstResult

    Raises
    ------
    ParameterError
        Negative or non-finite rain or sewer capacity, coefficient outside 0..1, bad
        depth classes.
    GridMismatchError
        A runoff raster or the terrain on another grid.
    NoDataError
        The runoff raster is nodata on a valid terrain cell.
    DataNotFoundError, InputError
        Missing products, or products that do not fit each other or the terrain.
    """
    _check_event(rain_mm, sewer_mm)  # fail fast, before reading anything
    classes = _check_classes(depth_classes)
    if isinstance(rf_or_dir, str | os.PathLike):
        rf: RainflowLike = load_rainflow(rf_or_dir, terrain)
    else:
        rf = rf_or_dir
    source = str(getattr(rf, "source", "") or _terrain_source(rf))
    ev = route_event(rf, rain_mm, runoff=runoff, sewer_mm=sewer_mm)
    net, fs, levels, rain, sewer = ev.network, ev.routed, ev.levels, ev.rain_mm, ev.sewer_mm
    runoff_desc = ev.runoff
    depth = flood_depth(net.labels, net.terrain, levels)
    depth_da = like(
        rf.filled,
        depth,
        name="flood_depth",
        attrs={"units": "m", "rain_mm": rain, "runoff": runoff_desc, "sewer_mm": sewer},
    )
    state = _state_table(net, fs, levels, ev.curves)
    return CloudburstResult(
        flood_depth=depth_da,
        state=state,
        flooded_areas=_flooded_areas(depth_da, net.labels, classes),
        spill_paths=_spill_paths(rf.network, fs),
        mass_balance=_mass_balance(ev.budget, fs, depth, ev.cell_area),
        rain_mm=rain,
        sewer_mm=sewer,
        runoff=runoff_desc,
        scenario=scenario,
        source=source,
        depth_classes=classes,
    )


def _terrain_source(rf: RainflowLike) -> str:
    src = rf.terrain.attrs.get("source_path", rf.terrain.name or "terrain")
    return f"rain-flow analysis of {src}"


def _state_table(
    net: BluespotNetwork, fs: FillSpill, levels: np.ndarray, curves: LevelVolumeCurves
) -> gpd.GeoDataFrame:
    state = net.table.copy()
    ids = state["bluespot_id"].to_numpy(np.int64)
    with np.errstate(invalid="ignore"):
        depth_max = np.maximum(levels - curves.base, 0.0)
    values = {
        "own_runoff_m3": fs.own_runoff,
        "inflow_m3": fs.inflow,
        "incoming_m3": fs.incoming,
        "stored_m3": fs.stored,
        "spilled_m3": fs.spilled,
        "fill_fraction": fs.fill_fraction,
        "water_level_m": levels,
        "water_depth_max_m": depth_max,
    }
    for name in STATE_FIELDS:
        state[name] = values[name][ids]
    cols = [c for c in state.columns if c != "geometry"]
    return gpd.GeoDataFrame(state[[*cols, "geometry"]], geometry="geometry", crs=state.crs)


def _mass_balance(
    budget: RunoffBudget, fs: FillSpill, depth: np.ndarray, cell_area: float
) -> dict[str, float]:
    rain = float(budget.rain.sum())
    lost = float(budget.lost.sum())
    sewer = float(budget.sewer.sum())
    stored = float(fs.stored.sum())
    err = rain - (lost + sewer + stored + fs.left_area)
    return {
        "rain_m3": rain,
        "lost_m3": lost,
        "sewer_m3": sewer,
        "runoff_m3": float(budget.runoff.sum()),
        "stored_m3": stored,
        "left_area_m3": fs.left_area,
        "direct_outlet_m3": fs.direct_outlet,
        "spilled_out_m3": fs.left_area - fs.direct_outlet,
        "depth_raster_m3": float(np.nansum(depth, dtype=np.float64) * cell_area),
        "error_m3": err,
        "relative_error": abs(err) / rain if rain > 0 else abs(err),
    }


def _class_label(lo: float, hi: float | None) -> str:
    return f">= {lo:.2f} m" if hi is None else f"{lo:.2f}-{hi:.2f} m"


def _flooded_areas(
    depth: xr.DataArray, labels: np.ndarray, classes: tuple[float, ...]
) -> gpd.GeoDataFrame:
    """Polygons of each (bluespot, depth class), dissolved, sorted by id and class."""
    d = np.nan_to_num(np.asarray(depth.values, dtype=np.float32), nan=0.0)
    cls = np.digitize(d, np.asarray(classes, dtype=np.float32)).astype(np.int32)
    k = len(classes) + 1
    key = np.where(cls > 0, labels.astype(np.int64) * k + cls, 0)
    crs = depth.rio.crs
    cols = ["bluespot_id", "depth_class", "depth_min_m", "depth_max_m", "label", "area_m2"]
    mask = key > 0
    if not mask.any():
        empty = {c: pd.Series([], dtype="float64") for c in cols}
        empty["label"] = pd.Series([], dtype="object")
        return gpd.GeoDataFrame(empty, geometry=gpd.GeoSeries([], crs=crs), crs=crs)
    if int(key.max()) >= 2**31:
        raise InputError("too many bluespots for the depth-class key (int32)")
    key_da = like(depth, key.astype(np.int32), name="key", nodata=0)
    out = label_polygons(key_da, "key")
    kk = out["key"].to_numpy(np.int64)
    c = kk % k
    lows = np.asarray(classes, dtype=np.float64)
    highs = np.append(lows[1:], np.nan)
    out["bluespot_id"] = kk // k
    out["depth_class"] = c
    out["depth_min_m"] = lows[c - 1]
    out["depth_max_m"] = highs[c - 1]
    out["label"] = [
        _class_label(float(lows[i - 1]), None if i == len(classes) else float(highs[i - 1]))
        for i in c
    ]
    out["area_m2"] = out.geometry.area.to_numpy()
    return gpd.GeoDataFrame(out[[*cols, "geometry"]], geometry="geometry", crs=crs)


def _spill_paths(network: gpd.GeoDataFrame, fs: FillSpill) -> gpd.GeoDataFrame:
    ids = network["bluespot_id"].to_numpy(np.int64)
    spilled = fs.spilled[ids] if ids.size else np.zeros(0)
    keep = spilled > 0
    out = network.loc[keep, ["bluespot_id", "downstream_id", "geometry"]].copy()
    out["downstream_id"] = out["downstream_id"].astype(np.int64)
    out["spilled_m3"] = spilled[keep]
    out["leaves_area"] = out["downstream_id"].to_numpy() == 0
    cols = ["bluespot_id", "downstream_id", "spilled_m3", "leaves_area", "geometry"]
    out = out[cols].sort_values("bluespot_id").reset_index(drop=True)
    return gpd.GeoDataFrame(out, geometry="geometry", crs=network.crs)


def write_cloudburst(result: CloudburstResult, out_dir: PathLike) -> dict[str, Path]:
    """Write ``flood_depth.tif`` and ``bluespot_state.gpkg`` into ``out_dir``, atomically.

    ``flood_depth.tif`` is a COG tagged with ``rain_mm``, ``runoff``, ``sewer_mm``,
    the source rain-flow products and the scenario (if any). ``bluespot_state.gpkg``
    holds the layers ``bluespots`` (state table), ``flooded_areas`` and
    ``spill_paths``.

    Returns
    -------
    dict
        ``{"flood_depth": path, "bluespot_state": path}``.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tags = {
        "rain_mm": f"{result.rain_mm:g}",
        "runoff": result.runoff,
        "sewer_mm": f"{result.sewer_mm:g}",
        "rainflow": result.source,
        "depth_classes_m": ",".join(f"{c:g}" for c in result.depth_classes),
    }
    tif = write_cog(
        result.flood_depth,
        out / "flood_depth.tif",
        units="m",
        source=f"klimakort cloudburst (fill-spill) over rain-flow products {result.source}",
        scenario=result.scenario,
        description=(
            f"flood depth after {result.rain_mm:g} mm rain (runoff {result.runoff}, "
            f"sewer {result.sewer_mm:g} mm)"
        ),
        extra_tags=tags,
    )
    gpkg = out / "bluespot_state.gpkg"
    write_layers(
        gpkg,
        {
            "bluespots": (result.state, "MultiPolygon"),
            "flooded_areas": (result.flooded_areas, "MultiPolygon"),
            "spill_paths": (result.spill_paths, "LineString"),
        },
    )
    return {"flood_depth": tif, "bluespot_state": gpkg}
