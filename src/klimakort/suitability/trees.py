"""How many street/park trees fit on each parcel (tree potential), against a target.

Plantable area of a parcel::

    parcel
      - buildings buffered by ``building_buffer_m``      (default 3 m: facades, foundations)
      - district-heating mains buffered by ``mains_clearance_m`` (default 2.5 m: pipe trench)
      - roads buffered by ``road_buffer_m``              (default 4 m from the centre line,
                                                          i.e. an 8 m road corridor)

Trees stand on an exact lattice with crown spacing ``spacing_m`` (default 8 m, a
medium-sized street tree crown): a hexagonal lattice (rows ``spacing * sqrt(3)/2`` apart,
every other row shifted by half a spacing; the densest packing) or a square lattice.
Each parcel's lattice is anchored at the lower-left corner of the bounding box of its
*tree zone*, the plantable area shrunk by ``edge_clearance_m`` (default: the crown radius,
``spacing_m / 2``), and a lattice point is a tree when it lies in the tree zone (points on
its boundary count). With the default clearance every crown lies inside the plantable
area, so trees of neighbouring parcels are also at least ``spacing_m`` apart.

Worked example: an empty 24 x 24 m parcel, 8 m spacing: the tree zone is the 16 x 16 m
square 4 m inside the edges; the square lattice puts trees at 4, 12 and 20 m on both
axes (9 trees), the hexagonal one rows of 3, 2 and 3 (8 trees; the fourth row would be at
24.8 m).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from klimakort.errors import CRSError, GeometryError, ParameterError

#: tolerance (m) so that lattice points exactly on the tree-zone edge count
_EPS = 1e-6


@dataclass
class TreePotential:
    """Outcome of :func:`tree_potential`.

    Attributes
    ----------
    parcels : GeoDataFrame
        The parcels with ``parcel_area_m2``, ``plantable_m2`` and ``n_trees`` added.
    trees : GeoDataFrame
        One point per tree with ``parcel`` (the parcel's index label).
    plantable : GeoSeries
        Plantable area of each parcel (same index as ``parcels``).
    total : int
        Trees over all parcels.
    target : int
        The tree target tracked (e.g. 20,000).
    share_of_target : float
        ``total / target``.
    settings : dict
        Spacing, lattice and buffers used.
    """

    parcels: gpd.GeoDataFrame
    trees: gpd.GeoDataFrame
    plantable: gpd.GeoSeries
    total: int
    target: int
    share_of_target: float
    settings: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        """JSON-ready totals: trees, target, share, plantable area and settings."""
        return {
            "total_trees": self.total,
            "target": self.target,
            "share_of_target": self.share_of_target,
            "n_parcels": len(self.parcels),
            "n_parcels_with_trees": int((self.parcels["n_trees"] > 0).sum()),
            "plantable_m2": float(self.parcels["plantable_m2"].sum()),
            **self.settings,
        }


def lattice_points(
    bounds: tuple[float, float, float, float], spacing: float, grid: str
) -> tuple[np.ndarray, np.ndarray]:
    """Lattice points anchored at the lower-left corner of ``bounds``, inside ``bounds``.

    Parameters
    ----------
    bounds : tuple
        ``(minx, miny, maxx, maxy)``.
    spacing : float
        Distance between neighbouring points, metres.
    grid : {"hex", "square"}
        Lattice type.

    Returns
    -------
    tuple of numpy.ndarray
        x and y coordinates.
    """
    minx, miny, maxx, maxy = bounds
    dy = spacing * math.sqrt(3.0) / 2.0 if grid == "hex" else spacing
    rows = np.arange(math.floor((maxy - miny) / dy + _EPS) + 1)
    cols = np.arange(math.floor((maxx - minx) / spacing + _EPS) + 1)
    xs = minx + cols[None, :] * spacing + np.zeros((len(rows), 1))
    if grid == "hex":
        xs = xs + (rows[:, None] % 2) * (spacing / 2.0)
    ys = np.broadcast_to(miny + rows[:, None] * dy, xs.shape)
    x, y = xs.ravel(), np.asarray(ys).ravel()
    inside = x <= maxx + _EPS
    return x[inside], y[inside]


def _obstacles(layers: list[tuple[gpd.GeoDataFrame | None, float, str]], crs: CRS) -> np.ndarray:
    parts = []
    for gdf, dist, what in layers:
        if gdf is None or len(gdf) == 0:
            continue
        if gdf.crs is None or not CRS.from_user_input(gdf.crs).equals(crs):
            raise CRSError(
                f"{what} are in {gdf.crs} but parcels in {crs.to_string()}; reproject them "
                "to the parcels' CRS first (read_vector does)"
            )
        geoms = gdf.geometry.to_numpy()
        geoms = geoms[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))]
        parts.append(shapely.buffer(geoms, dist) if dist > 0 else geoms)
    return np.concatenate(parts) if parts else np.empty(0, dtype=object)


def _plantable(parcels: np.ndarray, obstacles: np.ndarray) -> np.ndarray:
    out = parcels.copy()
    if len(obstacles) == 0:
        return out
    tree = shapely.STRtree(obstacles)
    pi, oi = tree.query(parcels, predicate="intersects")
    if len(pi) == 0:
        return out
    order = np.argsort(pi, kind="stable")
    pi, oi = pi[order], oi[order]
    starts = np.flatnonzero(np.r_[True, pi[1:] != pi[:-1]])
    groups = np.split(oi, starts[1:])
    for p, idx in zip(pi[starts], groups, strict=True):
        out[p] = shapely.difference(parcels[p], shapely.union_all(obstacles[idx]))
    return out


def _check(
    parcels: gpd.GeoDataFrame,
    spacing_m: float,
    grid: str,
    buffers: dict[str, float],
    target: int,
) -> CRS:
    if parcels.crs is None:
        raise CRSError("parcels have no CRS; tree counts need a projected CRS in metres")
    crs = CRS.from_user_input(parcels.crs)
    if crs.is_geographic:
        raise CRSError(f"parcels are in geographic {crs.to_string()}; reproject to EPSG:25832")
    if not (math.isfinite(spacing_m) and spacing_m > 0):
        raise ParameterError(f"spacing_m must be > 0 metres (got {spacing_m})")
    if grid not in ("hex", "square"):
        raise ParameterError(f"grid must be 'hex' or 'square' (got {grid!r})")
    for name, value in buffers.items():
        if not (math.isfinite(value) and value >= 0):
            raise ParameterError(f"{name} must be a distance >= 0 metres (got {value})")
    if target <= 0:
        raise ParameterError(f"target must be a positive number of trees (got {target})")
    kinds = set(parcels.geometry.geom_type.dropna())
    if not kinds <= {"Polygon", "MultiPolygon"}:
        raise GeometryError(f"parcels must be polygons (found {sorted(kinds)})")
    return crs


def tree_potential(
    parcels: gpd.GeoDataFrame,
    *,
    buildings: gpd.GeoDataFrame | None = None,
    heating_mains: gpd.GeoDataFrame | None = None,
    roads: gpd.GeoDataFrame | None = None,
    spacing_m: float = 8.0,
    grid: Literal["hex", "square"] = "hex",
    building_buffer_m: float = 3.0,
    mains_clearance_m: float = 2.5,
    road_buffer_m: float = 4.0,
    edge_clearance_m: float | None = None,
    target: int = 20_000,
) -> TreePotential:
    """Count the trees that fit on each parcel and track the total against a target.

    Parameters
    ----------
    parcels : GeoDataFrame
        Parcel polygons (projected CRS, EPSG:25832).
    buildings, heating_mains, roads : GeoDataFrame, optional
        Obstacles in the same CRS (footprints, pipe lines, road centre lines or areas).
    spacing_m : float
        Crown spacing between trees, metres.
    grid : {"hex", "square"}
        Lattice type (see module docstring).
    building_buffer_m, mains_clearance_m, road_buffer_m : float
        Clearances around buildings, district-heating mains and roads, metres.
    edge_clearance_m : float, optional
        Distance of a trunk from the edge of the plantable area; default ``spacing_m / 2``
        (the whole crown inside). 0 lets trunks stand on the edge.
    target : int
        Tree target to track (the municipality's "20,000 trees").

    Returns
    -------
    TreePotential
        Per-parcel counts, tree points, total and share of target.

    Raises
    ------
    CRSError
        Missing/geographic CRS, or layers in another CRS than the parcels.
    ParameterError
        Non-positive spacing or target, negative clearances, unknown grid.
    GeometryError
        Parcels that are not polygons.
    """
    clearance = spacing_m / 2.0 if edge_clearance_m is None else float(edge_clearance_m)
    buffers = {
        "building_buffer_m": building_buffer_m,
        "mains_clearance_m": mains_clearance_m,
        "road_buffer_m": road_buffer_m,
        "edge_clearance_m": clearance,
    }
    crs = _check(parcels, spacing_m, grid, buffers, target)
    obstacles = _obstacles(
        [
            (buildings, building_buffer_m, "buildings"),
            (heating_mains, mains_clearance_m, "district-heating mains"),
            (roads, road_buffer_m, "roads"),
        ],
        crs,
    )
    geoms = np.asarray(parcels.geometry.to_numpy())
    plantable = _plantable(geoms, obstacles)
    # grown by 2 eps, lattice anchored 1 eps inside: points on the true edge are inside
    zones = shapely.buffer(plantable, -clearance + 2 * _EPS)

    xs, ys, owner = [], [], []
    for i, zone in enumerate(zones):
        if zone is None or shapely.is_empty(zone):
            continue
        minx, miny, maxx, maxy = zone.bounds
        x, y = lattice_points((minx + _EPS, miny + _EPS, maxx, maxy), spacing_m, grid)
        xs.append(x)
        ys.append(y)
        owner.append(np.full(len(x), i, dtype=np.int64))
    if xs:
        x, y, own = np.concatenate(xs), np.concatenate(ys), np.concatenate(owner)
        shapely.prepare(zones)
        hit = shapely.contains_xy(zones[own], x, y)
        x, y, own = x[hit], y[hit], own[hit]
    else:
        x = y = np.empty(0)
        own = np.empty(0, dtype=np.int64)

    counts = np.bincount(own, minlength=len(geoms))
    out = parcels.copy()
    out["parcel_area_m2"] = shapely.area(geoms)
    out["plantable_m2"] = shapely.area(plantable)
    out["n_trees"] = counts.astype(np.int64)
    trees = gpd.GeoDataFrame(
        {"parcel": pd.Index(parcels.index).take(own)},
        geometry=shapely.points(x, y),
        crs=parcels.crs,
    )
    total = int(counts.sum())
    settings = {"spacing_m": spacing_m, "grid": grid, **buffers}
    return TreePotential(
        parcels=out,
        trees=trees,
        plantable=gpd.GeoSeries(plantable, index=parcels.index, crs=parcels.crs),
        total=total,
        target=int(target),
        share_of_target=total / target,
        settings=settings,
    )


__all__ = ["TreePotential", "lattice_points", "tree_potential"]
