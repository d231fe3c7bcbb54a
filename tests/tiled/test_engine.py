"""Tests of klimakort.tiled: the Dask rain-flow equals the in-memory kernels bit for bit."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio
import xarray as xr
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from klimakort.core.accumulation import upstream_area
from klimakort.core.bluespots import label_bluespots
from klimakort.core.fill import fill_depressions
from klimakort.core.flats import d8_flat_resolved
from klimakort.core.watersheds import local_watersheds
from klimakort.errors import ParameterError
from klimakort.hydro.rainflow import RainflowParams
from klimakort.io.raster import cell_size
from klimakort.tiled import rainflow_tiled


def _da(z: np.ndarray, cell: float = 1.6) -> xr.DataArray:
    ny, nx = z.shape
    y = 6_170_000.0 - cell * (np.arange(ny) + 0.5)
    x = 700_000.0 + cell * (np.arange(nx) + 0.5)
    return xr.DataArray(z, dims=("y", "x"), coords={"y": y, "x": x}).rio.write_crs(25832)


def in_memory(da: xr.DataArray, params: RainflowParams) -> dict[str, np.ndarray]:
    """The products as the in-memory kernels compute them."""
    z = np.asarray(da.values)
    dx, dy = cell_size(da)
    f = fill_depressions(z, flats="flat")
    fd = d8_flat_resolved(f, dx, dy)
    depth = np.where(np.isnan(z), np.nan, f - z).astype(z.dtype)
    lab = label_bluespots(
        depth,
        dx,
        dy,
        min_depth=params.min_depth,
        min_cells=params.min_cells,
        min_volume=params.min_volume,
    )
    return {
        "filled": f,
        "flowdir": fd,
        "accumulation": upstream_area(fd, dx * dy),
        "bluespots": lab,
        "watersheds": local_watersheds(fd, lab),
    }


def assert_bit_identical(files: dict[str, Path], want: dict[str, np.ndarray]) -> None:
    for name, ref in want.items():
        with rasterio.open(files[name]) as src:
            got = src.read(1)
        assert got.dtype == ref.dtype, name
        if ref.dtype.kind == "f":
            bits = np.uint32 if ref.dtype.itemsize == 4 else np.uint64
            np.testing.assert_array_equal(got.view(bits), ref.view(bits), err_msg=name)
        else:
            np.testing.assert_array_equal(got, ref, err_msg=name)


def straddling_dem() -> np.ndarray:
    """300 x 300 DEM whose features straddle the borders of 64-cell chunks."""
    rng = np.random.default_rng(7)
    yy, xx = np.mgrid[0:300, 0:300].astype(np.float64)
    z = 20.0 + 0.02 * xx + 0.01 * yy + rng.normal(0, 0.05, (300, 300))
    # a bowl centred on the corner of four chunks (a bluespot cut by two borders)
    z -= 3.0 * np.exp(-((yy - 64) ** 2 + (xx - 64) ** 2) / 200.0)
    # a valley from (10, 290) down to (290, 10): a flow path across four chunks and more
    z -= 2.0 * np.exp(-(((yy + xx) - 300) ** 2) / 50.0) * (1 + (xx - yy) / 600)
    # a plateau spanning six chunks, one exit on its south side
    z[100:230, 70:260] = 26.0
    z[230:260, 160] = np.linspace(25.0, 22.0, 30)
    # an inland nodata hole (an outlet) on a chunk border, and a second bowl
    z[126:132, 200:206] = np.nan
    z -= 1.5 * np.exp(-((yy - 192) ** 2 + (xx - 128) ** 2) / 80.0)
    z[0:3, 0:300] = np.where(rng.random((3, 300)) < 0.3, np.nan, z[0:3])  # ragged edge
    return z.astype(np.float32)


@pytest.fixture(scope="module")
def straddling(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Path], xr.DataArray]:
    da = _da(straddling_dem())
    params = RainflowParams(min_cells=3, min_volume=0.5)
    res = rainflow_tiled(da, tmp_path_factory.mktemp("tiled"), 64, params, "synchronous")
    assert res.flat_rounds > 1  # the plateau needed border exchanges
    return res.files, da


def test_straddling_dem_is_bit_identical(straddling: tuple[dict[str, Path], xr.DataArray]) -> None:
    files, da = straddling
    want = in_memory(da, RainflowParams(min_cells=3, min_volume=0.5))
    # the features really straddle: the corner bowl is one bluespot over four chunks
    lab = want["bluespots"]
    corner = lab[62:67, 62:67]
    assert corner.min() > 0 and len(np.unique(corner)) == 1
    assert np.nanmax(want["accumulation"]) > 64 * 64 * 1.6 * 1.6  # flow from several chunks
    assert_bit_identical(files, want)


def test_outputs_are_cogs(straddling: tuple[dict[str, Path], xr.DataArray]) -> None:
    files, _ = straddling
    with rasterio.open(files["flowdir"]) as src:
        assert src.tags(ns="IMAGE_STRUCTURE").get("LAYOUT") == "COG"
        assert src.profile["tiled"] and src.crs.to_epsg() == 25832
        assert src.nodata == 255 and src.tags()["units"] == "ESRI D8 code"


def test_distributed_local_cluster(tmp_path: Path) -> None:
    from distributed import Client, LocalCluster

    z = straddling_dem()[:150, :150].copy()
    da = _da(z, 2.0)
    with (
        LocalCluster(
            n_workers=1, threads_per_worker=2, processes=False, dashboard_address=":0"
        ) as cluster,
        Client(cluster) as client,
    ):
        res = rainflow_tiled(da, tmp_path, 48, RainflowParams(), client)
    assert_bit_identical(res.files, in_memory(da, RainflowParams()))
    assert not list(tmp_path.glob(".tiled-*"))  # scratch stores removed


def test_from_a_geotiff_path(tmp_path: Path) -> None:
    z = straddling_dem()[:100, :140].copy()
    da = _da(z, 1.6)
    path = tmp_path / "dem.tif"
    da.rio.to_raster(path, tiled=True, blockxsize=32, blockysize=32)
    res = rainflow_tiled(path, tmp_path / "out", 32, RainflowParams(), "synchronous")
    want = in_memory(
        _da(rasterio.open(path).read(1, masked=True).filled(np.nan), 1.6), RainflowParams()
    )
    assert_bit_identical(res.files, want)


def test_rejects_barrier_and_bad_chunks(tmp_path: Path) -> None:
    da = _da(np.zeros((20, 20), dtype=np.float32))
    with pytest.raises(ParameterError, match="outlet"):
        rainflow_tiled(da, tmp_path, 8, RainflowParams(inland_nodata="barrier"), "synchronous")
    with pytest.raises(ParameterError, match="chunks"):
        rainflow_tiled(da, tmp_path, 4, RainflowParams(), "synchronous")


@st.composite
def dems(draw: st.DrawFn) -> np.ndarray:
    ny = draw(st.integers(12, 70))
    nx = draw(st.integers(12, 70))
    rng = np.random.default_rng(draw(st.integers(0, 2**31 - 1)))
    levels = draw(st.integers(2, 8))
    z = rng.integers(0, levels, (ny, nx)).astype(np.float32)
    if draw(st.booleans()):  # smooth relief with flats and pits
        z = np.round(z + np.linspace(0, levels, nx)[None, :], 0).astype(np.float32)
    z[rng.random((ny, nx)) < draw(st.sampled_from([0.0, 0.03]))] = np.nan
    return z


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(dems(), st.integers(8, 40), st.sampled_from([0.0, 0.5]))
def test_random_dems_and_chunks(tmp_path: Path, z: np.ndarray, chunks: int, vol: float) -> None:
    da = _da(z, 1.0)
    params = RainflowParams(min_depth=0.0, min_cells=2, min_volume=vol)
    out = tmp_path / f"r{np.random.default_rng().integers(1 << 30)}"
    res = rainflow_tiled(da, out, chunks, params, "synchronous")
    assert_bit_identical(res.files, in_memory(da, params))


@pytest.mark.parametrize("shape", [(65, 33), (33, 65), (9, 40)])
def test_one_cell_wide_last_chunks(tmp_path: Path, shape: tuple[int, int]) -> None:
    z = straddling_dem()[100 : 100 + shape[0], 60 : 60 + shape[1]].copy()
    da = _da(z, 1.0)
    res = rainflow_tiled(da, tmp_path, 8 if shape[0] == 9 else 32, RainflowParams(), "synchronous")
    assert_bit_identical(res.files, in_memory(da, RainflowParams()))
