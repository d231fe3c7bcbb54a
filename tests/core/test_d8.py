"""Tests of klimakort.core.d8 (steepest-descent D8 directions)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import rasterio
from hypothesis import given, settings
from hypothesis import strategies as st

from klimakort.core import d8 as d8_module
from klimakort.core.d8 import d8_directions, downstream_index, to_malstroem_codes
from klimakort.core.d8codes import CODES, DCOL, DROW, MALSTROEM
from klimakort.errors import InputError, ParameterError


def _read(path: Path) -> np.ndarray:
    with rasterio.open(path) as src:
        return src.read(1)


def _slopes(z: np.ndarray, dx: float, dy: float, diag_factor: float | None = None) -> np.ndarray:
    """Slope to each neighbour (8, nr, nc) in CODES order; -inf outside / at nodata."""
    nr, nc = z.shape
    pad = np.full((nr + 2, nc + 2), np.nan)
    pad[1:-1, 1:-1] = z
    out = np.full((8, nr, nc), -np.inf)
    for k in range(8):
        nb = pad[1 + DROW[k] : 1 + DROW[k] + nr, 1 + DCOL[k] : 1 + DCOL[k] + nc]
        if DROW[k] == 0:
            inv = 1.0 / dx
        elif DCOL[k] == 0:
            inv = 1.0 / dy
        else:
            inv = diag_factor if diag_factor is not None else 1.0 / math.hypot(dx, dy)
        s = (z.astype(np.float64) - nb) * inv
        out[k] = np.where(np.isnan(s), -np.inf, s)
    return out


# --------------------------------------------------------------------------- malstrøm oracle


@pytest.mark.shared
def test_d8_reproduces_malstroem_except_ties_and_edges(malstroem_dir: Path) -> None:
    z = _read(malstroem_dir / "filled_no_flats.tif")
    expected = _read(malstroem_dir / "flowdir_noflats.tif")
    assert z.dtype == np.float64
    # malstrøm assumes square cells (its 16.0 x 15.957 m cells are treated as 1 x 1,
    # diagonal drop times 1/sqrt(2)): pass dx == dy to reproduce it
    fdir = d8_directions(z, 16.0, 16.0)
    ours = to_malstroem_codes(fdir)
    interior = np.zeros(z.shape, dtype=bool)
    interior[1:-1, 1:-1] = True

    slopes = _slopes(z, 1.0, 1.0, diag_factor=1 / 2**0.5)
    best = slopes.max(axis=0)
    tie = ((slopes == best) & (best > 0)).sum(axis=0) > 1
    differ = (ours != expected) & interior
    assert tie[interior].sum() == 87  # exact ties in this raster
    assert differ.sum() == 42  # of which malstrøm's N-first order picks differently ...
    assert not (differ & ~tie).any()  # ... and no other interior cell differs
    # at a tie both choices are steepest: malstrøm's choice has our best slope too
    rows, cols = np.nonzero(differ)
    for r, c in zip(rows, cols, strict=True):
        k_m = int(np.flatnonzero(expected[r, c] == MALSTROEM)[0])
        assert slopes[k_m, r, c] == best[r, c]

    # edges: malstrøm points every edge cell out of the grid; in klimakort every edge
    # cell is an outlet (0), which the export writes as pointing outwards
    edge = ~interior
    outward = np.full(z.shape, 255, dtype=np.uint8)
    outward[0, :], outward[-1, :], outward[:, 0], outward[:, -1] = 0, 4, 6, 2
    outward[0, 0], outward[0, -1], outward[-1, 0], outward[-1, -1] = 7, 1, 5, 3
    assert np.array_equal(expected[edge], outward[edge])
    assert (fdir[edge] == 0).all()
    assert np.array_equal(ours[edge], expected[edge])
    # with edge cells draining inwards, 724 of the 872 edge cells would not be outlets
    inward = d8_directions(z, 16.0, 16.0, edge_outlets=False)
    assert ((inward != 0) & edge).sum() == 724


@pytest.mark.shared
def test_true_cell_size_changes_directions(malstroem_dir: Path) -> None:
    z = _read(malstroem_dir / "filled_no_flats.tif")
    square = d8_directions(z, 16.0, 16.0)
    true = d8_directions(z, 16.0, 15.957)
    # N/S neighbours are 0.3 % closer: a few thousand near-ties flip
    assert 1000 < (square != true).sum() < 5000


# --------------------------------------------------------------------------- hand cases


def test_3x3_codes_for_each_direction() -> None:
    for k, code in enumerate(CODES):
        z = np.full((3, 3), 5.0)
        z[1 + DROW[k], 1 + DCOL[k]] = 1.0
        assert d8_directions(z, 1.0, 1.0)[1, 1] == code


def test_diagonal_drop_is_divided_by_diagonal_distance() -> None:
    z = np.array([[10, 10, 10], [10, 10, 9], [10, 10, 8.5]], dtype=np.float32)
    # east: 1/1 = 1.0; south-east: 1.5/sqrt(2) = 1.06 -> SE wins
    assert d8_directions(z, 1.0, 1.0)[1, 1] == 2
    z[2, 2] = 8.7  # 1.3/sqrt(2) = 0.92 -> E wins
    assert d8_directions(z, 1.0, 1.0)[1, 1] == 1


def test_non_square_cells_use_dx_and_dy() -> None:
    z = np.full((3, 3), 10.0)
    z[1, 2] = 9.0  # east, drop 1 over dx
    z[0, 1] = 9.0  # north, drop 1 over dy
    assert d8_directions(z, 1.0, 2.0)[1, 1] == 1  # dy longer: east steeper
    assert d8_directions(z, 2.0, 1.0)[1, 1] == 64  # dx longer: north steeper


def test_exact_tie_goes_to_first_in_code_order() -> None:
    z = np.full((3, 3), 10.0)
    z[1, 2] = 9.0  # E
    z[2, 1] = 9.0  # S, same slope
    z[0, 1] = 9.0  # N, same slope
    assert d8_directions(z, 1.0, 1.0)[1, 1] == 1


def test_edges_nodata_flats_and_pits() -> None:
    z = np.array(
        [
            [3.0, 3.0, 3.0, 3.0],
            [3.0, 1.0, np.nan, 3.0],
            [3.0, 3.0, 3.0, 2.0],
        ]
    )
    fdir = d8_directions(z, 1.0, 1.0)
    assert fdir[1, 2] == 255  # nodata
    assert fdir[1, 1] == 0  # pit: no lower neighbour
    assert fdir[0, 0] == 0  # edge cells are outlets by default
    inward = d8_directions(z, 1.0, 1.0, edge_outlets=False)
    assert inward[0, 0] == 2  # edge cell with a lower neighbour inside drains inward (SE)
    assert inward[2, 3] == 0  # edge cell without a lower neighbour: outlet
    assert inward[0, 3] == 0  # flat towards its neighbours, nodata ignored
    flat = d8_directions(np.zeros((3, 3), dtype=np.float32), 1.0, 1.0)
    assert (flat == 0).all()


@settings(deadline=None, max_examples=60)
@given(
    seed=st.integers(0, 2**32 - 1),
    shape=st.tuples(st.integers(1, 25), st.integers(1, 25)),
    dx=st.floats(0.5, 20.0),
    dy=st.floats(0.5, 20.0),
)
def test_direction_is_a_steepest_descent(
    seed: int, shape: tuple[int, int], dx: float, dy: float
) -> None:
    rng = np.random.default_rng(seed)
    z = rng.integers(0, 6, shape).astype(np.float32)
    z[rng.random(shape) < 0.1] = np.nan
    fdir = d8_directions(z, dx, dy, edge_outlets=False)
    edge = np.ones(shape, dtype=bool)
    edge[1:-1, 1:-1] = False
    outlets = d8_directions(z, dx, dy)
    assert np.array_equal(outlets[~edge], fdir[~edge])
    assert np.array_equal(outlets[edge] == 0, ~np.isnan(z[edge]))
    slopes = _slopes(z, dx, dy)
    best = slopes.max(axis=0)
    valid = ~np.isnan(z)
    assert np.array_equal(fdir == 255, ~valid)
    assert np.array_equal(fdir == 0, valid & ~(best > 0))
    k = np.argmax(slopes == best, axis=0)  # first steepest in CODES order
    draining = valid & (best > 0)
    assert np.array_equal(fdir[draining], CODES[k[draining]])


@pytest.mark.parametrize("edge_outlets", [True, False])
def test_row_bands_in_threads_are_a_steepest_descent(
    monkeypatch: pytest.MonkeyPatch, edge_outlets: bool
) -> None:
    """A grid big enough to run in row bands on two threads gives the reference directions."""
    monkeypatch.setattr(d8_module, "cpu_workers", lambda: 2)
    rng = np.random.default_rng(7)
    shape = (331, 500)  # > 2 * 65536 cells: several bands, band edges not at round rows
    assert shape[0] * shape[1] >= 2 * d8_module._BAND_CELLS
    z = rng.integers(0, 6, shape).astype(np.float32)  # many exact ties
    z[rng.random(shape) < 0.05] = np.nan
    fdir = d8_directions(z, 1.6, 1.6, edge_outlets=edge_outlets)
    slopes = _slopes(z, 1.6, 1.6)
    best = slopes.max(axis=0)
    valid = ~np.isnan(z)
    edge = np.ones(shape, dtype=bool)
    edge[1:-1, 1:-1] = False
    k = np.argmax(slopes == best, axis=0)  # first steepest in CODES order
    expected = np.where(best > 0, CODES[k], 0).astype(np.uint8)
    if edge_outlets:
        expected[edge] = 0
    expected[~valid] = 255
    assert np.array_equal(fdir, expected)
    # the same grid in float64 (the other compiled specialisation)
    z64 = z.astype(np.float64)
    assert np.array_equal(d8_directions(z64, 1.6, 1.6, edge_outlets=edge_outlets), fdir)


# --------------------------------------------------------------------------- code helpers


def test_to_malstroem_codes_table() -> None:
    fdir = np.array([[1, 2, 4, 8, 16], [32, 64, 128, 0, 255]], dtype=np.uint8)
    expected = np.array([[2, 3, 4, 5, 6], [7, 0, 1, 8, 8]], dtype=np.uint8)
    assert np.array_equal(to_malstroem_codes(fdir, edges_outward=False), expected)
    # the outlet at the bottom edge (row 1 of 2) points south, out of the grid
    assert to_malstroem_codes(fdir)[1, 3] == 4
    with pytest.raises(InputError, match="not ESRI D8 codes"):
        to_malstroem_codes(np.array([[3]], dtype=np.uint8))


def test_downstream_index() -> None:
    fdir = np.array([[1, 4, 16], [64, 0, 255], [128, 1, 1]], dtype=np.uint8)
    idx = downstream_index(fdir)
    assert idx.dtype == np.int32
    # (0,0)E->1, (0,1)S->4, (0,2)W->1, (1,0)N->0, pit, nodata, (2,0)NE->4,
    # (2,1)E->8, (2,2)E leaves the grid
    assert idx.ravel().tolist() == [1, 4, 1, 0, -1, -1, 4, 8, -1]
    into_nodata = np.array([[1, 255]], dtype=np.uint8)
    assert downstream_index(into_nodata).ravel().tolist() == [-1, -1]


def test_rejects_bad_input() -> None:
    with pytest.raises(ParameterError, match="dx"):
        d8_directions(np.zeros((3, 3)), 0.0, 1.0)
    with pytest.raises(ParameterError, match="dy"):
        d8_directions(np.zeros((3, 3)), 1.0, float("nan"))
    with pytest.raises(InputError):
        d8_directions(np.zeros((3, 3), dtype=np.int32), 1.0, 1.0)
    with pytest.raises(InputError):
        downstream_index(np.zeros((3, 3), dtype=np.int16))
