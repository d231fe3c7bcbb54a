"""Hillshade and colour rendering of rasters (pure numpy)."""

from __future__ import annotations

import numpy as np
from matplotlib import colormaps
from matplotlib.colors import Normalize


def hillshade(
    dem: np.ndarray,
    dx: float,
    dy: float,
    *,
    azimuth: float = 315.0,
    altitude: float = 45.0,
    z_factor: float = 1.0,
) -> np.ndarray:
    """Lambertian hillshade in [0, 1] (NaN where the DEM is NaN).

    Parameters
    ----------
    dem : ndarray
        Heights; rows run north to south.
    dx, dy : float
        Cell size in metres.
    azimuth, altitude : float
        Sun direction in degrees (azimuth clockwise from north).
    z_factor : float
        Vertical exaggeration.
    """
    z = np.asarray(dem, dtype=np.float64) * z_factor
    gy, gx = np.gradient(z, dy, dx)  # gy: change per row (southwards)
    slope = np.arctan(np.hypot(gx, gy))
    # rows run southwards, so d z / d north = -gy; the steepest-descent direction in
    # (east, north) components is (-gx, gy)
    aspect = np.arctan2(gy, -gx)
    az = np.deg2rad(90.0 - azimuth)  # math angle of the sun direction
    alt = np.deg2rad(altitude)
    shade = np.sin(alt) * np.cos(slope) + np.cos(alt) * np.sin(slope) * np.cos(az - aspect)
    return np.clip(shade, 0.0, 1.0)


def colorize(
    values: np.ndarray,
    cmap: str,
    vmin: float,
    vmax: float,
    *,
    alpha: float = 1.0,
    shade: np.ndarray | None = None,
    shade_strength: float = 0.55,
) -> np.ndarray:
    """Map values to RGBA uint8 with a matplotlib colormap; NaN becomes transparent.

    Parameters
    ----------
    values : ndarray
        2-D values.
    cmap : str
        Matplotlib colormap name.
    vmin, vmax : float
        Value range mapped to the colormap ends.
    alpha : float
        Opacity of valid cells.
    shade : ndarray, optional
        Hillshade in [0, 1] blended multiplicatively into the colours.
    shade_strength : float
        How strongly the hillshade darkens (0 = none, 1 = full).
    """
    norm = Normalize(vmin=vmin, vmax=vmax, clip=True)
    rgba = colormaps[cmap](norm(np.nan_to_num(values, nan=vmin)))
    if shade is not None:
        factor = 1.0 - shade_strength + shade_strength * np.nan_to_num(shade, nan=1.0)
        rgba[..., :3] *= factor[..., None]
    rgba[..., 3] = np.where(np.isnan(values), 0.0, alpha)
    return (rgba * 255).round().astype(np.uint8)
