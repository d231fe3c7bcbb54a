"""Local watersheds, pour points and the flow network between bluespots.

Works on ESRI D8 codes (see :mod:`klimakort.core.d8codes`) that drain every flat of the
filled terrain towards its outlet (:func:`klimakort.core.flats.d8_flat_resolved`, or D8 on
an epsilon-filled copy), so that water inside a full bluespot is routed to the place
where it spills, and on bluespot labels from
:func:`klimakort.core.bluespots.label_bluespots`.

Definitions (they reproduce malstrøm's ``wsheds.tif``, ``pourpoints.json`` and
``nodes.json`` exactly on its test data):

local watershed
    Each valid cell gets the id of the first bluespot its D8 path reaches; bluespot
    cells get their own id; ``0`` = the path ends at an outlet (raster edge, a pit
    code, or a nodata cell) without passing a bluespot; ``-1`` = nodata cell.
exit cell
    A bluespot cell whose D8 step leaves the bluespot for good: to a cell whose
    local watershed is not the bluespot's own, off the raster, into nodata, or the
    pit code ``0``. (Steps onto a cell whose flow comes back, e.g. an island a hair
    above the spill level that an epsilon fill raised into the water surface, are
    not exits.)
pour point
    The exit cell where water leaves the bluespot when it is full: the exit cell
    with the shortest step (pit, then orthogonal, then diagonal), ties broken by
    raster scan order. With flats drained to their outlet all exit cells of a bluespot
    drain into one threshold cell, so the candidates are neighbours of that cell. There
    is always one when the D8 directions have no cycle: the last bluespot cell on
    any flow path to an outlet is an exit cell.
downstream bluespot
    The local watershed id of the cell the pour point drains to, i.e. the first
    bluespot reached by following D8 from the pour point (``0`` = an outlet).

Pure array kernels: numpy and numba only, no I/O, no xarray.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np
from numba import njit

from klimakort.core import d8codes
from klimakort.core.bluespots import (
    check_2d,
    check_cell_size,
    check_same_shape,
)
from klimakort.errors import InputError

__all__ = [
    "NODATA_WATERSHED",
    "PourPoints",
    "downstream_bluespots",
    "fill_rain_mm",
    "flow_path_cells",
    "flow_paths",
    "local_watersheds",
    "pour_points",
    "topological_order",
    "trace_flow_path",
    "watershed_areas",
]

#: watershed value of nodata cells
NODATA_WATERSHED: int = -1

_UNVISITED = -2
_ON_PATH = -3


def _direction_tables() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Lookup tables by ESRI code: row step, column step, step rank (-1 = invalid code)."""
    dr = np.zeros(256, dtype=np.int64)
    dc = np.zeros(256, dtype=np.int64)
    rank = np.full(256, -1, dtype=np.int64)
    rank[d8codes.PIT] = 0
    for code, r, c in zip(d8codes.CODES, d8codes.DROW, d8codes.DCOL, strict=True):
        dr[code], dc[code] = r, c
        rank[code] = 1 if r == 0 or c == 0 else 2
    rank[d8codes.NODATA] = 3
    return dr, dc, rank


_DR, _DC, _RANK = _direction_tables()


@njit(cache=True, nogil=True)
def _scan(fd: np.ndarray, lab: np.ndarray, rank: np.ndarray) -> tuple[int, int, int]:
    """One pass: (an invalid D8 code or -1, the smallest label, a label on nodata or 0)."""
    ny, nx = fd.shape
    bad = -1
    lo = 0
    on_nodata = 0
    for r in range(ny):
        for c in range(nx):
            code = fd[r, c]
            k = lab[r, c]
            if rank[code] < 0:
                bad = code
            if k < lo:
                lo = k
            if k > 0 and code == 255:
                on_nodata = k
    return bad, lo, on_nodata


def _check_fdir_labels(fdir: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Validate a D8 raster and a label raster; return contiguous uint8 / int32 arrays."""
    fd = check_2d("fdir", fdir)
    lab = check_2d("labels", labels)
    check_same_shape(fdir=fd, labels=lab)
    if fd.dtype != np.uint8:
        raise InputError(f"fdir must be uint8 ESRI D8 codes, got dtype {fd.dtype}")
    fd = np.ascontiguousarray(fd)
    lab = np.ascontiguousarray(lab, dtype=np.int32)
    bad, lo, on_nodata = _scan(fd, lab, _RANK)  # one fused pass, no temporaries
    if bad >= 0:
        present = np.flatnonzero(np.bincount(fd.ravel(), minlength=256))
        codes = present[_RANK[present] < 0]
        raise InputError(
            f"fdir holds codes {codes[:8].tolist()} that are not ESRI D8 codes "
            "(1, 2, 4, ..., 128, 0 = pit/outlet, 255 = nodata); convert malstrøm codes first"
        )
    if lo < 0:
        raise InputError(f"bluespot labels must be >= 0, found {lo}")
    if on_nodata:
        raise InputError("labels has bluespot ids on fdir nodata cells; the rasters do not fit")
    return fd, lab


@njit(cache=True, nogil=True)
def _local_watersheds(
    fdir: np.ndarray, labels: np.ndarray, dr: np.ndarray, dc: np.ndarray
) -> tuple[np.ndarray, bool]:
    ny, nx = fdir.shape
    ws = np.empty((ny, nx), dtype=np.int32)
    ws[:] = _UNVISITED
    for r in range(ny):
        for c in range(nx):
            if fdir[r, c] == 255:
                ws[r, c] = NODATA_WATERSHED
    path = np.empty(ny * nx, dtype=np.int64)
    for r0 in range(ny):
        for c0 in range(nx):
            if ws[r0, c0] != _UNVISITED:
                continue
            top = 0
            value = 0
            r = r0
            c = c0
            while True:
                s = ws[r, c]
                if s >= 0:
                    value = s
                    break
                if s == _ON_PATH:
                    return ws, False
                if labels[r, c] > 0:
                    value = labels[r, c]
                    ws[r, c] = value
                    break
                ws[r, c] = _ON_PATH
                path[top] = r * nx + c
                top += 1
                code = fdir[r, c]
                if code == 0:
                    break
                rr = r + dr[code]
                cc = c + dc[code]
                if rr < 0 or rr >= ny or cc < 0 or cc >= nx or fdir[rr, cc] == 255:
                    break
                r = rr
                c = cc
            for i in range(top):
                k = path[i]
                ws[k // nx, k % nx] = value
    return ws, True


def local_watersheds(fdir: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Local watershed of every bluespot.

    Parameters
    ----------
    fdir : (ny, nx) uint8 array
        ESRI D8 codes (``0`` = pit/outlet, ``255`` = nodata) that drain flats
        (flat-resolved or epsilon-filled DEM).
    labels : (ny, nx) int array
        Bluespot ids (0 = none).

    Returns
    -------
    (ny, nx) int32 array
        Id of the bluespot each cell drains to first (bluespot cells: their own id);
        ``0`` = drains to an outlet without passing a bluespot; ``-1``
        (:data:`NODATA_WATERSHED`) on nodata cells. Runs in O(ny * nx).

    Raises
    ------
    InputError
        On invalid D8 codes, bluespot ids on nodata, or a cycle in the D8 directions.
    GridMismatchError
        If the rasters differ in shape.
    """
    fd, lab = _check_fdir_labels(fdir, labels)
    ws, ok = _local_watersheds(fd, lab, _DR, _DC)
    if not ok:
        raise InputError("fdir contains a flow cycle; compute D8 directions on a filled DEM")
    return ws


@dataclass(frozen=True)
class PourPoints:
    """Pour point of every bluespot; arrays indexed by bluespot id (length ``n + 1``).

    Index 0 is unused (row/col ``-1``, elevation NaN).

    Attributes
    ----------
    row, col : int64 arrays
        Raster cell of the pour point (a cell of the bluespot).
    to_row, to_col : int64 arrays
        The cell the pour point drains to (outside the bluespot); ``-1`` when the
        water leaves the raster there (pit code, edge).
    spill_elevation : float64 array
        ``filled`` at the pour point: the water level when the bluespot is full.
    """

    row: np.ndarray
    col: np.ndarray
    to_row: np.ndarray
    to_col: np.ndarray
    spill_elevation: np.ndarray

    @property
    def n(self) -> int:
        """Number of bluespots."""
        return len(self.row) - 1


@njit(cache=True, nogil=True)
def _pour_points(
    fdir: np.ndarray,
    labels: np.ndarray,
    ws: np.ndarray,
    n: int,
    dr: np.ndarray,
    dc: np.ndarray,
    rank: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    ny, nx = fdir.shape
    present = np.zeros(n + 1, dtype=np.bool_)
    row = np.empty(n + 1, dtype=np.int64)
    row[:] = -1
    col = np.empty(n + 1, dtype=np.int64)
    col[:] = -1
    to_row = np.empty(n + 1, dtype=np.int64)
    to_row[:] = -1
    to_col = np.empty(n + 1, dtype=np.int64)
    to_col[:] = -1
    best = np.empty(n + 1, dtype=np.int64)
    best[:] = 99
    for r in range(ny):
        for c in range(nx):
            b = labels[r, c]
            if b <= 0:
                continue
            present[b] = True
            code = fdir[r, c]
            k = rank[code]
            if k >= best[b]:
                continue
            tr = -1
            tc = -1
            if code != 0:
                rr = r + dr[code]
                cc = c + dc[code]
                if 0 <= rr < ny and 0 <= cc < nx:
                    if labels[rr, cc] == b or ws[rr, cc] == b:
                        continue  # stays inside or flows back: not an exit cell
                    tr = rr
                    tc = cc
            best[b] = k
            row[b] = r
            col[b] = c
            to_row[b] = tr
            to_col[b] = tc
    return row, col, to_row, to_col, present


def _check_outlet_pour_points(
    fd: np.ndarray, row: np.ndarray, col: np.ndarray, to_row: np.ndarray
) -> None:
    """A pour point with the pit code must be an outlet: on the edge or next to nodata."""
    ny, nx = fd.shape
    bad = []
    for b in np.flatnonzero((row >= 0) & (to_row < 0) & (np.arange(row.size) > 0)):
        r, c = int(row[b]), int(col[b])
        if fd[r, c] != d8codes.PIT or r in (0, ny - 1) or c in (0, nx - 1):
            continue
        if not np.any(fd[r - 1 : r + 2, c - 1 : c + 2] == d8codes.NODATA):
            bad.append(int(b))
    if bad:
        raise InputError(
            f"bluespots {bad[:8]} drain to an inner pit/flat cell (D8 code 0 away from the "
            "edge and nodata); compute fdir with the flats drained (core.flats.d8_flat_resolved)"
        )


def pour_points(
    fdir: np.ndarray, labels: np.ndarray, watersheds: np.ndarray, filled: np.ndarray
) -> PourPoints:
    """Pour point of each bluespot: where water leaves it when it is full.

    Parameters
    ----------
    fdir : (ny, nx) uint8 array
        ESRI D8 codes that drain flats (flat-resolved or epsilon-filled DEM).
    labels : (ny, nx) int array
        Bluespot ids (0 = none).
    watersheds : (ny, nx) int array
        :func:`local_watersheds` of ``fdir`` and ``labels``.
    filled : (ny, nx) float array
        Flat-filled terrain (m); gives the spill elevation.

    Returns
    -------
    PourPoints
        See the module docstring for the definition (shortest exit step, then raster
        scan order). On the malstrøm test data all 104 pour points match exactly.

    Raises
    ------
    InputError
        If a bluespot has no exit cell (the D8 directions trap water in it), or its
        water would leave through an inner pit/flat cell (D8 of a flat fill).
    GridMismatchError
        If the rasters differ in shape.
    """
    fd, lab = _check_fdir_labels(fdir, labels)
    fil = check_2d("filled", filled)
    ws = check_2d("watersheds", watersheds)
    check_same_shape(fdir=fd, filled=fil, watersheds=ws)
    n = int(lab.max()) if lab.size else 0  # ids >= 0: checked with the D8 codes
    ws = np.ascontiguousarray(ws, dtype=np.int32)
    row, col, to_row, to_col, present = _pour_points(fd, lab, ws, n, _DR, _DC, _RANK)
    missing = np.flatnonzero(present & (row < 0))
    missing = missing[missing > 0]
    if missing.size:
        raise InputError(
            f"bluespots {missing[:8].tolist()} have no cell whose D8 direction leaves them; "
            "compute fdir with the flats drained and watersheds from the same fdir/labels"
        )
    _check_outlet_pour_points(fd, row, col, to_row)
    spill = np.full(n + 1, np.nan, dtype=np.float64)
    ok = row >= 0
    spill[ok] = fil[row[ok], col[ok]].astype(np.float64)  # not a float64 copy of the raster
    return PourPoints(row=row, col=col, to_row=to_row, to_col=to_col, spill_elevation=spill)


def downstream_bluespots(pour: PourPoints, watersheds: np.ndarray) -> np.ndarray:
    """Downstream bluespot of each bluespot: where its spill flows.

    Parameters
    ----------
    pour : PourPoints
        From :func:`pour_points`.
    watersheds : (ny, nx) int array
        From :func:`local_watersheds` (same labels and D8 directions).

    Returns
    -------
    int32 array of length ``n + 1``
        ``downstream[b]`` = id of the first bluespot reached from b's pour point;
        ``0`` = the spill leaves at an outlet or the raster edge. ``downstream[0] = 0``.

    Raises
    ------
    InputError
        If a bluespot spills into itself (pour points and watersheds computed from
        different inputs).
    """
    ws = check_2d("watersheds", watersheds)
    n = pour.n
    down = np.zeros(n + 1, dtype=np.int32)
    ok = pour.to_row >= 0
    down[ok] = ws[pour.to_row[ok], pour.to_col[ok]]
    down[down < 0] = 0  # drains into nodata: an outlet
    down[0] = 0
    selfloop = np.flatnonzero(down == np.arange(n + 1))
    selfloop = selfloop[selfloop > 0]
    if selfloop.size:
        raise InputError(
            f"bluespots {selfloop[:8].tolist()} spill into themselves; watersheds, pour "
            "points and D8 directions must come from the same inputs"
        )
    return down


def topological_order(downstream: np.ndarray) -> np.ndarray:
    """Bluespot ids ordered so that every bluespot comes after all that spill into it.

    Parameters
    ----------
    downstream : int array of length ``n + 1``
        From :func:`downstream_bluespots` (``0`` = outlet; index 0 ignored).

    Returns
    -------
    int64 array
        The ids ``1..n``, upstream first (Kahn's algorithm; ties in ascending id
        order, so the result is deterministic).

    Raises
    ------
    InputError
        If ids are out of range or the network has a cycle.
    """
    down = np.asarray(downstream, dtype=np.int64)
    if down.ndim != 1 or down.size == 0:
        raise InputError("downstream must be a 1-D array of length n + 1")
    n = down.size - 1
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    d = down[1:]
    if d.min() < 0 or d.max() > n:
        raise InputError(f"downstream ids must be in 0..{n}")
    indeg = np.bincount(d, minlength=n + 1)
    queue = deque(int(b) for b in np.flatnonzero(indeg[1:] == 0) + 1)
    order: list[int] = []
    while queue:
        b = queue.popleft()
        order.append(b)
        t = int(down[b])
        if t > 0:
            indeg[t] -= 1
            if indeg[t] == 0:
                queue.append(t)
    if len(order) != n:
        raise InputError("the bluespot network has a cycle; it must drain to outlets")
    return np.array(order, dtype=np.int64)


def watershed_areas(watersheds: np.ndarray, n: int, dx: float, dy: float) -> np.ndarray:
    """Area (m²) of each local watershed, indexed ``0..n`` (0 = drains to outlets).

    Parameters
    ----------
    watersheds : (ny, nx) int array
        From :func:`local_watersheds`; nodata (``-1``) cells are not counted.
    n : int
        Number of bluespots.
    dx, dy : float
        Cell width and height in metres.

    Returns
    -------
    float64 array of length ``n + 1``
    """
    ws = np.ascontiguousarray(check_2d("watersheds", watersheds))
    area = check_cell_size(dx, dy)
    if ws.size and int(ws.max()) > n:
        raise InputError(f"watersheds holds id {int(ws.max())} > n={n}")
    return _count_ids(ws, n).astype(np.float64) * area


@njit(cache=True, nogil=True)
def _count_ids(ws: np.ndarray, n: int) -> np.ndarray:
    """Cells per id ``0..n`` (negative values, nodata, are not counted)."""
    out = np.zeros(n + 1, dtype=np.int64)
    for v in ws.ravel():
        if v >= 0:
            out[v] += 1
    return out


def fill_rain_mm(volume: np.ndarray, watershed_area: np.ndarray) -> np.ndarray:
    """Rain depth (mm) that fills each bluespot from its own local watershed.

    ``volume / watershed_area * 1000``; NaN where the watershed area is 0.

    Parameters
    ----------
    volume : float array
        Bluespot capacities, m³ (e.g. ``BluespotProperties.volume``).
    watershed_area : float array
        Local watershed areas, m² (from :func:`watershed_areas`), same length.

    Returns
    -------
    float64 array
    """
    v = np.asarray(volume, dtype=np.float64)
    a = np.asarray(watershed_area, dtype=np.float64)
    if v.shape != a.shape:
        raise InputError(f"volume {v.shape} and watershed_area {a.shape} differ in shape")
    out = np.full(v.shape, np.nan, dtype=np.float64)
    np.divide(v * 1000.0, a, out=out, where=a > 0)
    return out


@njit(cache=True, nogil=True)
def _walk(
    fdir: np.ndarray,
    labels: np.ndarray,
    row: int,
    col: int,
    dr: np.ndarray,
    dc: np.ndarray,
    out: np.ndarray,
) -> int:
    """Walk the path; write cells into ``out`` if it is long enough. Return length, -1 = cycle."""
    ny, nx = fdir.shape
    start = labels[row, col]
    r = row
    c = col
    k = 0
    while k < ny * nx:
        if k < out.shape[0]:
            out[k, 0] = r
            out[k, 1] = c
        k += 1
        b = labels[r, c]
        if k > 1 and b > 0 and b != start:
            return k
        code = fdir[r, c]
        if code == 0:
            return k
        rr = r + dr[code]
        cc = c + dc[code]
        if rr < 0 or rr >= ny or cc < 0 or cc >= nx or fdir[rr, cc] == 255:
            return k
        r = rr
        c = cc
    return -1


def trace_flow_path(fdir: np.ndarray, labels: np.ndarray, row: int, col: int) -> np.ndarray:
    """Cells of the D8 flow path from ``(row, col)`` to the next bluespot or an outlet.

    The path starts at ``(row, col)`` (typically a pour point) and ends at the first
    cell of a *different* bluespot (included), or at the last valid cell before an
    outlet (pit code, raster edge, nodata).

    Parameters
    ----------
    fdir : (ny, nx) uint8 array
        ESRI D8 codes.
    labels : (ny, nx) int array
        Bluespot ids.
    row, col : int
        Start cell.

    Returns
    -------
    (k, 2) int64 array
        Row and column of each cell along the path.
    """
    fd, lab = _check_fdir_labels(fdir, labels)
    return _trace_checked(fd, lab, row, col)


def _trace_checked(fd: np.ndarray, lab: np.ndarray, row: int, col: int) -> np.ndarray:
    ny, nx = fd.shape
    if not (0 <= row < ny and 0 <= col < nx) or fd[row, col] == d8codes.NODATA:
        raise InputError(f"start cell ({row}, {col}) is outside the raster or nodata")
    buf = np.empty((256, 2), dtype=np.int64)
    k = _walk(fd, lab, int(row), int(col), _DR, _DC, buf)
    if k < 0:
        raise InputError("fdir contains a flow cycle; compute D8 directions on a filled DEM")
    if k > buf.shape[0]:
        buf = np.empty((k, 2), dtype=np.int64)
        _walk(fd, lab, int(row), int(col), _DR, _DC, buf)
    return buf[:k].copy()


def flow_paths(fdir: np.ndarray, labels: np.ndarray, pour: PourPoints) -> list[np.ndarray]:
    """Flow path of every bluespot's spill, from its pour point (see :func:`trace_flow_path`).

    Parameters
    ----------
    fdir : (ny, nx) uint8 array
        ESRI D8 codes.
    labels : (ny, nx) int array
        Bluespot ids.
    pour : PourPoints
        From :func:`pour_points`.

    Returns
    -------
    list of (k, 2) int64 arrays
        Indexed by bluespot id; entry 0 (and any id without a pour point) is empty.
        Each path ends in the first cell of the downstream bluespot, or at the last
        cell before an outlet. On the malstrøm test data each path equals the
        concatenation of the ``streams.json`` pieces through junctions.
    """
    fd, lab = _check_fdir_labels(fdir, labels)
    out = [np.zeros((0, 2), dtype=np.int64)]
    for b in range(1, pour.n + 1):
        if pour.row[b] < 0:
            out.append(np.zeros((0, 2), dtype=np.int64))
        else:
            out.append(_trace_checked(fd, lab, int(pour.row[b]), int(pour.col[b])))
    return out


@njit(cache=True, nogil=True)
def _walk_all(
    fdir: np.ndarray,
    labels: np.ndarray,
    row: np.ndarray,
    col: np.ndarray,
    dr: np.ndarray,
    dc: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, int]:
    """Cells (flat indices) of every path from the pour points, and the path pointers."""
    ny, nx = fdir.shape
    n = row.shape[0] - 1
    ptr = np.zeros(n + 2, dtype=np.int64)
    cells = np.empty(max(16, 4 * n), dtype=np.int64)
    m = 0
    for b in range(1, n + 1):
        ptr[b] = m
        if row[b] < 0:
            continue
        r = row[b]
        c = col[b]
        start = labels[r, c]
        k = 0
        while True:
            if k >= ny * nx:
                return cells, ptr, -1
            if m >= cells.shape[0]:
                grown = np.empty(2 * cells.shape[0], dtype=np.int64)
                grown[:m] = cells[:m]
                cells = grown
            cells[m] = r * nx + c
            m += 1
            k += 1
            lb = labels[r, c]
            if k > 1 and lb > 0 and lb != start:
                break
            code = fdir[r, c]
            if code == 0:
                break
            rr = r + dr[code]
            cc = c + dc[code]
            if rr < 0 or rr >= ny or cc < 0 or cc >= nx or fdir[rr, cc] == 255:
                break
            r = rr
            c = cc
    ptr[n + 1] = m
    return cells, ptr, m


def flow_path_cells(
    fdir: np.ndarray, labels: np.ndarray, pour: PourPoints
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`flow_paths` of all bluespots at once, as flat arrays (one kernel call).

    Parameters
    ----------
    fdir : (ny, nx) uint8 array
        ESRI D8 codes.
    labels : (ny, nx) int array
        Bluespot ids.
    pour : PourPoints
        From :func:`pour_points`.

    Returns
    -------
    cells : int64 array
        Flat (row-major) indices of the path cells, path after path.
    ptr : int64 array of length ``n + 2``
        Path ``b`` is ``cells[ptr[b]:ptr[b + 1]]`` (the same cells, in order, as
        ``flow_paths(...)[b]``); empty for ``b = 0`` and ids without a pour point.

    Raises
    ------
    InputError
        If ``fdir`` has a flow cycle on a path.
    """
    fd, lab = _check_fdir_labels(fdir, labels)
    ny, nx = fd.shape
    bad = (pour.row >= ny) | (pour.col >= nx) | ((pour.row >= 0) & (pour.col < 0))
    if bad[1:].any():
        raise InputError("pour points lie outside the raster; they do not fit fdir")
    cells, ptr, m = _walk_all(
        fd,
        lab,
        np.ascontiguousarray(pour.row, dtype=np.int64),
        np.ascontiguousarray(pour.col, dtype=np.int64),
        _DR,
        _DC,
    )
    if m < 0:
        raise InputError("fdir contains a flow cycle; compute D8 directions on a filled DEM")
    return cells[:m].copy(), ptr
