"""Tests for klimakort.core.levelvolume: level–volume curves and their inverse."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from klimakort.core.bluespots import bluespot_properties
from klimakort.core.levelvolume import (
    LevelVolumeCurves,
    level_for_volume,
    level_volume_curves,
    volume_at_level,
)
from klimakort.errors import GridMismatchError, InputError, ParameterError


def brute_volume(z: np.ndarray, level: float, cell_area: float) -> float:
    """The definition, summed directly."""
    return float(np.sum(np.maximum(level - np.asarray(z, dtype=np.float64), 0.0)) * cell_area)


# --------------------------------------------------------------------------- hand cases


def test_hand_computed_volumes() -> None:
    z = [3.0, 1.0, 2.0]  # unsorted on purpose
    assert volume_at_level(z, 0.5, 2.0) == 0.0
    assert volume_at_level(z, 1.0, 2.0) == 0.0
    assert volume_at_level(z, 1.5, 2.0) == 1.0  # 0.5 * 2
    assert volume_at_level(z, 2.5, 2.0) == 4.0  # (1.5 + 0.5) * 2
    assert volume_at_level(z, 4.0, 2.0) == 12.0  # (3 + 2 + 1) * 2


def test_hand_computed_levels() -> None:
    z = [3.0, 1.0, 2.0]
    assert level_for_volume(z, 0.0, 2.0) == 1.0  # empty: the lowest cell
    assert level_for_volume(z, 1.0, 2.0) == 1.5
    assert level_for_volume(z, 2.0, 2.0) == 2.0  # exactly at a breakpoint
    assert level_for_volume(z, 4.5, 2.0) == 2.625  # two cells wet: 2L - (1 + 2) = 2.25
    assert level_for_volume(z, 12.0, 2.0) == 4.0
    assert np.isnan(level_for_volume(z, -1.0, 2.0))


def test_ties_and_single_cell() -> None:
    z = [5.0, 5.0, 5.0, 7.0]
    assert volume_at_level(z, 6.0, 1.0) == 3.0
    assert level_for_volume(z, 3.0, 1.0) == 6.0
    assert level_for_volume(z, 6.0, 1.0) == 7.0  # the three tied cells fill first
    assert level_for_volume([10.0], 4.0, 0.5) == 18.0


def test_vectorised_over_ids_from_rasters() -> None:
    labels = np.array([[1, 1, 0], [0, 2, 2], [3, 0, 0]], dtype=np.int32)
    dem = np.array([[10.0, 11.0, 99.0], [99.0, 0.5, 1.5], [-2.0, 99.0, 99.0]])
    curves = level_volume_curves(labels, dem, 2.0, 0.5)  # cell area 1 m²
    assert curves.n == 3 and curves.cell_area == 1.0
    np.testing.assert_array_equal(curves.base[1:], [10.0, 0.5, -2.0])
    got = curves.volume_at_level(np.array([1, 2, 3, 1]), np.array([12.0, 1.0, 0.0, 9.0]))
    np.testing.assert_allclose(got, [3.0, 0.5, 2.0, 0.0])
    # broadcasting: one id, many levels / many ids, one volume
    np.testing.assert_allclose(curves.volume_at_level(2, [0.0, 1.5, 2.5]), [0.0, 1.0, 3.0])
    np.testing.assert_allclose(curves.level_for_volume([1, 2, 3], 1.0), [11.0, 1.5, -1.0])
    lv = curves.level_for_volume(np.array([[1, 2]]), np.array([[3.0], [0.0]]))
    np.testing.assert_allclose(lv, [[12.0, 2.5], [10.0, 0.5]])  # 2L - (0.5 + 1.5) = 3


def test_empty_id_gives_nan() -> None:
    labels = np.array([[0, 2]], dtype=np.int32)
    curves = level_volume_curves(labels, np.array([[0.0, 1.0]]), 1.0, 1.0)
    assert np.isnan(curves.volume_at_level(1, 5.0)) and np.isnan(curves.level_for_volume(1, 1.0))
    assert curves.volume_at_level(2, 2.0) == 1.0


def test_errors() -> None:
    with pytest.raises(InputError):
        LevelVolumeCurves.from_elevations(np.array([]), 1.0)
    with pytest.raises(InputError):
        LevelVolumeCurves.from_elevations(np.array([1.0, np.nan]), 1.0)
    with pytest.raises(ParameterError):
        LevelVolumeCurves.from_elevations(np.array([1.0]), 0.0)
    curves = LevelVolumeCurves.from_elevations(np.array([1.0]), 1.0)
    with pytest.raises(ParameterError, match=r"1\.\.1"):
        curves.volume_at_level(2, 1.0)
    with pytest.raises(GridMismatchError):
        level_volume_curves(np.zeros((2, 2), np.int32), np.zeros((3, 2)), 1.0, 1.0)
    with pytest.raises(InputError, match="NaN"):
        level_volume_curves(np.ones((1, 1), np.int32), np.full((1, 1), np.nan), 1.0, 1.0)


# --------------------------------------------------------------------------- oracle


def test_full_volume_returns_spill_level_on_malstroem_data(malstroem_dir: Path) -> None:
    rasters = {}
    for name in ("dtm", "filled", "depths", "labelled"):
        with rasterio.open(malstroem_dir / f"{name}.tif") as src:
            rasters[name] = src.read(1)
            dx, dy = abs(src.transform.a), abs(src.transform.e)
    labels = rasters["labelled"]
    props = bluespot_properties(labels, rasters["depths"], rasters["filled"], dx, dy)
    curves = level_volume_curves(labels, rasters["dtm"], dx, dy)
    ids = np.arange(1, 105)
    spill = props.spill_elevation[1:]
    full = curves.volume_at_level(ids, spill)
    # the capacity from float32 depths agrees to float32 precision
    np.testing.assert_allclose(full, props.volume[1:], rtol=1e-6)
    # exact inverse: the full volume gives back the spill level
    np.testing.assert_allclose(curves.level_for_volume(ids, full), spill, rtol=1e-12)
    np.testing.assert_allclose(curves.level_for_volume(ids, props.volume[1:]), spill, atol=1e-5)
    # half full lies between the bottom and the spill level
    half = curves.level_for_volume(ids, full / 2)
    assert np.all((half > curves.base[1:]) & (half < spill))


# --------------------------------------------------------------------------- invariants

elevations = st.lists(
    st.floats(-50.0, 200.0, allow_nan=False, allow_subnormal=False), min_size=1, max_size=40
)
areas = st.floats(0.01, 500.0)


@settings(max_examples=150, deadline=None)
@given(z=elevations, frac=st.floats(0.0, 3.0), area=areas)
def test_level_roundtrip(z: list[float], frac: float, area: float) -> None:
    zz = np.array(z)
    lo, hi = zz.min(), zz.max()
    level = lo + frac * max(hi - lo, 1.0)
    curve = LevelVolumeCurves.from_elevations(zz, area)
    v = float(curve.volume_at_level(1, level))
    assert v == pytest.approx(brute_volume(zz, level, area), rel=1e-9, abs=1e-9 * area)
    assume(v > 0)  # below the lowest cell every level holds 0: no unique inverse
    back = float(curve.level_for_volume(1, v))
    assert back == pytest.approx(level, rel=1e-9, abs=1e-9)


@settings(max_examples=150, deadline=None)
@given(z=elevations, volume=st.floats(0.0, 1e6), area=areas)
def test_volume_roundtrip_and_monotone(z: list[float], volume: float, area: float) -> None:
    zz = np.array(z)
    curve = LevelVolumeCurves.from_elevations(zz, area)
    level = float(curve.level_for_volume(1, volume))
    assert level >= zz.min()
    assert brute_volume(zz, level, area) == pytest.approx(volume, rel=1e-9, abs=1e-9 * area)
    # strictly increasing above the lowest cell
    more = float(curve.level_for_volume(1, volume * 1.5 + area))
    assert more > level
