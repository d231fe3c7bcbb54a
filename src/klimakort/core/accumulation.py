"""D8 flow accumulation (upstream area / weighted flux) as a pure numpy/numba kernel.

Two flavours: :func:`flow_accumulation` sums float weights (rain, areas), and
:func:`upstream_cells` counts upstream cells as integers, which is order-free and so
gives the same bits when the grid is processed tile by tile (:mod:`klimakort.tiled`);
:func:`upstream_area` turns the count into m² (rounded once to float32).

O(n): the in-degree (number of upstream neighbours, ``uint8``) of every cell is
counted, then flow is pushed down from every source cell (in-degree 0) until it
reaches a cell that still waits for another upstream branch. No queue and no
index arrays are needed: one extra byte per cell.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from klimakort.core.d8codes import CODES, DCOL, DROW, NODATA
from klimakort.errors import GridMismatchError, InputError, ParameterError

__all__ = ["count_kernel", "flow_accumulation", "upstream_area", "upstream_cells"]

_CODES = CODES.copy()
_DR = DROW.copy()
_DC = DCOL.copy()
_DONE = np.uint8(255)


@njit(cache=True, nogil=True)
def _seed(fd: np.ndarray, weights: np.ndarray, cell_area: float, acc: np.ndarray) -> None:
    """``acc`` = weight x cell area per valid cell (cell area without weights); NaN: nodata."""
    has_w = weights.shape[0] > 0
    for r in range(fd.shape[0]):
        for c in range(fd.shape[1]):
            if fd[r, c] == NODATA:
                acc[r, c] = np.nan
                continue
            w = weights[r, c] if has_w else 1.0
            acc[r, c] = 0.0 if np.isnan(w) else w * cell_area


def flow_accumulation(
    fdir: np.ndarray, weights: np.ndarray | None = None, cell_area: float = 1.0
) -> np.ndarray:
    """Upstream accumulation of cell weights along D8 directions.

    Every valid cell contributes ``weight * cell_area`` to itself and to every
    cell downstream of it. With ``weights=None`` (weight 1) and
    ``cell_area = dx * dy`` the result is the upstream area in m² (including the
    cell itself); with ``cell_area=1`` it is the number of upstream cells.

    Parameters
    ----------
    fdir : numpy.ndarray
        2-D ``uint8`` ESRI D8 codes (:func:`klimakort.core.d8.d8_directions`):
        0 = no downstream cell, 255 = nodata. A direction pointing out of the grid
        or into a nodata cell ends the flow path there (water leaves the grid).
    weights : numpy.ndarray, optional
        Per-cell weights (e.g. rain depth), same shape as ``fdir``; NaN counts as 0.
    cell_area : float
        Factor applied to every weight, e.g. the cell area in m² (positive, finite).

    Returns
    -------
    numpy.ndarray
        ``float64`` accumulation; NaN on nodata cells.

    Raises
    ------
    InputError
        ``fdir`` is not 2-D ``uint8``, holds codes that are not D8 codes, or
        contains flow cycles (then it was not made by steepest descent).
    GridMismatchError
        ``weights`` does not have the shape of ``fdir``.
    ParameterError
        ``cell_area`` is not a positive finite number.
    """
    fd = np.asarray(fdir)
    if fd.ndim != 2 or fd.dtype != np.uint8:
        raise InputError(
            f"fdir must be a 2-D uint8 array of ESRI D8 codes, got {fd.dtype} {fd.shape}."
        )
    if not (math.isfinite(cell_area) and cell_area > 0):
        raise ParameterError(f"cell_area must be a positive number of m², got {cell_area!r}.")
    if weights is None:
        w = np.empty((0, 0), dtype=np.float64)
    else:
        w = np.asarray(weights)
        if w.shape != fd.shape:
            raise GridMismatchError(
                f"weights have shape {w.shape} but fdir has shape {fd.shape}; "
                "resample the weights onto the flow-direction grid."
            )
        if w.dtype.kind not in "fiub":
            raise InputError(f"weights must be numeric, got dtype {w.dtype}.")
        # one compiled specialisation: float64, C order (the empty "no weights" array too)
        w = np.ascontiguousarray(w, dtype=np.float64)
    fd = np.ascontiguousarray(fd)
    acc = np.empty(fd.shape, dtype=np.float64)
    if fd.size == 0:
        return acc
    _seed(fd, w, float(cell_area), acc)
    # the integer count's kernel, on float64 weights: one push-down for both flavours
    bad_code, unresolved = count_kernel(fd, acc)
    if bad_code >= 0:
        raise InputError(
            f"fdir holds value {bad_code}, which is not an ESRI D8 code; "
            "allowed are 0, 1, 2, 4, 8, 16, 32, 64, 128 and 255 (nodata)."
        )
    if unresolved:
        raise InputError(
            f"fdir contains flow cycles: {unresolved} cells never drain to an outlet; "
            "compute directions with d8_directions on a depression-filled DEM."
        )
    return acc


@njit(cache=True, nogil=True)
def count_kernel(fd: np.ndarray, acc: np.ndarray) -> tuple[int, int]:  # noqa: C901
    """Push the integer counts ``acc`` (pre-set: 1 per valid cell, plus any inflow) down.

    Returns (first invalid code or -1, number of valid cells on a cycle). Flow that
    points out of the grid or into nodata stops there. Nodata cells keep their value.
    """
    nr, nc = fd.shape
    k_of = np.empty(256, dtype=np.int64)
    k_of[:] = -3
    k_of[0] = -1
    k_of[NODATA] = -2
    for k in range(8):
        k_of[_CODES[k]] = k
    indeg = np.zeros((nr, nc), dtype=np.uint8)
    for r in range(nr):
        for c in range(nc):
            k = k_of[fd[r, c]]
            if k == -3:
                return int(fd[r, c]), 0
            if k >= 0:
                rr = r + _DR[k]
                cc = c + _DC[k]
                if 0 <= rr < nr and 0 <= cc < nc and fd[rr, cc] != NODATA:
                    indeg[rr, cc] += 1
    for r0 in range(nr):
        for c0 in range(nc):
            if indeg[r0, c0] != 0 or fd[r0, c0] == NODATA:
                continue
            r = r0
            c = c0
            while True:
                indeg[r, c] = _DONE
                k = k_of[fd[r, c]]
                if k < 0:
                    break
                rr = r + _DR[k]
                cc = c + _DC[k]
                if rr < 0 or rr >= nr or cc < 0 or cc >= nc or fd[rr, cc] == NODATA:
                    break
                acc[rr, cc] += acc[r, c]
                indeg[rr, cc] -= 1
                if indeg[rr, cc] != 0:
                    break
                r = rr
                c = cc
    unresolved = 0
    for r in range(nr):
        for c in range(nc):
            if indeg[r, c] != _DONE and fd[r, c] != NODATA:
                unresolved += 1
    return -1, unresolved


def count_dtype(n: int) -> type[np.unsignedinteger]:
    """``uint32`` for grids of fewer than 2**32 cells, else ``uint64``."""
    return np.uint32 if n < 2**32 else np.uint64


def upstream_cells(fdir: np.ndarray) -> np.ndarray:
    """Number of cells draining through each cell (itself included), as integers.

    Parameters
    ----------
    fdir : numpy.ndarray
        2-D ``uint8`` ESRI D8 codes (0 = no downstream cell, 255 = nodata). A
        direction out of the grid or into nodata ends the path there.

    Returns
    -------
    numpy.ndarray
        ``uint32`` counts (``uint64`` for grids of 2**32 cells or more); 0 on nodata.
        Exact and independent of the visiting order.

    Raises
    ------
    InputError
        ``fdir`` is not 2-D ``uint8``, holds non-D8 codes, or has flow cycles.
    """
    fd = np.asarray(fdir)
    if fd.ndim != 2 or fd.dtype != np.uint8:
        raise InputError(
            f"fdir must be a 2-D uint8 array of ESRI D8 codes, got {fd.dtype} {fd.shape}."
        )
    acc = (fd != NODATA).astype(count_dtype(fd.size))
    if fd.size == 0:
        return acc
    bad_code, unresolved = count_kernel(np.ascontiguousarray(fd), acc)
    if bad_code >= 0:
        raise InputError(
            f"fdir holds value {bad_code}, which is not an ESRI D8 code; "
            "allowed are 0, 1, 2, 4, 8, 16, 32, 64, 128 and 255 (nodata)."
        )
    if unresolved:
        raise InputError(
            f"fdir contains flow cycles: {unresolved} cells never drain to an outlet; "
            "compute directions with d8_flat_resolved on a depression-filled DEM."
        )
    return acc


def cells_to_area(counts: np.ndarray, fdir: np.ndarray, cell_area: float) -> np.ndarray:
    """``float32(count * cell_area)`` (float64 product rounded once), NaN on nodata."""
    if not (math.isfinite(cell_area) and cell_area > 0):
        raise ParameterError(f"cell_area must be a positive number of m², got {cell_area!r}.")
    area = (counts * np.float64(cell_area)).astype(np.float32)
    area[np.asarray(fdir) == NODATA] = np.nan
    return area


def upstream_area(fdir: np.ndarray, cell_area: float) -> np.ndarray:
    """Upstream area (m²) of each cell from integer counts: ``float32(count * cell_area)``.

    Parameters
    ----------
    fdir : numpy.ndarray
        2-D ``uint8`` ESRI D8 codes.
    cell_area : float
        Cell area in m² (``dx * dy``), positive and finite.

    Returns
    -------
    numpy.ndarray
        ``float32`` upstream area including the cell itself; NaN on nodata. The
        product is taken in float64 and rounded once, so it is bit-identical to a
        tiled run.

    Raises
    ------
    InputError
        As :func:`upstream_cells`.
    ParameterError
        ``cell_area`` is not a positive finite number.
    """
    if not (math.isfinite(cell_area) and cell_area > 0):
        raise ParameterError(f"cell_area must be a positive number of m², got {cell_area!r}.")
    return cells_to_area(upstream_cells(fdir), fdir, cell_area)
