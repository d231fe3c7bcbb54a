"""D8 steepest-descent flow directions (ESRI codes) as pure numpy/numba kernels.

See :mod:`klimakort.core.d8codes` for the code table.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
from numba import njit

from klimakort.core.d8codes import CODES, DCOL, DROW, MALSTROEM, MALSTROEM_NONE, NODATA
from klimakort.core.fill_tiled import cpu_workers, run_threads
from klimakort.errors import InputError, ParameterError

__all__ = ["d8_directions", "downstream_index", "to_malstroem_codes"]

_CODES = CODES.copy()
_DR = DROW.copy()
_DC = DCOL.copy()
_BAND_CELLS = 65536  # grids below this many cells per thread run in one thread


@njit(cache=True, nogil=True)
def _d8_kernel(
    z: np.ndarray, inv: np.ndarray, edge_outlets: bool, out: np.ndarray, r0: int, r1: int
) -> None:
    """Directions of rows ``r0 .. r1 - 1`` (releases the GIL: row bands run in threads)."""
    nr, nc = z.shape
    for r in range(r0, r1):
        edge_row = r == 0 or r == nr - 1
        for c in range(nc):
            zc = np.float64(z[r, c])
            if np.isnan(zc):
                out[r, c] = NODATA
                continue
            best = 0.0
            code = 0
            if edge_row or c == 0 or c == nc - 1:
                if edge_outlets:
                    out[r, c] = 0
                    continue
                for k in range(8):
                    rr = r + _DR[k]
                    cc = c + _DC[k]
                    if rr < 0 or rr >= nr or cc < 0 or cc >= nc:
                        continue
                    s = (zc - np.float64(z[rr, cc])) * inv[k]
                    if s > best:  # NaN neighbours compare False
                        best = s
                        code = _CODES[k]
            else:
                for k in range(8):
                    s = (zc - np.float64(z[r + _DR[k], c + _DC[k]])) * inv[k]
                    if s > best:
                        best = s
                        code = _CODES[k]
            out[r, c] = code


def d8_directions(
    filled: np.ndarray, dx: float, dy: float, *, edge_outlets: bool = True
) -> np.ndarray:
    """Steepest-descent D8 flow directions as ESRI codes.

    The drop to each of the 8 neighbours is divided by its distance (``dx``
    east/west, ``dy`` north/south, ``hypot(dx, dy)`` diagonally, computed in
    float64 as the drop times the reciprocal distance) and the cell drains to the
    neighbour with the largest strictly positive slope.

    Parameters
    ----------
    filled : numpy.ndarray
        2-D float32/float64 elevations, normally a depression-filled DEM
        (:func:`klimakort.core.fill.fill_depressions` with ``flats="epsilon"``
        drains every cell); NaN marks nodata.
    dx, dy : float
        Cell width and height in metres (positive). malstrøm treats cells as
        square; pass ``dx == dy`` to reproduce its directions.
    edge_outlets : bool, default True
        Valid cells on the raster edge are outlets (code 0): water reaching the
        edge leaves the grid. This matches :func:`klimakort.core.fill.fill_depressions`,
        which seeds the flood at the edge, and malstrøm, which points every edge cell
        out of the grid. With ``False`` edge cells drain to their steepest lower
        neighbour inside the grid (0 if there is none).

    Returns
    -------
    numpy.ndarray
        ``uint8`` ESRI codes (1=E, 2=SE, 4=S, 8=SW, 16=W, 32=NW, 64=N, 128=NE),
        0 for a cell with no lower valid neighbour inside the grid (an outlet at
        the edge or next to nodata, a flat or a pit: water leaves the grid there
        or stays), 255 for nodata.

    Raises
    ------
    InputError
        ``filled`` is not a 2-D float array.
    ParameterError
        ``dx`` or ``dy`` is not a positive finite number.

    Notes
    -----
    Ties (two neighbours with exactly the same slope) go to the first neighbour
    in the fixed order E, SE, S, SW, W, NW, N, NE (``d8codes.CODES``). malstrøm
    scans N, NE, E, SE, S, SW, W, NW instead, so exact ties can differ from it.
    Nodata neighbours are ignored, so a valid cell next to nodata with no lower
    valid neighbour gets 0.
    """
    arr = np.asarray(filled)
    if arr.ndim != 2 or arr.dtype not in (np.float32, np.float64):
        raise InputError(
            f"filled must be a 2-D float32/float64 array, got {arr.dtype} with shape {arr.shape}."
        )
    for name, val in (("dx", dx), ("dy", dy)):
        if not (math.isfinite(val) and val > 0):
            raise ParameterError(f"{name} must be a positive cell size in metres, got {val!r}.")
    diag = 1.0 / math.hypot(dx, dy)
    ix, iy = 1.0 / dx, 1.0 / dy
    inv = np.array([ix, diag, iy, diag, ix, diag, iy, diag], dtype=np.float64)
    out = np.empty(arr.shape, dtype=np.uint8)
    if arr.size:
        _d8_bands(np.ascontiguousarray(arr), inv, bool(edge_outlets), out)
    return out


def _d8_bands(z: np.ndarray, inv: np.ndarray, edge_outlets: bool, out: np.ndarray) -> None:
    """Run :func:`_d8_kernel` over bands of rows, one thread per core.

    Plain threads over a serial ``nogil`` kernel instead of ``parallel=True``: the
    same speed, but a fraction of the compile time (no parfor lowering).
    """
    nr = z.shape[0]
    nthreads = min(cpu_workers(), max(1, z.size // _BAND_CELLS))
    if nthreads <= 1:
        _d8_kernel(z, inv, edge_outlets, out, 0, nr)
        return
    bands = np.linspace(0, nr, 4 * nthreads + 1).astype(np.int64)  # a few bands per thread
    todo = itertools.count()

    def worker() -> None:
        while (b := next(todo)) < bands.shape[0] - 1:
            _d8_kernel(z, inv, edge_outlets, out, int(bands[b]), int(bands[b + 1]))

    run_threads(worker, nthreads)


def _check_codes(fdir: np.ndarray) -> np.ndarray:
    arr = np.asarray(fdir)
    if arr.ndim != 2 or arr.dtype != np.uint8:
        raise InputError(
            f"fdir must be a 2-D uint8 array of ESRI D8 codes, got {arr.dtype} {arr.shape}."
        )
    valid = np.zeros(256, dtype=bool)
    valid[_CODES] = True
    valid[[0, NODATA]] = True
    bad = ~valid[arr]
    if bad.any():
        vals = np.unique(arr[bad])[:5].tolist()
        raise InputError(
            f"fdir holds values that are not ESRI D8 codes: {vals}; "
            "allowed are 0, 1, 2, 4, 8, 16, 32, 64, 128 and 255 (nodata)."
        )
    return arr


def to_malstroem_codes(fdir: np.ndarray, *, edges_outward: bool = True) -> np.ndarray:
    """Convert ESRI D8 codes to malstrøm's codes.

    Parameters
    ----------
    fdir : numpy.ndarray
        2-D ``uint8`` ESRI codes.
    edges_outward : bool, default True
        Write valid edge cells that are outlets (code 0) as pointing out of the grid
        (north on the top row, north-east in the top-right corner, ...), as malstrøm
        does, instead of 8.

    Returns
    -------
    numpy.ndarray
        ``uint8``: 0 = north, clockwise to 7 = north-west; 8 for "no direction",
        which covers both 0 (pit/outlet) and 255 (nodata; malstrøm has no nodata
        code).

    Raises
    ------
    InputError
        ``fdir`` is not 2-D ``uint8`` or holds invalid codes.
    """
    arr = _check_codes(fdir)
    table = np.full(256, MALSTROEM_NONE, dtype=np.uint8)
    table[_CODES] = MALSTROEM
    out = table[arr]
    if edges_outward and arr.size:
        outward = _outward_codes(arr.shape)
        at_edge = (outward != MALSTROEM_NONE) & (arr == 0)
        out[at_edge] = outward[at_edge]
    return out


def _outward_codes(shape: tuple[int, ...]) -> np.ndarray:
    """malstrøm code pointing out of the grid for each edge cell (8 inside)."""
    ny, nx = shape
    out = np.full(shape, MALSTROEM_NONE, dtype=np.uint8)
    out[:, 0], out[:, -1] = 6, 2  # west, east
    out[0, :], out[-1, :] = 0, 4  # north, south (corners below)
    out[0, 0], out[0, -1], out[-1, 0], out[-1, -1] = 7, 1, 5, 3
    if ny == 1 or nx == 1:  # a single row/column: every cell is a corner; keep 8
        out[:] = MALSTROEM_NONE
    return out


@njit(cache=True)
def _downstream_kernel(fd: np.ndarray, out: np.ndarray) -> None:
    nr, nc = fd.shape
    k_of = np.full(256, -1, dtype=np.int64)
    for k in range(8):
        k_of[_CODES[k]] = k
    for r in range(nr):
        for c in range(nc):
            k = k_of[fd[r, c]]
            out[r, c] = -1
            if k < 0:
                continue
            rr = r + _DR[k]
            cc = c + _DC[k]
            if 0 <= rr < nr and 0 <= cc < nc and fd[rr, cc] != NODATA:
                out[r, c] = rr * nc + cc


def downstream_index(fdir: np.ndarray) -> np.ndarray:
    """Flat (row-major) index of each cell's downstream cell.

    Parameters
    ----------
    fdir : numpy.ndarray
        2-D ``uint8`` ESRI D8 codes.

    Returns
    -------
    numpy.ndarray
        Same shape; ``int32`` (``int64`` for grids of 2**31 cells or more). -1 where
        water leaves the grid or stops: code 0, nodata, a direction pointing out of
        the grid or into a nodata cell.

    Raises
    ------
    InputError
        ``fdir`` is not 2-D ``uint8`` or holds invalid codes.
    """
    arr = _check_codes(fdir)
    dtype = np.int32 if arr.size < 2**31 - 1 else np.int64
    out = np.empty(arr.shape, dtype=dtype)
    if arr.size:
        _downstream_kernel(arr, out)
    return out
