"""Flow paths ("vandets veje"): the D8 stream network as connected line segments.

Cells whose upstream area reaches a threshold form the stream network. It is split
into segments between sources, confluences and outlets
(:func:`klimakort.core.streams.stream_segments`) and each segment becomes a
LineString through the cell centres, in the raster CRS. A segment's line ends at
the first cell of the segment it drains into (the confluence cell), so the lines
form a topologically connected network: the last vertex of every segment is the
first vertex of its downstream segment, or the segment ends at an outlet.
"""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import xarray as xr

from klimakort.core.d8codes import CODES, NODATA, PIT
from klimakort.core.streams import segment_vertices, strahler_order, stream_segments
from klimakort.errors import InputError, ParameterError
from klimakort.io.raster import check_projected_crs, check_same_grid

#: columns of the result, in order (besides ``geometry``)
COLUMNS: tuple[str, ...] = (
    "segment_id",
    "downstream_id",
    "upstream_area_m2",
    "strahler",
    "length_m",
)

_VALID_CODES = np.zeros(256, dtype=bool)
_VALID_CODES[CODES] = True
_VALID_CODES[[PIT, NODATA]] = True


def flow_paths(
    fdir: xr.DataArray, upstream_area: xr.DataArray, threshold_m2: float
) -> gpd.GeoDataFrame:
    """Vectorise the D8 flow paths whose upstream area reaches a threshold.

    Parameters
    ----------
    fdir : xarray.DataArray
        2-D D8 flow directions, ESRI codes (``uint8``; 0 outlet/pit, 255 nodata),
        with rioxarray CRS and transform.
    upstream_area : xarray.DataArray
        Upstream (contributing) area in m² on the same grid, NaN at nodata, e.g.
        ``flow_accumulation(fdir, cell_area=dx * dy)``.
    threshold_m2 : float
        A cell is a flow-path cell when its upstream area is >= this value (m², > 0).

    Returns
    -------
    geopandas.GeoDataFrame
        One LineString per segment, in the raster CRS, through cell centres, ordered
        by ``segment_id``. Columns: ``segment_id`` (int64, 0..n-1), ``downstream_id``
        (int64, the segment it drains into, -1 at outlets), ``upstream_area_m2``
        (float64, largest upstream area on the segment = at its last own cell),
        ``strahler`` (int64 Strahler order, constant along a segment), ``length_m``
        (float64, line length including the step into the downstream segment;
        diagonal steps count sqrt(dx² + dy²)). Empty with these columns and the CRS
        when no cell reaches the threshold.

    Raises
    ------
    ParameterError
        ``threshold_m2`` is not a positive finite number.
    CRSError
        ``fdir`` has no CRS or a non-projected one.
    GridMismatchError
        The two rasters do not share CRS, shape and transform.
    InputError
        ``fdir`` is not 2-D, holds codes that are not D8 codes, or has a flow cycle.

    Notes
    -----
    Stream cells that are isolated (no upstream and no downstream stream cell, e.g.
    an edge cell whose own area already reaches the threshold) cannot form a line
    and are left out. A confluence at a network outlet is the last vertex of the
    segments that meet there; it does not get a zero-length segment of its own.
    Cells whose D8 neighbour is not a stream cell (nodata, outside the grid) end
    their segment, which is then an outlet (``downstream_id = -1``).
    """
    threshold = _check_threshold(threshold_m2)
    crs = check_projected_crs(fdir.rio.crs, "flow-direction raster")
    check_same_grid(fdir, upstream_area, "flow directions and upstream area")
    codes = _checked_codes(fdir)
    area = np.asarray(upstream_area.values, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        mask = (area >= threshold) & (codes != NODATA)

    order = strahler_order(codes, mask).ravel()
    if (order[mask.ravel()] == 0).any():
        raise InputError(
            "the flow-direction grid has a flow cycle among the flow-path cells; "
            "compute D8 directions on a depression-filled DEM (flats='epsilon')"
        )
    cells, ptr, down = stream_segments(codes, mask)
    vcells, vptr = segment_vertices(cells, ptr, down)
    cells, ptr, down, vcells, vptr = _drop_pointlike(cells, ptr, down, vcells, vptr)
    nseg = ptr.size - 1
    if nseg == 0:
        return _empty(crs)

    geoms = _lines(vcells, vptr, fdir)
    seg_area = np.maximum.reduceat(area.ravel()[cells], ptr[:-1])
    data = {
        "segment_id": np.arange(nseg, dtype=np.int64),
        "downstream_id": down.astype(np.int64),
        "upstream_area_m2": seg_area.astype(np.float64),
        "strahler": order[cells[ptr[:-1]]].astype(np.int64),
        "length_m": shapely.length(geoms),
    }
    return gpd.GeoDataFrame(data, geometry=gpd.GeoSeries(geoms, crs=crs), crs=crs)


def _check_threshold(threshold_m2: float) -> float:
    try:
        value = float(threshold_m2)
    except (TypeError, ValueError) as exc:
        raise ParameterError(
            f"threshold_m2 must be a number of square metres, got {threshold_m2!r}"
        ) from exc
    if not math.isfinite(value) or value <= 0:
        raise ParameterError(
            f"threshold_m2 must be a positive finite area in m², got {threshold_m2!r}; "
            "e.g. 10000 for flow paths draining at least one hectare"
        )
    return value


def _checked_codes(fdir: xr.DataArray) -> np.ndarray:
    values = np.asarray(fdir.values)
    if values.ndim != 2:
        raise InputError(f"flow directions must be a 2-D raster, got shape {values.shape}")
    if not np.issubdtype(values.dtype, np.integer):
        raise InputError(
            f"flow directions must be integer D8 codes (uint8), got dtype {values.dtype}"
        )
    bad = (values < 0) | (values > 255)
    if not bad.any():
        bad = ~_VALID_CODES[values.astype(np.uint8)]
    if bad.any():
        example = sorted({int(v) for v in values[bad][:1000]})[:5]
        raise InputError(
            f"flow directions hold {int(bad.sum())} cell(s) with codes that are not ESRI "
            f"D8 codes (e.g. {example}); allowed are 1, 2, 4, ..., 128, 0 (outlet) and "
            "255 (nodata). Convert malstrøm codes (0..8) first."
        )
    return values.astype(np.uint8, copy=False)


def _drop_pointlike(
    cells: np.ndarray, ptr: np.ndarray, down: np.ndarray, vcells: np.ndarray, vptr: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Remove segments with a single vertex (one cell, no downstream) and renumber.

    Such a segment is an isolated cell or a confluence at a network outlet; in the
    latter case the segments draining into it keep it as their last vertex and
    become outlets themselves.
    """
    nvert = np.diff(vptr)
    keep = nvert >= 2
    if keep.all():
        return cells, ptr, down, vcells, vptr
    new_id = np.full(down.size, -1, dtype=np.int64)
    new_id[keep] = np.arange(int(keep.sum()))
    kept_down = down[keep]
    new_down = np.where(kept_down >= 0, new_id[np.maximum(kept_down, 0)], -1).astype(np.int64)
    lengths = np.diff(ptr)
    new_cells = cells[np.repeat(keep, lengths)]
    new_ptr = np.concatenate(([0], np.cumsum(lengths[keep]))).astype(np.int64)
    new_vcells = vcells[np.repeat(keep, nvert)]
    new_vptr = np.concatenate(([0], np.cumsum(nvert[keep]))).astype(np.int64)
    return new_cells, new_ptr, new_down, new_vcells, new_vptr


def _lines(vcells: np.ndarray, vptr: np.ndarray, grid: xr.DataArray) -> np.ndarray:
    """LineStrings through the centres of the vertex cells (vectorised)."""
    nx = grid.shape[1]
    t = grid.rio.transform()
    rows, cols = np.divmod(vcells, nx)
    colc = cols + 0.5
    rowc = rows + 0.5
    xs = t.a * colc + t.b * rowc + t.c
    ys = t.d * colc + t.e * rowc + t.f
    index = np.repeat(np.arange(vptr.size - 1), np.diff(vptr))
    return np.asarray(shapely.linestrings(xs, ys, indices=index))


def _empty(crs: object) -> gpd.GeoDataFrame:
    data = {
        "segment_id": pd.Series([], dtype="int64"),
        "downstream_id": pd.Series([], dtype="int64"),
        "upstream_area_m2": pd.Series([], dtype="float64"),
        "strahler": pd.Series([], dtype="int64"),
        "length_m": pd.Series([], dtype="float64"),
    }
    return gpd.GeoDataFrame(data, geometry=gpd.GeoSeries([], crs=crs), crs=crs)
