"""Shared fixtures: the path to the real reference data, and synthetic raster factories."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xarray as xr
from hypothesis import settings
from rasterio.transform import from_origin

REPO_ROOT = Path(__file__).resolve().parents[1]

# CI runs hypothesis derandomized (the same examples every run), so a landing never
# depends on luck; developers get fresh random examples locally.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI", "").lower() == "true":
    settings.load_profile("ci")


def shared_data_dir() -> Path:
    """Where ../shared/data lives (``KLIMAKORT_SHARED_DATA`` overrides)."""
    env = os.environ.get("KLIMAKORT_SHARED_DATA")
    return Path(env) if env else (REPO_ROOT.parent / "shared" / "data")


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real reference data folder.

    Skips when it is missing on a developer machine, but fails under CI
    (``CI=true``), where the folder is always present.
    """
    path = shared_data_dir()
    if not path.is_dir():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"shared reference data missing at {path} (CI=true)")
        pytest.skip(f"shared reference data not found at {path}")
    return path


@pytest.fixture(scope="session")
def malstroem_dir(shared_data: Path) -> Path:
    """Folder with malstrøm's oracle rasters and JSON."""
    return shared_data / "malstroem"


@pytest.fixture
def make_dem() -> Callable[..., xr.DataArray]:
    """Factory for small synthetic DEMs as rioxarray-tagged DataArrays (EPSG:25832)."""

    def _make(
        values: np.ndarray,
        cell: float = 1.6,
        x0: float = 700_000.0,
        y0: float = 6_170_000.0,
        nodata: float | None = np.nan,
        crs: str | None = "EPSG:25832",
    ) -> xr.DataArray:
        arr = np.asarray(values, dtype=np.float32)
        ny, nx = arr.shape
        xs = x0 + cell * (np.arange(nx) + 0.5)
        ys = y0 - cell * (np.arange(ny) + 0.5)
        da = xr.DataArray(arr, dims=("y", "x"), coords={"y": ys, "x": xs}, name="dem")
        if crs is not None:
            da = da.rio.write_crs(crs)
        da = da.rio.write_transform(from_origin(x0, y0, cell, cell))
        if nodata is not None:
            da = da.rio.write_nodata(nodata, encoded=False)
        return da

    return _make


@pytest.fixture(scope="session")
def small_area(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """area.toml of the sample area at 6.4 m cells (625 x 469), written once per worker."""
    from klimakort.sample import write_sample

    return write_sample(tmp_path_factory.mktemp("small_area"), cell=6.4)


@pytest.fixture(scope="session")
def workspace(small_area: Path) -> Any:
    """The small area with hazards for present, 2050 and 2100 (treat it as read-only)."""
    from klimakort.service import Workspace

    return Workspace.open(small_area)
