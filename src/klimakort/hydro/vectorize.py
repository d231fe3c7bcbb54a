"""Label rasters to polygons, and cells to coordinates."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import rasterio.features
import shapely
import xarray as xr


def label_polygons(labels: xr.DataArray, id_name: str) -> gpd.GeoDataFrame:
    """Polygons of every positive label, one (multi)polygon per id, sorted by id.

    Parameters
    ----------
    labels : xarray.DataArray
        Integer labels with rioxarray transform and CRS; values <= 0 are background.
    id_name : str
        Name of the id column.
    """
    values = np.asarray(labels.values).astype(np.int32, copy=False)
    mask = values > 0
    ids: list[int] = []
    geoms: list[shapely.Geometry] = []
    if mask.any():
        for geom, value in rasterio.features.shapes(
            values, mask=mask, transform=labels.rio.transform(), connectivity=4
        ):
            ids.append(int(value))
            geoms.append(shapely.geometry.shape(geom))
    gdf = gpd.GeoDataFrame(
        {id_name: np.asarray(ids, dtype=np.int64)}, geometry=geoms, crs=labels.rio.crs
    )
    if gdf.empty:
        return gdf
    out = gdf.dissolve(by=id_name, as_index=False).sort_values(id_name)
    return out.reset_index(drop=True)


def cell_centres(da: xr.DataArray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """(k, 2) x/y of cell centres of ``rows``/``cols`` on the grid of ``da``."""
    t = da.rio.transform()
    x = t.c + t.a * (np.asarray(cols, dtype=np.float64) + 0.5)
    y = t.f + t.e * (np.asarray(rows, dtype=np.float64) + 0.5)
    return np.column_stack([x, y])
