"""Runoff reaching a site before a bluespot: hand cases and a brute-force walk per cell."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
import xarray as xr
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from klimakort.core.d8codes import NODATA
from klimakort.core.interception import upstream_through_sites
from klimakort.core.watersheds import trace_flow_path
from klimakort.errors import GridMismatchError, InputError
from klimakort.hydro.rainflow import rainflow

MakeDem = Callable[..., xr.DataArray]
E, S, W, N = 1, 4, 16, 64


def test_row_draining_east_counts_cells_up_to_the_last_site_cell() -> None:
    fd = np.array([[E, E, E, E, E, 0]], dtype=np.uint8)
    stop = np.array([[0, 0, 0, 0, 0, 1]], dtype=bool)
    sites = np.array([[0, 0, 1, 1, 0, 0]], dtype=np.int32)
    r = upstream_through_sites(fd, stop, sites, np.ones((1, 6)))
    assert r.reach.tolist() == [1, 2, 3, 4, 5, 6]
    assert r.final.tolist() == [False, False, False, True, False, False]


def test_a_bluespot_cell_receives_water_but_passes_none_on() -> None:
    fd = np.array([[E, E, E, E, 0]], dtype=np.uint8)
    stop = np.array([[0, 1, 0, 0, 0]], dtype=bool)
    sites = np.array([[0, 0, 0, 2, 0]], dtype=np.int32)
    r = upstream_through_sites(fd, stop, sites, np.full((1, 5), 2.0))
    # cell 0 flows into the bluespot cell 1 and stops there; the site sees cells 2 and 3
    assert r.reach.tolist() == [2, 4, 2, 4, 6]
    assert r.final.tolist() == [False, False, False, True, False]


def test_a_path_that_leaves_a_site_and_comes_back_is_counted_once() -> None:
    # (0,0) E -> (0,1) S -> (1,1) W -> (1,0) S -> (2,0) E -> (2,1) E -> (2,2) pit
    fd = np.array([[E, S, 0], [S, W, 0], [E, E, 0]], dtype=np.uint8)
    stop = np.zeros((3, 3), dtype=bool)
    sites = np.array([[1, 0, 0], [1, 0, 0], [0, 0, 0]], dtype=np.int32)
    r = upstream_through_sites(fd, stop, sites, np.ones((3, 3)))
    final = r.final.reshape(3, 3)
    assert not final[0, 0] and final[1, 0]  # (0,0)'s path re-enters the site at (1,0)
    reach = r.reach.reshape(3, 3)
    assert reach[1, 0] == 4.0  # (0,0), (0,1), (1,1), (1,0): every cell once


def test_bad_inputs_raise() -> None:
    ones = np.ones((2, 2))
    zeros = np.zeros((2, 2), dtype=np.int32)
    with pytest.raises(InputError, match="not an ESRI D8 code"):
        upstream_through_sites(np.full((2, 2), 3, np.uint8), zeros > 0, zeros, ones)
    with pytest.raises(InputError, match="cycle"):
        cyc = np.array([[E, S], [N, W]], dtype=np.uint8)
        upstream_through_sites(cyc, zeros > 0, zeros, ones)
    with pytest.raises(GridMismatchError):
        upstream_through_sites(np.zeros((2, 3), np.uint8), zeros > 0, zeros, ones)
    with pytest.raises(InputError, match="uint8"):
        upstream_through_sites(np.zeros((2, 2), np.int16), zeros > 0, zeros, ones)


def _reaches(fd: np.ndarray, stop: np.ndarray, sites: np.ndarray, r: int, c: int) -> set[int]:
    """Sites the water of cell (r, c) passes before it stops in a bluespot (walk)."""
    hit: set[int] = set()
    for rr, cc in trace_flow_path(fd, np.zeros(fd.shape, np.int32), r, c).tolist():
        if sites[rr, cc] > 0:
            hit.add(int(sites[rr, cc]))
        if stop[rr, cc]:
            break
    return hit


@st.composite
def cases(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    ny, nx = draw(st.integers(4, 12)), draw(st.integers(4, 12))
    rng = np.random.default_rng(draw(st.integers(0, 2**31 - 1)))
    z = rng.integers(0, 6, size=(ny, nx)) + rng.random((ny, nx)) * 0.5
    if draw(st.booleans()):
        z[0, : nx // 2] = np.nan
    sites = np.zeros((ny, nx), dtype=np.int32)
    for k in range(1, draw(st.integers(1, 4)) + 1):
        r0, c0 = int(rng.integers(0, ny - 1)), int(rng.integers(0, nx - 1))
        h, w = int(rng.integers(1, 4)), int(rng.integers(1, 4))
        block = sites[r0 : r0 + h, c0 : c0 + w]
        block[block == 0] = k  # sites never overlap
    return z, sites, rng.random((ny, nx))


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(cases())
def test_site_totals_equal_a_walk_from_every_cell(
    make_dem: MakeDem, case: tuple[np.ndarray, np.ndarray, np.ndarray]
) -> None:
    z, sites, weights = case
    rf = rainflow(make_dem(z, cell=2.0))
    fd = np.asarray(rf.flowdir.values)
    stop = np.asarray(rf.bluespots.values) > 0
    sites = np.where(fd == NODATA, 0, sites)
    weights = np.where(fd == NODATA, np.nan, weights)
    got = upstream_through_sites(fd, stop, sites, weights)
    want: dict[int, float] = {}
    for r in range(z.shape[0]):
        for c in range(z.shape[1]):
            if fd[r, c] == NODATA:
                continue
            for k in _reaches(fd, stop, sites, r, c):
                want[k] = want.get(k, 0.0) + float(weights[r, c])
    flat = sites.ravel()
    for k in range(1, int(flat.max()) + 1):
        total = float(got.reach[got.final & (flat == k)].sum())
        assert total == pytest.approx(want.get(k, 0.0), rel=1e-9, abs=1e-12)
