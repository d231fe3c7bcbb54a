"""Raster I/O: terrain models and derived hazard rasters as rioxarray DataArrays.

Reading returns an :class:`xarray.DataArray` that carries its CRS, transform and
nodata (``.rio``). Float rasters get their nodata cells as NaN. Rasters without a
CRS, or with a geographic CRS, are refused: heights and distances in klimakort
are metres on a projected grid (EPSG:25832 in Denmark), and guessing is never safe.

Writing produces Cloud Optimized GeoTIFFs (tiled, compressed, with overviews),
atomically, tagged with units, source and scenario.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import rasterio
import rasterio.shutil
import rioxarray  # noqa: F401  (registers the .rio accessor)
import xarray as xr
from rasterio.crs import CRS
from rasterio.enums import Resampling

from klimakort.errors import CRSError, DataNotFoundError, GridMismatchError, InputError
from klimakort.io.atomic import atomic_path

if TYPE_CHECKING:
    import geopandas as gpd

#: GDAL options scoped to klimakort's reads (never set globally)
READ_ENV: dict[str, Any] = {"GDAL_DISABLE_READDIR_ON_OPEN": "EMPTY_DIR"}

PathLike = str | os.PathLike[str]

#: COG layout of :func:`write_cog`: tile size, codec and its level. ZSTD level 1 with
#: a predictor compresses about as well as DEFLATE and several times faster.
COG_BLOCK = 512
COG_COMPRESS = "ZSTD"
COG_LEVEL = 1


def overview_factors(ny: int, nx: int, block: int = COG_BLOCK) -> list[int]:
    """Overview decimation factors 2, 4, ... until the overview fits in one tile.

    The same levels as GDAL's COG driver with ``OVERVIEWS=AUTO``.
    """
    factors: list[int] = []
    f = 2
    while max(ny, nx) / (f // 2) > block:
        factors.append(f)
        f *= 2
    return factors


def check_projected_crs(crs: Any, what: str) -> CRS:
    """Return ``crs`` as a rasterio CRS if it is projected in metres, else raise CRSError.

    Parameters
    ----------
    crs : CRS-like or None
        The CRS to check.
    what : str
        Name of the dataset, used in the message.
    """
    if crs is None:
        raise CRSError(
            f"{what} has no coordinate reference system. Assign one (e.g. EPSG:25832 for "
            "Danish data) with `gdal_edit.py -a_srs EPSG:25832` or rioxarray's write_crs; "
            "klimakort never guesses a CRS."
        )
    crs = CRS.from_user_input(crs)
    if crs.is_geographic:
        raise CRSError(
            f"{what} is in a geographic CRS ({crs.to_string()}, degrees). klimakort needs a "
            "projected CRS in metres; reproject it first, e.g. to EPSG:25832."
        )
    units = (crs.linear_units or "").lower()
    if units not in ("metre", "meter", "m", "metres", "meters"):
        raise CRSError(f"{what} uses linear units {units!r}; klimakort needs metres.")
    return crs


def read_raster(
    path: PathLike,
    *,
    band: int = 1,
    name: str | None = None,
    expected_crs: Any | None = None,
) -> xr.DataArray:
    """Read one band of a raster (GeoTIFF/COG, ESRI ASCII grid, ...) into a DataArray.

    Parameters
    ----------
    path : path-like
        Raster file readable by GDAL.
    band : int
        1-based band number.
    name : str, optional
        Name of the returned DataArray (defaults to the file stem).
    expected_crs : CRS-like, optional
        If given, the raster's CRS must equal it (CRSError otherwise).

    Returns
    -------
    xarray.DataArray
        2-D (y, x) array with rioxarray CRS, transform and nodata. Float data has
        nodata replaced by NaN (``.rio.nodata`` is then NaN, the original value is kept
        in ``attrs["source_nodata"]``). ``attrs["source_path"]`` records the file.

    Raises
    ------
    DataNotFoundError
        The file does not exist.
    CRSError
        The raster has no CRS, a geographic CRS, or not the expected one.
    """
    path = Path(path)
    if not path.exists():
        raise DataNotFoundError(f"raster not found: {path}")
    with rasterio.Env(**READ_ENV), rasterio.open(path) as src:
        if band < 1 or band > src.count:
            raise InputError(f"{path} has {src.count} band(s); band {band} does not exist")
        crs = check_projected_crs(src.crs, f"raster {path}")
        if expected_crs is not None and crs != CRS.from_user_input(expected_crs):
            raise CRSError(
                f"raster {path} is in {crs.to_string()}, expected "
                f"{CRS.from_user_input(expected_crs).to_string()}"
            )
        data = src.read(band)
        nodata = src.nodatavals[band - 1]
        transform = src.transform
        tags = src.tags()
    if transform.b != 0 or transform.d != 0:
        raise InputError(f"raster {path} is rotated; klimakort needs north-up grids")
    attrs: dict[str, Any] = {k: v for k, v in tags.items() if k != "AREA_OR_POINT"}
    attrs["source_path"] = str(path)
    if np.issubdtype(data.dtype, np.floating):
        if nodata is not None and not np.isnan(nodata):
            data = np.where(data == nodata, np.nan, data).astype(data.dtype, copy=False)
            attrs["source_nodata"] = float(nodata)
        nodata = np.nan
    return _wrap(data, transform, crs, nodata, name or path.stem, attrs)


def _wrap(
    data: np.ndarray,
    transform: rasterio.Affine,
    crs: CRS,
    nodata: float | int | None,
    name: str,
    attrs: Mapping[str, Any],
) -> xr.DataArray:
    ny, nx = data.shape
    xs = transform.c + transform.a * (np.arange(nx) + 0.5)
    ys = transform.f + transform.e * (np.arange(ny) + 0.5)
    da = xr.DataArray(data, dims=("y", "x"), coords={"y": ys, "x": xs}, name=name)
    da.attrs.update(attrs)
    # in place: the array is ours, and rioxarray's default deep-copies the data on
    # every call (three copies of a 16 M cell raster cost ~0.5 s and 200 MB of churn)
    da.rio.write_crs(crs, inplace=True)
    da.rio.write_transform(transform, inplace=True)
    if nodata is not None:
        da.rio.write_nodata(nodata, encoded=False, inplace=True)
    return da


def like(
    template: xr.DataArray,
    data: np.ndarray,
    *,
    name: str,
    nodata: Any = None,
    attrs: Mapping[str, Any] | None = None,
) -> xr.DataArray:
    """Wrap ``data`` on the grid of ``template`` (same coords, CRS and transform).

    Parameters
    ----------
    template : xarray.DataArray
        Grid to copy.
    data : numpy.ndarray
        New values, with the template's shape.
    name : str
        Name of the result.
    nodata : scalar, optional
        Nodata of the result (NaN for float results by default).
    attrs : mapping, optional
        Attributes of the result.
    """
    if data.shape != template.shape:
        raise GridMismatchError(f"array shape {data.shape} differs from grid {template.shape}")
    if nodata is None and np.issubdtype(data.dtype, np.floating):
        nodata = np.nan
    return _wrap(data, template.rio.transform(), template.rio.crs, nodata, name, attrs or {})


def check_same_grid(a: xr.DataArray, b: xr.DataArray, what: str = "rasters") -> None:
    """Raise GridMismatchError unless ``a`` and ``b`` share CRS, shape and transform."""
    if a.rio.crs != b.rio.crs:
        raise GridMismatchError(f"{what}: CRS {a.rio.crs} differs from {b.rio.crs}")
    if a.shape != b.shape:
        raise GridMismatchError(f"{what}: shape {a.shape} differs from {b.shape}")
    if not a.rio.transform().almost_equals(b.rio.transform(), precision=1e-6):
        raise GridMismatchError(
            f"{what}: transforms differ ({a.rio.transform()} vs {b.rio.transform()})"
        )


def cell_size(da: xr.DataArray) -> tuple[float, float]:
    """Return (dx, dy) in metres, both positive."""
    t = da.rio.transform()
    return abs(float(t.a)), abs(float(t.e))


def write_cog(
    da: xr.DataArray,
    path: PathLike,
    *,
    units: str,
    source: str,
    scenario: str | None = None,
    description: str | None = None,
    overviews: bool = True,
    extra_tags: Mapping[str, str] | None = None,
    resampling: str | None = None,
) -> Path:
    """Write a DataArray as a Cloud Optimized GeoTIFF, atomically.

    Parameters
    ----------
    da : xarray.DataArray
        2-D raster with rioxarray CRS and transform.
    path : path-like
        Destination ``.tif``.
    units : str
        Units of the values (e.g. ``"m DVR90"``, ``"m"``, ``"m2"``, ``"class"``).
    source : str
        Where the values come from (inputs, method, "synthetic sample").
    scenario : str, optional
        Climate scenario the raster belongs to.
    description : str, optional
        Band description.
    overviews : bool
        Build internal overviews (COG driver, nearest for integer, average for float).
    extra_tags : mapping, optional
        More GeoTIFF metadata tags.
    resampling : str, optional
        Overview resampling (GDAL name); default AVERAGE for float, NEAREST for integer
        data. Use NEAREST for float rasters holding infinities or codes.

    Returns
    -------
    Path
        The written file.

    Raises
    ------
    CRSError
        ``da`` has no CRS or a geographic one.
    """
    dest = Path(path)
    crs = check_projected_crs(da.rio.crs, f"raster {da.name or dest.name}")
    data = np.asarray(da.values)
    if data.ndim != 2:
        raise InputError(f"write_cog needs a 2-D raster, got shape {data.shape}")
    nodata = da.rio.nodata
    if nodata is None and np.issubdtype(data.dtype, np.floating):
        nodata = np.nan
    tags = {"units": units, "source": source, "software": "klimakort"}
    if scenario is not None:
        tags["scenario"] = scenario
    if extra_tags:
        tags.update({str(k): str(v) for k, v in extra_tags.items()})
    ny, nx = data.shape
    is_float = np.issubdtype(data.dtype, np.floating)
    profile = {
        "driver": "GTiff",
        "width": nx,
        "height": ny,
        "count": 1,
        "dtype": data.dtype.name,
        "crs": crs,
        "transform": da.rio.transform(),
        "nodata": nodata,
        "tiled": True,
        "blockxsize": COG_BLOCK,
        "blockysize": COG_BLOCK,
        "BIGTIFF": "IF_SAFER",
    }
    method = (resampling or ("AVERAGE" if is_float else "NEAREST")).lower()
    factors = overview_factors(ny, nx) if overviews else []
    scratch = f"/vsimem/klimakort_cog_{uuid.uuid4().hex}.tif"
    copy_opts = {
        "compress": COG_COMPRESS,
        "level": COG_LEVEL,
        "predictor": "3" if is_float else "2",
        "blocksize": COG_BLOCK,
        "overviews": "FORCE_USE_EXISTING" if factors else "NONE",
        "BIGTIFF": "IF_SAFER",
        "num_threads": "ALL_CPUS",
    }
    with rasterio.Env(GDAL_TIFF_INTERNAL_MASK="YES", GDAL_NUM_THREADS="ALL_CPUS"):
        try:
            # an uncompressed scratch copy in memory, its overviews built there (fast),
            # then one multi-threaded compressing copy into the COG layout
            with rasterio.open(scratch, "w", **profile) as dst:
                dst.write(data, 1)
                dst.update_tags(**tags)
                dst.set_band_description(1, description or str(da.name or dest.stem))
                if factors:
                    dst.build_overviews(factors, Resampling[method])
            with atomic_path(dest) as tmp:
                rasterio.shutil.copy(scratch, tmp, driver="COG", **copy_opts)
        finally:
            if rasterio.shutil.exists(scratch):
                rasterio.shutil.delete(scratch)
    return dest


def check_vector_crs(gdf: gpd.GeoDataFrame | gpd.GeoSeries, grid: xr.DataArray, what: str) -> None:
    """Raise :class:`CRSError` unless vector data and a raster share one CRS (never guessed).

    Parameters
    ----------
    gdf : GeoDataFrame or GeoSeries
        The features.
    grid : xarray.DataArray
        The raster (its ``.rio.crs``).
    what : str
        How the message names the features, e.g. ``"the sites"``.
    """
    from pyproj import CRS as ProjCRS

    if gdf.crs is None:
        raise CRSError(f"{what} has no CRS; set it (klimakort never guesses a CRS)")
    if grid.rio.crs is None:
        raise CRSError("the rasters have no CRS")
    have, want = ProjCRS.from_user_input(gdf.crs), ProjCRS.from_user_input(grid.rio.crs)
    if not have.equals(want):
        raise CRSError(
            f"{what} is in {have.to_string()} but the rasters are in {want.to_string()}; "
            "reproject the features (e.g. read them with klimakort.io.read_vector(crs=...))"
        )
