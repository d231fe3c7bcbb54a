"""Tests of flow-path vectorisation (klimakort.hydro.flowpaths)."""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import rasterio
import shapely
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st

from klimakort.core.d8codes import CODES, DCOL, DROW, MALSTROEM, NODATA
from klimakort.errors import CRSError, GridMismatchError, InputError, ParameterError
from klimakort.hydro.flowpaths import COLUMNS, flow_paths

E, SE, S, SW, W, NW, N, NE = (int(c) for c in CODES)
DX, DY = 2.0, 3.0  # non-square cells: diagonal steps are sqrt(13)
X0, Y0 = 700_000.0, 6_170_000.0

MakeDem = Callable[..., xr.DataArray]


def grid(values: np.ndarray, *, dtype: type, nodata: float | None) -> xr.DataArray:
    """A rioxarray-tagged raster with DX x DY cells."""
    ny, nx = values.shape
    da = xr.DataArray(
        np.asarray(values, dtype=dtype),
        dims=("y", "x"),
        coords={"y": Y0 - DY * (np.arange(ny) + 0.5), "x": X0 + DX * (np.arange(nx) + 0.5)},
    )
    da = da.rio.write_crs("EPSG:25832").rio.write_transform()
    if nodata is not None:
        da = da.rio.write_nodata(nodata, encoded=False)
    return da


def downstream(fdir: np.ndarray) -> dict[tuple[int, int], tuple[int, int]]:
    """Plain-python D8 downstream map of valid cells draining to a valid in-grid cell."""
    ny, nx = fdir.shape
    out = {}
    for r in range(ny):
        for c in range(nx):
            hits = np.flatnonzero(fdir[r, c] == CODES)
            if hits.size:
                rr, cc = r + int(DROW[hits[0]]), c + int(DCOL[hits[0]])
                if 0 <= rr < ny and 0 <= cc < nx and fdir[rr, cc] != NODATA:
                    out[(r, c)] = (rr, cc)
    return out


def upstream_cells(fdir: np.ndarray) -> np.ndarray:
    """Number of cells draining through each cell (itself included), Kahn's algorithm."""
    down = downstream(fdir)
    indeg: dict[tuple[int, int], int] = {}
    for b in down.values():
        indeg[b] = indeg.get(b, 0) + 1
    acc = np.where(fdir == NODATA, np.nan, 1.0)
    queue = [(int(r), int(c)) for r, c in zip(*np.nonzero(fdir != NODATA), strict=True)]
    queue = [cell for cell in queue if indeg.get(cell, 0) == 0]
    while queue:
        cell = queue.pop()
        if cell in down:
            nxt = down[cell]
            acc[nxt] += acc[cell]
            indeg[nxt] -= 1
            if indeg[nxt] == 0:
                queue.append(nxt)
    return acc


def y_rasters() -> tuple[xr.DataArray, xr.DataArray]:
    fdir = np.full((5, 5), NODATA, dtype=np.uint8)
    fdir[0, 0] = fdir[1, 1] = SE
    fdir[0, 4] = fdir[1, 3] = SW
    fdir[2, 2] = fdir[3, 2] = fdir[4, 2] = S
    area = upstream_cells(fdir) * DX * DY
    return grid(fdir, dtype=np.uint8, nodata=NODATA), grid(area, dtype=np.float64, nodata=np.nan)


def centre(r: int, c: int) -> tuple[float, float]:
    return X0 + DX * (c + 0.5), Y0 - DY * (r + 0.5)


def test_y_network() -> None:
    fdir, area = y_rasters()
    gdf = flow_paths(fdir, area, threshold_m2=DX * DY)
    assert list(gdf.columns) == [*COLUMNS, "geometry"]
    assert gdf.crs.to_epsg() == 25832
    assert gdf["segment_id"].tolist() == [0, 1, 2]
    assert gdf["strahler"].tolist() == [1, 1, 2]
    assert gdf["downstream_id"].tolist() == [2, 2, -1]
    diag = math.hypot(DX, DY)
    np.testing.assert_allclose(gdf["length_m"], [2 * diag, 2 * diag, 2 * DY])
    np.testing.assert_allclose(gdf["upstream_area_m2"], np.array([2, 2, 7]) * DX * DY)
    expected = [
        [centre(0, 0), centre(1, 1), centre(2, 2)],
        [centre(0, 4), centre(1, 3), centre(2, 2)],
        [centre(2, 2), centre(3, 2), centre(4, 2)],
    ]
    for geom, coords in zip(gdf.geometry, expected, strict=True):
        np.testing.assert_allclose(shapely.get_coordinates(geom), coords)


def test_threshold_cuts_sources() -> None:
    fdir, area = y_rasters()
    # sources (one cell) drop out: the branches start one cell lower and have no line of
    # their own any more except their step into the confluence
    gdf = flow_paths(fdir, area, threshold_m2=2 * DX * DY)
    assert gdf["strahler"].tolist() == [1, 1, 2]
    np.testing.assert_allclose(gdf["length_m"][:2], [math.hypot(DX, DY)] * 2)
    only_trunk = flow_paths(fdir, area, threshold_m2=3 * DX * DY)
    assert len(only_trunk) == 1
    assert only_trunk["strahler"].tolist() == [1]
    assert only_trunk["downstream_id"].tolist() == [-1]


def test_confluence_at_outlet_ends_the_branches() -> None:
    # two cells draining into (1, 1), a pit (code 0): the confluence is the outlet
    fdir = np.full((3, 3), NODATA, dtype=np.uint8)
    fdir[0, 0], fdir[0, 2], fdir[1, 1] = SE, SW, 0
    area = upstream_cells(fdir) * DX * DY
    gdf = flow_paths(
        grid(fdir, dtype=np.uint8, nodata=NODATA),
        grid(area, dtype=np.float64, nodata=np.nan),
        DX * DY,
    )
    assert len(gdf) == 2
    assert gdf["downstream_id"].tolist() == [-1, -1]
    for geom in gdf.geometry:
        np.testing.assert_allclose(shapely.get_coordinates(geom)[-1], centre(1, 1))


@pytest.mark.parametrize("bad", [0.0, -5.0, math.nan, math.inf, "ten"])
def test_bad_threshold(bad: Any) -> None:
    fdir, area = y_rasters()
    with pytest.raises(ParameterError, match="threshold_m2"):
        flow_paths(fdir, area, bad)


def test_empty_result_has_columns_and_crs() -> None:
    fdir, area = y_rasters()
    gdf = flow_paths(fdir, area, threshold_m2=1e9)
    assert len(gdf) == 0
    assert list(gdf.columns) == [*COLUMNS, "geometry"]
    assert gdf.crs.to_epsg() == 25832
    assert gdf["segment_id"].dtype == np.int64
    assert gdf["length_m"].dtype == np.float64


def test_grid_mismatch_and_crs() -> None:
    fdir, area = y_rasters()
    with pytest.raises(GridMismatchError):
        flow_paths(fdir, area.isel(x=slice(0, 4)), 1.0)
    with pytest.raises(GridMismatchError):
        flow_paths(fdir, area.rio.write_crs("EPSG:25833"), 1.0)
    no_crs = fdir.copy()
    no_crs = no_crs.drop_vars("spatial_ref")
    with pytest.raises(CRSError):
        flow_paths(no_crs, area, 1.0)


def test_invalid_codes_and_cycles() -> None:
    fdir, area = y_rasters()
    bad = fdir.copy(data=np.where(fdir.values == S, 3, fdir.values).astype(np.uint8))
    with pytest.raises(InputError, match="not ESRI D8 codes"):
        flow_paths(bad, area, 1.0)
    with pytest.raises(InputError, match="integer"):
        flow_paths(fdir.astype(np.float32), area, 1.0)
    loop = np.array([[E, S], [N, W]], dtype=np.uint8)
    with pytest.raises(InputError, match="cycle"):
        flow_paths(
            grid(loop, dtype=np.uint8, nodata=NODATA),
            grid(np.full((2, 2), 50.0), dtype=np.float64, nodata=np.nan),
            1.0,
        )


# ----------------------------------------------------------------- random D8 trees


@st.composite
def random_d8(draw: st.DrawFn) -> np.ndarray:
    """Acyclic random D8 grids: every cell drains to a lower-ranked neighbour or is a pit."""
    ny, nx = draw(st.integers(2, 10)), draw(st.integers(2, 10))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    rank = rng.permutation(ny * nx).reshape(ny, nx)
    fdir = np.zeros((ny, nx), dtype=np.uint8)
    for r in range(ny):
        for c in range(nx):
            lower = [
                int(CODES[k])
                for k in range(8)
                if 0 <= r + DROW[k] < ny
                and 0 <= c + DCOL[k] < nx
                and rank[r + DROW[k], c + DCOL[k]] < rank[r, c]
            ]
            if rng.random() < 0.1:
                fdir[r, c] = NODATA
            elif lower and rng.random() < 0.9:
                fdir[r, c] = rng.choice(lower)
    return fdir


def cell_of(x: float, y: float) -> tuple[int, int]:
    return round((Y0 - y) / DY - 0.5), round((x - X0) / DX - 0.5)


@settings(deadline=None, max_examples=40)
@given(random_d8(), st.integers(1, 6))
def test_random_trees_cover_mask_and_connect(fdir: np.ndarray, k: int) -> None:
    acc = upstream_cells(fdir)
    area = acc * DX * DY
    gdf = flow_paths(
        grid(fdir, dtype=np.uint8, nodata=NODATA),
        grid(area, dtype=np.float64, nodata=np.nan),
        k * DX * DY,
    )
    with np.errstate(invalid="ignore"):
        mask = acc >= k
    down = {a: b for a, b in downstream(fdir).items() if mask[a] and mask[b]}
    has_up = {b for b in down.values()}
    isolated = {
        (int(r), int(c))
        for r, c in zip(*np.nonzero(mask), strict=True)
        if (r, c) not in down and (r, c) not in has_up
    }
    expected = {(int(r), int(c)) for r, c in zip(*np.nonzero(mask), strict=True)} - isolated

    covered: set[tuple[int, int]] = set()
    by_id = {int(s): g for s, g in zip(gdf["segment_id"], gdf.geometry, strict=True)}
    for seg_id, d_id, geom in zip(
        gdf["segment_id"], gdf["downstream_id"], gdf.geometry, strict=True
    ):
        verts = [cell_of(x, y) for x, y in shapely.get_coordinates(geom)]
        covered.update(verts)
        for a, b in itertools.pairwise(verts):
            assert down[a] == b  # each step follows D8
        if d_id >= 0:
            assert d_id != seg_id
            first = shapely.get_coordinates(by_id[int(d_id)])[0]
            np.testing.assert_array_equal(shapely.get_coordinates(geom)[-1], first)
        else:
            assert verts[-1] not in down  # ends at an outlet of the network
    assert covered == expected
    # the lines together hold every D8 step of the network exactly once
    steps = [math.hypot(DX * (b[1] - a[1]), DY * (b[0] - a[0])) for a, b in down.items()]
    assert math.isclose(float(gdf["length_m"].sum()), math.fsum(steps), rel_tol=1e-9)
    assert shapely.is_valid(gdf.geometry.values).all()
    if len(gdf):
        assert set(gdf["downstream_id"]) <= {-1, *gdf["segment_id"]}
        # the area at a segment's end is at least that of every segment draining into it
        ups = gdf.set_index("segment_id")["upstream_area_m2"]
        for d_id, a in zip(gdf["downstream_id"], gdf["upstream_area_m2"], strict=True):
            if d_id >= 0:
                assert ups[d_id] >= a


# ----------------------------------------------------------------- real data


@pytest.mark.shared
def test_malstroem_flow_directions(malstroem_dir: Path) -> None:
    with rasterio.open(malstroem_dir / "flowdir_noflats.tif") as src:
        mcodes = src.read(1)
        transform = src.transform
        crs = src.crs
    esri = np.zeros(256, dtype=np.uint8)  # malstrøm 8 (no direction) -> 0
    esri[MALSTROEM] = CODES
    fdir = esri[mcodes]
    ny, nx = fdir.shape
    da = xr.DataArray(fdir, dims=("y", "x"))
    da = da.rio.write_crs(crs).rio.write_transform(transform)
    da = da.assign_coords(
        x=transform.c + transform.a * (np.arange(nx) + 0.5),
        y=transform.f + transform.e * (np.arange(ny) + 0.5),
    )
    cell_area = abs(transform.a * transform.e)
    area = da.copy(data=upstream_cells(fdir) * cell_area)
    threshold = 100 * cell_area
    gdf = flow_paths(da, area, threshold)

    assert gdf.crs == crs
    assert len(gdf) > 10
    assert shapely.is_valid(gdf.geometry.values).all()
    assert gdf["strahler"].max() >= 3
    # every segment ends where its downstream segment starts
    starts = shapely.get_point(gdf.geometry.values, 0)
    ends = shapely.get_point(gdf.geometry.values, -1)
    linked = gdf["downstream_id"].to_numpy() >= 0
    assert shapely.equals(ends[linked], starts[gdf["downstream_id"].to_numpy()[linked]]).all()
    # total length equals the sum of D8 steps between flow-path cells
    mask = upstream_cells(fdir) >= 100
    total = 0.0
    for (r, c), (rr, cc) in downstream(fdir).items():
        if mask[r, c] and mask[rr, cc]:
            total += math.hypot(transform.a * (cc - c), transform.e * (rr - r))
    assert math.isclose(float(gdf["length_m"].sum()), total, rel_tol=1e-9)
