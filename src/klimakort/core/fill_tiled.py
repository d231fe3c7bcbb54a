"""Tiled, multi-threaded Priority-Flood ("flat" fill) for :mod:`klimakort.core.fill` (private).

The method is the parallel Priority-Flood of Barnes (2016, *Parallel Priority-Flood
depression filling for trillion cell digital elevation models*, Computers &
Geosciences 96:56-68), run on tiles of one in-memory grid:

1. Every tile is filled on its own (:func:`_fill_tile`), in a small local copy that
   stays in the CPU cache, with its perimeter cells as extra outlets. Each cell gets
   the label of the watershed it was flooded from: 1 for the real outlets (the
   "ocean"), and a new label for every perimeter cell popped before any flood reached
   it. Where two watersheds touch, the lowest pass between them (the larger of the
   two filled heights) is kept as an edge of a spill graph over the labels.
2. Adjacent perimeter cells of neighbouring tiles add edges at the larger of their
   elevations (in :func:`_solve_labels`).
3. A small Priority-Flood over the spill graph (:func:`_solve_labels`) gives every
   label the level at which its water reaches the ocean.
4. Every cell is raised to the spill level of its label if that is higher
   (:func:`_raise_tile`).

The result is exactly the serial fill (all values are elevations of the dem, only
compared, never computed), apart from the sign of zero where ``-0.0`` and ``+0.0``
meet. Tiles are processed by a pool of threads; the kernels release the GIL.

Regions that no outlet reaches (walled in by nodata with
``inland_nodata="barrier"``) are not handled here: :func:`fill_flat_tiled` then
returns ``False`` and the caller falls back to the serial fill.
"""

from __future__ import annotations

import itertools
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from numba import njit

from klimakort.core._pq import float_key

__all__ = ["cpu_workers", "fill_flat_tiled", "run_threads", "tile_edges"]

# global flag bits shared with klimakort.core.fill
SEED = np.uint8(4)
NODATA = np.uint8(8)

# tile-local flag bits
_PERIM = np.uint8(1)  # on the tile perimeter: neighbour loops need bounds checks
_NOLAB = np.uint16(65535)  # label of nodata cells
_OCEAN = np.uint16(1)  # label of cells flooded from a real outlet
_DR = np.array([0, 1, 1, 1, 0, -1, -1, -1], dtype=np.int64)  # neighbour offsets, E first
_DC = np.array([1, 1, 0, -1, -1, -1, 0, 1], dtype=np.int64)
_MAX_SIDE = 16000  # labels (at most the perimeter cells + 2 per tile) must fit uint16


def tile_edges(n: int, size: int) -> np.ndarray:
    """Starts of ``ceil(n / size)`` near-equal tiles along an axis of length ``n``, then ``n``."""
    k = max(1, -(-n // max(1, size)))
    return np.array([(i * n) // k for i in range(k + 1)], dtype=np.int64)


# Compile time: every njit function is a compilation unit of its own (a few tenths of a
# second each, twice more for calls with constant arguments, which numba specialises on),
# so the small steps of the tile fill are written out in :func:`_fill_tile` and
# :func:`_flood` instead of being helpers.


@njit(cache=True, nogil=True)
def _sift_down(hk: np.ndarray, hv: np.ndarray, size: int, i: int, key: float, val: int) -> None:
    """Place ``(key, val)`` at the hole ``i`` of the heap and sift it down.

    Pass ``i`` as a variable, not as a constant (a constant argument makes numba
    compile a second specialisation).
    """
    while True:
        ch = 2 * i + 1
        if ch >= size:
            break
        if ch + 1 < size and hk[ch + 1] < hk[ch]:
            ch += 1
        if hk[ch] >= key:
            break
        hk[i] = hk[ch]
        hv[i] = hv[ch]
        i = ch
    hk[i] = key
    hv[i] = val


@njit(cache=True, nogil=True)
def _flood(  # noqa: C901 - one hot loop, helpers written out (see above)
    buf: tuple[np.ndarray, ...],
    h: int,
    w: int,
    kmin: np.uint64,
    shift: np.uint64,
    sign: np.uint64,
    mask: np.uint64,
    hkeys: np.ndarray,
    hvals: np.ndarray,
    st: np.ndarray,
) -> bool:
    """Run the tile's Priority-Flood; return ``False`` early when the edge table is half full.

    The queue state lives in ``st`` between calls (see :func:`_fill_tile`). The
    table arrays are never replaced in here: growing them inside the hot loop makes
    numba keep reference counts there, which costs more than the whole flood.

    The queue is a bucket queue (buckets as linked lists through ``nxt``) whose
    current bucket is a binary min-heap ``hk``/``hv``. Spill-graph edges go into an
    open-addressing table ``hkeys``/``hvals`` (size a power of two, ``-1`` = free)
    that keeps the lowest pass per pair of labels.
    """
    z, zbits, lf, lab, work, nxt, bhead, hk, hv = buf
    off = np.empty(8, dtype=np.int64)
    for k in range(8):
        off[k] = _DR[k] * w + _DC[k]
    head = st[0]
    tail = st[1]
    hsize = st[2]
    pending = st[3]
    cb = st[4]
    nlab = st[5]
    nvisit = st[6]
    hcount = st[7]
    limit = hkeys.shape[0] // 2
    hm = hkeys.shape[0] - 1
    root = hsize - hsize  # 0, as a variable (see _sift_down)
    done = True
    while hsize > 0 or pending > 0 or head < tail:
        if hcount > limit:
            done = False
            break
        if head < tail:  # the pit queue first: cells at the current level
            c = int(work[head])
            head += 1
            if head == tail:
                head = 0
                tail = 0
        else:
            if hsize == 0:  # move the next non-empty bucket into the heap
                cb += 1
                while bhead[cb] < 0:
                    cb += 1
                s = bhead[cb]
                while s >= 0:
                    hk[hsize] = z[s]
                    hv[hsize] = s
                    hsize += 1
                    s = nxt[s]
                for i in range(hsize // 2 - 1, -1, -1):
                    _sift_down(hk, hv, hsize, i, hk[i], hv[i])
                pending -= hsize
            c = int(hv[0])
            hsize -= 1
            _sift_down(hk, hv, hsize, root, hk[hsize], hv[hsize])
        nvisit += 1
        lc = lab[c]
        if lc == 0:  # a perimeter cell no flood has reached: a new watershed
            lc = np.uint16(nlab)
            lab[c] = lc
            nlab += 1
        v = z[c]
        perim = lf[c] & _PERIM
        r = c // w if perim else 0
        col = c - r * w
        for k in range(8):
            if perim:
                rr = r + _DR[k]
                cc = col + _DC[k]
                if rr < 0 or rr >= h or cc < 0 or cc >= w:
                    continue
            j = c + off[k]
            lj = lab[j]
            if lj == 0:
                lab[j] = lc
                if lf[j] & _PERIM:  # already queued at its own height
                    continue
                zj = z[j]
                if zj <= v:
                    z[j] = v
                    work[tail] = j
                    tail += 1
                    continue
                b = int((float_key(zbits[j], sign, mask) - kmin) >> shift)
                if b == cb:  # push onto the heap (sift up)
                    i = hsize
                    while i > 0:
                        p = (i - 1) >> 1
                        if hk[p] <= zj:
                            break
                        hk[i] = hk[p]
                        hv[i] = hv[p]
                        i = p
                    hk[i] = zj
                    hv[i] = j
                    hsize += 1
                else:
                    nxt[j] = bhead[b]
                    bhead[b] = j
                    pending += 1
            elif lj != lc and lj != _NOLAB:  # two watersheds meet: keep the lowest pass
                zj = z[j]
                key = int(lc) * 65536 + int(lj) if lc < lj else int(lj) * 65536 + int(lc)
                val = zj if zj > v else v
                x = key * 2654435761
                g = (x ^ (x >> 20)) & hm
                while hkeys[g] >= 0 and hkeys[g] != key:
                    g = (g + 1) & hm
                if hkeys[g] < 0:
                    hkeys[g] = key
                    hvals[g] = val
                    hcount += 1
                elif val < hvals[g]:
                    hvals[g] = val
    st[0] = head
    st[1] = tail
    st[2] = hsize
    st[3] = pending
    st[4] = cb
    st[5] = nlab
    st[6] = nvisit
    st[7] = hcount
    return done


@njit(cache=True, nogil=True)
def _fill_tile(  # noqa: C901 - one kernel, helpers written out (see above)
    filled: np.ndarray,
    flags: np.ndarray,
    labels: np.ndarray,
    nc: int,
    r0: int,
    r1: int,
    c0: int,
    c1: int,
    buf: tuple[np.ndarray, ...],
    sign: np.uint64,
    mask: np.uint64,
) -> tuple[int, np.ndarray, np.ndarray, bool]:
    """Fill one tile with its perimeter as outlets; write heights and labels back.

    ``buf`` holds scratch buffers of at least the tile's size (see
    :func:`_buffers`). The priority queue is a bucket queue on the order-preserving
    integer keys of the heights (buckets as linked lists through ``nxt``) whose
    current bucket is a binary heap, so pops come in exact height order. Returns the
    number of labels used (labels are ``1 .. n-1``; 1 is the ocean), the spill-graph
    edges as keys ``a * 65536 + b`` (``a < b``) with their heights, and whether every
    valid cell of the tile was reached.
    """
    z, zbits, lf, lab, _, nxt, bhead, hk, hv = buf
    w = c1 - c0
    h = r1 - r0
    n = h * w
    # copy the tile into the local buffers; label nodata and real outlets, flag the perimeter
    for r in range(h):
        g = (r0 + r) * nc + c0
        t = r * w
        for c in range(w):
            z[t + c] = filled[g + c]
            f = flags[g + c]
            lf[t + c] = 0
            if f & NODATA:
                lab[t + c] = _NOLAB
            elif f & SEED:
                lab[t + c] = _OCEAN
            else:
                lab[t + c] = 0
    for c in range(w):
        lf[c] = _PERIM
        lf[(h - 1) * w + c] = _PERIM
    for r in range(h):
        lf[r * w] = _PERIM
        lf[r * w + w - 1] = _PERIM
    # smallest key of the valid cells and the shift that maps keys to < nbuckets buckets
    nbuckets = min(bhead.shape[0], n + 1)
    kmin = mask
    kmax = np.uint64(0)
    for i in range(n):
        if lab[i] != _NOLAB:
            k = float_key(zbits[i], sign, mask)
            if k < kmin:
                kmin = k
            if k > kmax:
                kmax = k
    shift = np.uint64(0)
    if kmax > kmin:
        span = kmax - kmin
        while (span >> shift) >= np.uint64(nbuckets):
            shift += np.uint64(1)
    for b in range(nbuckets):
        bhead[b] = -1
    nvisit = 0
    hsize = 0
    pending = 0  # items in the buckets after the current one (whose items are in the heap)
    for i in range(n):  # seeds: real outlets and the tile perimeter
        if lab[i] == _NOLAB:
            nvisit += 1
        elif lab[i] == _OCEAN or lf[i] & _PERIM:
            b = int((float_key(zbits[i], sign, mask) - kmin) >> shift)
            if b == 0:  # push onto the heap (sift up)
                zi = z[i]
                p = hsize
                while p > 0:
                    q = (p - 1) >> 1
                    if hk[q] <= zi:
                        break
                    hk[p] = hk[q]
                    hv[p] = hv[q]
                    p = q
                hk[p] = zi
                hv[p] = i
                hsize += 1
            else:
                nxt[i] = bhead[b]
                bhead[b] = i
                pending += 1
    # state: head, tail, hsize, pending, current bucket, next label, visited, edges
    st = np.empty(8, dtype=np.int64)
    st[0] = 0
    st[1] = 0
    st[2] = hsize
    st[3] = pending
    st[4] = 0
    st[5] = 2
    st[6] = nvisit
    st[7] = 0
    hkeys = np.empty(1024, dtype=np.int64)
    for s in range(hkeys.shape[0]):
        hkeys[s] = -1
    hvals = np.empty(1024, dtype=z.dtype)
    while not _flood(buf, h, w, kmin, shift, sign, mask, hkeys, hvals, st):
        # the edge table is half full: rehash it into twice the size
        k2 = np.empty(2 * hkeys.shape[0], dtype=np.int64)
        for s in range(k2.shape[0]):
            k2[s] = -1
        v2 = np.empty(2 * hkeys.shape[0], dtype=hvals.dtype)
        m2 = k2.shape[0] - 1
        for s in range(hkeys.shape[0]):
            if hkeys[s] >= 0:
                x = hkeys[s] * 2654435761
                g = (x ^ (x >> 20)) & m2
                while k2[g] >= 0:
                    g = (g + 1) & m2
                k2[g] = hkeys[s]
                v2[g] = hvals[s]
        hkeys = k2
        hvals = v2
    ekeys = np.empty(st[7], dtype=np.int64)
    evals = np.empty(st[7], dtype=z.dtype)
    m = 0
    for s in range(hkeys.shape[0]):
        if hkeys[s] >= 0:
            ekeys[m] = hkeys[s]
            evals[m] = hvals[s]
            m += 1
    for r in range(h):
        g = (r0 + r) * nc + c0
        t = r * w
        for c in range(w):
            filled[g + c] = z[t + c]
            labels[g + c] = lab[t + c]
    return int(st[5]), ekeys, evals, st[6] == n


def _buffers(cap: int, dtype: np.dtype) -> tuple[np.ndarray, ...]:
    """Scratch buffers of :func:`_fill_tile` for tiles of up to ``cap`` cells."""
    z = np.empty(cap, dtype=dtype)
    zbits = z.view(np.uint32 if z.dtype.itemsize == 4 else np.uint64)
    lf = np.empty(cap, dtype=np.uint8)
    lab = np.empty(cap, dtype=np.uint16)
    work = np.empty(cap, dtype=np.int32)
    nxt = np.empty(cap, dtype=np.int32)
    bhead = np.empty(cap + 1, dtype=np.int32)
    hk = np.empty(cap, dtype=dtype)
    hv = np.empty(cap, dtype=np.int32)
    return z, zbits, lf, lab, work, nxt, bhead, hk, hv


@njit(cache=True)
def _solve_labels(  # noqa: C901 - edges and solver in one kernel (compile time)
    dem: np.ndarray,
    labels: np.ndarray,
    nr: int,
    nc: int,
    rows: np.ndarray,
    cols: np.ndarray,
    base: np.ndarray,
    nnodes: int,
    tu: np.ndarray,
    tv: np.ndarray,
    tw: np.ndarray,
) -> tuple[np.ndarray, bool]:
    """Spill level of every node: the lowest possible highest pass on a path to node 0.

    The spill graph has the edges ``tu``-``tv`` at heights ``tw`` found inside the
    tiles plus the edges between watersheds of 8-adjacent perimeter cells of
    different tiles.
    """
    ntc = cols.shape[0] - 1
    trow = np.empty(nr, dtype=np.int64)
    for t in range(rows.shape[0] - 1):
        trow[rows[t] : rows[t + 1]] = t
    tcol = np.empty(nc, dtype=np.int64)
    for t in range(ntc):
        tcol[cols[t] : cols[t + 1]] = t
    # the tiles' own edges first, then those between 8-adjacent perimeter cells of
    # different tiles (at the larger of their elevations)
    cap = tu.shape[0] + 3 * (nc * (rows.shape[0] - 2) + nr * (ntc - 1)) + 1
    eu = np.empty(cap, dtype=np.int64)
    ev = np.empty(cap, dtype=np.int64)
    ew = np.empty(cap, dtype=dem.dtype)
    for e in range(tu.shape[0]):
        eu[e] = tu[e]
        ev[e] = tv[e]
        ew[e] = tw[e]
    m = tu.shape[0]
    for side in range(2):
        bounds = rows if side == 0 else cols
        length = nc if side == 0 else nr
        for bi in range(1, bounds.shape[0] - 1):
            b = bounds[bi]
            for x in range(length):
                for d in range(-1, 2):
                    y = x + d
                    if y < 0 or y >= length:
                        continue
                    if side == 0:  # (b-1, x) above, (b, y) below
                        ra, ca, rb, cb = b - 1, x, b, y
                    else:  # (x, b-1) left, (y, b) right
                        ra, ca, rb, cb = x, b - 1, y, b
                    ia = ra * nc + ca
                    ib = rb * nc + cb
                    za = dem[ia]
                    zb = dem[ib]
                    if np.isnan(za) or np.isnan(zb):
                        continue
                    # spill-graph nodes of the tile-local labels (node 0 is the ocean)
                    la = int(labels[ia])
                    lb = int(labels[ib])
                    ga = 0 if la == 1 else base[trow[ra] * ntc + tcol[ca]] + la - 2
                    gb = 0 if lb == 1 else base[trow[rb] * ntc + tcol[cb]] + lb - 2
                    if ga == gb:
                        continue
                    eu[m] = ga
                    ev[m] = gb
                    ew[m] = za if za > zb else zb
                    m += 1
    deg = np.empty(nnodes + 1, dtype=np.int64)
    deg[:] = 0
    for e in range(m):
        deg[eu[e] + 1] += 1
        deg[ev[e] + 1] += 1
    for i in range(nnodes):
        deg[i + 1] += deg[i]
    adj = np.empty(2 * m, dtype=np.int64)
    aw = np.empty(2 * m, dtype=ew.dtype)
    pos = np.empty(nnodes, dtype=np.int64)
    for i in range(nnodes):
        pos[i] = deg[i]
    for e in range(m):
        adj[pos[eu[e]]] = ev[e]
        aw[pos[eu[e]]] = ew[e]
        pos[eu[e]] += 1
        adj[pos[ev[e]]] = eu[e]
        aw[pos[ev[e]]] = ew[e]
        pos[ev[e]] += 1
    level = np.empty(nnodes, dtype=ew.dtype)
    done = np.empty(nnodes, dtype=np.bool_)
    done[:] = False
    # binary min-heap of (key, node) with lazy deletion
    hk = np.empty(2 * m + 1, dtype=ew.dtype)
    hv = np.empty(2 * m + 1, dtype=np.int32)  # node ids < 2**31
    hk[0] = -np.inf
    hv[0] = 0
    size = 1
    ndone = 0
    root = size - size  # 0, as a variable (see _sift_down)
    while size > 0:
        key = hk[0]
        u = hv[0]
        size -= 1
        _sift_down(hk, hv, size, root, hk[size], hv[size])  # the last item, from the root
        if done[u]:
            continue
        done[u] = True
        level[u] = key
        ndone += 1
        for a in range(deg[u], deg[u + 1]):
            x = adj[a]
            if done[x]:
                continue
            kx = aw[a] if aw[a] > key else key
            i = size  # sift up
            size += 1
            while i > 0:
                p = (i - 1) // 2
                if hk[p] <= kx:
                    break
                hk[i] = hk[p]
                hv[i] = hv[p]
                i = p
            hk[i] = kx
            hv[i] = x
    return level, ndone == nnodes


@njit(cache=True, nogil=True)
def _raise_tile(
    filled: np.ndarray,
    labels: np.ndarray,
    nc: int,
    r0: int,
    r1: int,
    c0: int,
    c1: int,
    level: np.ndarray,
    base: int,
) -> None:
    """Raise every valid cell of a tile to the spill level of its watershed."""
    for r in range(r0, r1):
        for i in range(r * nc + c0, r * nc + c1):
            lb = labels[i]
            if lb <= 1 or lb == _NOLAB:  # ocean: the tile fill is final
                continue
            s = level[base + lb - 2]
            if s > filled[i]:
                filled[i] = s


def cpu_workers() -> int:
    """Number of CPU cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not on Linux
        return max(1, os.cpu_count() or 1)


def fill_flat_tiled(
    filled: np.ndarray,
    flags: np.ndarray,
    nr: int,
    nc: int,
    tile: tuple[int, int],
    workers: int | None = None,
) -> bool:
    """Flat-fill ``filled`` (a flat copy of the dem) in place, tile by tile.

    ``flags`` carries the SEED and NODATA bits of :mod:`klimakort.core.fill`.
    Returns ``False`` (with ``filled`` partly modified) if some valid cell is not
    reached from any outlet; the caller must then restart from the dem.
    """
    rows = tile_edges(nr, min(tile[0], _MAX_SIDE))
    cols = tile_edges(nc, min(tile[1], _MAX_SIDE))
    ntr, ntc = rows.shape[0] - 1, cols.shape[0] - 1
    ntiles = ntr * ntc
    cap = int(np.diff(rows).max()) * int(np.diff(cols).max())
    labels = np.empty(nr * nc, dtype=np.uint16)
    nbits = filled.dtype.itemsize * 8
    sign = np.uint64(1 << (nbits - 1))
    mask = np.uint64((1 << nbits) - 1)
    results: list[tuple[int, np.ndarray, np.ndarray, bool]] = [None] * ntiles  # type: ignore[list-item]
    counter = itertools.count()
    nthreads = min(workers or cpu_workers(), ntiles)

    def fill_worker() -> None:
        buf = _buffers(cap, filled.dtype)
        while (t := next(counter)) < ntiles:
            r0, r1 = rows[t // ntc], rows[t // ntc + 1]
            c0, c1 = cols[t % ntc], cols[t % ntc + 1]
            args = (filled, flags, labels, nc, r0, r1, c0, c1, buf, sign, mask)
            results[t] = _fill_tile(*args)

    run_threads(fill_worker, nthreads)
    if not all(res[3] for res in results):
        return False
    nlabs = np.array([res[0] - 2 for res in results], dtype=np.int64)
    base = np.empty(ntiles, dtype=np.int64)
    base[0] = 1
    base[1:] = 1 + np.cumsum(nlabs)[:-1]
    nnodes = 1 + int(nlabs.sum())
    dem = filled  # perimeter cells keep their dem elevation in the tile fill
    parts_u, parts_v, parts_w = [], [], []
    for t, (_, ekeys, evals, _ok) in enumerate(results):
        a = ekeys // 65536
        b = ekeys % 65536
        parts_u.append(np.where(a == 1, 0, base[t] + a - 2))
        parts_v.append(np.where(b == 1, 0, base[t] + b - 2))
        parts_w.append(evals)
    tu = np.concatenate(parts_u).astype(np.int64, copy=False)
    tv = np.concatenate(parts_v).astype(np.int64, copy=False)
    tw = np.concatenate(parts_w)
    args = (dem, labels, nr, nc, rows, cols, base, nnodes, tu, tv, tw)
    level, ok = _solve_labels(*args)
    if not ok:
        return False
    tiles = itertools.count()

    def raise_worker() -> None:
        while (t := next(tiles)) < ntiles:
            r0, r1 = rows[t // ntc], rows[t // ntc + 1]
            c0, c1 = cols[t % ntc], cols[t % ntc + 1]
            _raise_tile(filled, labels, nc, r0, r1, c0, c1, level, base[t])

    run_threads(raise_worker, nthreads)
    return True


def run_threads(fn: object, nthreads: int) -> None:
    """Run ``fn`` in ``nthreads`` threads (inline for one) and re-raise its errors."""
    assert callable(fn)
    if nthreads <= 1:
        fn()
        return
    with ThreadPoolExecutor(max_workers=nthreads) as pool:
        futures = [pool.submit(fn) for _ in range(nthreads)]
        for fut in futures:
            fut.result()
