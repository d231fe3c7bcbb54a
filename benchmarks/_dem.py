"""Seeded synthetic DEM for the rain-flow benchmark: fractal relief, a coast with sea, pits."""

from __future__ import annotations

import numpy as np


def synthetic_dem(size: int = 4000, seed: int = 42) -> np.ndarray:
    """Return a ``size`` x ``size`` float32 DEM (metres, NaN = sea).

    Fractal relief (spectral synthesis, power spectrum ~ 1/f^3.2) of about 0-60 m rising
    inland, a wavy coast with sea (NaN) along the west edge covering ~15 % of the grid,
    inland closed depressions (Gaussian bowls 1-4 m deep) and heights rounded to 1 cm like
    a real DTM (which creates flats).

    Parameters
    ----------
    size : int
        Number of rows and columns.
    seed : int
        Seed of the random generator; the same seed gives the same DEM.

    Returns
    -------
    numpy.ndarray
        float32 array of shape (size, size).
    """
    rng = np.random.default_rng(seed)
    noise = rng.standard_normal((size, size)).astype(np.float32)
    spec = np.fft.rfft2(noise)
    fy = np.fft.fftfreq(size)[:, None]
    fx = np.fft.rfftfreq(size)[None, :]
    f = np.sqrt(fx * fx + fy * fy)
    f[0, 0] = 1.0
    spec *= (f**-1.6).astype(np.float32)
    spec[0, 0] = 0.0
    relief = np.fft.irfft2(spec, s=(size, size)).astype(np.float32)
    relief -= relief.min()
    relief *= np.float32(40.0 / max(float(relief.max()), 1e-6))
    x = np.linspace(0.0, 1.0, size, dtype=np.float32)[None, :]
    dem = relief + np.float32(25.0) * x
    # closed depressions
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) if size <= 512 else (None, None)
    n_bowls = max(1, size * size // 80_000)
    for _ in range(n_bowls):
        cy, cx = rng.integers(0, size, 2)
        rad = float(rng.uniform(size / 400 + 2, size / 80 + 3))
        depth = np.float32(rng.uniform(1.0, 4.0))
        r0, r1 = max(0, int(cy - 3 * rad)), min(size, int(cy + 3 * rad) + 1)
        c0, c1 = max(0, int(cx - 3 * rad)), min(size, int(cx + 3 * rad) + 1)
        gy = (np.arange(r0, r1, dtype=np.float32) - cy)[:, None]
        gx = (np.arange(c0, c1, dtype=np.float32) - cx)[None, :]
        dem[r0:r1, c0:c1] -= depth * np.exp(-(gy * gy + gx * gx) / np.float32(2 * rad * rad))
    del yy, xx
    dem = np.round(dem, 2).astype(np.float32)
    # wavy coast: sea (nodata) west of a smooth random line
    rows = np.arange(size, dtype=np.float64)
    coast = 0.15 * size + 0.04 * size * np.sin(rows / size * 2 * np.pi * rng.uniform(1, 3))
    coast += 0.02 * size * np.sin(rows / size * 2 * np.pi * rng.uniform(5, 9) + 1.0)
    sea = np.arange(size)[None, :] < coast[:, None]
    dem[sea] = np.nan
    return dem
