"""Fill–spill routing of a rain event over the bluespot network.

A cloudburst of ``D`` mm falls on every valid cell. Each cell ``i`` (area ``A``)
yields the runoff volume::

    q_i = max(D * c_i - s, 0) / 1000 * A        [m³]

with ``c_i`` the runoff coefficient (0..1) and ``s`` the sewer capacity in mm; the
rest of the rain is either lost (infiltration, interception: ``D * (1 - c_i)``) or
taken by the sewer (``min(D * c_i, s)``). A bluespot's *own runoff* is the sum of
``q_i`` over its local watershed (its own cells included); the runoff of watershed
``0`` (cells that reach an outlet without passing a bluespot) leaves the area at once.

The bluespots are then processed upstream first (a topological order of the
network). A bluespot receives its own runoff plus everything spilled into it from
upstream (*incoming*), stores ``min(incoming, capacity)`` and spills the rest from
its pour point into its downstream bluespot, or out of the area when the downstream
id is ``0`` (raster edge, sea, nodata). The routing conserves volume exactly up to
rounding::

    sum(q_i) = sum(stored) + left_area

Pure array kernels: numpy and numba only, no I/O, no xarray.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numba import njit

from klimakort.core.bluespots import check_2d, check_same_shape
from klimakort.core.levelvolume import LevelVolumeCurves
from klimakort.core.watersheds import topological_order
from klimakort.errors import InputError, NoDataError, ParameterError

__all__ = [
    "FillSpill",
    "RunoffBudget",
    "cell_runoff_mm",
    "fill_spill",
    "flood_depth",
    "water_levels",
    "watershed_runoff",
]


@dataclass(frozen=True)
class RunoffBudget:
    """Where the rain on each local watershed goes; arrays indexed by watershed id ``0..n``.

    Index ``0`` is the watershed draining straight to an outlet. All volumes in m³.

    Attributes
    ----------
    rain : float64 array
        Rain falling on the watershed: ``D / 1000 * A * cells``.
    lost : float64 array
        Rain that does not run off (``D * (1 - c_i)``: infiltration, interception).
    sewer : float64 array
        Runoff taken by the sewer (``min(D * c_i, s)`` per cell).
    runoff : float64 array
        Surface runoff ``sum(max(D * c_i - s, 0)) / 1000 * A``.
    """

    rain: np.ndarray
    lost: np.ndarray
    sewer: np.ndarray
    runoff: np.ndarray


def _check_number(name: str, value: float, lo: float, hi: float = math.inf) -> float:
    v = float(value)
    if not (math.isfinite(v) and lo <= v <= hi):
        rng = f">= {lo:g}" if hi == math.inf else f"in {lo:g}..{hi:g}"
        raise ParameterError(f"{name}={value!r} must be a finite number {rng}")
    return v


def cell_runoff_mm(rain_mm: float, coefficient: float | np.ndarray, sewer_mm: float) -> np.ndarray:
    """Surface runoff depth per cell, ``max(D * c - s, 0)`` mm (the formula of the module).

    Parameters are checked by :func:`watershed_runoff`; here they are taken as given.
    """
    return np.maximum(rain_mm * np.asarray(coefficient, dtype=np.float64) - sewer_mm, 0.0)


def watershed_runoff(
    watersheds: np.ndarray,
    n: int,
    rain_mm: float,
    coefficient: float | np.ndarray,
    sewer_mm: float,
    cell_area: float,
) -> RunoffBudget:
    """Rain, losses, sewer uptake and surface runoff per local watershed.

    Parameters
    ----------
    watersheds : (ny, nx) int array
        Local watershed ids ``0..n`` (``-1`` = nodata: no rain is counted there).
    n : int
        Number of bluespots.
    rain_mm : float
        Rain depth ``D`` (mm), >= 0.
    coefficient : float or (ny, nx) float array
        Runoff coefficient ``c`` in 0..1, a constant or per cell. Per-cell values must
        be finite on every valid watershed cell (NaN elsewhere is ignored).
    sewer_mm : float
        Sewer capacity ``s`` (mm over the event), >= 0, subtracted per cell.
    cell_area : float
        Area of one cell, m².

    Returns
    -------
    RunoffBudget
        ``rain = lost + sewer + runoff`` per watershed (up to rounding).

    Raises
    ------
    ParameterError
        Rain, sewer or a coefficient out of range.
    NoDataError
        The coefficient raster is NaN on a valid watershed cell.
    GridMismatchError
        The coefficient raster has another shape.
    InputError
        Watershed ids outside ``-1..n``.
    """
    ws = check_2d("watersheds", watersheds)
    d = _check_number("rain_mm", rain_mm, 0.0)
    s = _check_number("sewer_mm", sewer_mm, 0.0)
    area = _check_number("cell_area", cell_area, 0.0)
    if area <= 0:
        raise ParameterError(f"cell_area={cell_area!r} must be > 0 m²")
    flat = ws.ravel()
    valid = flat >= 0
    ids = flat[valid].astype(np.int64)
    if ids.size and int(ids.max()) > n:
        raise InputError(f"watersheds holds id {int(ids.max())} > n={n}")
    if flat.size and int(flat.min()) < -1:
        raise InputError(f"watersheds holds id {int(flat.min())}; valid ids are -1..n")
    if np.ndim(coefficient) == 0:
        c: float | np.ndarray = _check_number("runoff coefficient", float(coefficient), 0.0, 1.0)
    else:
        carr = check_2d("coefficient", np.asarray(coefficient))
        check_same_shape(watersheds=ws, coefficient=carr)
        c = carr.ravel()[valid].astype(np.float64)
        bad = ~np.isfinite(c)
        if bad.any():
            raise NoDataError(
                f"the runoff coefficient raster is nodata on {int(bad.sum())} valid terrain "
                "cells; fill those cells (e.g. with 1.0 for sealed surfaces) before routing"
            )
        if c.size and (c.min() < 0.0 or c.max() > 1.0):
            raise ParameterError(
                f"runoff coefficients must lie in 0..1, found {c.min():g}..{c.max():g}; "
                "convert percent imperviousness to a fraction first"
            )
    k = area / 1000.0
    cells = np.bincount(ids, minlength=n + 1).astype(np.float64)
    coeff = np.broadcast_to(c, ids.shape)
    effective = d * coeff  # mm that would run off without sewer
    runoff_mm = cell_runoff_mm(d, coeff, s)
    sewer_mm_cell = effective - runoff_mm  # = min(effective, s)
    runoff = np.bincount(ids, weights=runoff_mm, minlength=n + 1) * k
    sewer = np.bincount(ids, weights=sewer_mm_cell, minlength=n + 1) * k
    lost = np.bincount(ids, weights=d - effective, minlength=n + 1) * k
    return RunoffBudget(rain=cells * (d * k), lost=lost, sewer=sewer, runoff=runoff)


@dataclass(frozen=True)
class FillSpill:
    """State of every bluespot after routing; arrays indexed by id ``0..n`` (m³).

    Index ``0`` holds the direct-outlet watershed: its own runoff goes into
    ``left_area`` and every other field is 0 there.

    Attributes
    ----------
    own_runoff : float64 array
        Runoff from the bluespot's local watershed.
    inflow : float64 array
        Volume spilled into the bluespot by upstream bluespots.
    incoming : float64 array
        ``own_runoff + inflow``.
    stored : float64 array
        ``min(incoming, capacity)``.
    spilled : float64 array
        ``incoming - stored``, sent to the downstream bluespot or out of the area.
    fill_fraction : float64 array
        ``stored / capacity`` (1 for a bluespot of zero capacity that received water).
    left_area : float
        Volume leaving the area: runoff of watershed 0 plus spills to downstream id 0.
    direct_outlet : float
        The part of ``left_area`` from watershed 0.
    order : int64 array
        The topological order used (upstream first).
    """

    own_runoff: np.ndarray
    inflow: np.ndarray
    incoming: np.ndarray
    stored: np.ndarray
    spilled: np.ndarray
    fill_fraction: np.ndarray
    left_area: float
    direct_outlet: float
    order: np.ndarray

    @property
    def n(self) -> int:
        """Number of bluespots."""
        return len(self.stored) - 1


@njit(cache=True)
def _route(
    runoff: np.ndarray, capacity: np.ndarray, down: np.ndarray, order: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    n1 = runoff.size
    inflow = np.empty(n1, dtype=np.float64)
    inflow[:] = 0
    stored = np.empty(n1, dtype=np.float64)
    stored[:] = 0
    spilled = np.empty(n1, dtype=np.float64)
    spilled[:] = 0
    out = 0.0
    for i in range(order.size):
        b = order[i]
        incoming = runoff[b] + inflow[b]
        keep = min(incoming, capacity[b])
        stored[b] = keep
        spill = incoming - keep
        spilled[b] = spill
        t = down[b]
        if t > 0:
            inflow[t] += spill
        else:
            out += spill
    return inflow, stored, spilled, out


def fill_spill(
    runoff: np.ndarray,
    capacity: np.ndarray,
    downstream: np.ndarray,
    order: np.ndarray | None = None,
) -> FillSpill:
    """Route runoff volumes through the bluespot network (fill, then spill downstream).

    Parameters
    ----------
    runoff : float array, length ``n + 1``
        Own runoff of each local watershed (m³); index 0 = direct-outlet watershed.
    capacity : float array, length ``n + 1``
        Volume of each bluespot when full (m³); index 0 is ignored.
    downstream : int array, length ``n + 1``
        Downstream bluespot id (``0`` = leaves the area), from
        :func:`klimakort.core.watersheds.downstream_bluespots`.
    order : int array, optional
        Topological order (upstream first); computed with
        :func:`~klimakort.core.watersheds.topological_order` when omitted.

    Returns
    -------
    FillSpill

    Raises
    ------
    InputError
        Lengths differ, volumes are negative or not finite, downstream ids are out of
        range, the network has a cycle, or ``order`` is not a valid topological order.
    """
    q = np.ascontiguousarray(runoff, dtype=np.float64)
    cap = np.ascontiguousarray(capacity, dtype=np.float64)
    down = np.ascontiguousarray(downstream, dtype=np.int64)
    if q.ndim != 1 or q.size == 0 or q.shape != cap.shape or q.shape != down.shape:
        raise InputError(
            "runoff, capacity and downstream must be 1-D arrays of one length n + 1, got "
            f"{np.shape(runoff)}, {np.shape(capacity)}, {np.shape(downstream)}"
        )
    for name, arr in (("runoff", q), ("capacity", cap[1:])):
        if not np.isfinite(arr).all() or (arr.size and arr.min() < 0):
            raise InputError(f"{name} volumes must be finite and >= 0 m³")
    n = q.size - 1
    if order is None:
        ordr = topological_order(down)
    else:
        ordr = np.ascontiguousarray(order, dtype=np.int64)
        _check_order(ordr, down, n)
    inflow, stored, spilled, out = _route(q, cap, down, ordr)
    q_b = q.copy()
    q_b[0] = 0.0
    incoming = q_b + inflow
    with np.errstate(divide="ignore", invalid="ignore"):
        frac = np.where(cap > 0, stored / np.where(cap > 0, cap, 1.0), 0.0)
    frac = np.where((cap <= 0) & (incoming > 0), 1.0, frac)
    frac[0] = 0.0
    return FillSpill(
        own_runoff=q_b,
        inflow=inflow,
        incoming=incoming,
        stored=stored,
        spilled=spilled,
        fill_fraction=np.minimum(frac, 1.0),
        left_area=float(out + q[0]),
        direct_outlet=float(q[0]),
        order=ordr,
    )


def _check_order(order: np.ndarray, down: np.ndarray, n: int) -> None:
    ids = np.arange(1, n + 1)
    if order.ndim != 1 or order.size != n or not np.array_equal(np.sort(order), ids):
        raise InputError(f"order must list every bluespot id 1..{n} exactly once")
    if n and (down[1:].min() < 0 or down[1:].max() > n):
        raise InputError(f"downstream ids must be in 0..{n}")
    pos = np.empty(n + 1, dtype=np.int64)
    pos[order] = np.arange(n)
    pos[0] = n  # the outlet comes after everything
    if np.any(pos[down[1:]] <= pos[ids]):
        raise InputError("order is not topological: a bluespot comes after its downstream one")


def water_levels(
    curves: LevelVolumeCurves, stored: np.ndarray, spill_elevation: np.ndarray
) -> np.ndarray:
    """Water level of every bluespot holding ``stored`` m³ (exact inverse of its curve).

    Parameters
    ----------
    curves : LevelVolumeCurves
        Level–volume curves of bluespots ``1..n`` (on the unfilled terrain).
    stored : float array, length ``n + 1``
        Stored volume (m³); index 0 is ignored.
    spill_elevation : float array, length ``n + 1``
        Spill level of each bluespot (m); the level never exceeds it, so a full
        bluespot stands exactly at its spill level.

    Returns
    -------
    float64 array, length ``n + 1``
        Level (m); the lowest terrain cell for an empty bluespot; NaN at index 0
        and for ids without cells.
    """
    vol = np.asarray(stored, dtype=np.float64)
    spill = np.asarray(spill_elevation, dtype=np.float64)
    n = curves.n
    if vol.shape != (n + 1,) or spill.shape != (n + 1,):
        raise InputError(f"stored and spill_elevation must have length n + 1 = {n + 1}")
    out = np.full(n + 1, np.nan, dtype=np.float64)
    if n:
        ids = np.arange(1, n + 1)
        level = curves.level_for_volume(ids, vol[1:])
        out[1:] = np.fmin(level, spill[1:])  # rounding never lifts water above the spill
    return out


def flood_depth(labels: np.ndarray, dem: np.ndarray, levels: np.ndarray) -> np.ndarray:
    """Water depth raster: ``max(level[label] - dem, 0)`` on bluespot cells.

    Parameters
    ----------
    labels : (ny, nx) int array
        Bluespot ids (0 = none).
    dem : (ny, nx) float array
        Terrain (unfilled), NaN = nodata.
    levels : float array, length ``n + 1``
        Water level per bluespot id (from :func:`water_levels`).

    Returns
    -------
    (ny, nx) float32 array
        Depth in m: > 0 only under water, 0 on dry and non-bluespot cells, NaN where
        ``dem`` is NaN.
    """
    lab = check_2d("labels", labels)
    z = check_2d("dem", dem)
    check_same_shape(labels=lab, dem=z)
    lv = np.asarray(levels, dtype=np.float64)
    n = int(lab.max()) if lab.size else 0
    if lab.size and int(lab.min()) < 0:
        raise InputError("bluespot labels must be >= 0")
    if lv.ndim != 1 or lv.size < n + 1:
        raise InputError(f"levels must have length >= max(labels) + 1 = {n + 1}")
    table = np.where(np.isfinite(lv), lv, -np.inf)
    table[0] = -np.inf
    depth = table[lab] - z.astype(np.float64)
    depth = np.where(depth > 0.0, depth, 0.0).astype(np.float32)
    depth[np.isnan(z)] = np.nan
    return depth
