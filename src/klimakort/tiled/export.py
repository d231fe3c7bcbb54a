"""COG export of a Zarr store, window by window (never the whole raster in memory)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import rasterio
import rasterio.shutil
import zarr
from affine import Affine

from klimakort.io.atomic import atomic_path
from klimakort.io.raster import COG_COMPRESS, COG_LEVEL

__all__ = ["export_cog"]

_BLOCK = 512


def export_cog(
    store: str,
    dest: Path,
    *,
    crs: object,
    transform: Affine,
    nodata: float | int,
    tags: Mapping[str, str],
    description: str,
    rows_per_write: int = 2048,
) -> Path:
    """Write ``store`` as a Cloud Optimized GeoTIFF, atomically.

    The values go first into a tiled GeoTIFF beside the destination, a band of rows
    at a time, which GDAL's COG driver then copies (overviews included) with bounded
    memory. The COG is compressed as the in-memory products are
    (:data:`klimakort.io.raster.COG_COMPRESS` at :data:`~klimakort.io.raster.COG_LEVEL`),
    so a tiled and an in-memory run write the same kind of file.
    """
    arr = zarr.open_array(store, mode="r")
    ny, nx = arr.shape
    dtype = np.dtype(arr.dtype)
    is_float = dtype.kind == "f"
    tmp_profile = {
        "driver": "GTiff",
        "width": nx,
        "height": ny,
        "count": 1,
        "dtype": dtype.name,
        "crs": crs,
        "transform": transform,
        "nodata": nodata,
        "tiled": True,
        "blockxsize": _BLOCK,
        "blockysize": _BLOCK,
        "compress": "ZSTD",
        "zstd_level": 1,  # a staging copy: fast, not small
        "BIGTIFF": "YES",
    }
    with atomic_path(dest) as tmp:
        stage = tmp.with_name(tmp.name + ".stage.tif")
        try:
            with rasterio.Env(GDAL_CACHEMAX=256), rasterio.open(stage, "w", **tmp_profile) as dst:
                step = max(_BLOCK, rows_per_write // _BLOCK * _BLOCK)
                for r0 in range(0, ny, step):
                    r1 = min(ny, r0 + step)
                    dst.write(arr[r0:r1, :], 1, window=((r0, r1), (0, nx)))
                dst.update_tags(**tags)
                dst.set_band_description(1, description)
            with rasterio.Env(GDAL_CACHEMAX=256, GDAL_NUM_THREADS="ALL_CPUS"):
                rasterio.shutil.copy(
                    stage,
                    tmp,
                    driver="COG",
                    compress=COG_COMPRESS,
                    level=COG_LEVEL,
                    predictor="3" if is_float else "2",
                    blocksize=_BLOCK,
                    overviews="AUTO",
                    resampling="AVERAGE" if is_float and dtype != np.uint8 else "NEAREST",
                    BIGTIFF="IF_SAFER",
                    num_threads="ALL_CPUS",
                )
        finally:
            stage.unlink(missing_ok=True)
    return dest
