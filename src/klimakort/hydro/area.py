"""Rain-flow analysis of a configured area (terrain conditioned by its layers)."""

from __future__ import annotations

from collections.abc import Callable

import geopandas as gpd
import numpy as np
import rasterio.features
import xarray as xr

from klimakort.config.area import AreaConfig
from klimakort.hydro.condition import BurnLayers, condition_terrain
from klimakort.hydro.rainflow import Rainflow, RainflowParams, rainflow
from klimakort.io.raster import read_raster
from klimakort.io.vector import read_vector


def burn_layers_of(cfg: AreaConfig) -> BurnLayers:
    """The layers of ``cfg`` that condition its terrain (buildings, barriers, streams)."""
    barriers = cfg.layers.get("barriers")
    buildings = cfg.layers.get("buildings")
    streams = cfg.layers.get("streams")
    return BurnLayers(
        buildings=buildings.path if buildings else None,
        barriers=barriers.path if barriers else None,
        streams=streams.path if streams else None,
        crest_field=(barriers.crest_field or "crest_m") if barriers else "crest_m",
    )


def run_area_rainflow(
    cfg: AreaConfig,
    params: RainflowParams | None = None,
    progress: Callable[[str], None] | None = None,
    *,
    terrain: xr.DataArray | None = None,
    sea: gpd.GeoDataFrame | None = None,
) -> Rainflow:
    """Read, condition and analyse an area's terrain.

    Parameters
    ----------
    cfg : AreaConfig
        The area.
    params : RainflowParams, optional
        Thresholds (defaults otherwise).
    progress : callable, optional
        Step messages.
    terrain, sea : optional
        The area's terrain and sea layer when the caller has already read them (they
        are read from ``cfg`` otherwise).
    """
    say = progress or (lambda _m: None)
    if terrain is None:
        say("reading terrain")
        terrain = read_raster(cfg.terrain.path, expected_crs=cfg.crs)
    say("burning buildings, barriers and streams into the terrain")
    dem = condition_terrain(terrain, burn_layers_of(cfg))
    sea_ref = cfg.layers.get("sea")
    if sea is None and sea_ref is not None:
        sea = read_vector(sea_ref.path, crs=cfg.crs, layer=sea_ref.layer)
    if sea is not None:
        say("masking the sea (water reaching it leaves the area)")
        dem = mask_polygons(dem, sea)
    return rainflow(dem, params, progress=say)


def mask_polygons(dem: xr.DataArray, polygons: gpd.GeoDataFrame) -> xr.DataArray:
    """Set cells whose centre lies in ``polygons`` to nodata (NaN).

    The rain-flow kernels treat nodata connected to the raster edge as an outlet, so
    masking the sea makes it the sink that it is, and no flow paths are drawn in it.
    """
    inside = rasterio.features.geometry_mask(
        polygons.geometry, out_shape=dem.shape, transform=dem.rio.transform(), invert=True
    )
    out = dem.where(~inside)
    out.attrs = {**dem.attrs, "masked": "sea"}
    return out.rio.write_nodata(np.nan, encoded=False, inplace=True)  # out is a new array
