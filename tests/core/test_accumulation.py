"""Tests of klimakort.core.accumulation (D8 flow accumulation)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyflwdir
import pytest
import rasterio
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from klimakort.core.accumulation import flow_accumulation
from klimakort.core.d8 import d8_directions
from klimakort.core.fill import fill_depressions
from klimakort.errors import GridMismatchError, InputError, ParameterError

PYFLWDIR_MV = 247  # pyflwdir's d8 nodata code (255 is a pit there)


def _pyflwdir(fdir: np.ndarray) -> pyflwdir.FlwdirRaster:
    d8 = np.where(fdir == 255, PYFLWDIR_MV, fdir).astype(np.uint8)
    return pyflwdir.from_array(d8, ftype="d8", latlon=False, cache=False)


def _random_fdir(seed: int, shape: tuple[int, int], nan_frac: float) -> np.ndarray:
    rng = np.random.default_rng(seed)
    dem = rng.normal(10.0, 2.0, shape).astype(np.float32)
    dem[rng.random(shape) < nan_frac] = np.nan
    filled = fill_depressions(dem, flats="epsilon", inland_nodata="barrier")
    return d8_directions(filled, 1.0, 1.0)


@pytest.mark.shared
def test_equals_pyflwdir_on_malstroem_dtm(malstroem_dir: Path) -> None:
    with rasterio.open(malstroem_dir / "dtm.tif") as src:
        dtm = src.read(1)
    dx, dy = 16.0, 15.957
    fdir = d8_directions(fill_depressions(dtm, flats="epsilon"), dx, dy)
    flw = _pyflwdir(fdir)
    cells = flow_accumulation(fdir)
    assert np.array_equal(cells, flw.upstream_area(unit="cell").astype(np.float64))
    area = flow_accumulation(fdir, cell_area=dx * dy)
    np.testing.assert_allclose(area, cells * dx * dy, rtol=1e-12)
    assert cells.max() > 5000  # a real river network, not a trivial one
    rain = np.random.default_rng(1).random(dtm.shape)
    np.testing.assert_allclose(flow_accumulation(fdir, rain), flw.accuflux(rain), rtol=1e-12)


@settings(deadline=None, max_examples=60)
@given(
    seed=st.integers(0, 2**32 - 1),
    shape=st.tuples(st.integers(2, 30), st.integers(1, 30)),  # pyflwdir needs >= 2 cells
    nan_frac=st.sampled_from([0.0, 0.1, 0.3]),
)
def test_equals_pyflwdir_and_conserves_mass(
    seed: int, shape: tuple[int, int], nan_frac: float
) -> None:
    fdir = _random_fdir(seed, shape, nan_frac)
    valid = fdir != 255
    assume(valid.any())  # pyflwdir refuses a grid without any valid cell ("no pits")
    flw = _pyflwdir(fdir)
    acc = flow_accumulation(fdir)
    assert np.array_equal(np.isnan(acc), ~valid)
    assert np.array_equal(acc[valid], flw.upstream_area(unit="cell")[valid].astype(np.float64))
    # every valid cell ends at exactly one outlet (code 0)
    assert acc[fdir == 0].sum() == valid.sum()

    rng = np.random.default_rng(seed + 1)
    weights = rng.random(shape).astype(np.float32)
    weights[rng.random(shape) < 0.1] = np.nan
    accw = flow_accumulation(fdir, weights)
    w0 = np.nan_to_num(weights.astype(np.float64))
    np.testing.assert_allclose(accw[valid], flw.accuflux(w0)[valid], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(accw[fdir == 0].sum(), w0[valid].sum(), rtol=1e-12)


def test_hand_computed_row_and_confluence() -> None:
    # 2 x 3: both rows drain east, the top-right cell drains south into the outlet
    fdir = np.array([[1, 1, 4], [1, 1, 0]], dtype=np.uint8)
    acc = flow_accumulation(fdir, cell_area=2.0)
    assert acc.tolist() == [[2.0, 4.0, 6.0], [2.0, 4.0, 12.0]]
    w = np.array([[1.0, np.nan, 3.0], [0.5, 0.0, 1.0]])
    assert flow_accumulation(fdir, w).tolist() == [[1.0, 1.0, 4.0], [0.5, 0.5, 5.5]]


def test_nodata_and_out_of_grid_directions_end_paths() -> None:
    fdir = np.array([[16, 1, 255, 4]], dtype=np.uint8)  # W off-grid, E into nodata, S off
    acc = flow_accumulation(fdir)
    assert acc[0, 0] == 1.0 and acc[0, 1] == 1.0 and acc[0, 3] == 1.0
    assert np.isnan(acc[0, 2])


def test_rejects_bad_input() -> None:
    with pytest.raises(InputError, match="cycles"):
        flow_accumulation(np.array([[1, 16]], dtype=np.uint8))
    with pytest.raises(InputError, match="not an ESRI D8 code"):
        flow_accumulation(np.array([[3]], dtype=np.uint8))
    with pytest.raises(InputError, match="uint8"):
        flow_accumulation(np.zeros((2, 2), dtype=np.int32))
    with pytest.raises(GridMismatchError):
        flow_accumulation(np.zeros((2, 2), dtype=np.uint8), weights=np.ones((3, 2)))
    with pytest.raises(ParameterError):
        flow_accumulation(np.zeros((2, 2), dtype=np.uint8), cell_area=-1.0)
    assert flow_accumulation(np.zeros((0, 3), dtype=np.uint8)).shape == (0, 3)


# --------------------------------------------------------------------------- integer counts


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**31 - 1), st.integers(2, 30), st.integers(2, 30))
def test_upstream_cells_count_what_flow_accumulation_sums(seed: int, ny: int, nx: int) -> None:
    from klimakort.core.accumulation import upstream_area, upstream_cells

    fdir = _random_fdir(seed, (ny, nx), 0.1)
    counts = upstream_cells(fdir)
    assert counts.dtype == np.uint32
    acc = flow_accumulation(fdir)
    valid = fdir != 255
    np.testing.assert_array_equal(counts[valid], acc[valid].astype(np.uint32))
    assert (counts[~valid] == 0).all()
    area = upstream_area(fdir, 16.0 * 15.957)
    assert area.dtype == np.float32
    want = (counts.astype(np.float64) * (16.0 * 15.957)).astype(np.float32)
    np.testing.assert_array_equal(area[valid], want[valid])
    assert np.isnan(area[~valid]).all()


def test_upstream_cells_errors() -> None:
    from klimakort.core.accumulation import upstream_area, upstream_cells

    cycle = np.array([[1, 16]], dtype=np.uint8)  # E then W: a two-cell cycle
    with pytest.raises(InputError, match="cycle"):
        upstream_cells(cycle)
    with pytest.raises(InputError, match="not an ESRI"):
        upstream_cells(np.array([[3]], dtype=np.uint8))
    with pytest.raises(InputError):
        upstream_cells(np.zeros((2, 2), dtype=np.int32))
    with pytest.raises(ParameterError):
        upstream_area(np.zeros((2, 2), dtype=np.uint8), 0.0)
    assert upstream_cells(np.zeros((0, 4), dtype=np.uint8)).shape == (0, 4)
