"""Generate the complete synthetic sample area in memory."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import xarray as xr

from klimakort.errors import ParameterError
from klimakort.sample import layers as lyr
from klimakort.sample.grid import CRS, SampleGrid, rng_for
from klimakort.sample.groundwater import build_groundwater
from klimakort.sample.localplans import local_plans
from klimakort.sample.plan import make_plan
from klimakort.sample.terrain import build_terrain
from klimakort.sample.town import (
    KOMMUNEKODE,
    BuildingTable,
    build_buildings,
    build_town,
    matrikel_numbers,
)

DEFAULT_SEED = 2050
N_KINDERGARTENS = 5

#: Layer keys in the order they are written.
LAYER_KEYS = (
    "parcels",
    "buildings",
    "roads",
    "heating_zones",
    "heating_mains",
    "public_land",
    "institutions",
    "planned_sites",
    "barriers",
    "sea",
    "streams",
    "lakes",
    "local_plans",
)


@dataclass(frozen=True)
class SampleArea:
    """The synthetic sample area.

    Attributes
    ----------
    dem : xarray.DataArray
        Terrain, float32, m DVR90, EPSG:25832, nodata NaN (there is none: the sea is terrain).
    groundwater_head : xarray.DataArray
        Groundwater head, float32, m DVR90, NaN over the sea.
    imperviousness : xarray.DataArray
        Impervious fraction 0-1, float32.
    layers : dict of str to GeoDataFrame
        Vector layers (keys in :data:`LAYER_KEYS`), EPSG:25832, ``attrs["synthetic"] = True``.
    seed : int
        Seed the area was generated from.
    """

    dem: xr.DataArray
    groundwater_head: xr.DataArray
    imperviousness: xr.DataArray
    layers: dict[str, gpd.GeoDataFrame]
    seed: int


def _gdf(grid: SampleGrid, columns: dict[str, Any]) -> gpd.GeoDataFrame:
    """Local-coordinate columns -> GeoDataFrame in EPSG:25832 (coordinates rounded to 1 cm)."""
    cols = dict(columns)
    geoms = np.asarray(cols.pop("geometry"), dtype=object)
    mapped = shapely.transform(geoms, grid.to_map) if len(geoms) else geoms
    cols["synthetic"] = np.ones(len(geoms), dtype=bool)
    gdf = gpd.GeoDataFrame(pd.DataFrame(cols), geometry=gpd.GeoSeries(mapped, crs=CRS), crs=CRS)
    gdf.attrs["synthetic"] = True
    return gdf


def _check_seed(seed: int) -> int:
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ParameterError(f"seed must be a non-negative integer, got {seed!r}")
    return int(seed)


def _pick_kindergartens(kinds: list[str], blocks: list[int], rng: np.random.Generator) -> list[str]:
    """Turn a few residential parcels in different blocks into kindergartens."""
    out = list(kinds)
    candidates = [k for k, kind in enumerate(kinds) if kind == "residential"]
    used: set[int] = set()
    for k in rng.permutation(candidates):
        if len(used) >= N_KINDERGARTENS:
            break
        if blocks[int(k)] not in used:
            used.add(blocks[int(k)])
            out[int(k)] = "kindergarten"
    return out


def _building_columns(b: BuildingTable, parcel_ids: list[str]) -> dict[str, Any]:
    return {
        "building_id": [f"B{k + 1:05d}" for k in range(len(b.polygons))],
        "parcel_id": [parcel_ids[int(p)] for p in b.parcel_index],
        "use": b.use,
        "floors": b.floors,
        "has_basement": b.has_basement,
        "floor_level_m": b.floor_level_m,
        "geometry": b.polygons,
    }


def generate_sample(
    seed: int = DEFAULT_SEED,
    *,
    cell: float = 1.6,
    progress: Callable[[str], None] | None = None,
) -> SampleArea:
    """Generate the synthetic coastal sample area "Strandby" deterministically.

    Parameters
    ----------
    seed : int
        Seed of all random streams (PCG64); the same seed gives bit-identical output
        on every run and machine.
    cell : float
        Raster cell size in metres (1.6 m gives 2500 x 1875 cells).
    progress : callable, optional
        Called with a short message after each step.

    Returns
    -------
    SampleArea

    Raises
    ------
    ParameterError
        Negative or non-integer seed, or a cell size outside 0.5-50 m.
    """
    seed = _check_seed(seed)
    grid = SampleGrid.for_cell(cell)
    t0 = time.perf_counter()

    def step(msg: str) -> None:
        if progress is not None:
            progress(f"{msg} ({time.perf_counter() - t0:.1f} s)")

    plan = make_plan(rng_for(seed, "plan"))
    town = build_town(plan, rng_for(seed, "town"))
    step(f"town laid out: {len(town.roads)} roads, {len(town.parcels.quads)} parcels")
    terrain = build_terrain(grid, plan, town.roads, rng_for(seed, "terrain"))
    step("terrain built")

    rng_b = rng_for(seed, "buildings")
    kinds = _pick_kindergartens(town.parcels.kind, town.parcels.block, rng_b)
    dem = terrain.dem

    def terrain_at(xy: np.ndarray) -> np.ndarray:
        rows, cols = grid.cell_index(xy)
        return dem[rows, cols].astype(np.float64)

    buildings = build_buildings(town.parcels, kinds, rng_b, terrain_at)
    rng_l = rng_for(seed, "layers")
    parcel_geoms = np.asarray(shapely.polygons(np.array(town.parcels.quads)), dtype=object)
    mnr = matrikel_numbers(town.parcels.ejerlav, rng_l)
    ids = [f"{e}-{m}" for e, m in zip(town.parcels.ejerlav, mnr, strict=True)]
    public = np.isin(np.array(kinds), ["park", "school", "nature", "kindergarten"])
    parcels = {
        "matrikel_id": ids,
        "ejerlavskode": np.array(town.parcels.ejerlav, dtype=np.int64),
        "matrikelnummer": mnr,
        "kommunekode": np.full(len(ids), KOMMUNEKODE, dtype=np.int64),
        "area_m2": np.round(shapely.area(parcel_geoms), 2),
        "public": public,
        "land_use": kinds,
        "geometry": parcel_geoms,
    }
    step(f"{len(buildings.polygons)} buildings placed")

    roads = {
        "road_id": [f"R{k + 1:03d}" for k in range(len(town.roads))],
        "name": [r.name for r in town.roads],
        "width_m": [r.width_m for r in town.roads],
        "embankment_m": [r.embankment_m for r in town.roads],
        "geometry": [shapely.LineString(r.coords) for r in town.roads],
    }
    zones = lyr.heating_zones(town.blocks)
    mains = lyr.heating_mains(town.roads, zones)
    public_land = lyr.public_land(parcel_geoms, kinds, plan)
    inst = lyr.institutions(parcel_geoms, kinds, buildings, rng_l)
    inst["parcel_id"] = [ids[k] for k in inst.pop("parcel_index")]
    sites = lyr.planned_sites(public_land, town.roads, rng_l)
    barriers = lyr.barriers(plan)
    sea = lyr.sea(plan)
    streams = lyr.streams(plan, terrain.lake, town.roads, barriers["geometry"])
    lakes = {
        "name": [lyr.LAKE_NAME],
        "water_level_m": [terrain.stream.lake_level],
        "geometry": [terrain.lake],
    }
    step("thematic layers built")

    head = build_groundwater(grid, plan, dem, terrain.stream_distance, rng_for(seed, "groundwater"))
    imperv = lyr.imperviousness(
        grid,
        parcel_geoms,
        kinds,
        town.roads,
        buildings,
        [sea["geometry"][0], terrain.lake],
        rng_for(seed, "imperviousness"),
    )
    step("groundwater and imperviousness rasters built")

    columns = {
        "parcels": parcels,
        "buildings": _building_columns(buildings, ids),
        "roads": roads,
        "heating_zones": zones,
        "heating_mains": mains,
        "public_land": public_land,
        "institutions": inst,
        "planned_sites": sites,
        "barriers": barriers,
        "sea": sea,
        "streams": streams,
        "lakes": lakes,
        "local_plans": local_plans(parcel_geoms, town.parcels.block),
    }
    out_layers = {key: _gdf(grid, columns[key]) for key in LAYER_KEYS}
    attrs = {"seed": seed}
    return SampleArea(
        dem=grid.dataarray(dem, "terrain", "m DVR90", description="terrain (DTM)", **attrs),
        groundwater_head=grid.dataarray(
            head, "groundwater_head", "m DVR90", description="groundwater head", **attrs
        ),
        imperviousness=grid.dataarray(
            imperv, "imperviousness", "fraction", description="impervious fraction 0-1", **attrs
        ),
        layers=out_layers,
        seed=seed,
    )
