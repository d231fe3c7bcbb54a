"""Smooth random fields for the synthetic terrain (spectral synthesis)."""

from __future__ import annotations

import numpy as np


def fractal_noise(
    rng: np.random.Generator,
    shape: tuple[int, int],
    cell: float,
    *,
    beta: float = 3.0,
    longest_m: float = 1500.0,
    shortest_m: float = 10.0,
) -> np.ndarray:
    """Return a fractal (power-law spectrum) field with zero mean and unit variance.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of the white noise (drawn in a fixed order, so the field is deterministic).
    shape : (int, int)
        Rows, columns.
    cell : float
        Cell size in metres; wavelengths below are in metres, so the relief does not
        depend on the resolution.
    beta : float
        Spectral exponent of the power spectrum ``P(k) ~ k**-beta`` (3 = smooth, 2 = rough).
    longest_m, shortest_m : float
        Wavelength band kept; longer and shorter waves are tapered off.

    Returns
    -------
    numpy.ndarray
        float64 field of ``shape``.
    """
    ny, nx = shape
    white = rng.standard_normal((ny, nx))
    spec = np.fft.rfft2(white)
    ky = np.fft.fftfreq(ny, d=cell)[:, None]
    kx = np.fft.rfftfreq(nx, d=cell)[None, :]
    k = np.hypot(kx, ky)
    k_lo, k_hi = 1.0 / longest_m, 1.0 / shortest_m
    with np.errstate(divide="ignore"):
        amp = np.where(k > 0, np.maximum(k, k_lo) ** (-beta / 2.0), 0.0)
    amp *= np.exp(-((k / k_hi) ** 2))  # smooth cut-off of the short waves
    field = np.fft.irfft2(spec * amp, s=(ny, nx))
    field -= field.mean()
    std = field.std()
    return field / std if std > 0 else field


def smooth_1d(
    rng: np.random.Generator, x: np.ndarray, wavelengths: tuple[float, ...]
) -> np.ndarray:
    """Sum of sines with random phases (unit amplitude each, divided by their count)."""
    phases = rng.uniform(0.0, 2.0 * np.pi, size=len(wavelengths))
    total = np.zeros_like(np.asarray(x, dtype=np.float64))
    for lam, ph in zip(wavelengths, phases, strict=True):
        total += np.sin(2.0 * np.pi * x / lam + ph)
    return total / len(wavelengths)


def smoothstep(t: np.ndarray | float) -> np.ndarray:
    """Cubic Hermite step: 0 for t <= 0, 1 for t >= 1, smooth in between."""
    t = np.clip(t, 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)
