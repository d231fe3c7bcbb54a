"""Level–volume relation of bluespots, and its exact inverse.

For a bluespot with terrain elevations ``z_1 <= ... <= z_m`` (its cells, each of
area ``A``), the volume of water below a level ``L`` is::

    V(L) = A * sum_i max(L - z_i, 0)

``V`` is continuous, piecewise linear in ``L`` with breakpoints at the ``z_i`` and
strictly increasing for ``L >= z_1``. Between breakpoints, with ``k`` cells below
the level, ``V = A * (k * L - S_k)`` (``S_k`` = sum of the ``k`` lowest
elevations), so the inverse is ``L = (V / A + S_k) / k`` — exact up to rounding.
At the spill level ``s`` (every cell of a bluespot lies below it) the volume is the
bluespot capacity ``A * sum(s - z_i)``, and the inverse of that volume is ``s``.

Elevations are stored relative to each bluespot's lowest cell, so prefix sums do
not lose precision to the absolute height.

:class:`LevelVolumeCurves` holds all bluespots of a label raster at once (CSR
layout by id) and evaluates both directions vectorised over ids.

Pure array kernels: numpy and numba only, no I/O, no xarray.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from klimakort.core.bluespots import check_2d, check_cell_size, check_same_shape, n_bluespots
from klimakort.errors import InputError, ParameterError

__all__ = [
    "LevelVolumeCurves",
    "level_for_volume",
    "level_volume_curves",
    "volume_at_level",
]


@njit(cache=True)
def _volume_at(
    offsets: np.ndarray,
    rel: np.ndarray,
    csum: np.ndarray,
    base: np.ndarray,
    ids: np.ndarray,
    levels: np.ndarray,
    area: float,
) -> np.ndarray:
    out = np.empty(ids.size, dtype=np.float64)
    for i in range(ids.size):
        b = ids[i]
        lo = offsets[b]
        hi = offsets[b + 1]
        h = levels[i] - base[b]
        if hi == lo or np.isnan(h):
            out[i] = np.nan
        elif h <= 0.0:
            out[i] = 0.0
        else:
            # k >= 1 cells strictly below the level (rel[lo] == 0 < h): binary search
            left = lo
            right = hi
            while left < right:
                mid = (left + right) // 2
                if rel[mid] < h:
                    left = mid + 1
                else:
                    right = mid
            k = left - lo
            out[i] = area * (k * h - csum[lo + k - 1])
    return out


@njit(cache=True)
def _level_for(
    offsets: np.ndarray,
    rel: np.ndarray,
    csum: np.ndarray,
    cap: np.ndarray,
    base: np.ndarray,
    ids: np.ndarray,
    volumes: np.ndarray,
    area: float,
) -> np.ndarray:
    out = np.empty(ids.size, dtype=np.float64)
    for i in range(ids.size):
        b = ids[i]
        lo = offsets[b]
        hi = offsets[b + 1]
        v = volumes[i] / area
        if hi == lo or not v >= 0.0:
            out[i] = np.nan
            continue
        # cap[lo + j] = V(rel[j]) / area, non-decreasing; take the largest j with cap <= v
        # (cap[lo] == 0 <= v, so j >= 0); the level lies between cells j and j + 1
        left = lo
        right = hi
        while left < right:  # binary search for the first cap > v
            mid = (left + right) // 2
            if cap[mid] <= v:
                left = mid + 1
            else:
                right = mid
        j = left - lo - 1
        out[i] = base[b] + (v + csum[lo + j]) / (j + 1)
    return out


@dataclass(frozen=True)
class LevelVolumeCurves:
    """Level–volume curves of bluespots ``1..n`` in one CSR structure.

    Build with :func:`level_volume_curves` (from rasters) or
    :meth:`from_elevations` (one bluespot, id 1).

    Attributes
    ----------
    offsets : int64 array, length ``n + 2``
        Cells of bluespot ``b`` are entries ``offsets[b]:offsets[b + 1]``
        (id 0 is empty).
    rel : float64 array
        Cell elevations minus the bluespot's lowest elevation, ascending per bluespot.
    csum : float64 array
        ``csum[offsets[b] + j]`` = sum of the ``j + 1`` lowest ``rel`` of bluespot
        ``b`` (inclusive prefix sums, restarted at each bluespot).
    cap : float64 array
        ``cap[offsets[b] + j]`` = ``V(z_j) / cell_area``: volume per cell area at
        the level of the ``j``-th lowest cell.
    base : float64 array, length ``n + 1``
        Lowest terrain elevation of each bluespot (NaN for id 0 / empty ids).
    cell_area : float
        Area of one cell, m².
    """

    offsets: np.ndarray
    rel: np.ndarray
    csum: np.ndarray
    cap: np.ndarray
    base: np.ndarray
    cell_area: float

    @property
    def n(self) -> int:
        """Number of bluespot ids (the largest id)."""
        return len(self.offsets) - 2

    @classmethod
    def from_elevations(cls, z: np.ndarray, cell_area: float) -> LevelVolumeCurves:
        """Curve of a single bluespot (id 1) from its cells' terrain elevations.

        Parameters
        ----------
        z : 1-D float array
            Terrain elevation of each cell (any order, no NaN, at least one).
        cell_area : float
            Area of one cell, m².
        """
        zz = np.asarray(z, dtype=np.float64).ravel()
        if zz.size == 0 or not np.isfinite(zz).all():
            raise InputError("z must hold at least one elevation and no NaN/inf")
        ids = np.ones(zz.size, dtype=np.int64)
        return _build(ids, zz, 1, _check_area(cell_area))

    def _ids(self, ids: np.ndarray | int, shape: tuple[int, ...]) -> np.ndarray:
        b = np.broadcast_to(np.asarray(ids, dtype=np.int64), shape).ravel()
        if b.size and (b.min() < 1 or b.max() > self.n):
            raise ParameterError(f"bluespot ids must be in 1..{self.n}")
        return np.ascontiguousarray(b)

    def volume_at_level(self, ids: np.ndarray | int, levels: np.ndarray | float) -> np.ndarray:
        """Water volume (m³) below ``levels`` in bluespots ``ids`` (broadcast together).

        ``0`` for levels at or below the lowest cell; above the spill level the
        relation continues linearly (the bluespot is treated as walled in).
        """
        lv = np.asarray(levels, dtype=np.float64)
        shape = np.broadcast_shapes(np.shape(ids), lv.shape)
        b = self._ids(ids, shape)
        lvl = np.ascontiguousarray(np.broadcast_to(lv, shape).ravel())
        out = _volume_at(self.offsets, self.rel, self.csum, self.base, b, lvl, self.cell_area)
        return out.reshape(shape)

    def level_for_volume(self, ids: np.ndarray | int, volumes: np.ndarray | float) -> np.ndarray:
        """Water level (m) at which bluespots ``ids`` hold ``volumes`` m³ (exact inverse).

        ``volume 0`` gives the lowest cell elevation; negative or NaN volumes give NaN.
        """
        vol = np.asarray(volumes, dtype=np.float64)
        shape = np.broadcast_shapes(np.shape(ids), vol.shape)
        b = self._ids(ids, shape)
        v = np.ascontiguousarray(np.broadcast_to(vol, shape).ravel())
        out = _level_for(
            self.offsets, self.rel, self.csum, self.cap, self.base, b, v, self.cell_area
        )
        return out.reshape(shape)


def _check_area(cell_area: float) -> float:
    if not (np.isfinite(cell_area) and cell_area > 0):
        raise ParameterError(f"cell_area={cell_area!r} must be a finite positive number of m²")
    return float(cell_area)


def _build(ids: np.ndarray, z: np.ndarray, n: int, area: float) -> LevelVolumeCurves:
    """Group cells by id (counting sort), sort each group by z and build the CSR arrays."""
    counts = np.bincount(ids, minlength=n + 1)
    offsets = np.zeros(n + 2, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    rel, base, csum, cap = _curves(ids, z, offsets)
    return LevelVolumeCurves(
        offsets=offsets, rel=rel, csum=csum, cap=cap, base=base, cell_area=area
    )


@njit(cache=True)
def _curves(
    ids: np.ndarray, z: np.ndarray, offsets: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """CSR arrays ``rel, base, csum, cap`` of :class:`LevelVolumeCurves`.

    Elevations are grouped by id, sorted ascending within each group by a heapsort
    (O(m log m); numba's np.sort compiles slowly) and reduced by the group minimum
    ``base``; ``csum`` holds the inclusive prefix sums and ``cap`` the capacities
    ``j * rel[j] - sum(rel[:j])`` per segment. One kernel, not one per step: every
    njit function is a compilation unit of its own.
    """
    rel = np.empty(z.size, dtype=np.float64)
    fill = np.empty(offsets.size - 1, dtype=np.int64)
    for b in range(offsets.size - 1):
        fill[b] = offsets[b]
    for i in range(z.size):
        rel[fill[ids[i]]] = z[i]
        fill[ids[i]] += 1
    base = np.empty(offsets.size - 1, dtype=np.float64)
    base[:] = np.nan
    for b in range(offsets.size - 1):
        lo = offsets[b]
        hi = offsets[b + 1]
        if hi == lo:
            continue
        # heapsort rel[lo:hi]: heapify (sift down from m // 2 - 1 to 0), then move the
        # maximum to the end m - 1 times; both phases share one sift-down loop
        m = hi - lo
        start = m // 2
        end = m
        while end > 1:
            if start > 0:  # heapify phase
                start -= 1
            else:  # extraction phase
                end -= 1
                rel[lo], rel[lo + end] = rel[lo + end], rel[lo]
            root = start
            while True:  # restore the max-heap property of rel[lo:lo + end] below root
                child = 2 * root + 1
                if child >= end:
                    break
                if child + 1 < end and rel[lo + child + 1] > rel[lo + child]:
                    child += 1
                if rel[lo + root] >= rel[lo + child]:
                    break
                rel[lo + root], rel[lo + child] = rel[lo + child], rel[lo + root]
                root = child
        base[b] = rel[lo]
        for i in range(lo, hi):  # a loop: numba compiles slice arithmetic slowly
            rel[i] -= base[b]
    csum = np.empty(rel.size, dtype=np.float64)
    cap = np.empty(rel.size, dtype=np.float64)
    for b in range(offsets.size - 1):
        s = 0.0
        for j, i in enumerate(range(offsets[b], offsets[b + 1])):
            cap[i] = j * rel[i] - s
            s += rel[i]
            csum[i] = s
    return rel, base, csum, cap


def level_volume_curves(
    labels: np.ndarray, dem: np.ndarray, dx: float, dy: float
) -> LevelVolumeCurves:
    """Level–volume curves of all bluespots of a label raster.

    Parameters
    ----------
    labels : (ny, nx) int array
        Bluespot ids (0 = none), e.g. from :func:`klimakort.core.bluespots.label_bluespots`.
    dem : (ny, nx) float array
        The terrain (unfilled) in metres.
    dx, dy : float
        Cell width and height in metres.

    Returns
    -------
    LevelVolumeCurves
        Curves for ids ``1..max(labels)``.

    Raises
    ------
    InputError
        If the DEM is NaN inside a bluespot or labels are negative.
    GridMismatchError
        If the rasters differ in shape.
    """
    lab = check_2d("labels", labels)
    z = check_2d("dem", dem)
    check_same_shape(labels=lab, dem=z)
    area = check_cell_size(dx, dy)
    n = n_bluespots(lab)
    flat = lab.ravel()
    inside = flat > 0
    zz = z.ravel()[inside].astype(np.float64)
    if not np.isfinite(zz).all():
        raise InputError("dem is NaN/inf inside a bluespot; labels do not fit the DEM")
    return _build(flat[inside].astype(np.int64), zz, n, area)


def volume_at_level(z: np.ndarray, level: float, cell_area: float) -> float:
    """Volume (m³) below ``level`` over cells with terrain elevations ``z``.

    ``cell_area * sum(max(level - z_i, 0))``; see :class:`LevelVolumeCurves` to
    evaluate many levels or many bluespots.
    """
    curve = LevelVolumeCurves.from_elevations(z, cell_area)
    return float(curve.volume_at_level(1, level))


def level_for_volume(z: np.ndarray, volume: float, cell_area: float) -> float:
    """Level (m) at which cells with terrain elevations ``z`` hold ``volume`` m³.

    The exact inverse of :func:`volume_at_level` for levels at or above ``min(z)``.
    """
    curve = LevelVolumeCurves.from_elevations(z, cell_area)
    return float(curve.level_for_volume(1, volume))
