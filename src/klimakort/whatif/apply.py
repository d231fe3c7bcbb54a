"""Apply terrain edits exactly on the terrain grid.

:func:`apply_edits` takes the area's *raw* terrain (before buildings, barriers and streams
are burnt in) and returns the edited terrain, the buildings left to burn in, and the
footprint of the change. The what-if then conditions and analyses the edited terrain the
same way as the base run, so a dike edit across a mapped stream keeps the stream's culvert
open (the stream is carved through it, as it is through roads in the base run).

Rasterisation: polygons take the cells whose centre lies inside; lines every cell they
touch (``all_touched``, no diagonal gaps: a one-cell dike holds water), buffered to
``width_m`` when given. An edit that covers no valid cell is refused.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
import xarray as xr
from rasterio.features import rasterize

from klimakort.errors import GeometryError
from klimakort.hydro.burn import burn_streams
from klimakort.io.raster import cell_size
from klimakort.whatif.edits import Edit, geometry_type


@dataclass
class AppliedEdits:
    """The edited terrain and what changed.

    Attributes
    ----------
    terrain : xarray.DataArray
        Edited raw terrain (same grid, dtype and metadata as the input).
    buildings : GeoDataFrame or None
        Buildings still burnt in (None: the area has none).
    removed_buildings : list of str
        Ids (index labels) of the buildings removed by ``remove_building`` edits.
    footprint : numpy.ndarray of bool
        Cells whose terrain changed, or under a removed building.
    summary : list of dict
        Per edit: ``edit_id``, ``kind``, ``cells`` (cells changed), ``volume_m3``
        (terrain volume added, negative where dug out), buildings removed.
    """

    terrain: xr.DataArray
    buildings: gpd.GeoDataFrame | None
    removed_buildings: list[str] = field(default_factory=list)
    footprint: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), bool))
    summary: list[dict[str, object]] = field(default_factory=list)


def edit_mask(edit: Edit, grid: xr.DataArray) -> np.ndarray:
    """The cells an edit covers on ``grid`` (bool array, nodata cells included)."""
    geom = edit.geometry
    width = edit.value("width_m")
    lines = "Line" in str(geometry_type(geom))
    if lines and width is not None:
        geom = shapely.buffer(geom, width / 2.0, cap_style="flat")
    burnt = rasterize(
        [(geom, 1)],
        out_shape=grid.shape,
        transform=grid.rio.transform(),
        fill=0,
        all_touched=lines,
        dtype="uint8",
    )
    return np.asarray(burnt, dtype=bool)


def _culvert(edit: Edit, z: np.ndarray, grid: xr.DataArray) -> np.ndarray:
    """Terrain after a culvert edit: inverts interpolated along the line, or carved."""
    start, end = edit.value("invert_start_m"), edit.value("invert_end_m")
    if start is None or end is None:
        lines = gpd.GeoSeries([edit.geometry], crs=grid.rio.crs)
        da = burn_streams(grid.copy(data=z), lines, depth_m="carve", direction="auto")
        return np.asarray(da.values)
    mask = edit_mask(edit, grid) & np.isfinite(z)
    rows, cols = np.nonzero(mask)
    xs, ys = grid.rio.transform() * (cols + 0.5, rows + 0.5)
    line: Any = edit.geometry
    frac = shapely.line_locate_point(line, shapely.points(xs, ys), normalized=True)
    invert = start + (end - start) * np.asarray(frac, dtype=np.float64)
    out = z.copy()
    out[rows, cols] = np.minimum(z[rows, cols], invert.astype(z.dtype))
    return out


def _remove_buildings(
    edit: Edit, buildings: gpd.GeoDataFrame | None
) -> tuple[gpd.GeoDataFrame, list[str]]:
    if buildings is None or buildings.empty:
        raise GeometryError(
            f"remove_building edit {edit.edit_id}: the area has no buildings to remove"
        )
    hit = np.asarray(buildings.geometry.intersects(edit.geometry), dtype=bool)
    if not hit.any():
        raise GeometryError(
            f"remove_building edit {edit.edit_id} touches no building footprint; draw it "
            "over the building(s) to remove"
        )
    removed = [str(v) for v in buildings.index[hit]]
    return buildings[~hit], removed


def _apply_one(edit: Edit, z: np.ndarray, grid: xr.DataArray) -> np.ndarray:
    if edit.kind == "culvert":
        return _culvert(edit, z, grid)
    mask = edit_mask(edit, grid) & np.isfinite(z)
    if not mask.any():
        raise GeometryError(
            f"{edit.kind} edit {edit.edit_id} covers no terrain cell (cells are "
            f"{abs(grid.rio.resolution()[0]):g} m); draw it larger or give it a width_m"
        )
    out = z.copy()
    dtype = z.dtype.type
    if edit.kind == "raise_to":
        out[mask] = np.maximum(z[mask], dtype(edit.values["level_m"]))
    elif edit.kind == "raise_by":
        out[mask] = z[mask] + dtype(edit.values["height_m"])
    elif edit.kind == "lower_by":
        out[mask] = z[mask] - dtype(edit.values["depth_m"])
    elif edit.kind == "basin":
        depth = edit.value("depth_m")
        if depth is None:
            dx, dy = cell_size(grid)
            depth = edit.values["volume_m3"] / (int(mask.sum()) * dx * dy)
        out[mask] = z[mask] - dtype(depth)
    return out


def apply_edits(
    terrain: xr.DataArray, edits: Sequence[Edit], buildings: gpd.GeoDataFrame | None = None
) -> AppliedEdits:
    """Apply ``edits`` (in order) to the raw terrain and the buildings.

    Parameters
    ----------
    terrain : xarray.DataArray
        Raw terrain model (m DVR90), NaN = nodata; the input is not modified.
    edits : sequence of Edit
        Checked edits in the terrain's CRS (:func:`klimakort.whatif.edits.check_edit`).
    buildings : GeoDataFrame, optional
        The area's building footprints (for ``remove_building``).

    Returns
    -------
    AppliedEdits

    Raises
    ------
    GeometryError
        An edit covers no terrain cell, or a ``remove_building`` touches no building.
    """
    z = np.asarray(terrain.values).copy()
    original = z.copy()
    dx, dy = cell_size(terrain)
    footprint = np.zeros(z.shape, dtype=bool)
    summary: list[dict[str, object]] = []
    removed_all: list[str] = []
    for edit in edits:
        row: dict[str, object] = {"edit_id": edit.edit_id, "kind": edit.kind, "name": edit.name}
        if edit.kind == "remove_building":
            kept, removed = _remove_buildings(edit, buildings)
            assert buildings is not None  # _remove_buildings refuses None
            gone = buildings[~buildings.index.isin(kept.index)]
            buildings = kept
            removed_all += removed
            cover = rasterize(
                [(g, 1) for g in gone.geometry],
                out_shape=z.shape,
                transform=terrain.rio.transform(),
                fill=0,
                dtype="uint8",
            ).astype(bool)
            footprint |= cover
            row.update(cells=int(cover.sum()), volume_m3=0.0, buildings_removed=removed)
        else:
            new = _apply_one(edit, z, terrain)
            changed = (new != z) & np.isfinite(z)
            footprint |= changed
            row.update(
                cells=int(changed.sum()),
                volume_m3=float(np.nansum((new - z)[changed], dtype=np.float64) * dx * dy),
            )
            z = new
        summary.append(row)
    footprint |= (z != original) & np.isfinite(original)
    out = terrain.copy(data=z)
    out.attrs = {**terrain.attrs, "whatif_edits": ";".join(str(e.edit_id) for e in edits)}
    return AppliedEdits(out, buildings, removed_all, footprint, summary)
