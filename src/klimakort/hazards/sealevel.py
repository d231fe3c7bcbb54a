"""Sea-level inundation on a terrain model: xarray wrappers and vector outputs.

Method (hydraulically connected "bathtub" model, as SCALGO Live and NOAA's sea-level-rise
viewer): the *minimum flooding level* of a cell is the lowest still-water sea level at
which water from the sea reaches it along a connected path (the minimax path height,
:mod:`klimakort.core.floodlevel`). For a sea level ``L``:

* inundation depth = ``L - terrain`` where the minimum flooding level is ``<= L``;
* *at risk*: land below ``L`` that the sea does not reach (protected by a barrier or a
  natural ridge); it floods if that barrier fails;
* *critical points*: sills where a whole basin fills at once as ``L`` passes their level.

Barriers (dikes, walls, beach ridges) are lines or polygons with a crest height; they are
burnt into the terrain with ``all_touched=True`` so that a one-cell-wide line has no
diagonal gaps. Waves, wind set-up, overtopping volume and drainage are not modelled.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeAlias

import geopandas as gpd
import numpy as np
import xarray as xr
from pyproj import CRS
from rasterio import features
from shapely.geometry import Point

from klimakort.core import floodlevel as fl
from klimakort.errors import CRSError, GeometryError, InputError, ParameterError
from klimakort.io.raster import cell_size, check_projected_crs, check_same_grid, like

__all__ = [
    "SeaLevelResult",
    "at_risk",
    "critical_points",
    "inundation_depth",
    "min_flood_level",
    "rasterize_barriers",
    "rasterize_sea",
    "sealevel_analysis",
    "terrain_values",
]

SeaInput: TypeAlias = gpd.GeoDataFrame | xr.DataArray | None
BarrierInput: TypeAlias = gpd.GeoDataFrame | xr.DataArray | None

_AT_RISK_NODATA = 255


def terrain_values(dem: xr.DataArray) -> np.ndarray:
    """Terrain heights as float32 with nodata as NaN, after checking the CRS.

    Parameters
    ----------
    dem : xarray.DataArray
        2-D terrain model with rioxarray CRS/transform.

    Returns
    -------
    ndarray of float32
    """
    check_projected_crs(dem.rio.crs, f"terrain {dem.name or ''}".strip())
    if dem.ndim != 2:
        raise InputError(f"terrain must be a 2-D raster, got dims {dem.dims}")
    values = np.asarray(dem.values, dtype=np.float32).copy()
    nodata = dem.rio.nodata
    if nodata is not None and not np.isnan(nodata):
        values[values == np.float32(nodata)] = np.nan
    values[~np.isfinite(values)] = np.nan
    return values


def _vector_on_grid(gdf: gpd.GeoDataFrame, grid: xr.DataArray, what: str) -> gpd.GeoDataFrame:
    if gdf.crs is None:
        raise CRSError(f"{what} layer has no CRS; set it in the file (klimakort never guesses)")
    target = CRS.from_user_input(grid.rio.crs)
    if not CRS.from_user_input(gdf.crs).equals(target):
        gdf = gdf.to_crs(target)
    gdf = gdf[gdf.geometry.notna() & ~gdf.geometry.is_empty]
    if len(gdf) and not gdf.geometry.is_valid.all():
        gdf = gdf.assign(geometry=gdf.geometry.make_valid())
    return gdf


def rasterize_sea(sea: gpd.GeoDataFrame, grid: xr.DataArray) -> xr.DataArray:
    """Rasterise sea polygons onto the terrain grid (cell centres inside = sea).

    Parameters
    ----------
    sea : GeoDataFrame
        Sea polygons (reprojected to the grid's CRS when needed).
    grid : xarray.DataArray
        Terrain grid.

    Returns
    -------
    xarray.DataArray of bool
    """
    gdf = _vector_on_grid(sea, grid, "sea")
    polys = [g for g in gdf.geometry if g.geom_type in ("Polygon", "MultiPolygon")]
    if not polys:
        raise GeometryError("the sea layer has no polygons; give the sea as (multi)polygons")
    mask = features.rasterize(
        ((g, 1) for g in polys),
        out_shape=grid.shape,
        transform=grid.rio.transform(),
        fill=0,
        dtype="uint8",
    ).astype(bool)
    return like(grid, mask, name="sea", attrs={"description": "sea cells"})


def rasterize_barriers(
    barriers: gpd.GeoDataFrame, grid: xr.DataArray, crest_field: str = "crest_m"
) -> xr.DataArray:
    """Rasterise barriers (dikes, walls, ridges) with their crest height onto the grid.

    Parameters
    ----------
    barriers : GeoDataFrame
        Lines or polygons with a crest-height column (m, same datum as the terrain).
    grid : xarray.DataArray
        Terrain grid.
    crest_field : str
        Name of the crest-height column.

    Returns
    -------
    xarray.DataArray of float32
        Crest height per touched cell (the highest where barriers overlap), NaN elsewhere.
    """
    gdf = _vector_on_grid(barriers, grid, "barrier")
    if crest_field not in gdf.columns:
        raise InputError(
            f"barrier layer has no field {crest_field!r}; fields are {list(gdf.columns)}; "
            "pass the crest-height field name"
        )
    crest = gdf[crest_field].astype(float)
    bad = ~np.isfinite(crest.to_numpy())
    if bad.any():
        raise InputError(
            f"{int(bad.sum())} barrier(s) have no numeric {crest_field!r} "
            f"(rows {list(gdf.index[bad][:5])}); give every barrier a crest height"
        )
    order = np.argsort(crest.to_numpy(), kind="stable")  # highest burnt last: max wins
    shapes = [(gdf.geometry.iloc[i], float(crest.iloc[i])) for i in order]
    out = np.full(grid.shape, np.nan, dtype=np.float32)
    if shapes:
        out = features.rasterize(
            shapes,
            out=out,
            transform=grid.rio.transform(),
            all_touched=True,
            dtype="float32",
        )
    return like(grid, out, name="barrier_crest", attrs={"units": "m", "field": crest_field})


def _sea_array(sea: SeaInput, dem: xr.DataArray) -> np.ndarray | None:
    if sea is None:
        return None
    if isinstance(sea, gpd.GeoDataFrame):
        sea = rasterize_sea(sea, dem)
    check_same_grid(dem, sea, "terrain and sea mask")
    return np.asarray(sea.values).astype(bool)


def _crest_array(barriers: BarrierInput, dem: xr.DataArray, crest_field: str) -> np.ndarray | None:
    if barriers is None:
        return None
    if isinstance(barriers, gpd.GeoDataFrame):
        barriers = rasterize_barriers(barriers, dem, crest_field)
    check_same_grid(dem, barriers, "terrain and barrier crests")
    return np.asarray(barriers.values, dtype=np.float32)


def min_flood_level(
    dem: xr.DataArray,
    sea: SeaInput = None,
    barriers: BarrierInput = None,
    *,
    crest_field: str = "crest_m",
    connectivity: int = 8,
) -> xr.DataArray:
    """Lowest sea level at which each cell is flooded from the sea.

    Parameters
    ----------
    dem : xarray.DataArray
        Terrain (m DVR90) with CRS and transform.
    sea : GeoDataFrame or DataArray of bool, optional
        Sea polygons or a sea mask on the terrain grid. Without it the sea is the nodata
        connected to the raster edge plus edge cells below 0 m.
    barriers : GeoDataFrame or DataArray, optional
        Barrier lines/polygons with ``crest_field``, or a crest-height raster (NaN = none).
    crest_field : str
        Crest-height field of a barrier layer.
    connectivity : {4, 8}
        Neighbourhood of the water's spread.

    Returns
    -------
    xarray.DataArray of float32
        ``-inf`` on sea cells, NaN on nodata, ``+inf`` where no path from the sea exists.

    Raises
    ------
    GridMismatchError
        A mask raster is not on the terrain grid.
    NoDataError
        No sea cells.
    """
    values = terrain_values(dem)
    level = fl.min_flood_level(
        values,
        _sea_array(sea, dem),
        _crest_array(barriers, dem, crest_field),
        connectivity=connectivity,
    )
    return like(
        dem,
        level,
        name="min_flood_level",
        attrs={
            "units": "m",
            "long_name": "minimum sea level that floods the cell (connected to the sea)",
            "connectivity": connectivity,
            "sea_value": "-inf",
            "unreachable_value": "+inf",
        },
    )


def inundation_depth(dem: xr.DataArray, min_level: xr.DataArray, level: float) -> xr.DataArray:
    """Water depth (m) for sea level ``level``, only where connected to the sea.

    Parameters
    ----------
    dem : xarray.DataArray
        Terrain.
    min_level : xarray.DataArray
        From :func:`min_flood_level`, on the same grid.
    level : float
        Still-water sea level (same datum as the terrain).

    Returns
    -------
    xarray.DataArray of float32
        Depth > 0 on flooded cells, 0 on dry land, NaN on sea and nodata.
    """
    check_same_grid(dem, min_level, "terrain and minimum flooding level")
    depth = fl.connected_inundation(terrain_values(dem), np.asarray(min_level.values), level)
    return like(
        dem,
        depth,
        name="inundation_depth",
        attrs={"units": "m", "sea_level_m": float(level), "long_name": "inundation depth"},
    )


def at_risk(dem: xr.DataArray, min_level: xr.DataArray, level: float) -> xr.DataArray:
    """Land below ``level`` that the sea does not reach (flooded if a barrier fails).

    Returns
    -------
    xarray.DataArray of uint8
        1 = at risk, 0 = not, 255 = nodata or sea.
    """
    check_same_grid(dem, min_level, "terrain and minimum flooding level")
    mfl = np.asarray(min_level.values, dtype=np.float32)
    mask = fl.at_risk_mask(terrain_values(dem), mfl, level)
    out = mask.astype(np.uint8)
    out[np.isnan(mfl) | np.isneginf(mfl)] = _AT_RISK_NODATA
    return like(
        dem,
        out,
        name="at_risk",
        nodata=_AT_RISK_NODATA,
        attrs={
            "sea_level_m": float(level),
            "long_name": "below the sea level but not connected to the sea",
        },
    )


def critical_points(
    dem: xr.DataArray,
    sea: SeaInput = None,
    barriers: BarrierInput = None,
    *,
    crest_field: str = "crest_m",
    min_area_m2: float = 10_000.0,
    max_level: float | None = None,
    top: int | None = 50,
    connectivity: int = 8,
) -> gpd.GeoDataFrame:
    """Sills where the flooded area jumps as the sea level rises (SCALGO-style).

    Parameters
    ----------
    dem, sea, barriers, crest_field, connectivity
        As in :func:`min_flood_level`.
    min_area_m2 : float
        Keep sills over which at least this area floods at once.
    max_level : float, optional
        Ignore sills higher than this level (e.g. the highest scenario level + 1 m).
    top : int, optional
        Keep at most this many, the largest jumps first.

    Returns
    -------
    GeoDataFrame
        Point at the sill cell centre, ``level_m`` (sea level at which water passes the
        sill), ``extra_area_m2`` (area that floods at once), ``row``, ``col``; in the
        terrain's CRS, sorted by ``extra_area_m2`` descending.
    """
    if min_area_m2 < 0:
        raise ParameterError(f"min_area_m2 must be >= 0, got {min_area_m2}")
    values = terrain_values(dem)
    level, sill = fl.flood_level_and_sills(
        values,
        _sea_array(sea, dem),
        _crest_array(barriers, dem, crest_field),
        connectivity=connectivity,
    )
    return _points_from_sills(dem, level, sill, min_area_m2, max_level, top)


def _points_from_sills(
    dem: xr.DataArray,
    level: np.ndarray,
    sill: np.ndarray,
    min_area_m2: float,
    max_level: float | None,
    top: int | None,
) -> gpd.GeoDataFrame:
    dx, dy = cell_size(dem)
    cell_area = dx * dy
    min_cells = max(1, int(np.ceil(min_area_m2 / cell_area - 1e-9)))
    index, lev, ncells = fl.critical_points(level, sill, min_cells=min_cells, top=None)
    if max_level is not None:
        keep = lev <= max_level
        index, lev, ncells = index[keep], lev[keep], ncells[keep]
    if top is not None:
        index, lev, ncells = index[:top], lev[:top], ncells[:top]
    rows, cols = np.divmod(index, dem.shape[1])
    transform = dem.rio.transform()
    xs = [transform.c + transform.a * (c + 0.5) for c in cols]
    ys = [transform.f + transform.e * (r + 0.5) for r in rows]
    data: dict[str, Any] = {
        "level_m": lev.astype(float),
        "extra_area_m2": ncells.astype(float) * cell_area,
        "row": rows.astype(np.int64),
        "col": cols.astype(np.int64),
    }
    geometry = [Point(x, y) for x, y in zip(xs, ys, strict=True)]
    return gpd.GeoDataFrame(data, geometry=geometry, crs=dem.rio.crs)


@dataclass(frozen=True)
class SeaLevelResult:
    """Everything :func:`sealevel_analysis` computes for one sea level.

    Attributes
    ----------
    level : float
        Still-water sea level (m).
    min_flood_level : xarray.DataArray
    depth : xarray.DataArray
    at_risk : xarray.DataArray
    critical_points : GeoDataFrame
    """

    level: float
    min_flood_level: xr.DataArray
    depth: xr.DataArray
    at_risk: xr.DataArray
    critical_points: gpd.GeoDataFrame


def sealevel_analysis(
    dem: xr.DataArray,
    level: float,
    sea: SeaInput = None,
    barriers: BarrierInput = None,
    *,
    crest_field: str = "crest_m",
    min_area_m2: float = 10_000.0,
    max_level: float | None = None,
    top: int | None = 50,
    connectivity: int = 8,
) -> SeaLevelResult:
    """Minimum flooding level, depth, at-risk land and critical points in one pass.

    Parameters
    ----------
    dem, sea, barriers, crest_field, connectivity
        As in :func:`min_flood_level`.
    level : float
        Still-water sea level (e.g. ``Scenario.still_water_level(100)``).
    min_area_m2, max_level, top
        As in :func:`critical_points`; ``max_level`` defaults to ``level + 1``.

    Returns
    -------
    SeaLevelResult
    """
    if not np.isfinite(level):
        raise ParameterError(f"sea level must be a finite number, got {level}")
    values = terrain_values(dem)
    mfl, sill = fl.flood_level_and_sills(
        values,
        _sea_array(sea, dem),
        _crest_array(barriers, dem, crest_field),
        connectivity=connectivity,
    )
    mfl_da = like(
        dem,
        mfl,
        name="min_flood_level",
        attrs={"units": "m", "connectivity": connectivity, "sea_value": "-inf"},
    )
    points = _points_from_sills(
        dem, mfl, sill, min_area_m2, level + 1.0 if max_level is None else max_level, top
    )
    return SeaLevelResult(
        level=float(level),
        min_flood_level=mfl_da,
        depth=inundation_depth(dem, mfl_da, level),
        at_risk=at_risk(dem, mfl_da, level),
        critical_points=points,
    )
