"""Tests of klimakort.core.fill (Priority-Flood depression filling)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import ndimage
from skimage.morphology import reconstruction

from klimakort.core._pq import float_key, rq_new, rq_pop, rq_push
from klimakort.core.d8 import d8_directions
from klimakort.core.d8codes import DCOL, DROW
from klimakort.core.fill import _fill, fill_depressions
from klimakort.core.fill_tiled import tile_edges
from klimakort.errors import GridMismatchError, InputError, ParameterError

EIGHT = np.ones((3, 3), dtype=bool)


def _read(path: Path) -> tuple[np.ndarray, float | None]:
    with rasterio.open(path) as src:
        return src.read(1), src.nodata


# --------------------------------------------------------------------------- oracle helpers


def _seed_mask(dem: np.ndarray, inland: str, outlets: np.ndarray | None = None) -> np.ndarray:
    """Outlet cells, computed independently of the kernel (scipy labelling)."""
    nodata = np.isnan(dem)
    if inland == "outlet":
        outlet_nd = nodata
    else:
        labels, _ = ndimage.label(nodata, structure=EIGHT)
        edge = np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]])
        outlet_nd = np.isin(labels, edge[edge > 0])
    seeds = ndimage.binary_dilation(outlet_nd, structure=EIGHT)
    seeds[[0, -1], :] = True
    seeds[:, [0, -1]] = True
    if outlets is not None:
        seeds |= outlets
    seeds &= ~nodata
    if inland == "barrier":
        # valid regions that no outlet reaches drain to their lowest cell
        regions, n = ndimage.label(~nodata, structure=EIGHT)
        for lab in range(1, n + 1):
            inside = regions == lab
            if not seeds[inside].any():
                vals = np.where(inside, dem, np.inf).ravel()
                seeds.flat[int(np.argmin(vals))] = True  # first lowest, row-major
    return seeds


def _reconstruction_fill(
    dem: np.ndarray, inland: str, outlets: np.ndarray | None = None
) -> np.ndarray:
    """Flat fill by morphological reconstruction by erosion (scikit-image)."""
    nodata = np.isnan(dem)
    seeds = _seed_mask(dem, inland, outlets)
    work = dem.astype(np.float64)
    low, high = -1e9, 1e9
    # outlet nodata is very low (it drains); barrier nodata is a very high wall
    if inland == "outlet":
        outlet_nd = nodata
    else:
        labels, _ = ndimage.label(nodata, structure=EIGHT)
        edge = np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]])
        outlet_nd = np.isin(labels, edge[edge > 0]) & nodata
    mask = np.where(outlet_nd, low, np.where(nodata, high, work))
    seed = np.where(seeds | outlet_nd, mask, high)
    rec = reconstruction(seed, mask, method="erosion")
    return np.where(nodata, np.nan, rec).astype(dem.dtype)


@st.composite
def dems(draw: st.DrawFn) -> np.ndarray:
    """Small random DEMs: integer-ish or float, float32/float64, random NaN incl. holes."""
    nr = draw(st.integers(1, 30))
    nc = draw(st.integers(1, 30))
    seed = draw(st.integers(0, 2**32 - 1))
    integer = draw(st.booleans())
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    nan_frac = draw(st.sampled_from([0.0, 0.05, 0.2, 0.5]))
    rng = np.random.default_rng(seed)
    vals = rng.integers(0, 8, (nr, nc)) if integer else rng.normal(10.0, 3.0, (nr, nc))
    dem = vals.astype(dtype)
    dem[rng.random((nr, nc)) < nan_frac] = np.nan
    return dem


# --------------------------------------------------------------------------- malstrøm oracle


@pytest.mark.shared
def test_flat_fill_equals_malstroem_bit_for_bit(malstroem_dir: Path) -> None:
    dtm, nodata = _read(malstroem_dir / "dtm.tif")
    expected, _ = _read(malstroem_dir / "filled.tif")
    assert nodata is not None and not (dtm == nodata).any()  # this clip has no nodata
    dtm = np.where(dtm == nodata, np.float32(np.nan), dtm)
    filled = fill_depressions(dtm)
    assert filled.dtype == np.float32
    assert np.array_equal(filled.view(np.uint32), expected.view(np.uint32))
    assert (filled > dtm).sum() > 1000  # the clip really has depressions


@pytest.mark.shared
def test_depth_equals_malstroem_depths(malstroem_dir: Path) -> None:
    dtm, _ = _read(malstroem_dir / "dtm.tif")
    depths, _ = _read(malstroem_dir / "depths.tif")
    depth = fill_depressions(dtm) - dtm
    assert np.array_equal(depth.view(np.uint32), depths.view(np.uint32))


@pytest.mark.shared
def test_epsilon_fill_on_malstroem_drains_everything(malstroem_dir: Path) -> None:
    dtm, _ = _read(malstroem_dir / "dtm.tif")
    flat = fill_depressions(dtm)
    eps = fill_depressions(dtm, flats="epsilon")
    assert (eps >= flat).all()
    assert float((eps - flat).max()) < 1e-3  # only ulp-sized raises
    fdir = d8_directions(eps, 16.0, 15.957)
    interior = fdir[1:-1, 1:-1]
    assert (interior != 0).all()  # no pits or flats left inside


# --------------------------------------------------------------------------- hand cases


def test_single_pit_3x3_is_filled_to_rim() -> None:
    dem = np.array([[5, 5, 5], [5, 1, 5], [5, 5, 5]], dtype=np.float32)
    expected = np.full((3, 3), 5, dtype=np.float32)
    assert np.array_equal(fill_depressions(dem), expected)


def test_5x5_pit_fills_to_lowest_spill_point() -> None:
    dem = np.array(
        [
            [9, 9, 9, 9, 9],
            [9, 6, 6, 6, 9],
            [9, 6, 2, 6, 4],
            [9, 6, 6, 6, 9],
            [9, 9, 9, 9, 9],
        ],
        dtype=np.float64,
    )
    expected = dem.copy()
    expected[1:4, 1:4] = 6  # spill over the 6-ring, out through the 4 on the east edge
    assert np.array_equal(fill_depressions(dem), expected)


def test_inland_nodata_outlet_vs_barrier() -> None:
    dem = np.full((5, 5), 9.0)
    dem[1:4, 1:4] = 3.0
    dem[2, 2] = np.nan  # an inland hole (a drain)
    as_outlet = fill_depressions(dem)
    assert np.array_equal(as_outlet, dem, equal_nan=True)  # water drains into the hole
    as_barrier = fill_depressions(dem, inland_nodata="barrier")
    expected = dem.copy()
    expected[1:4, 1:4] = 9.0
    expected[2, 2] = np.nan
    assert np.array_equal(as_barrier, expected, equal_nan=True)


def test_edge_connected_nodata_is_an_outlet_even_as_barrier() -> None:
    dem = np.full((5, 5), 9.0)
    dem[1:4, 1:4] = 3.0
    dem[2, 2:] = np.nan  # the sea reaches in from the east edge
    out = fill_depressions(dem, inland_nodata="barrier")
    assert np.array_equal(out, dem, equal_nan=True)


def test_outlet_mask_keeps_pit() -> None:
    dem = np.array([[5, 5, 5], [5, 1, 5], [5, 5, 5]], dtype=np.float32)
    outlets = np.zeros((3, 3), dtype=bool)
    outlets[1, 1] = True
    assert np.array_equal(fill_depressions(dem, outlets=outlets), dem)


def test_walled_region_drains_to_its_lowest_cell() -> None:
    dem = np.full((7, 7), 1.0)
    dem[1:6, 1:6] = np.nan  # a ring of inland nodata ...
    dem[2:5, 2:5] = [[4, 4, 4], [4, 0, 3], [4, 4, 4]]  # ... around an island
    out = fill_depressions(dem, inland_nodata="barrier")
    assert np.array_equal(out, dem, equal_nan=True)  # the island's pit is its own outlet


def test_epsilon_flat_gets_ulp_gradient_from_its_spill_point() -> None:
    dem = np.full((5, 7), 3.0, dtype=np.float32)
    dem[1:4, 1:6] = 2.0  # a closed plateau ...
    dem[2, 0] = 0.0  # ... that spills west through (2, 0), next to all of column 1
    out = fill_depressions(dem, flats="epsilon")
    up = np.float32(np.inf)
    for r in range(1, 4):
        for c in range(1, 6):
            expected = np.float32(2.0)
            for _ in range(c - 1):  # one ulp per cell of flood distance from column 1
                expected = np.nextafter(expected, up)
            assert out[r, c] == expected, (r, c)
    border = np.ones(dem.shape, dtype=bool)
    border[1:-1, 1:-1] = False
    assert np.array_equal(out[border], dem[border])


# --------------------------------------------------------------------------- properties


@settings(deadline=None, max_examples=150)
@given(dem=dems(), inland=st.sampled_from(["outlet", "barrier"]))
def test_flat_fill_equals_reconstruction(dem: np.ndarray, inland: str) -> None:
    out = fill_depressions(dem, inland_nodata=inland)  # type: ignore[arg-type]
    expected = _reconstruction_fill(dem, inland)
    assert out.dtype == dem.dtype
    assert np.array_equal(out, expected, equal_nan=True)
    valid = ~np.isnan(dem)
    assert (out[valid] >= dem[valid]).all()
    assert np.array_equal(np.isnan(out), ~valid)


@settings(deadline=None, max_examples=60)
@given(dem=dems(), seed=st.integers(0, 1000))
def test_outlet_mask_equals_reconstruction(dem: np.ndarray, seed: int) -> None:
    outlets = np.random.default_rng(seed).random(dem.shape) < 0.05
    out = fill_depressions(dem, outlets=outlets)
    assert np.array_equal(out, _reconstruction_fill(dem, "outlet", outlets), equal_nan=True)


def _follow_to_outlets(fdir: np.ndarray) -> np.ndarray:
    """Terminal cell (flat index) of the D8 path from every cell; fails on cycles."""
    nc = fdir.shape[1]
    code_k = {int(1 << k): k for k in range(8)}
    end = np.full(fdir.size, -1, dtype=np.int64)
    for start in range(fdir.size):
        if fdir.flat[start] == 255:
            continue
        i, steps = start, 0
        while fdir.flat[i] != 0:
            k = code_k[int(fdir.flat[i])]
            r, c = divmod(i, nc)
            i = (r + int(DROW[k])) * nc + c + int(DCOL[k])
            steps += 1
            assert steps <= fdir.size, "cycle in D8 directions"
        end[start] = i
    return end


@settings(deadline=None, max_examples=80)
@given(dem=dems(), inland=st.sampled_from(["outlet", "barrier"]))
def test_epsilon_fill_drains_every_cell_to_an_outlet(dem: np.ndarray, inland: str) -> None:
    eps = fill_depressions(dem, flats="epsilon", inland_nodata=inland)  # type: ignore[arg-type]
    flat = fill_depressions(dem, inland_nodata=inland)  # type: ignore[arg-type]
    valid = ~np.isnan(dem)
    assert (eps[valid] >= flat[valid]).all()
    fdir = d8_directions(eps, 1.0, 1.0)
    ends = _follow_to_outlets(fdir)
    seeds = _seed_mask(dem, inland).ravel()
    assert seeds[ends[valid.ravel()]].all()  # every path ends at an outlet


# --------------------------------------------------------------------------- tiled fill


def _same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    return a.dtype == b.dtype and np.array_equal(a.view(np.uint8), b.view(np.uint8))


@settings(deadline=None, max_examples=200)
@given(
    dem=dems(),
    inland=st.sampled_from(["outlet", "barrier"]),
    tile=st.tuples(st.integers(1, 8), st.integers(1, 8)),
    workers=st.sampled_from([1, 2]),
    outlet_seed=st.one_of(st.none(), st.integers(0, 1000)),
)
def test_tiled_fill_equals_serial_bit_for_bit(
    dem: np.ndarray, inland: str, tile: tuple[int, int], workers: int, outlet_seed: int | None
) -> None:
    outlets = None
    if outlet_seed is not None:
        outlets = np.random.default_rng(outlet_seed).random(dem.shape) < 0.05
    serial = _fill(dem, "flat", inland, outlets, None)
    tiled = _fill(dem, "flat", inland, outlets, tile, workers)
    assert _same_bits(tiled, serial)


@pytest.mark.parametrize("shape", [(1, 1), (1, 17), (17, 1), (2, 9), (9, 2)])
@pytest.mark.parametrize("tile", [(1, 1), (1, 4), (3, 2)])
def test_tiled_fill_on_thin_rasters(shape: tuple[int, int], tile: tuple[int, int]) -> None:
    dem = np.random.default_rng(7).integers(0, 5, shape).astype(np.float32)
    assert _same_bits(_fill(dem, "flat", "outlet", None, tile, 2), fill_depressions(dem))


def test_tiled_fill_spills_through_a_tile_corner() -> None:
    # four 3 x 3 tiles; the pit at (2, 2) in tile (0, 0) drains only diagonally through
    # the shared corner to (3, 3) in tile (1, 1), then on to the outlet at (5, 5)
    dem = np.full((6, 6), 9.0, dtype=np.float32)
    dem[2, 2] = 0.8
    dem[3, 3] = 1.0
    dem[4, 4] = 1.0
    dem[5, 5] = 0.5
    out = _fill(dem, "flat", "outlet", None, (3, 3), 2)
    expected = dem.copy()
    expected[2, 2] = 1.0
    assert np.array_equal(out, expected)
    assert _same_bits(out, _fill(dem, "flat", "outlet", None, None))


def test_tiled_fill_falls_back_for_walled_regions() -> None:
    # an island walled in by inland nodata, spread over several tiles, has no outlet:
    # with "barrier" it drains to its lowest cell (serial fallback)
    dem = np.full((12, 12), 1.0)
    dem[1:11, 1:11] = np.nan
    inner = np.random.default_rng(3).integers(2, 9, (8, 8)).astype(float)
    dem[2:10, 2:10] = inner
    out = _fill(dem, "flat", "barrier", None, (4, 4), 2)
    assert np.array_equal(out, _reconstruction_fill(dem, "barrier"), equal_nan=True)
    assert _same_bits(out, _fill(dem, "flat", "barrier", None, None))


def test_public_fill_uses_tiles_on_large_grids_and_matches_serial() -> None:
    rng = np.random.default_rng(11)
    dem = np.round(rng.normal(20.0, 2.0, (400, 380)), 1).astype(np.float32)
    dem[rng.random(dem.shape) < 0.01] = np.nan
    out = fill_depressions(dem)  # 152 000 cells > two 256 x 256 tiles
    assert _same_bits(out, _fill(dem, "flat", "outlet", None, None))
    assert (out[~np.isnan(dem)] > dem[~np.isnan(dem)]).any()
    eps = fill_depressions(dem, flats="epsilon")  # serial: unchanged
    assert (eps[~np.isnan(dem)] >= out[~np.isnan(dem)]).all()


def test_tiled_fill_signed_zeros_compare_equal() -> None:
    # -0.0 and +0.0 are equal heights; which sign a filled cell gets depends on flood
    # order, so only values (not bits) are compared here
    dem = np.zeros((9, 9), dtype=np.float32)
    dem[::2, ::3] = -0.0
    dem[4, 4] = -1.0
    dem[0, :] = 1.0
    out = _fill(dem, "flat", "outlet", None, (3, 3), 2)
    assert np.array_equal(out, _fill(dem, "flat", "outlet", None, None))


@given(n=st.integers(0, 200), size=st.integers(1, 300))
def test_tile_edges_split_evenly(n: int, size: int) -> None:
    edges = tile_edges(n, size)
    assert edges[0] == 0 and edges[-1] == n
    widths = np.diff(edges)
    assert len(widths) == max(1, -(-n // size))
    if n:
        assert widths.min() >= 1 and widths.max() <= size
        assert widths.max() - widths.min() <= 1


# --------------------------------------------------------------------------- radix heap


@settings(deadline=None, max_examples=40)
@given(
    values=st.lists(
        st.floats(allow_nan=False, allow_infinity=True, width=32), min_size=1, max_size=300
    ),
    pops_every=st.integers(1, 5),
)
def test_radix_queue_pops_in_order(values: list[float], pops_every: int) -> None:
    keys32 = np.array(values, dtype=np.float32)
    bits = keys32.view(np.uint32)
    sign, mask = np.uint64(1 << 31), np.uint64(2**32 - 1)
    ukeys = np.array([float_key(b, sign, mask) for b in bits], dtype=np.uint64)
    order = np.argsort(keys32, kind="stable")
    sorted_keys = ukeys[order]
    assert (sorted_keys[1:] >= sorted_keys[:-1]).all()  # order preserving
    zeros = np.array([0.0, -0.0], dtype=np.float32).view(np.uint32)
    assert float_key(zeros[0], sign, mask) == float_key(zeros[1], sign, mask)

    heads, state, last, pkey, pval, pnext = rq_new(4, np.empty(0, dtype=np.int32))
    pushed: list[int] = []
    popped: list[int] = []
    floor = -np.inf
    for start in range(0, len(keys32), pops_every):
        for p in range(start, min(start + pops_every, len(keys32))):
            if keys32[p] >= floor:  # monotone use: never below the last popped key
                pkey, pval, pnext = rq_push(heads, state, last, pkey, pval, pnext, ukeys[p], p)
                pushed.append(p)
        if state[0]:
            popped.append(rq_pop(heads, state, last, pkey, pval, pnext))
            floor = keys32[popped[-1]]
    while state[0]:
        popped.append(rq_pop(heads, state, last, pkey, pval, pnext))
    assert sorted(popped) == sorted(pushed)
    popped_keys = keys32[popped]
    assert (popped_keys[1:] >= popped_keys[:-1]).all()


# --------------------------------------------------------------------------- errors


def test_rejects_bad_input() -> None:
    with pytest.raises(InputError, match="float32 or float64"):
        fill_depressions(np.zeros((3, 3), dtype=np.int16))
    with pytest.raises(InputError, match="2-D"):
        fill_depressions(np.zeros((2, 3, 3), dtype=np.float32))
    with pytest.raises(ParameterError, match="flats"):
        fill_depressions(np.zeros((3, 3)), flats="breach")  # type: ignore[arg-type]
    with pytest.raises(ParameterError, match="inland_nodata"):
        fill_depressions(np.zeros((3, 3)), inland_nodata="sea")  # type: ignore[arg-type]
    with pytest.raises(GridMismatchError):
        fill_depressions(np.zeros((3, 3)), outlets=np.zeros((2, 2), dtype=bool))
    with pytest.raises(InputError, match="boolean"):
        fill_depressions(np.zeros((3, 3)), outlets=np.zeros((3, 3), dtype=np.uint8))


def test_degenerate_shapes() -> None:
    assert fill_depressions(np.zeros((0, 4), dtype=np.float32)).shape == (0, 4)
    all_nan = np.full((3, 3), np.nan)
    assert np.isnan(fill_depressions(all_nan)).all()
    one = np.array([[7.0]])
    assert fill_depressions(one)[0, 0] == 7.0
