"""Depth to groundwater: head surfaces, depth = terrain - head, depth classes.

Head surface from vectors
-------------------------
Contour lines of the groundwater head (potential) are densified to points every
``spacing`` metres; observation points are added as they are. The head is interpolated
*linearly on the Delaunay triangulation* of these points
(:class:`scipy.interpolate.LinearNDInterpolator`), the classic "TIN from contours":

* it reproduces every contour exactly and is monotone between neighbouring contours, so
  it never invents highs or lows that no contour shows (cubic Clough-Tocher and
  splines overshoot near bends, which shifts depth classes by a metre where contours are
  sparse);
* it is local (one bad contour only affects its own triangles) and deterministic;
* its known artefact is *flat triangles* where all three corners lie on the same contour
  (inside tight bends and closed contours); there the head equals that contour value.
  ``method="cubic"`` (Clough-Tocher) is offered for smooth surfaces where contours are
  dense.

Cells outside the convex hull of the data are **not extrapolated**: they get NaN, and the
result carries ``attrs["outside_hull_cells"]`` and a boolean ``outside_hull`` coordinate-free
mask (:attr:`GroundwaterResult.outside_hull`).

Depth classes
-------------
uint8 codes ``1``: depth < 1 m (including negative depth, i.e. head above terrain, which is
folded into class 1 - the depth raster keeps the negative values), ``2``: 1-2 m, ``3``:
2-3 m, ``4``: >= 3 m, ``0``: nodata. The classes match HIP's near-surface groundwater
depth maps (0-1, 1-2, 2-3, 3-7 m).

A scenario's groundwater rise lowers the depth: ``depth = terrain - head - rise``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import shapely
import xarray as xr
from pyproj import CRS
from scipy.spatial import Delaunay, QhullError

from klimakort.errors import CRSError, GeometryError, InputError, NoDataError, ParameterError
from klimakort.hazards.sealevel import terrain_values
from klimakort.io.raster import check_same_grid, like

__all__ = [
    "CLASS_BOUNDS_M",
    "CLASS_LABELS",
    "CLASS_NODATA",
    "GroundwaterResult",
    "HeadSurface",
    "classify_depth",
    "depth_to_groundwater",
    "groundwater_depth",
    "head_points_from_vector",
    "head_surface_from_vector",
    "resample_head",
]

#: upper bounds (m) of depth classes 1..3; class 4 is everything deeper
CLASS_BOUNDS_M: tuple[float, float, float] = (1.0, 2.0, 3.0)
#: labels of the class codes
CLASS_LABELS: dict[int, str] = {
    0: "nodata",
    1: "0-1 m (incl. above terrain)",
    2: "1-2 m",
    3: "2-3 m",
    4: "> 3 m",
}
#: class code for nodata
CLASS_NODATA = 0

Method = Literal["linear", "cubic"]


def head_points_from_vector(
    layers: gpd.GeoDataFrame | Sequence[gpd.GeoDataFrame],
    field: str,
    spacing: float = 10.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Head sample points from contour lines (densified) and/or observation points.

    Parameters
    ----------
    layers : GeoDataFrame or sequence of GeoDataFrames
        Lines (contours) and/or points with a head field (m). All must share one CRS.
    field : str
        Head field name (e.g. ``"Vsp_2024"``).
    spacing : float
        Maximum distance (m) between points along a contour.

    Returns
    -------
    xy : ndarray, shape (n, 2)
        Unique point coordinates.
    head : ndarray, shape (n,)
        Head at each point (mean where several features give the same point).

    Raises
    ------
    InputError
        Missing field; GeometryError: polygons; CRSError: missing or differing CRS.
    """
    if spacing <= 0:
        raise ParameterError(f"spacing must be > 0 m, got {spacing}")
    frames = [layers] if isinstance(layers, gpd.GeoDataFrame) else list(layers)
    if not frames:
        raise NoDataError("no head layers given")
    _common_crs(frames)
    xs: list[np.ndarray] = []
    vs: list[np.ndarray] = []
    for gdf in frames:
        if field not in gdf.columns:
            raise InputError(
                f"head layer has no field {field!r}; fields are {list(gdf.columns)}; "
                "pass --head-field / field"
            )
        values = gdf[field].astype(float).to_numpy()
        geoms = gdf.geometry.to_numpy()
        keep = np.isfinite(values) & ~shapely.is_empty(geoms) & ~shapely.is_missing(geoms)
        for geom, value in zip(geoms[keep], values[keep], strict=True):
            coords = _sample_geometry(geom, spacing)
            xs.append(coords)
            vs.append(np.full(len(coords), value))
    if not xs:
        raise NoDataError(f"no features with a finite {field!r} and a geometry")
    xy = np.concatenate(xs)
    head = np.concatenate(vs)
    # collapse coincident points (contour joins, duplicated wells) to their mean
    key = np.round(xy, 3)
    uniq, inverse = np.unique(key, axis=0, return_inverse=True)
    inverse = inverse.ravel()
    sums = np.bincount(inverse, weights=head, minlength=len(uniq))
    counts = np.bincount(inverse, minlength=len(uniq))
    return uniq.astype(np.float64), sums / counts


def _common_crs(frames: Sequence[gpd.GeoDataFrame]) -> CRS:
    crss = []
    for gdf in frames:
        if gdf.crs is None:
            raise CRSError("a head layer has no CRS; set it in the file (klimakort never guesses)")
        crss.append(CRS.from_user_input(gdf.crs))
    first = crss[0]
    if any(not c.equals(first) for c in crss[1:]):
        raise CRSError("head layers have different CRSs; reproject them to the area CRS first")
    if first.is_geographic:
        raise CRSError("head layers use a geographic CRS; reproject them to a projected CRS")
    return first


def _sample_geometry(geom: Any, spacing: float) -> np.ndarray:
    kind = str(geom.geom_type)
    if kind in ("Point", "MultiPoint"):
        return np.asarray(shapely.get_coordinates(geom))
    if kind in ("LineString", "LinearRing", "MultiLineString"):
        dense = shapely.segmentize(geom, spacing)
        return np.asarray(shapely.get_coordinates(dense))
    if kind == "GeometryCollection":
        parts = [_sample_geometry(g, spacing) for g in shapely.get_parts(geom)]
        return np.concatenate(parts) if parts else np.empty((0, 2))
    raise GeometryError(
        f"head features must be contour lines or points, got {kind}; "
        "convert polygons to their boundary lines first"
    )


def _barycentric_transforms(points: np.ndarray, simplices: np.ndarray) -> np.ndarray:
    """Affine maps to barycentric coordinates of 2-D triangles, in scipy's layout.

    For triangle ``i`` with corners ``p0, p1, p2``: ``T[i, :2] = inv([p0 - p2, p1 - p2].T)``
    and ``T[i, 2] = p2``; degenerate (zero-area) triangles get NaN, as in scipy.
    """
    corners = points[simplices]
    ref = corners[:, 2, :]
    a = corners[:, 0, :] - ref
    b = corners[:, 1, :] - ref
    det = a[:, 0] * b[:, 1] - b[:, 0] * a[:, 1]
    scale = np.maximum(np.abs(a).max(axis=1), np.abs(b).max(axis=1)) ** 2
    bad = np.abs(det) <= 1e3 * np.finfo(float).eps * np.maximum(scale, np.finfo(float).tiny)
    with np.errstate(divide="ignore", invalid="ignore"):
        inv = 1.0 / np.where(bad, np.nan, det)
    out = np.empty((len(simplices), 3, 2))
    out[:, 0, 0] = b[:, 1] * inv
    out[:, 0, 1] = -b[:, 0] * inv
    out[:, 1, 0] = -a[:, 1] * inv
    out[:, 1, 1] = a[:, 0] * inv
    out[:, 2, :] = ref
    out[bad] = np.nan
    return out


@dataclass(frozen=True, eq=False)
class HeadSurface:
    """A groundwater head surface interpolated from scattered points.

    Create it with :func:`head_surface_from_vector`. Call it with coordinates to get the
    head (NaN outside the convex hull of the data).

    Attributes
    ----------
    xy : ndarray, shape (n, 2)
        Data points.
    head : ndarray, shape (n,)
        Head at the data points (m).
    method : {"linear", "cubic"}
        Linear on the Delaunay triangulation, or Clough-Tocher cubic.
    crs : pyproj.CRS or None
        CRS of the coordinates.
    """

    xy: np.ndarray
    head: np.ndarray
    method: Method = "linear"
    crs: CRS | None = None

    def __post_init__(self) -> None:
        if self.method not in ("linear", "cubic"):
            raise ParameterError(f"method must be 'linear' or 'cubic', got {self.method!r}")
        if len(self.xy) < 3:
            raise NoDataError(f"need at least 3 head points to interpolate, got {len(self.xy)}")
        try:
            tri = Delaunay(self.xy)
        except QhullError as exc:
            raise NoDataError(
                "head points are collinear or degenerate; cannot triangulate"
            ) from exc
        # scipy computes these lazily with one LAPACK call per triangle, which is slow and,
        # with a multi-threaded BLAS on a busy machine, very slow; the 2-D closed form is
        # exact and vectorised
        tri._transform = _barycentric_transforms(tri.points, tri.simplices)
        object.__setattr__(self, "_tri", tri)
        if self.method == "cubic":
            # imported here: scipy.interpolate takes ~0.4 s to import, and reading stored
            # hazards (a report, a server restart) never interpolates
            from scipy.interpolate import CloughTocher2DInterpolator

            cubic = CloughTocher2DInterpolator(tri, self.head, fill_value=np.nan)
            object.__setattr__(self, "_cubic", cubic)

    def __call__(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Head (m) at coordinates ``x``, ``y`` (same CRS); NaN outside the hull."""
        xa, ya = np.broadcast_arrays(np.asarray(x, dtype=float), np.asarray(y, dtype=float))
        pts = np.column_stack([xa.ravel(), ya.ravel()])
        if self.method == "cubic":
            out = np.asarray(self._cubic(pts), dtype=np.float64)  # type: ignore[attr-defined]
            return out.reshape(xa.shape)
        tri: Delaunay = self._tri  # type: ignore[attr-defined]
        simplex = tri.find_simplex(pts)
        out = np.full(len(pts), np.nan)
        ok = simplex >= 0
        trans = tri.transform[simplex[ok]]
        first = np.einsum("ijk,ik->ij", trans[:, :2, :], pts[ok] - trans[:, 2, :])
        weights = np.column_stack([first, 1.0 - first.sum(axis=1)])
        out[ok] = np.einsum("ij,ij->i", weights, self.head[tri.simplices[simplex[ok]]])
        return out.reshape(xa.shape)

    def inside_hull(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """True where (x, y) lies inside the convex hull of the data points."""
        xa, ya = np.broadcast_arrays(np.asarray(x, dtype=float), np.asarray(y, dtype=float))
        pts = np.column_stack([xa.ravel(), ya.ravel()])
        simplex = self._tri.find_simplex(pts)  # type: ignore[attr-defined]
        return np.asarray(simplex >= 0).reshape(xa.shape)

    def to_grid(self, grid: xr.DataArray) -> xr.DataArray:
        """Head on the cell centres of ``grid`` (NaN outside the hull).

        Parameters
        ----------
        grid : xarray.DataArray
            Target grid (normally the terrain), with CRS and transform.

        Returns
        -------
        xarray.DataArray of float32
            ``attrs["outside_hull_cells"]`` counts cells left NaN for lying outside the hull.
        """
        if (
            self.crs is not None
            and grid.rio.crs is not None
            and not CRS.from_user_input(grid.rio.crs).equals(self.crs)
        ):
            raise CRSError(
                f"head data are in {self.crs.to_string()} but the grid is in "
                f"{grid.rio.crs}; reproject the head layers first"
            )
        transform = grid.rio.transform()
        ny, nx = grid.shape[-2:]
        xs = transform.c + transform.a * (np.arange(nx) + 0.5)
        ys = transform.f + transform.e * (np.arange(ny) + 0.5)
        xx, yy = np.meshgrid(xs, ys)
        head = self(xx, yy).astype(np.float32)
        outside = int(np.isnan(head).sum())
        return like(
            grid,
            head,
            name="head",
            attrs={
                "units": "m",
                "long_name": "groundwater head",
                "method": f"{self.method} interpolation on the Delaunay triangulation",
                "outside_hull_cells": outside,
            },
        )


def head_surface_from_vector(
    layers: gpd.GeoDataFrame | Sequence[gpd.GeoDataFrame],
    field: str,
    *,
    spacing: float = 10.0,
    method: Method = "linear",
) -> HeadSurface:
    """Build a head surface from contour lines and/or observation points.

    Parameters
    ----------
    layers : GeoDataFrame or sequence of GeoDataFrames
        Contours (lines) and/or points carrying ``field``.
    field : str
        Head field (m, same datum as the terrain).
    spacing : float
        Densification distance along contours (m).
    method : {"linear", "cubic"}
        Interpolation (see module docs for why linear is the default).

    Returns
    -------
    HeadSurface
    """
    frames = [layers] if isinstance(layers, gpd.GeoDataFrame) else list(layers)
    xy, head = head_points_from_vector(frames, field, spacing)
    return HeadSurface(xy, head, method=method, crs=_common_crs(frames))


def resample_head(head: xr.DataArray, dem: xr.DataArray) -> xr.DataArray:
    """Resample a head raster bilinearly onto the terrain grid (explicit, never implicit).

    Head models (e.g. HIP, 100 m cells) are much coarser than terrain models (0.4-1.6 m);
    bilinear resampling keeps the smooth head surface continuous. Cells outside the head
    raster become NaN.

    Parameters
    ----------
    head : xarray.DataArray
        Head raster with CRS and transform.
    dem : xarray.DataArray
        Terrain grid to match.

    Returns
    -------
    xarray.DataArray of float32 on the terrain grid.
    """
    from rasterio.enums import Resampling

    if head.rio.crs is None:
        raise CRSError("the head raster has no CRS; set it in the file (klimakort never guesses)")
    src = head.astype(np.float32)
    if src.rio.nodata is None:
        src = src.rio.write_nodata(np.nan, encoded=False)
    out = src.rio.reproject_match(dem, resampling=Resampling.bilinear)
    values = np.asarray(out.values, dtype=np.float32)
    nodata = out.rio.nodata
    if nodata is not None and not np.isnan(nodata):
        values = np.where(values == np.float32(nodata), np.float32(np.nan), values)
    return like(dem, values, name="head", attrs={**head.attrs, "resampled": "bilinear"})


def depth_to_groundwater(dem: xr.DataArray, head: xr.DataArray, rise: float = 0.0) -> xr.DataArray:
    """Depth to groundwater (m below terrain): ``terrain - head - rise``.

    Parameters
    ----------
    dem : xarray.DataArray
        Terrain (m DVR90).
    head : xarray.DataArray
        Groundwater head on the same grid (m DVR90).
    rise : float
        Scenario rise of the groundwater (m); it lowers the depth.

    Returns
    -------
    xarray.DataArray of float32
        Negative where the head is above terrain; NaN where either input is nodata.
    """
    if not np.isfinite(rise):
        raise ParameterError(f"rise must be finite, got {rise}")
    check_same_grid(dem, head, "terrain and groundwater head")
    head_vals = np.asarray(head.values, dtype=np.float32)
    hnod = head.rio.nodata
    if hnod is not None and not np.isnan(hnod):
        head_vals = np.where(head_vals == np.float32(hnod), np.float32(np.nan), head_vals)
    depth = (terrain_values(dem) - head_vals - np.float32(rise)).astype(np.float32)
    attrs = {
        "units": "m",
        "long_name": "depth to groundwater below terrain",
        "groundwater_rise_m": float(rise),
    }
    if "outside_hull_cells" in head.attrs:
        attrs["outside_hull_cells"] = head.attrs["outside_hull_cells"]
    return like(dem, depth, name="depth_to_groundwater", attrs=attrs)


def classify_depth(depth: xr.DataArray) -> xr.DataArray:
    """Depth classes 1..4 (0-1, 1-2, 2-3, >3 m; negative depth folded into 1), 0 = nodata.

    Parameters
    ----------
    depth : xarray.DataArray
        Depth to groundwater (m).

    Returns
    -------
    xarray.DataArray of uint8
    """
    values = np.asarray(depth.values, dtype=np.float64)
    valid = np.isfinite(values)
    codes = np.digitize(np.where(valid, values, 0.0), CLASS_BOUNDS_M) + 1
    out = np.where(valid, codes, CLASS_NODATA).astype(np.uint8)
    return like(
        depth,
        out,
        name="depth_class",
        nodata=CLASS_NODATA,
        attrs={"classes": "; ".join(f"{k}={v}" for k, v in CLASS_LABELS.items())},
    )


@dataclass(frozen=True)
class GroundwaterResult:
    """Result of :func:`groundwater_depth`.

    Attributes
    ----------
    head : xarray.DataArray
    depth : xarray.DataArray
    classes : xarray.DataArray
    outside_hull : ndarray of bool
        Cells with terrain but no head because they lie outside the data's convex hull
        (all False for a head raster).
    """

    head: xr.DataArray
    depth: xr.DataArray
    classes: xr.DataArray
    outside_hull: np.ndarray


def groundwater_depth(
    dem: xr.DataArray,
    head: xr.DataArray | HeadSurface,
    rise: float = 0.0,
) -> GroundwaterResult:
    """Head on the terrain grid, depth to groundwater and its classes.

    Parameters
    ----------
    dem : xarray.DataArray
        Terrain.
    head : xarray.DataArray or HeadSurface
        Head raster on the terrain grid, or a surface from :func:`head_surface_from_vector`.
    rise : float
        Scenario groundwater rise (m), e.g. ``load_scenario("2050").groundwater_rise_m.value``.

    Returns
    -------
    GroundwaterResult
    """
    if isinstance(head, HeadSurface):
        head_da = head.to_grid(dem)
        terrain = terrain_values(dem)
        outside = np.isnan(np.asarray(head_da.values)) & ~np.isnan(terrain)
        head_da.attrs["outside_hull_cells"] = int(outside.sum())
    else:
        check_same_grid(dem, head, "terrain and groundwater head")
        head_da = head
        outside = np.zeros(dem.shape, dtype=bool)
    depth = depth_to_groundwater(dem, head_da, rise)
    return GroundwaterResult(head_da, depth, classify_depth(depth), outside)
