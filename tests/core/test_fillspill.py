"""Tests for klimakort.core.fillspill: runoff per watershed, fill–spill cascade, depths."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from klimakort.core.fillspill import (
    fill_spill,
    flood_depth,
    water_levels,
    watershed_runoff,
)
from klimakort.core.levelvolume import level_volume_curves
from klimakort.errors import GridMismatchError, InputError, NoDataError, ParameterError

# --------------------------------------------------------------------------- routing by hand


def test_two_pits_in_a_row_upstream_spills_exact_excess() -> None:
    # bluespot 1 (capacity 4) spills into bluespot 2 (capacity 20), which drains out
    res = fill_spill(
        runoff=np.array([5.0, 10.0, 3.0]),
        capacity=np.array([0.0, 4.0, 20.0]),
        downstream=np.array([0, 2, 0]),
    )
    np.testing.assert_array_equal(res.own_runoff, [0.0, 10.0, 3.0])
    np.testing.assert_array_equal(res.stored, [0.0, 4.0, 9.0])
    np.testing.assert_array_equal(res.spilled, [0.0, 6.0, 0.0])
    np.testing.assert_array_equal(res.inflow, [0.0, 0.0, 6.0])
    np.testing.assert_array_equal(res.incoming, [0.0, 10.0, 9.0])
    np.testing.assert_allclose(res.fill_fraction, [0.0, 1.0, 0.45])
    assert res.direct_outlet == 5.0
    assert res.left_area == 5.0  # only watershed 0's runoff leaves
    assert res.n == 2


def test_cascade_through_three_levels_and_out() -> None:
    # 3 -> 1 -> 2 -> out, and 4 -> 2; ids deliberately not in network order
    down = np.array([0, 2, 0, 1, 2])
    res = fill_spill(
        runoff=np.array([0.0, 1.0, 2.0, 10.0, 7.0]),
        capacity=np.array([0.0, 5.0, 6.0, 2.0, 3.0]),
        downstream=down,
    )
    # 3: 10 in, keeps 2, spills 8 into 1; 1: 1 + 8 = 9, keeps 5, spills 4 into 2;
    # 4: 7 in, keeps 3, spills 4 into 2; 2: 2 + 4 + 4 = 10, keeps 6, spills 4 out
    np.testing.assert_array_equal(res.incoming, [0, 9, 10, 10, 7])
    np.testing.assert_array_equal(res.stored, [0, 5, 6, 2, 3])
    np.testing.assert_array_equal(res.spilled, [0, 4, 4, 8, 4])
    assert res.left_area == 4.0
    pos = {int(b): i for i, b in enumerate(res.order)}
    assert pos[3] < pos[1] < pos[2] and pos[4] < pos[2]


def test_explicit_order_is_checked() -> None:
    runoff, cap, down = np.ones(3), np.ones(3), np.array([0, 2, 0])
    ok = fill_spill(runoff, cap, down, order=np.array([1, 2]))
    assert ok.spilled[1] == 0.0 and ok.stored[2] == 1.0
    with pytest.raises(InputError, match="not topological"):
        fill_spill(runoff, cap, down, order=np.array([2, 1]))
    with pytest.raises(InputError, match="exactly once"):
        fill_spill(runoff, cap, down, order=np.array([1, 1]))


@pytest.mark.parametrize(
    ("runoff", "cap", "down", "match"),
    [
        ([0.0, 1.0], [0.0, 1.0, 1.0], [0, 0], "one length"),
        ([0.0, -1.0], [0.0, 1.0], [0, 0], "runoff volumes"),
        ([0.0, np.nan], [0.0, 1.0], [0, 0], "runoff volumes"),
        ([0.0, 1.0], [0.0, -1.0], [0, 0], "capacity volumes"),
        ([0.0, 1.0, 1.0], [0.0, 1.0, 1.0], [0, 2, 1], "cycle"),
        ([0.0, 1.0], [0.0, 1.0], [0, 5], "0..1"),
    ],
)
def test_bad_routing_inputs(runoff: list, cap: list, down: list, match: str) -> None:
    with pytest.raises(InputError, match=match):
        fill_spill(np.array(runoff), np.array(cap), np.array(down))


def test_zero_capacity_bluespot_passes_everything_on() -> None:
    res = fill_spill(np.array([0.0, 3.0, 0.0]), np.array([0.0, 0.0, 1.0]), np.array([0, 2, 0]))
    assert res.spilled[1] == 3.0 and res.fill_fraction[1] == 1.0
    assert res.stored[2] == 1.0 and res.left_area == 2.0


# --------------------------------------------------------------------------- random networks


@st.composite
def networks(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n = draw(st.integers(1, 25))
    # build an acyclic network in a hidden order, then relabel with a random permutation
    perm = np.array(draw(st.permutations(list(range(1, n + 1)))))
    down = np.zeros(n + 1, dtype=np.int64)
    for i in range(n):
        j = draw(st.integers(i + 1, n))  # j == n: outlet
        down[perm[i]] = 0 if j == n else perm[j]
    vol = st.floats(0, 1e4, allow_nan=False, allow_infinity=False)
    runoff = np.array(draw(st.lists(vol, min_size=n + 1, max_size=n + 1)))
    cap = np.array(draw(st.lists(vol, min_size=n + 1, max_size=n + 1)))
    return runoff, cap, down


@settings(max_examples=150, deadline=None)
@given(networks(), st.floats(1.0, 10.0))
def test_routing_conserves_volume_and_is_monotone(
    net: tuple[np.ndarray, np.ndarray, np.ndarray], factor: float
) -> None:
    runoff, cap, down = net
    res = fill_spill(runoff, cap, down)
    total = runoff.sum()
    assert res.stored.sum() + res.left_area == pytest.approx(total, rel=1e-12, abs=1e-9)
    assert np.all(res.stored[1:] <= cap[1:])
    assert np.all(res.stored >= 0) and np.all(res.spilled >= 0)
    # a bluespot spills only when it is full
    spilling = res.spilled[1:] > 0
    np.testing.assert_array_equal(res.stored[1:][spilling], cap[1:][spilling])
    # what arrives at each bluespot is exactly what its upstream neighbours spilled
    expect_in = np.bincount(down[1:], weights=res.spilled[1:], minlength=down.size)
    np.testing.assert_allclose(res.inflow[1:], expect_in[1:], rtol=1e-12, atol=1e-9)
    # more runoff never gives less storage anywhere
    more = fill_spill(runoff * factor, cap, down)
    assert np.all(more.stored >= res.stored)
    assert more.left_area >= res.left_area


# --------------------------------------------------------------------------- runoff


def test_watershed_runoff_by_hand() -> None:
    ws = np.array([[1, 1, 2], [0, 2, -1]])
    coeff = np.array([[1.0, 0.5, 0.2], [1.0, 0.0, np.nan]])  # NaN on nodata is fine
    b = watershed_runoff(ws, 2, rain_mm=40.0, coefficient=coeff, sewer_mm=10.0, cell_area=2.0)
    # per cell (mm): effective = 40 c; runoff = max(40 c - 10, 0); sewer = min(40 c, 10)
    # ws1: 30 + 10 -> 40 mm; ws2: 0 + 0; ws0: 30 mm. m³ = mm / 1000 * 2 m²
    np.testing.assert_allclose(b.runoff, [0.060, 0.080, 0.0])
    np.testing.assert_allclose(b.sewer, [0.020, 0.040, 0.016])
    np.testing.assert_allclose(b.lost, [0.0, 0.040, 0.064 + 0.080])
    np.testing.assert_allclose(b.rain, [0.080, 0.160, 0.160])
    np.testing.assert_allclose(b.rain, b.lost + b.sewer + b.runoff)


def test_constant_coefficient_equals_uniform_raster() -> None:
    rng = np.random.default_rng(1)
    ws = rng.integers(-1, 6, size=(20, 30))
    const = watershed_runoff(ws, 5, 55.0, 0.7, 5.0, 2.56)
    raster = watershed_runoff(ws, 5, 55.0, np.full(ws.shape, 0.7), 5.0, 2.56)
    np.testing.assert_allclose(const.runoff, raster.runoff, rtol=1e-12)
    assert const.runoff.sum() == pytest.approx((55.0 * 0.7 - 5.0) / 1000 * 2.56 * (ws >= 0).sum())


def test_runoff_errors() -> None:
    ws = np.zeros((3, 3), dtype=np.int32)
    with pytest.raises(ParameterError, match="rain_mm"):
        watershed_runoff(ws, 0, -1.0, 1.0, 0.0, 1.0)
    with pytest.raises(ParameterError, match="sewer_mm"):
        watershed_runoff(ws, 0, 10.0, 1.0, -2.0, 1.0)
    with pytest.raises(ParameterError, match=r"0\.\.1"):
        watershed_runoff(ws, 0, 10.0, 1.5, 0.0, 1.0)
    with pytest.raises(ParameterError, match="percent"):
        watershed_runoff(ws, 0, 10.0, np.full((3, 3), 80.0), 0.0, 1.0)
    bad = np.ones((3, 3))
    bad[1, 1] = np.nan
    with pytest.raises(NoDataError, match="1 valid terrain"):
        watershed_runoff(ws, 0, 10.0, bad, 0.0, 1.0)
    with pytest.raises(GridMismatchError):
        watershed_runoff(ws, 0, 10.0, np.ones((3, 4)), 0.0, 1.0)
    with pytest.raises(InputError, match="n=0"):
        watershed_runoff(ws + 1, 0, 10.0, 1.0, 0.0, 1.0)


# --------------------------------------------------------------------------- levels, depth


def test_levels_and_depth_of_partly_filled_and_full_bluespots() -> None:
    # bluespot 1: cells at 1, 2, 3 (1 m² each), spill level 4; bluespot 2: one cell at 0, spill 1
    dem = np.array([[1.0, 2.0, 3.0, 9.0], [0.0, 9.0, 9.0, np.nan]])
    labels = np.array([[1, 1, 1, 0], [2, 0, 0, 0]])
    curves = level_volume_curves(labels, dem, 1.0, 1.0)
    spill = np.array([np.nan, 4.0, 1.0])
    # 1.5 m³ in bluespot 1: level L with (L-1) + (L-2) = 1.5 -> L = 2.25; bluespot 2 full
    levels = water_levels(curves, np.array([0.0, 1.5, 1.0]), spill)
    np.testing.assert_allclose(levels[1:], [2.25, 1.0])
    depth = flood_depth(labels, dem, levels)
    assert depth.dtype == np.float32
    np.testing.assert_allclose(depth[0, :3], [1.25, 0.25, 0.0])
    assert depth[1, 0] == 1.0  # full: spill level - terrain
    assert depth[0, 3] == 0.0 and np.isnan(depth[1, 3])
    # empty bluespots stand at their lowest cell: no depth
    dry = flood_depth(labels, dem, water_levels(curves, np.zeros(3), spill))
    assert np.nansum(dry) == 0.0
    # a volume beyond capacity (rounding) never lifts the level above the spill
    assert water_levels(curves, np.array([0.0, 6.0 + 1e-9, 1.0]), spill)[1] == 4.0


def test_level_errors() -> None:
    curves = level_volume_curves(np.array([[1]]), np.array([[0.0]]), 1.0, 1.0)
    with pytest.raises(InputError, match="length n \\+ 1"):
        water_levels(curves, np.zeros(3), np.zeros(2))
    with pytest.raises(InputError, match="max\\(labels\\)"):
        flood_depth(np.array([[2]]), np.array([[0.0]]), np.zeros(2))
    with pytest.raises(GridMismatchError):
        flood_depth(np.array([[1]]), np.zeros((2, 2)), np.zeros(2))
