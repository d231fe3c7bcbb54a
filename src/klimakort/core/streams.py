"""Stream-network kernels on a D8 grid: Strahler order, segments, profile carving.

All functions are pure array kernels (numpy + numba). A *stream network* is a D8
flow-direction grid (ESRI codes, see :mod:`klimakort.core.d8codes`) restricted to a
boolean stream ``mask``: a masked cell drains to the neighbour its code points to if
that neighbour is inside the grid **and** in the mask; otherwise the cell is a network
outlet. Cells outside the mask are ignored. Codes other than the eight powers of two
(``0`` pit, ``255`` nodata, anything invalid) make the cell an outlet.

Work and memory are proportional to the number of stream cells, apart from one
``int32`` lookup grid (4 bytes per cell) mapping grid cells to stream-cell positions.

Segments
--------
The network is split into *segments*: maximal chains of cells between a *head* and
the next head downstream (or an outlet). Heads are stream cells with no upstream
stream neighbour (sources) or with two or more (confluences). A confluence cell is
the first cell of the segment below it, so every stream cell belongs to exactly one
segment and each segment has a constant Strahler order.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from klimakort.core.d8codes import CODES, DCOL, DROW

#: direction index (into DROW/DCOL) of every uint8 code; -1 for outlet/nodata/invalid
_DIR_OF_CODE = np.full(256, -1, dtype=np.int64)
_DIR_OF_CODE[CODES] = np.arange(8)
_DROW = DROW.copy()
_DCOL = DCOL.copy()


@njit(cache=True, nogil=True)
def _compact_network(
    fdir: np.ndarray, mask: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return (cells, down, indeg) over the stream cells, in row-major order.

    ``cells`` holds the flat grid index of every stream cell, ``down`` the position
    (in ``cells``) of its downstream stream cell or -1, ``indeg`` the number of
    upstream stream cells.
    """
    ny, nx = fdir.shape
    pos = np.empty(ny * nx, dtype=np.int32)
    pos[:] = -1
    m = 0
    for r in range(ny):
        for c in range(nx):
            if mask[r, c]:
                pos[r * nx + c] = m
                m += 1
    cells = np.empty(m, dtype=np.int64)
    down = np.empty(m, dtype=np.int64)
    down[:] = -1
    indeg = np.empty(m, dtype=np.int32)
    indeg[:] = 0
    k = 0
    for r in range(ny):
        for c in range(nx):
            if not mask[r, c]:
                continue
            cells[k] = r * nx + c
            d = _DIR_OF_CODE[fdir[r, c]]
            if d >= 0:
                rr = r + _DROW[d]
                cc = c + _DCOL[d]
                if 0 <= rr < ny and 0 <= cc < nx and mask[rr, cc]:
                    j = pos[rr * nx + cc]
                    down[k] = j
                    indeg[j] += 1
            k += 1
    return cells, down, indeg


@njit(cache=True, nogil=True)
def strahler_order(fdir: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Strahler stream order of every cell of a D8 stream network.

    Sources get order 1; where two or more tributaries of the highest upstream order
    *i* meet, the order becomes *i* + 1, otherwise it stays at that highest order.

    Parameters
    ----------
    fdir : numpy.ndarray
        2-D D8 codes (ESRI, integer dtype).
    mask : numpy.ndarray
        2-D bool, True on stream cells (same shape).

    Returns
    -------
    numpy.ndarray
        ``uint8`` grid: order on stream cells, 0 elsewhere. Stream cells on a flow
        cycle, or downstream of one, also get 0 (a valid D8 grid has no cycles).
    """
    ny, nx = fdir.shape
    cells, down, indeg = _compact_network(fdir, mask)
    # Strahler order of every stream cell (0 for cells on or below a cycle)
    m = down.size
    order = np.empty(m, dtype=np.uint8)
    order[:] = 0
    best = np.empty(m, dtype=np.uint8)  # highest order among upstream cells
    best[:] = 0
    nbest = np.empty(m, dtype=np.int32)  # how many upstream cells have that order
    nbest[:] = 0
    remaining = indeg  # counts down; indeg is not needed afterwards
    stack = np.empty(m, dtype=np.int64)
    top = 0
    for i in range(m):
        if indeg[i] == 0:
            stack[top] = i
            top += 1
    while top > 0:
        top -= 1
        i = stack[top]
        if best[i] == 0:
            o = np.uint8(1)
        elif nbest[i] >= 2:
            o = np.uint8(best[i] + 1)
        else:
            o = best[i]
        order[i] = o
        j = down[i]
        if j >= 0:
            if o > best[j]:
                best[j] = o
                nbest[j] = 1
            elif o == best[j]:
                nbest[j] += 1
            remaining[j] -= 1
            if remaining[j] == 0:
                stack[top] = j
                top += 1
    out = np.empty(ny * nx, dtype=np.uint8)
    out[:] = 0
    for k in range(cells.size):
        out[cells[k]] = order[k]
    return out.reshape((ny, nx))


@njit(cache=True, nogil=True)
def stream_segments(
    fdir: np.ndarray, mask: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Split a D8 stream network into segments between sources, confluences and outlets.

    Parameters
    ----------
    fdir : numpy.ndarray
        2-D D8 codes (ESRI, integer dtype).
    mask : numpy.ndarray
        2-D bool, True on stream cells.

    Returns
    -------
    cells : numpy.ndarray
        ``int64`` flat grid indices (row * nx + col) of the segments' cells, segment
        after segment, each from upstream to downstream.
    ptr : numpy.ndarray
        ``int64`` offsets, length n_segments + 1: segment ``s`` is
        ``cells[ptr[s]:ptr[s + 1]]``.
    downstream : numpy.ndarray
        ``int64`` id of the segment each segment drains into (its first cell is the
        confluence below), -1 at network outlets.

    Notes
    -----
    Segment ids follow the row-major order of their head cells. Stream cells on a
    cycle without any head are not covered (so ``ptr[-1]`` is smaller than the number
    of stream cells only if the grid has a cycle).
    """
    cells_c, down, indeg = _compact_network(fdir, mask)
    m = cells_c.size
    seg_of = np.empty(m, dtype=np.int64)
    seg_of[:] = -1
    nseg = 0
    for i in range(m):
        if indeg[i] != 1:
            seg_of[i] = nseg
            nseg += 1
    cells = np.empty(m, dtype=np.int64)
    ptr = np.empty(nseg + 1, dtype=np.int64)
    downstream = np.empty(nseg, dtype=np.int64)
    downstream[:] = -1
    p = 0
    for h in range(m):
        s = seg_of[h]
        if s < 0:
            continue
        ptr[s] = p
        i = h
        while True:
            cells[p] = cells_c[i]
            p += 1
            j = down[i]
            if j < 0:
                break
            if indeg[j] != 1:
                downstream[s] = seg_of[j]
                break
            i = j
    ptr[nseg] = p
    return cells[:p], ptr, downstream


def segment_vertices(
    cells: np.ndarray, ptr: np.ndarray, downstream: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Vertex cells of each segment: its own cells plus its downstream segment's first cell.

    Parameters
    ----------
    cells, ptr, downstream : numpy.ndarray
        Output of :func:`stream_segments` (``downstream`` may have been edited, e.g.
        set to -1 for segments whose downstream segment was dropped).

    Returns
    -------
    vcells : numpy.ndarray
        ``int64`` flat cell indices of all vertices, segment after segment.
    vptr : numpy.ndarray
        ``int64`` offsets into ``vcells``, length n_segments + 1.
    """
    cells = np.asarray(cells, dtype=np.int64)
    ptr = np.asarray(ptr, dtype=np.int64)
    downstream = np.asarray(downstream, dtype=np.int64)
    # plain numpy (integer index arithmetic, no loop): one compiled kernel less
    lengths = np.diff(ptr)
    has_down = downstream >= 0
    vptr = np.zeros(ptr.size, dtype=np.int64)
    np.cumsum(lengths + has_down, out=vptr[1:])
    vcells = np.empty(vptr[-1], dtype=np.int64)
    src = np.arange(ptr[0], ptr[-1], dtype=np.int64)  # segments are consecutive in cells
    vcells[src + np.repeat(vptr[:-1] - ptr[:-1], lengths)] = cells[src]
    vcells[vptr[1:][has_down] - 1] = cells[ptr[downstream[has_down]]]
    return vcells, vptr


@njit(cache=True, nogil=True)
def carve_profiles(z: np.ndarray, seq: np.ndarray, ptr: np.ndarray, valid: np.ndarray) -> int:
    """Lower cells in place so each cell sequence has a non-increasing profile.

    Each sequence ``seq[ptr[s]:ptr[s + 1]]`` (flat indices into ``z``, upstream
    first) gets a running minimum: every cell is lowered to the lowest value seen
    upstream of it on the same sequence. Cells where ``valid`` is False are skipped
    (left unchanged, and they do not interrupt the running minimum). Sequences that
    share cells are repeated until nothing changes, so that in the result *every*
    sequence is non-increasing, whatever the order of the sequences.

    Parameters
    ----------
    z : numpy.ndarray
        1-D float heights (a raveled DEM), modified in place.
    seq : numpy.ndarray
        ``int64`` flat cell indices, sequence after sequence.
    ptr : numpy.ndarray
        ``int64`` offsets into ``seq``, length n_sequences + 1.
    valid : numpy.ndarray
        1-D bool, False on nodata cells.

    Returns
    -------
    int
        Number of sweeps over all sequences (>= 1; the last one changed nothing).
    """
    sweeps = 0
    changed = True
    while changed:
        changed = False
        sweeps += 1
        for s in range(ptr.size - 1):
            have = False
            low = 0.0
            for k in range(ptr[s], ptr[s + 1]):
                i = seq[k]
                if not valid[i]:
                    continue
                if not have:
                    low = z[i]
                    have = True
                elif z[i] > low:
                    z[i] = low
                    changed = True
                else:
                    low = z[i]
    return sweeps


@njit(cache=True, nogil=True)
def _trace_segment(
    x0: float,
    y0: float,
    x1: float,
    y1: float,
    ny: int,
    nx: int,
    out: np.ndarray,
    start: int,
    n: int,
) -> int:
    """Append the cells crossed by one segment (grid units) to ``out[n:]``; return new n.

    A cell equal to ``out[n - 1]`` is not repeated, unless ``n == start`` (the previous
    cell belongs to another line).
    """
    c = int(np.floor(x0))
    r = int(np.floor(y0))
    c_end = int(np.floor(x1))
    r_end = int(np.floor(y1))
    dx = x1 - x0
    dy = y1 - y0
    step_c = 1 if dx > 0 else -1
    step_r = 1 if dy > 0 else -1
    t_c, dt_c = np.inf, np.inf  # parameter t (0..1) of the next column / row boundary
    t_r, dt_r = np.inf, np.inf
    if dx != 0:
        dt_c = 1.0 / abs(dx)
        t_c = ((c + 1 - x0) if dx > 0 else (x0 - c)) * dt_c
    if dy != 0:
        dt_r = 1.0 / abs(dy)
        t_r = ((r + 1 - y0) if dy > 0 else (y0 - r)) * dt_r
    for k in range(abs(c_end - c) + abs(r_end - r) + 1):
        if k > 0:
            if c == c_end or (r != r_end and t_r < t_c):
                r += step_r
                t_r += dt_r
            else:
                c += step_c
                t_c += dt_c
        if 0 <= r < ny and 0 <= c < nx:
            idx = r * nx + c
            if n == start or out[n - 1] != idx:
                out[n] = idx
                n += 1
    return n


@njit(cache=True, nogil=True)
def trace_lines(
    cols: np.ndarray, rows: np.ndarray, part_ptr: np.ndarray, ny: int, nx: int
) -> tuple[np.ndarray, np.ndarray]:
    """Cells crossed by polylines, in line order (a 4-connected walk along each line).

    Parameters
    ----------
    cols, rows : numpy.ndarray
        Float vertex coordinates in grid units (cell ``(r, c)`` covers
        ``[c, c + 1) x [r, r + 1)``), polyline after polyline.
    part_ptr : numpy.ndarray
        ``int64`` offsets of each polyline's vertices, length n_lines + 1.
    ny, nx : int
        Grid shape; cells outside it are left out.

    Returns
    -------
    seq : numpy.ndarray
        ``int64`` flat indices of the cells each line passes through (every cell whose
        interior it crosses, plus one side cell where it passes exactly through a
        corner), in line order, without immediate repeats.
    ptr : numpy.ndarray
        ``int64`` offsets into ``seq``, length n_lines + 1.
    """
    nlines = part_ptr.size - 1
    cap = 0
    for i in range(nlines):
        cap += 1
        for k in range(part_ptr[i], part_ptr[i + 1] - 1):
            cap += int(abs(np.floor(cols[k + 1]) - np.floor(cols[k])))
            cap += int(abs(np.floor(rows[k + 1]) - np.floor(rows[k]))) + 1
    seq = np.empty(cap, dtype=np.int64)
    ptr = np.empty(nlines + 1, dtype=np.int64)
    ptr[:] = 0
    n = 0
    for i in range(nlines):
        start = n
        a, b = part_ptr[i], part_ptr[i + 1]
        if b - a == 1:
            n = _trace_segment(cols[a], rows[a], cols[a], rows[a], ny, nx, seq, start, n)
        for k in range(a, b - 1):
            n = _trace_segment(cols[k], rows[k], cols[k + 1], rows[k + 1], ny, nx, seq, start, n)
        ptr[i + 1] = n
    return seq[:n], ptr
