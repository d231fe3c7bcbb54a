"""Tests of the stream-network kernels (Strahler order, segments, tracing, carving)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from klimakort.core.d8codes import CODES, DCOL, DROW, NODATA
from klimakort.core.streams import (
    carve_profiles,
    segment_vertices,
    strahler_order,
    stream_segments,
    trace_lines,
)

E, SE, S, SW, W, NW, N, NE = (int(c) for c in CODES)


def y_network() -> tuple[np.ndarray, np.ndarray]:
    """5x5 Y: two diagonal branches meet at (2, 2), the trunk runs south off the grid."""
    fdir = np.full((5, 5), NODATA, dtype=np.uint8)
    fdir[0, 0] = SE
    fdir[1, 1] = SE
    fdir[0, 4] = SW
    fdir[1, 3] = SW
    fdir[2, 2] = S
    fdir[3, 2] = S
    fdir[4, 2] = S
    return fdir, fdir != NODATA


# ----------------------------------------------------------------- reference model


def downstream_of(fdir: np.ndarray, mask: np.ndarray) -> dict[tuple[int, int], tuple[int, int]]:
    """Plain-python downstream map restricted to the mask (no entry = outlet)."""
    ny, nx = fdir.shape
    out = {}
    for r in range(ny):
        for c in range(nx):
            if not mask[r, c]:
                continue
            hits = np.flatnonzero(fdir[r, c] == CODES)
            if hits.size == 0:
                continue
            rr, cc = r + int(DROW[hits[0]]), c + int(DCOL[hits[0]])
            if 0 <= rr < ny and 0 <= cc < nx and mask[rr, cc]:
                out[(r, c)] = (rr, cc)
    return out


def reference_strahler(fdir: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Strahler order by recursion over upstream cells (acyclic input)."""
    down = downstream_of(fdir, mask)
    ups: dict[tuple[int, int], list[tuple[int, int]]] = {}
    for a, b in down.items():
        ups.setdefault(b, []).append(a)
    memo: dict[tuple[int, int], int] = {}

    def order(cell: tuple[int, int]) -> int:
        if cell not in memo:
            children = [order(u) for u in ups.get(cell, [])]
            if not children:
                memo[cell] = 1
            else:
                top = max(children)
                memo[cell] = top + 1 if children.count(top) >= 2 else top
        return memo[cell]

    out = np.zeros(fdir.shape, dtype=np.uint8)
    for r, c in zip(*np.nonzero(mask), strict=True):
        out[r, c] = order((int(r), int(c)))
    return out


@st.composite
def random_trees(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    """Random acyclic D8 grids (each cell drains to a lower-ranked neighbour) and masks."""
    ny = draw(st.integers(2, 9))
    nx = draw(st.integers(2, 9))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    rank = rng.permutation(ny * nx).reshape(ny, nx)
    fdir = np.zeros((ny, nx), dtype=np.uint8)
    for r in range(ny):
        for c in range(nx):
            options = [
                int(CODES[k])
                for k in range(8)
                if 0 <= r + DROW[k] < ny
                and 0 <= c + DCOL[k] < nx
                and rank[r + DROW[k], c + DCOL[k]] < rank[r, c]
            ]
            if options and rng.random() < 0.9:
                fdir[r, c] = rng.choice(options)
            elif rng.random() < 0.3:
                fdir[r, c] = NODATA
    mask = (rng.random((ny, nx)) < draw(st.floats(0.3, 1.0))) & (fdir != NODATA)
    return fdir, mask


# ----------------------------------------------------------------- Strahler


def test_strahler_y_network() -> None:
    fdir, mask = y_network()
    order = strahler_order(fdir, mask)
    assert order[0, 0] == order[1, 1] == order[0, 4] == order[1, 3] == 1
    assert order[2, 2] == order[3, 2] == order[4, 2] == 2
    assert (order[~mask] == 0).all()


def test_strahler_order_one_tributary_does_not_raise() -> None:
    # two order-2 streams make order 3; a further order-1 tributary keeps it at 3
    fdir = np.full((3, 7), NODATA, dtype=np.uint8)
    fdir[0, 0], fdir[0, 2] = SE, SW  # -> (1, 1): order 2
    fdir[1, 1] = SE  # -> (2, 2)
    fdir[0, 4], fdir[0, 6] = SE, SW  # -> (1, 5): order 2
    fdir[1, 5] = SW  # -> (2, 4)
    fdir[2, 4] = W  # -> (2, 3)
    fdir[2, 3] = W  # -> (2, 2): confluence of two order-2 -> 3
    fdir[1, 2] = S  # order-1 tributary into (2, 2)
    fdir[2, 2] = W
    fdir[2, 1] = W
    fdir[2, 0] = W  # leaves the grid
    mask = fdir != NODATA
    order = strahler_order(fdir, mask)
    assert order[1, 1] == order[1, 5] == order[2, 3] == 2
    assert order[2, 2] == order[2, 0] == 3
    assert order[1, 2] == 1


def test_strahler_mask_restricts_network() -> None:
    fdir, mask = y_network()
    mask[0, 4] = mask[1, 3] = False  # drop one branch: no confluence any more
    order = strahler_order(fdir, mask)
    assert order[2, 2] == 1
    assert order[0, 4] == 0


def test_strahler_cycle_cells_get_zero() -> None:
    fdir = np.array([[E, S], [N, W]], dtype=np.uint8)  # 2x2 loop
    fdir = np.pad(fdir, ((0, 0), (1, 0)), constant_values=E)  # feeder at the left
    mask = np.ones(fdir.shape, dtype=bool)
    order = strahler_order(fdir, mask)
    assert (order[:, 1:] == 0).all()


@settings(deadline=None, max_examples=60)
@given(random_trees())
def test_strahler_matches_reference(tree: tuple[np.ndarray, np.ndarray]) -> None:
    fdir, mask = tree
    np.testing.assert_array_equal(strahler_order(fdir, mask), reference_strahler(fdir, mask))


# ----------------------------------------------------------------- segments


def test_segments_y_network() -> None:
    fdir, mask = y_network()
    cells, ptr, down = stream_segments(fdir, mask)
    segs = [cells[ptr[s] : ptr[s + 1]].tolist() for s in range(ptr.size - 1)]
    assert segs == [[0, 6], [4, 8], [12, 17, 22]]
    assert down.tolist() == [2, 2, -1]
    vcells, vptr = segment_vertices(cells, ptr, down)
    verts = [vcells[vptr[s] : vptr[s + 1]].tolist() for s in range(vptr.size - 1)]
    assert verts == [[0, 6, 12], [4, 8, 12], [12, 17, 22]]


@settings(deadline=None, max_examples=60)
@given(random_trees())
def test_segments_partition_the_network(tree: tuple[np.ndarray, np.ndarray]) -> None:
    fdir, mask = tree
    nx = fdir.shape[1]
    down = {r * nx + c: rr * nx + cc for (r, c), (rr, cc) in downstream_of(fdir, mask).items()}
    indeg: dict[int, int] = {}
    for b in down.values():
        indeg[b] = indeg.get(b, 0) + 1
    cells, ptr, seg_down = stream_segments(fdir, mask)
    # every stream cell in exactly one segment
    assert sorted(cells.tolist()) == np.flatnonzero(mask.ravel()).tolist()
    first = {int(cells[ptr[s]]): s for s in range(ptr.size - 1)}
    for s in range(ptr.size - 1):
        seg = cells[ptr[s] : ptr[s + 1]].tolist()
        assert indeg.get(seg[0], 0) != 1  # starts at a source or confluence
        for a, b in itertools.pairwise(seg):
            assert down[a] == b and indeg[b] == 1  # a chain without junctions
        nxt = down.get(seg[-1])
        if nxt is None:
            assert seg_down[s] == -1
        else:
            assert seg_down[s] == first[nxt]


def test_segments_empty_mask() -> None:
    fdir, mask = y_network()
    cells, ptr, down = stream_segments(fdir, np.zeros_like(mask))
    assert cells.size == 0 and ptr.tolist() == [0] and down.size == 0


# ----------------------------------------------------------------- tracing


def _cell_boxes(ny: int, nx: int) -> np.ndarray:
    rr, cc = np.mgrid[0:ny, 0:nx]
    return shapely.box(cc, rr, cc + 1, rr + 1).ravel()


@settings(deadline=None, max_examples=60)
@given(
    st.lists(
        st.tuples(st.floats(-2.0, 12.0), st.floats(-2.0, 9.0)),
        min_size=2,
        max_size=5,
    )
)
def test_trace_lines_cells_are_the_crossed_cells_in_order(pts: list[tuple[float, float]]) -> None:
    ny, nx = 7, 10
    line = shapely.LineString(pts)
    xy = np.asarray(pts, dtype=np.float64)
    seq, ptr = trace_lines(xy[:, 0], xy[:, 1], np.array([0, len(pts)]), ny, nx)
    assert ptr.tolist() == [0, seq.size]
    # each visited cell touches the line (within 1e-9 cells: a line through an exact corner
    # may be walked through either side cell, and float rounding at that corner decides);
    # each cell whose interior the line crosses is visited
    # (GEOS may raise floating-point flags on degenerate lines, e.g. subnormal coordinates)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore", under="ignore"):
        near = shapely.dwithin(_cell_boxes(ny, nx), line, 1e-9)
        inner = shapely.intersects(shapely.buffer(_cell_boxes(ny, nx), -1e-6), line)  # crossed
    crossed = set(np.flatnonzero(near).tolist())
    assert set(seq.tolist()) <= crossed
    assert set(np.flatnonzero(inner).tolist()) <= set(seq.tolist())
    # consecutive cells are neighbours while the walk stays inside the grid
    rows, cols = np.divmod(seq, nx)
    inside = np.all((xy >= 0) & (xy < [nx, ny]), axis=1).all()
    if inside and seq.size > 1:
        assert (np.abs(np.diff(rows)) + np.abs(np.diff(cols)) == 1).all()


def test_trace_lines_keeps_lines_apart() -> None:
    # second line starts in the cell where the first ends: both keep that cell
    cols = np.array([0.5, 2.5, 2.5, 2.5])
    rows = np.array([0.5, 0.5, 0.5, 2.5])
    seq, ptr = trace_lines(cols, rows, np.array([0, 2, 4]), 3, 3)
    assert seq[ptr[0] : ptr[1]].tolist() == [0, 1, 2]
    assert seq[ptr[1] : ptr[2]].tolist() == [2, 5, 8]


# ----------------------------------------------------------------- carving


@settings(deadline=None, max_examples=60)
@given(st.lists(st.floats(-5, 5, allow_nan=False), min_size=1, max_size=30))
def test_carve_single_profile_is_running_minimum(values: list[float]) -> None:
    z = np.asarray(values, dtype=np.float64)
    seq = np.arange(z.size, dtype=np.int64)
    out = z.copy()
    carve_profiles(out, seq, np.array([0, z.size]), np.ones(z.size, dtype=bool))
    np.testing.assert_array_equal(out, np.minimum.accumulate(z))


@settings(deadline=None, max_examples=60)
@given(st.integers(0, 2**32 - 1))
def test_carve_shared_cells_all_profiles_non_increasing(seed: int) -> None:
    rng = np.random.default_rng(seed)
    z = rng.uniform(0, 10, 40).astype(np.float32)
    valid = rng.random(40) > 0.1
    lines = [rng.choice(40, size=rng.integers(1, 12), replace=False) for _ in range(4)]
    seq = np.concatenate(lines).astype(np.int64)
    ptr = np.concatenate(([0], np.cumsum([len(line) for line in lines]))).astype(np.int64)
    out = z.copy()
    sweeps = carve_profiles(out, seq, ptr, valid)
    assert sweeps >= 1
    assert (out <= z).all()
    untouched = ~np.isin(np.arange(40), seq) | ~valid
    np.testing.assert_array_equal(out[untouched], z[untouched])
    for line in lines:
        prof = out[line[valid[line]]]
        assert (np.diff(prof) <= 0).all()


def test_carve_skips_invalid_cells() -> None:
    z = np.array([5.0, np.nan, 7.0, 3.0, 4.0])
    valid = ~np.isnan(z)
    carve_profiles(z, np.arange(5, dtype=np.int64), np.array([0, 5]), valid)
    np.testing.assert_array_equal(z[valid], [5.0, 5.0, 3.0, 3.0])
    assert np.isnan(z[1])


@pytest.mark.parametrize("dtype", [np.uint8, np.int16])
def test_kernels_accept_integer_code_dtypes(dtype: type) -> None:
    fdir, mask = y_network()
    order = strahler_order(fdir.astype(dtype), mask)
    assert order.max() == 2
