"""Burn vector layers into a terrain model: buildings, barriers (dikes, walls) and streams.

Every function takes a DEM DataArray and returns a *new* DataArray on the same grid
(coords, CRS, transform, nodata and attrs kept; the input is not modified). Nodata
cells are never changed. What was burnt is recorded in the attrs:

* ``burnt_layers``: layer names, ``;``-separated, in the order they were burnt;
* ``burn_<layer>``: a one-line summary;
* ``burn_<layer>_features`` / ``burn_<layer>_cells``: number of features used and of
  cells whose height changed.

The vector layer must be in the DEM's CRS (:class:`~klimakort.errors.CRSError`
otherwise; nothing is reprojected here) and its geometries must be valid
(:class:`~klimakort.errors.GeometryError` naming the offending ids otherwise; repair
them with :func:`klimakort.io.vector.repair_geometries`). Features with a missing or
empty geometry are skipped and counted (``burn_<layer>_skipped``).
"""

from __future__ import annotations

import math
from typing import Any, Literal, TypeAlias

import geopandas as gpd
import numpy as np
import shapely
import xarray as xr
from pyproj import CRS
from rasterio.features import rasterize

from klimakort.core.streams import carve_profiles, trace_lines
from klimakort.errors import CRSError, GeometryError, InputError, ParameterError
from klimakort.io.raster import check_projected_crs

Layer: TypeAlias = gpd.GeoDataFrame | gpd.GeoSeries

_POLYGONS = ("Polygon", "MultiPolygon")
_LINES = ("LineString", "MultiLineString")


def burn_buildings(
    dem: xr.DataArray, buildings: Layer, raise_m: float = 10.0, *, layer: str = "buildings"
) -> xr.DataArray:
    """Raise the terrain inside building footprints, so that water flows around them.

    Cells whose centre lies inside a footprint get ``+ raise_m`` (once, also where
    footprints overlap), as SCALGO Live does for its terrain model.

    Parameters
    ----------
    dem : xarray.DataArray
        2-D float terrain model (m) with rioxarray CRS and transform.
    buildings : GeoDataFrame or GeoSeries
        Polygon / MultiPolygon footprints in the DEM's CRS.
    raise_m : float
        Height added inside footprints (m, > 0).
    layer : str
        Name recorded in the attrs.

    Returns
    -------
    xarray.DataArray
        The raised terrain (same grid, dtype and metadata).

    Raises
    ------
    ParameterError
        ``raise_m`` is not a positive finite number.
    CRSError
        The DEM has no (projected) CRS or the layer's CRS differs from it.
    GeometryError
        Invalid geometries, or geometries that are not polygons.
    """
    raise_m = _positive(raise_m, "raise_m")
    values, valid = _dem_arrays(dem)
    geoms, _, skipped = _layer_geometries(dem, buildings, layer, _POLYGONS)
    inside = _rasterize_mask(geoms, dem, all_touched=False) & valid
    out = values.copy()
    out[inside] = (values[inside] + raise_m).astype(values.dtype)
    summary = f"{len(geoms)} footprints, {int(inside.sum())} cells raised by {raise_m:g} m"
    return _result(dem, out, layer, summary, len(geoms), int(inside.sum()), skipped)


def burn_barriers(
    dem: xr.DataArray,
    barriers: gpd.GeoDataFrame,
    crest_field: str = "crest_m",
    width_m: float | None = None,
    *,
    layer: str = "barriers",
) -> xr.DataArray:
    """Raise the terrain along barrier lines (dikes, flood walls) to their crest height.

    Every cell touched by a line (``all_touched=True``; with ``width_m``, touched by
    the line buffered by ``width_m / 2``) becomes ``max(terrain, crest)``: the crest
    is applied where it is higher than the terrain and the terrain is never lowered.
    Where barriers overlap, the highest crest wins.

    Parameters
    ----------
    dem : xarray.DataArray
        2-D float terrain model (m DVR90) with rioxarray CRS and transform.
    barriers : GeoDataFrame
        LineString / MultiLineString features in the DEM's CRS.
    crest_field : str
        Column with the crest height of each barrier (m, same datum as the DEM).
    width_m : float, optional
        Crest width (m, > 0). Default: just the cells touched by the line.
    layer : str
        Name recorded in the attrs.

    Returns
    -------
    xarray.DataArray
        The terrain with barriers (same grid, dtype and metadata).

    Raises
    ------
    InputError
        ``crest_field`` is missing or holds non-numeric / non-finite values.
    ParameterError
        ``width_m`` is given but not a positive finite number.
    CRSError, GeometryError
        As for :func:`burn_buildings` (geometries must be lines).
    """
    if width_m is not None:
        width_m = _positive(width_m, "width_m")
    if not isinstance(barriers, gpd.GeoDataFrame):
        raise InputError(
            f"barriers must be a GeoDataFrame with a {crest_field!r} column, "
            f"got {type(barriers).__name__}"
        )
    if crest_field not in barriers.columns:
        raise InputError(
            f"barrier layer has no crest height column {crest_field!r}; columns are "
            f"{[c for c in barriers.columns if c != barriers.geometry.name]}. "
            "Pass crest_field=<column with the crest height in m>."
        )
    values, valid = _dem_arrays(dem)
    geoms, keep, skipped = _layer_geometries(dem, barriers, layer, _LINES)
    crest = _crest_values(barriers, crest_field, keep)
    if width_m is not None and len(geoms):
        geoms = shapely.buffer(geoms, width_m / 2.0, cap_style="flat")
    grid = np.full(values.shape, np.nan, dtype=np.float64)
    if len(geoms):
        order = np.argsort(crest, kind="stable")  # highest crest drawn last wins
        grid = rasterize(
            zip(geoms[order], crest[order], strict=True),
            out_shape=values.shape,
            transform=dem.rio.transform(),
            fill=np.nan,
            all_touched=True,
            dtype="float64",
        )
    crest_grid = grid.astype(values.dtype)
    with np.errstate(invalid="ignore"):
        raise_cells = valid & (crest_grid > values)
    out = values.copy()
    out[raise_cells] = crest_grid[raise_cells]
    summary = (
        f"{len(geoms)} barriers from {crest_field!r}"
        + (f", width {width_m:g} m" if width_m is not None else "")
        + f", {int(raise_cells.sum())} cells raised to crest"
    )
    return _result(dem, out, layer, summary, len(geoms), int(raise_cells.sum()), skipped)


def burn_streams(
    dem: xr.DataArray,
    streams: Layer,
    depth_m: float | Literal["carve"] = 0.5,
    *,
    direction: Literal["line", "auto"] = "line",
    layer: str = "streams",
) -> xr.DataArray:
    """Lower the terrain along streams and culverts so that water can pass.

    Two modes:

    * ``depth_m`` a number: every cell touched by a line (``all_touched=True``) is
      lowered by ``depth_m`` (once, also where lines overlap). Simple, but it does not
      guarantee passage through an embankment higher than the depth.
    * ``depth_m="carve"``: each line is followed from its first to its last vertex
      (the line direction, which for GeoDanmark watercourses is the flow direction)
      and every cell on it is lowered to the lowest height met upstream on the line,
      giving a monotone non-increasing profile: a culvert through a road embankment
      is cut down to the level of its inlet. The cells of a line are all cells whose
      interior it crosses, walked in line order (4-connected, like
      ``all_touched=True``). Where lines share cells the carving is
      repeated until every line's profile is non-increasing. With
      ``direction="auto"`` a line whose first cell is lower than its last is carved
      from its last vertex instead.

    Parameters
    ----------
    dem : xarray.DataArray
        2-D float terrain model (m) with rioxarray CRS and transform.
    streams : GeoDataFrame or GeoSeries
        LineString / MultiLineString features in the DEM's CRS.
    depth_m : float or "carve"
        Depth to lower by (m, > 0), or ``"carve"``.
    direction : {"line", "auto"}
        Carving direction (``"carve"`` only).
    layer : str
        Name recorded in the attrs.

    Returns
    -------
    xarray.DataArray
        The lowered terrain (same grid, dtype and metadata). Nodata cells stay nodata
        and do not interrupt a carved profile.

    Raises
    ------
    ParameterError
        ``depth_m`` is neither a positive number nor ``"carve"``, or bad ``direction``.
    CRSError, GeometryError
        As for :func:`burn_buildings` (geometries must be lines).
    """
    carve = isinstance(depth_m, str)
    if carve and depth_m != "carve":
        raise ParameterError(f"depth_m must be a positive number or 'carve', got {depth_m!r}")
    depth = None if carve else _positive(depth_m, "depth_m")
    if direction not in ("line", "auto"):
        raise ParameterError(f"direction must be 'line' or 'auto', got {direction!r}")
    values, valid = _dem_arrays(dem)
    geoms, _, skipped = _layer_geometries(dem, streams, layer, _LINES)
    if depth is not None:
        touched = _rasterize_mask(geoms, dem, all_touched=True) & valid
        out = values.copy()
        out[touched] = (values[touched] - depth).astype(values.dtype)
        n_cells = int(touched.sum())
        summary = f"{len(geoms)} lines, {n_cells} cells lowered by {depth:g} m"
    else:
        seq, ptr = _line_cell_sequences(geoms, dem)
        if direction == "auto":
            seq = _orient_downhill(seq, ptr, values.ravel(), valid.ravel())
        flat = values.ravel().copy()
        carve_profiles(flat, seq, ptr, valid.ravel())
        out = flat.reshape(values.shape)
        n_cells = int((out != values)[valid].sum())
        summary = f"{len(geoms)} lines carved ({direction} direction), {n_cells} cells lowered"
    return _result(dem, out, layer, summary, len(geoms), n_cells, skipped)


# --------------------------------------------------------------------------- helpers


def _positive(value: Any, name: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError) as exc:
        raise ParameterError(f"{name} must be a positive number of metres, got {value!r}") from exc
    if not math.isfinite(number) or number <= 0:
        raise ParameterError(f"{name} must be a positive finite number of metres, got {value!r}")
    return number


def _dem_arrays(dem: xr.DataArray) -> tuple[np.ndarray, np.ndarray]:
    """Return (values, valid) of a 2-D float DEM."""
    values = np.asarray(dem.values)
    if values.ndim != 2:
        raise InputError(f"the DEM must be a 2-D raster, got shape {values.shape}")
    if not np.issubdtype(values.dtype, np.floating):
        raise InputError(f"the DEM must hold float heights, got dtype {values.dtype}")
    valid = ~np.isnan(values)
    nodata = dem.rio.nodata
    if nodata is not None and not np.isnan(nodata):
        valid &= values != nodata
    return values, valid


def _layer_geometries(
    dem: xr.DataArray, layer_data: Layer, layer: str, allowed: tuple[str, ...]
) -> tuple[np.ndarray, np.ndarray, int]:
    """Checked geometries of a layer: (geometries, row mask of the kept rows, n skipped)."""
    if not isinstance(layer_data, gpd.GeoDataFrame | gpd.GeoSeries):
        raise InputError(
            f"{layer} must be a GeoDataFrame or GeoSeries, got {type(layer_data).__name__}"
        )
    _check_same_crs(dem, layer_data.crs, layer)
    series = layer_data.geometry if isinstance(layer_data, gpd.GeoDataFrame) else layer_data
    geoms = np.asarray(series.values, dtype=object)
    keep = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    geoms = geoms[keep]
    labels = np.asarray(series.index)[keep]
    types = shapely.get_type_id(geoms)
    allowed_ids = [_TYPE_IDS[name] for name in allowed]
    wrong = ~np.isin(types, allowed_ids)
    if wrong.any():
        kinds = sorted({shapely.get_type_id(g) for g in geoms[wrong]})
        raise GeometryError(
            f"{layer} must hold {' / '.join(allowed)} geometries; features "
            f"{_ids(labels[wrong])} are {[_TYPE_NAMES[k] for k in kinds]}"
        )
    invalid = ~shapely.is_valid(geoms)
    if invalid.any():
        first = labels[invalid][0]
        reason = shapely.is_valid_reason(geoms[invalid][0])
        raise GeometryError(
            f"{layer} has {int(invalid.sum())} invalid geometr"
            f"{'y' if invalid.sum() == 1 else 'ies'}: ids {_ids(labels[invalid])} "
            f"(id {first}: {reason}). Repair them first, e.g. with "
            "klimakort.io.vector.repair_geometries or shapely.make_valid."
        )
    return geoms, keep, int((~keep).sum())


_TYPE_NAMES = {
    0: "Point",
    1: "LineString",
    2: "LinearRing",
    3: "Polygon",
    4: "MultiPoint",
    5: "MultiLineString",
    6: "MultiPolygon",
    7: "GeometryCollection",
}
_TYPE_IDS = {name: code for code, name in _TYPE_NAMES.items()}


def _ids(labels: np.ndarray, limit: int = 10) -> str:
    shown = ", ".join(str(v) for v in labels[:limit])
    return f"[{shown}{', ...' if len(labels) > limit else ''}]"


def _check_same_crs(dem: xr.DataArray, crs: Any, layer: str) -> None:
    dem_crs = CRS.from_user_input(check_projected_crs(dem.rio.crs, "DEM"))
    if crs is None:
        raise CRSError(
            f"{layer} has no CRS; set it (e.g. gdf.set_crs('EPSG:25832')) if you know it. "
            "klimakort never guesses a CRS."
        )
    layer_crs = CRS.from_user_input(crs)
    same = layer_crs.equals(dem_crs, ignore_axis_order=True)
    if not same:
        epsg = layer_crs.to_epsg()
        same = epsg is not None and epsg == dem_crs.to_epsg()
    if not same:
        raise CRSError(
            f"{layer} is in {layer_crs.to_string()} but the DEM is in "
            f"{dem_crs.to_string()}; reproject the layer first (gdf.to_crs(...)). "
            "Burning never reprojects silently."
        )


def _crest_values(barriers: gpd.GeoDataFrame, field: str, keep: np.ndarray) -> np.ndarray:
    try:
        crest = np.asarray(barriers[field], dtype=np.float64)[keep]
    except (TypeError, ValueError) as exc:
        raise InputError(f"barrier column {field!r} must hold numbers (m): {exc}") from exc
    bad = ~np.isfinite(crest)
    if bad.any():
        raise InputError(
            f"barrier column {field!r} has missing or non-finite crest heights for ids "
            f"{_ids(np.asarray(barriers.index)[keep][bad])}; fill them or drop those rows"
        )
    return crest


def _rasterize_mask(geoms: np.ndarray, dem: xr.DataArray, *, all_touched: bool) -> np.ndarray:
    shape = dem.shape
    if len(geoms) == 0:
        return np.zeros(shape, dtype=bool)
    burnt = rasterize(
        ((g, 1) for g in geoms),
        out_shape=shape,
        transform=dem.rio.transform(),
        fill=0,
        all_touched=all_touched,
        dtype="uint8",
    )
    return np.asarray(burnt, dtype=bool)


def _line_cell_sequences(geoms: np.ndarray, dem: xr.DataArray) -> tuple[np.ndarray, np.ndarray]:
    """Cells under each line part, in line order, as (flat indices, offsets)."""
    parts = shapely.get_parts(geoms)
    xy, part = shapely.get_coordinates(parts, return_index=True)
    cols, rows = ~dem.rio.transform() * (xy[:, 0], xy[:, 1])
    counts = np.bincount(part, minlength=len(parts))
    part_ptr = np.concatenate(([0], np.cumsum(counts))).astype(np.int64)
    ny, nx = dem.shape
    seq, ptr = trace_lines(
        np.asarray(cols, dtype=np.float64), np.asarray(rows, dtype=np.float64), part_ptr, ny, nx
    )
    return seq, ptr


def _orient_downhill(
    seq: np.ndarray, ptr: np.ndarray, z: np.ndarray, valid: np.ndarray
) -> np.ndarray:
    """Reverse the sequences whose first valid cell is lower than their last one."""
    out = seq.copy()
    for s in range(ptr.size - 1):
        cells = seq[ptr[s] : ptr[s + 1]]
        heights = z[cells][valid[cells]]
        if heights.size >= 2 and heights[0] < heights[-1]:
            out[ptr[s] : ptr[s + 1]] = cells[::-1]
    return out


def _result(
    dem: xr.DataArray,
    out: np.ndarray,
    layer: str,
    summary: str,
    n_features: int,
    n_cells: int,
    skipped: int,
) -> xr.DataArray:
    result = dem.copy(data=out)
    attrs = dict(dem.attrs)
    previous = str(attrs.get("burnt_layers", ""))
    attrs["burnt_layers"] = f"{previous};{layer}" if previous else layer
    attrs[f"burn_{layer}"] = summary
    attrs[f"burn_{layer}_features"] = n_features
    attrs[f"burn_{layer}_cells"] = n_cells
    if skipped:
        attrs[f"burn_{layer}_skipped"] = skipped
    result.attrs = attrs
    return result
