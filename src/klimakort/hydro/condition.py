"""Conditioning a terrain model with vector layers before the rain-flow analysis.

Order matters: streams/culverts are carved first (so water can pass under roads and
through the beach ridge where the stream crosses it), then dikes are raised to their
crest, then buildings are raised (+10 m by default, as SCALGO Live does), so water
flows around houses.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import xarray as xr

from klimakort.hydro.burn import burn_barriers, burn_buildings, burn_streams
from klimakort.io.vector import read_vector


@dataclass(frozen=True)
class BurnLayers:
    """Vector layers to burn into the terrain (paths; any may be None)."""

    buildings: Path | None = None
    barriers: Path | None = None
    streams: Path | None = None
    crest_field: str = "crest_m"
    building_raise_m: float = 10.0


def condition_terrain(dem: xr.DataArray, layers: BurnLayers) -> xr.DataArray:
    """Burn streams, barriers and buildings into ``dem`` (vectors reprojected to its CRS).

    Parameters
    ----------
    dem : xarray.DataArray
        Terrain in m DVR90.
    layers : BurnLayers
        Which layers to burn.

    Returns
    -------
    xarray.DataArray
        The conditioned terrain; ``attrs["burnt_layers"]`` lists what was burnt.
    """
    crs = dem.rio.crs
    out = dem
    if layers.streams is not None:
        out = burn_streams(
            out, read_vector(layers.streams, crs=crs), depth_m="carve", direction="auto"
        )
    if layers.barriers is not None:
        out = burn_barriers(
            out, read_vector(layers.barriers, crs=crs), crest_field=layers.crest_field
        )
    if layers.buildings is not None:
        out = burn_buildings(
            out, read_vector(layers.buildings, crs=crs), raise_m=layers.building_raise_m
        )
    return out
