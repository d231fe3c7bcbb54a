"""Tests of the minimum-flooding-level kernels (priority flood, inundation, sills)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy import ndimage

from klimakort.core import floodlevel as fl
from klimakort.errors import GridMismatchError, NoDataError, ParameterError

STRUCT = {4: ndimage.generate_binary_structure(2, 1), 8: np.ones((3, 3), dtype=bool)}


def connected_at(terrain: np.ndarray, sea: np.ndarray, level: float, conn: int) -> np.ndarray:
    """Oracle: land cells connected to the sea at ``level`` (scipy.ndimage.label)."""
    with np.errstate(invalid="ignore"):
        wet = (terrain <= level) | sea
    labels, _ = ndimage.label(wet, structure=STRUCT[conn])
    sea_labels = np.unique(labels[sea])
    sea_labels = sea_labels[sea_labels > 0]
    return np.isin(labels, sea_labels) & ~sea


def oracle_levels(terrain: np.ndarray, sea: np.ndarray, conn: int) -> np.ndarray:
    """Minimum flooding level by trying every distinct terrain height in order."""
    out = np.full(terrain.shape, np.inf, dtype=np.float64)
    for v in np.unique(terrain[~np.isnan(terrain)]):
        newly = connected_at(terrain, sea, float(v), conn) & np.isinf(out)
        out[newly] = v
    out[np.isnan(terrain)] = np.nan
    out[sea] = -np.inf
    return out


def test_basin_behind_ridge_floods_at_saddle_height() -> None:
    dem = np.array(
        [
            [0.0, 3.0, 3.0, 3.0, 3.0],
            [0.0, 2.0, 0.5, 0.4, 3.0],
            [0.0, 3.0, 0.6, 1.0, 3.0],
            [0.0, 3.0, 3.0, 3.0, 3.0],
        ],
        dtype=np.float32,
    )
    sea = np.zeros(dem.shape, dtype=bool)
    sea[:, 0] = True
    level = fl.min_flood_level(dem, sea, connectivity=4)
    assert np.all(np.isneginf(level[:, 0]))
    # the basin (0.4-1.0 m) is reached over the 2.0 m saddle only
    np.testing.assert_array_equal(level[1:3, 2:4], np.full((2, 2), 2.0, dtype=np.float32))
    assert level[1, 1] == 2.0
    assert level[0, 2] == 3.0
    depth = fl.connected_inundation(dem, level, 1.5)
    assert np.all(depth[1:3, 2:4] == 0.0)  # below 1.5 m but not connected
    risk = fl.at_risk_mask(dem, level, 1.5)
    assert risk[1:3, 2:4].all()
    assert risk.sum() == 4
    depth = fl.connected_inundation(dem, level, 2.5)
    np.testing.assert_allclose(depth[1, 2], 2.0, rtol=1e-6)
    assert not fl.at_risk_mask(dem, level, 2.5).any()


def test_barrier_raises_the_flooding_level() -> None:
    dem = np.zeros((5, 6), dtype=np.float32) + 0.5
    dem[:, 0] = -1.0
    crest = np.full(dem.shape, np.nan, dtype=np.float32)
    crest[:, 2] = 2.5
    sea = np.zeros(dem.shape, dtype=bool)
    sea[:, 0] = True
    without = fl.min_flood_level(dem, sea)
    with_dike = fl.min_flood_level(dem, sea, crest)
    assert np.all(without[:, 1:] == 0.5)
    assert np.all(with_dike[:, 3:] == 2.5)
    assert np.all(with_dike[:, 1] == 0.5)
    # at 1 m the land behind the dike is at risk, not flooded
    risk = fl.at_risk_mask(dem, with_dike, 1.0)
    assert risk[:, 3:].all()
    assert not risk[:, 1].any()


def test_diagonal_gap_leaks_with_8_but_not_with_4_connectivity() -> None:
    dem = np.array(
        [
            [-1.0, 5.0, 0.0],
            [5.0, -1.0, 5.0],
            [0.0, 5.0, 0.0],
        ],
        dtype=np.float32,
    )
    sea = np.zeros(dem.shape, dtype=bool)
    sea[0, 0] = True
    l8 = fl.min_flood_level(dem, sea, connectivity=8)
    l4 = fl.min_flood_level(dem, sea, connectivity=4)
    assert l8[1, 1] == -1.0 and l8[2, 2] == 0.0
    assert l4[1, 1] == 5.0 and l4[2, 2] == 5.0


def test_default_sea_is_edge_nodata_and_low_edge_cells() -> None:
    dem = np.array(
        [
            [np.nan, np.nan, 1.0, 1.0, 1.0],
            [np.nan, 2.0, 1.0, np.nan, 1.0],
            [1.0, 1.0, 1.0, 1.0, -0.5],
            [1.0, 1.0, 1.0, 1.0, 1.0],
        ],
        dtype=np.float32,
    )
    sea = fl.default_sea_mask(dem)
    expected = np.zeros(dem.shape, dtype=bool)
    expected[0, 0] = expected[0, 1] = expected[1, 0] = True
    expected[2, 4] = True
    np.testing.assert_array_equal(sea, expected)
    level = fl.min_flood_level(dem)
    assert np.isnan(level[1, 3])  # interior nodata hole: not sea, not passable
    assert np.isneginf(level[2, 4])


def test_unreachable_cells_are_inf_and_no_sea_raises() -> None:
    dem = np.array([[0.0, np.nan, 1.0], [0.0, np.nan, 1.0]], dtype=np.float32)
    sea = np.zeros(dem.shape, dtype=bool)
    sea[:, 0] = True
    level = fl.min_flood_level(dem, sea)
    assert np.all(np.isposinf(level[:, 2]))
    with pytest.raises(NoDataError, match="no sea cells"):
        fl.min_flood_level(dem, np.zeros(dem.shape, dtype=bool))


def test_bad_inputs_raise() -> None:
    dem = np.zeros((3, 3), dtype=np.float32)
    sea = np.zeros((3, 3), dtype=bool)
    sea[0, 0] = True
    with pytest.raises(GridMismatchError, match="sea_mask"):
        fl.min_flood_level(dem, np.zeros((2, 3), dtype=bool))
    with pytest.raises(GridMismatchError, match="barrier_crest"):
        fl.min_flood_level(dem, sea, np.zeros((3, 2), dtype=np.float32))
    with pytest.raises(ParameterError, match="connectivity"):
        fl.min_flood_level(dem, sea, connectivity=6)
    with pytest.raises(ParameterError, match="2-D"):
        fl.min_flood_level(np.zeros(4, dtype=np.float32))
    with pytest.raises(ParameterError, match="min_cells"):
        fl.critical_points(dem, np.zeros((3, 3), dtype=np.int64), min_cells=0)


def test_negative_zero_equals_positive_zero() -> None:
    dem = np.array([[-1.0, 0.0, -0.0, 1.0]], dtype=np.float32)
    sea = np.array([[True, False, False, False]])
    level = fl.min_flood_level(dem, sea)
    assert level[0, 1] == 0.0 and level[0, 2] == 0.0


def test_saddle_is_the_critical_point_with_the_basin_area() -> None:
    dem = np.full((7, 7), 4.0, dtype=np.float32)
    dem[:, 0] = -1.0  # sea
    dem[1:6, 2:6] = 0.5  # 20-cell basin
    dem[3, 1] = 1.8  # saddle between sea and basin
    sea = np.zeros(dem.shape, dtype=bool)
    sea[:, 0] = True
    level, sill = fl.flood_level_and_sills(dem, sea, connectivity=4)
    idx, lev, n = fl.critical_points(level, sill, min_cells=5)
    assert idx.tolist() == [3 * 7 + 1]
    assert lev.tolist() == [pytest.approx(1.8)]
    assert n.tolist() == [21]  # basin + the saddle cell itself
    assert np.all(sill[1:6, 2:6] == 3 * 7 + 1)


@settings(max_examples=60, deadline=None)
@given(
    dem=arrays(np.float32, (7, 8), elements=st.integers(-2, 6).map(float)),
    holes=arrays(np.bool_, (7, 8), elements=st.booleans()),
    use_holes=st.booleans(),
    conn=st.sampled_from([4, 8]),
)
def test_levels_equal_label_oracle(
    dem: np.ndarray, holes: np.ndarray, use_holes: bool, conn: int
) -> None:
    """Integer heights (many ties) and nodata: equal to a scipy.ndimage.label oracle."""
    terrain = dem.copy()
    if use_holes:
        terrain[holes & (np.arange(8)[None, :] > 2)] = np.nan
    sea = np.zeros(terrain.shape, dtype=bool)
    sea[:, 0] = True
    level, sill = fl.flood_level_and_sills(terrain, sea, connectivity=conn)
    np.testing.assert_array_equal(level, oracle_levels(terrain, sea, conn).astype(np.float32))
    # every reached land cell has exactly one sill, whose level is its own level
    reached = np.isfinite(level)
    assert np.all(sill[reached] >= 0) and np.all(sill[~reached] == -1)
    np.testing.assert_array_equal(level.ravel()[sill[reached]], level[reached])
    _, _, counts = fl.critical_points(level, sill)
    assert counts.sum() == reached.sum()


@settings(max_examples=40, deadline=None)
@given(
    dem=arrays(np.float32, (9, 9), elements=st.floats(-3, 8, width=32, allow_nan=False)),
    level=st.floats(-3, 8, width=32, allow_nan=False),
    conn=st.sampled_from([4, 8]),
)
def test_inundation_equals_label_connectivity(dem: np.ndarray, level: float, conn: int) -> None:
    sea = fl.default_sea_mask(dem)
    if not sea.any():
        sea[0, :] = True
    mfl = fl.min_flood_level(dem, sea, connectivity=conn)
    depth = fl.connected_inundation(dem, mfl, level)
    connected = connected_at(dem, sea, level, conn)
    lev32 = np.float32(level)
    expected_wet = connected & (lev32 - dem > 0)
    np.testing.assert_array_equal(depth > 0, expected_wet)
    np.testing.assert_allclose(depth[expected_wet], (lev32 - dem)[expected_wet])
    assert np.all(np.isnan(depth[sea]))
    risk = fl.at_risk_mask(dem, mfl, level)
    np.testing.assert_array_equal(risk, (dem < lev32) & ~connected & ~sea)


def test_real_terrain_against_label_oracle(malstroem_dir: Path) -> None:
    with rasterio.open(malstroem_dir / "dtm.tif") as src:
        dem = src.read(1).astype(np.float32)
        if src.nodata is not None:
            dem[dem == src.nodata] = np.nan
    sea = np.zeros(dem.shape, dtype=bool)
    sea[:, 0] = True  # pretend the western edge is the sea
    mfl, sill = fl.flood_level_and_sills(dem, sea)
    lo, hi = np.nanpercentile(dem, [5, 60])
    for level in np.linspace(lo, hi, 6):
        np.testing.assert_array_equal((mfl <= level) & ~sea, connected_at(dem, sea, level, 8))
    idx, lev, n = fl.critical_points(mfl, sill, min_cells=50)
    assert len(idx) > 0
    # at each critical point, the flooded area jumps by at least n cells when passing it
    for i, lv, cnt in zip(idx[:5], lev[:5], n[:5], strict=True):
        below = connected_at(dem, sea, float(np.nextafter(lv, -np.inf)), 8).sum()
        at = connected_at(dem, sea, float(lv), 8).sum()
        assert at - below >= cnt
        assert np.isclose(dem.ravel()[i], lv)
