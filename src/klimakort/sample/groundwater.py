"""Synthetic groundwater head (m DVR90) on the sample grid.

A smooth surface following the smoothed terrain at a depth that grows from about 0.5 m
at the coast to about 3.7 m on the moraine and shrinks towards the stream, with a
gentle random undulation. The depth below the terrain is kept within 0.32-4.95 m on
land; the sea has no head (NaN).
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from klimakort.sample.grid import SampleGrid, quantise
from klimakort.sample.noise import fractal_noise, smoothstep
from klimakort.sample.plan import LandscapePlan

MIN_DEPTH = 0.32
MAX_DEPTH = 4.95


def build_groundwater(
    grid: SampleGrid,
    plan: LandscapePlan,
    dem: np.ndarray,
    stream_distance: np.ndarray,
    rng: np.random.Generator,
) -> np.ndarray:
    """Return the groundwater head (float32, m DVR90, NaN over the sea).

    Parameters
    ----------
    grid : SampleGrid
        Grid of ``dem``.
    plan : LandscapePlan
        For the shoreline.
    dem : numpy.ndarray
        Terrain (m DVR90) on ``grid``.
    stream_distance : numpy.ndarray
        Distance (m) of each cell to the stream centre line.
    rng : numpy.random.Generator
        The groundwater's random stream.
    """
    f = max(1, int(10.0 // grid.cell))  # work on a ~10 m grid, the surface is smooth
    coarse_dem = dem[::f, ::f].astype(np.float64)
    size = max(3, round(120.0 / (grid.cell * f)) | 1)
    surface = ndimage.uniform_filter(coarse_dem, size=size, mode="nearest")
    surface = ndimage.uniform_filter(surface, size=size, mode="nearest")
    ys = grid.local_y()[::f][:, None]
    xs = grid.local_x()[::f][None, :]
    dy = ys - plan.coast_at(xs)
    depth = 0.5 + 3.2 * smoothstep((dy - 60.0) / 1500.0)
    depth *= 0.35 + 0.65 * smoothstep(stream_distance[::f, ::f] / 250.0)
    wobble = fractal_noise(
        rng, coarse_dem.shape, grid.cell * f, beta=3.0, longest_m=1500.0, shortest_m=80.0
    )
    depth *= 1.0 + 0.15 * wobble
    head_coarse = surface - depth
    zoom = ndimage.zoom(head_coarse, f, order=1, grid_mode=True, mode="nearest")
    head = np.empty(grid.shape)
    head[...] = zoom[: grid.ny, : grid.nx]
    ground = dem.astype(np.float64)
    np.clip(head, ground - MAX_DEPTH, ground - MIN_DEPTH, out=head)
    sea = grid.local_y()[:, None] < plan.coast_at(grid.local_x())[None, :]
    head[sea] = np.nan
    return quantise(head, 0.001)
