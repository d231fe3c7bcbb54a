"""Warping a layer onto a target pixel grid: source values, resampling choice, reproject."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np
import rioxarray  # noqa: F401  (registers the .rio accessor)
import xarray as xr
from affine import Affine
from rasterio.crs import CRS
from rasterio.warp import Resampling, reproject

from klimakort.errors import CRSError, InputError
from klimakort.service.catalog import RasterLayer

#: rasterio's in-memory datasets are not safe to create from several threads at once: two
#: concurrent ``reproject`` calls on numpy arrays now and then build one without its
#: geotransform (a spurious NotGeoreferencedWarning, and a warp on the identity transform).
#: The tile server warps each pyramid level once and caches it, so one lock costs little.
_REPROJECT_LOCK = threading.Lock()


@dataclass(frozen=True)
class Source:
    """A layer's values ready for warping.

    Attributes
    ----------
    values : numpy.ndarray
        2-D float32 values, NaN = nodata.
    transform : Affine
        Pixel -> CRS transform.
    crs : rasterio.crs.CRS
        CRS of the values.
    """

    values: np.ndarray
    transform: Affine
    crs: CRS

    @property
    def res(self) -> float:
        """Cell size (the larger of x and y) in CRS units."""
        return float(max(abs(self.transform.a), abs(self.transform.e)))

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(xmin, ymin, xmax, ymax) in the source CRS."""
        h, w = self.values.shape
        x0, y0 = self.transform * (0, 0)
        x1, y1 = self.transform * (w, h)
        return (min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1))

    @property
    def nbytes(self) -> int:
        """Memory of the values."""
        return int(self.values.nbytes)


def source_of(da: xr.DataArray) -> Source:
    """Float32 values (nodata -> NaN), transform and CRS of a rioxarray DataArray.

    Raises
    ------
    CRSError
        The DataArray has no CRS.
    InputError
        It is not a single 2-D band.
    """
    if da.rio.crs is None:
        raise CRSError(
            f"raster {da.name!r} has no CRS; tag it with .rio.write_crs (e.g. EPSG:25832)"
        )
    arr = da.squeeze(drop=True) if da.ndim > 2 else da
    if arr.ndim != 2:
        raise InputError(f"raster {da.name!r} must be one 2-D band, got dims {da.dims}")
    values = np.asarray(arr.values)
    nodata = da.rio.nodata
    if nodata is not None and not np.isnan(nodata):
        out = values.astype(np.float32, copy=True)
        out[values == nodata] = np.nan
    else:  # no copy for float32 rasters with NaN nodata (the workspace's float layers)
        out = values.astype(np.float32, copy=False)
    return Source(out, da.rio.transform(), CRS.from_user_input(da.rio.crs))


def resampling_for(layer: RasterLayer, factor: float) -> Resampling:
    """Resampling for ``layer`` when the target cells are ``factor`` times the source cells.

    Class layers use nearest; flow accumulation keeps its maximum when shrinking (thin
    flow paths stay visible); other continuous layers average when shrinking and
    interpolate bilinearly otherwise.
    """
    if layer.classes is not None or layer.colormap == "classes":
        return Resampling.nearest
    if factor > 1.5:
        return Resampling.max if layer.colormap == "flow" else Resampling.average
    return Resampling.bilinear


def warp(
    src: Source,
    dst_transform: Affine,
    dst_crs: CRS,
    shape: tuple[int, int],
    resampling: Resampling,
) -> np.ndarray:
    """Reproject ``src`` onto a ``shape`` grid (float32, NaN where no data)."""
    out = np.full(shape, np.nan, dtype=np.float32)
    with _REPROJECT_LOCK:
        reproject(
            source=src.values,
            destination=out,
            src_transform=src.transform,
            src_crs=src.crs,
            src_nodata=np.nan,
            dst_transform=dst_transform,
            dst_crs=dst_crs,
            dst_nodata=np.nan,
            resampling=resampling,
            num_threads=1,
        )
    return out
