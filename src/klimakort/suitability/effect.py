"""Modelled cloudburst effect of a candidate site: the flooding it would take away.

A measure changes the runoff budget of the fill–spill model
(:mod:`klimakort.core.fillspill`), not the terrain:

1. on the site's own cells the runoff coefficient drops to
   ``min(c, runoff_coefficient_after)`` of the profile (a forest floor infiltrates more);
2. the site holds up to ``capacity = area × retention_depth_m`` of the water that reaches
   it: its own runoff plus the runoff of every cell whose D8 path passes the site before
   it enters a bluespot (:func:`klimakort.core.interception.upstream_through_sites`).
   When more arrives than it holds, it holds the same share of every upstream part.

The runoff removed from each local watershed is then routed again through the bluespot
network, site by site (each site's effect on its own, as if only it were built). Per
site the mass balance holds exactly::

    runoff removed = flood volume removed + outflow removed

where the outflow is what leaves the area (edge, sea). Water that would have run
straight to an outlet (local watershed 0) removes no flooding. The flooded area counts
cells whose depth is at least the shallowest depth class of the flood map.

Columns (one row per site; m³ and m²)
-------------------------------------
``cb_water_reaching_m3``
    Runoff that reaches the site today (its own cells and everything upstream of it).
``cb_capacity_m3``
    ``area × retention_depth_m.central``.
``cb_runoff_removed_m3``
    Runoff the site takes out of the network (central capacity).
``cb_flood_volume_removed_m3`` (``_low``, ``_high``)
    Water no longer standing in bluespots, with the central (low, high) capacity.
``cb_outflow_removed_m3``
    Water no longer leaving the area (central).
``cb_flooded_area_removed_m2``
    Area no longer flooded at least ``depth_threshold_m`` deep (central).
``cb_bluespots_relieved``
    Bluespots that hold less water (central).

The method is the static screening of :func:`klimakort.hazards.cloudburst.cloudburst`;
it ignores flow between bluespots along spill paths that cross a site.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import xarray as xr
from rasterio import features

from klimakort.core.fillspill import cell_runoff_mm, fill_spill
from klimakort.core.interception import upstream_through_sites
from klimakort.errors import ParameterError
from klimakort.hazards.cloudburst import DEFAULT_DEPTH_CLASSES, EventRouting
from klimakort.io.raster import check_same_grid, check_vector_crs
from klimakort.suitability.profiles import Benefits

__all__ = ["EFFECT_COLUMNS", "EFFECT_VERSION", "add_cloudburst_effect", "cloudburst_effect"]

#: bump when the method or its columns change: stored candidate tables are then recomputed
EFFECT_VERSION = 1

#: columns :func:`cloudburst_effect` returns (volumes m³, areas m²)
EFFECT_COLUMNS: tuple[str, ...] = (
    "cb_water_reaching_m3",
    "cb_capacity_m3",
    "cb_runoff_removed_m3",
    "cb_flood_volume_removed_m3",
    "cb_flood_volume_removed_m3_low",
    "cb_flood_volume_removed_m3_high",
    "cb_outflow_removed_m3",
    "cb_flooded_area_removed_m2",
    "cb_bluespots_relieved",
)


@dataclass(frozen=True)
class _Cells:
    """Per-cell runoff before/after and the (site, watershed) groups of a site raster."""

    pair_site: np.ndarray  # site index (0-based) of each group
    pair_ws: np.ndarray  # local watershed id of each group
    upstream: np.ndarray  # runoff reaching the site through its final cells (m³)
    own_before: np.ndarray  # runoff of the site's own cells today (m³)
    own_after: np.ndarray  # ... with the measure's coefficient


def _site_labels(sites: gpd.GeoDataFrame, grid: xr.DataArray) -> np.ndarray:
    return features.rasterize(
        ((g, i + 1) for i, g in enumerate(sites.geometry.values) if g is not None),
        out_shape=grid.shape,
        transform=grid.rio.transform(),
        fill=0,
        dtype="int32",
    )


def _cell_runoff(ev: EventRouting, c_after: float | None) -> tuple[np.ndarray, np.ndarray]:
    """Runoff per cell (m³) with today's coefficient and with the measure's."""
    valid = ev.network.watersheds >= 0
    c = np.nan_to_num(np.broadcast_to(np.asarray(ev.coefficient, dtype=np.float64), valid.shape))
    k = ev.cell_area / 1000.0
    before = np.where(valid, cell_runoff_mm(ev.rain_mm, c, ev.sewer_mm), 0.0) * k
    if c_after is None:
        return before, before
    ca = np.minimum(c, c_after)
    return before, np.where(valid, cell_runoff_mm(ev.rain_mm, ca, ev.sewer_mm), 0.0) * k


def _cells(labels: np.ndarray, ev: EventRouting, fdir: np.ndarray, c_after: float | None) -> _Cells:
    before, after = _cell_runoff(ev, c_after)
    net = ev.network
    labels = np.where(net.watersheds >= 0, labels, 0)
    reach = upstream_through_sites(fdir, net.labels > 0, labels, before)
    lab = labels.ravel()
    ws = net.watersheds.ravel().astype(np.int64)
    on = np.flatnonzero(lab > 0)
    nws = int(ws.max()) + 1 if ws.size else 1
    key = (lab[on].astype(np.int64) - 1) * nws + ws[on]
    uniq, inv = np.unique(key, return_inverse=True)
    m = uniq.size
    fin = reach.final[on]
    return _Cells(
        pair_site=uniq // nws,
        pair_ws=uniq % nws,
        upstream=np.bincount(inv, weights=np.where(fin, reach.reach[on], 0.0), minlength=m),
        own_before=np.bincount(inv, weights=before.ravel()[on], minlength=m),
        own_after=np.bincount(inv, weights=after.ravel()[on], minlength=m),
    )


def _removed(cells: _Cells, capacity: np.ndarray) -> np.ndarray:
    """Runoff removed per (site, watershed) group for site capacities ``capacity``."""
    arriving = cells.upstream - cells.own_before + cells.own_after
    arriving = np.maximum(arriving, 0.0)
    total = np.bincount(cells.pair_site, weights=arriving, minlength=capacity.size)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(total > 0, np.minimum(1.0, capacity / total), 1.0)
    return cells.own_before - cells.own_after + arriving * share[cells.pair_site]


class _Area:
    """Flooded area (depth >= threshold) of a bluespot at a level, from its cells."""

    def __init__(self, ev: EventRouting, threshold: float) -> None:
        lab = ev.network.labels.ravel()
        idx = np.flatnonzero(lab > 0)
        idx = idx[np.argsort(lab[idx], kind="stable")]
        self.z = ev.network.terrain.ravel()[idx].astype(np.float64)
        self.off = np.concatenate(
            [[0], np.cumsum(np.bincount(lab[idx], minlength=ev.curves.n + 1))]
        )
        self.threshold = threshold
        self.cell_area = ev.cell_area

    def __call__(self, b: int, level: float) -> float:
        if not math.isfinite(level):
            return 0.0
        z = self.z[self.off[b] : self.off[b + 1]]
        depth = np.maximum(level - z, 0.0).astype(np.float32)
        return float(np.count_nonzero(depth >= self.threshold)) * self.cell_area


def _route(ev: EventRouting, removed: np.ndarray) -> tuple[np.ndarray, float]:
    """Stored volume per bluespot and outflow after taking ``removed`` from the budget."""
    runoff = np.maximum(ev.budget.runoff - removed, 0.0)
    fs = fill_spill(runoff, ev.capacity, ev.network.downstream, ev.routed.order)
    return fs.stored, fs.left_area


def _per_site(
    ev: EventRouting, removed: np.ndarray, area: _Area
) -> tuple[float, float, float, int]:
    """Flood volume, outflow and flooded area removed, bluespots relieved."""
    stored, left = _route(ev, removed)
    base = ev.routed.stored
    changed = np.flatnonzero(stored[1:] < base[1:]) + 1
    area_gain = 0.0
    if changed.size:
        lv = np.fmin(
            ev.curves.level_for_volume(changed, stored[changed]), ev.network.spill[changed]
        )
        for b, new in zip(changed.tolist(), lv.tolist(), strict=True):
            area_gain += area(b, float(ev.levels[b])) - area(b, new)
    return (
        float(base.sum() - stored.sum()),
        float(ev.routed.left_area - left),
        area_gain,
        int(changed.size),
    )


def _estimates(benefits: Benefits) -> tuple[float, float, float]:
    est = benefits.retention_depth_m
    return (0.0, 0.0, 0.0) if est is None else (est.low, est.central, est.high)


def cloudburst_effect(
    sites: gpd.GeoDataFrame,
    routing: EventRouting,
    fdir: xr.DataArray,
    benefits: Benefits,
    *,
    depth_threshold_m: float = DEFAULT_DEPTH_CLASSES[0],
) -> pd.DataFrame:
    """What each site, built alone, takes away from a cloudburst's flooding.

    Parameters
    ----------
    sites : GeoDataFrame
        Site polygons in the CRS of the grid (e.g. candidate sites); they must not overlap.
    routing : EventRouting
        The event routed today (:func:`klimakort.hazards.cloudburst.route_event`).
    fdir : xarray.DataArray
        D8 flow directions of the rain-flow analysis (the grid of ``routing``).
    benefits : Benefits
        The measure's ``retention_depth_m`` (low/central/high) and
        ``runoff_coefficient_after``.
    depth_threshold_m : float
        Depth from which a cell counts as flooded (the shallowest flood-map class).

    Returns
    -------
    DataFrame
        One row per site (index as ``sites``) with :data:`EFFECT_COLUMNS`.

    Raises
    ------
    GridMismatchError
        ``fdir`` is not on the grid of the routing.
    CRSError
        The sites have no CRS or another one than the grid.
    ParameterError
        A threshold that is not a positive depth.
    """
    if not (math.isfinite(depth_threshold_m) and depth_threshold_m > 0):
        raise ParameterError(f"depth_threshold_m={depth_threshold_m} must be a depth > 0 m")
    check_same_grid(routing.grid, fdir, "flow directions vs the routed event")
    check_vector_crs(sites, fdir, "the sites")
    grid = fdir
    n = len(sites)
    out = pd.DataFrame(index=sites.index, columns=list(EFFECT_COLUMNS), dtype=float)
    if n == 0:
        return out
    labels = _site_labels(sites, grid)
    cells = _cells(labels, routing, np.asarray(fdir.values), benefits.runoff_coefficient_after)
    area_m2 = np.bincount(labels.ravel(), minlength=n + 1)[1:] * routing.cell_area
    low, central, high = _estimates(benefits)
    area = _Area(routing, depth_threshold_m)
    nb = routing.budget.runoff.size
    rows: dict[str, list[float]] = {c: [] for c in EFFECT_COLUMNS}
    reaching = np.bincount(cells.pair_site, weights=cells.upstream, minlength=n)
    removed = {d: _removed(cells, area_m2 * d) for d in (low, central, high)}
    for i in range(n):
        sel = cells.pair_site == i
        ws = cells.pair_ws[sel]
        per = {}
        for d, r in removed.items():
            per[d] = np.bincount(ws, weights=r[sel], minlength=nb)
        flood, outflow, gained, relieved = _per_site(routing, per[central], area)
        rows["cb_water_reaching_m3"].append(float(reaching[i]))
        rows["cb_capacity_m3"].append(float(area_m2[i] * central))
        rows["cb_runoff_removed_m3"].append(float(per[central].sum()))
        rows["cb_flood_volume_removed_m3"].append(flood)
        rows["cb_flood_volume_removed_m3_low"].append(_route_flood(routing, per[low]))
        rows["cb_flood_volume_removed_m3_high"].append(_route_flood(routing, per[high]))
        rows["cb_outflow_removed_m3"].append(outflow)
        rows["cb_flooded_area_removed_m2"].append(gained)
        rows["cb_bluespots_relieved"].append(float(relieved))
    for c in EFFECT_COLUMNS:
        out[c] = rows[c]
    out["cb_bluespots_relieved"] = out["cb_bluespots_relieved"].astype(np.int64)
    return out


def _route_flood(ev: EventRouting, removed: np.ndarray) -> float:
    stored, _ = _route(ev, removed)
    return float(ev.routed.stored.sum() - stored.sum())


def add_cloudburst_effect(
    sites: gpd.GeoDataFrame, effect: pd.DataFrame, about: dict[str, Any]
) -> gpd.GeoDataFrame:
    """Join :func:`cloudburst_effect` columns to ``sites`` and into each explanation.

    Parameters
    ----------
    sites : GeoDataFrame
        Candidate sites with an ``explanation`` JSON column.
    effect : DataFrame
        From :func:`cloudburst_effect` for the same sites.
    about : dict
        The event and assumptions (rain, scenario, parameters and their sources), stored
        with every explanation under ``cloudburst_effect.assumptions``.
    """
    out = sites.copy()
    for c in EFFECT_COLUMNS:
        out[c] = effect[c].to_numpy()
    texts = []
    for expl, row in zip(out["explanation"], effect.to_dict("records"), strict=True):
        doc = json.loads(expl)
        doc["cloudburst_effect"] = {
            **{k: _round(v) for k, v in row.items()},
            "assumptions": about,
        }
        texts.append(json.dumps(doc, ensure_ascii=False))
    out["explanation"] = texts
    return out


def _round(v: Any) -> float | int | None:
    if isinstance(v, int | np.integer):
        return int(v)
    f = float(v)
    return round(f, 3) if math.isfinite(f) else None
