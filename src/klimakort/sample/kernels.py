"""Fused per-cell loops (numba) for the synthetic terrain: no large temporaries.

Pure array code: no I/O, no xarray. Coordinates are local metres (see ``grid.py``).
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, inline="always")
def _step(t: float) -> float:
    if t <= 0.0:
        return 0.0
    if t >= 1.0:
        return 1.0
    return t * t * (3.0 - 2.0 * t)


@njit(cache=True)
def compose_trend(
    coast: np.ndarray,
    ys: np.ndarray,
    big: np.ndarray,
    fine: np.ndarray,
    ridge_offset: float,
    moraine_top: float,
) -> np.ndarray:
    """Regional terrain: sea floor, beach, low land and moraine with fractal relief.

    Parameters
    ----------
    coast : (nx,) float64
        Shoreline Y of each column.
    ys : (ny,) float64
        Y of each row (north first).
    big : (ny, nx) float64
        Unit-variance broad relief.
    fine : (ty, tx) float64
        Unit-variance micro-relief tile, repeated periodically over the grid.
    ridge_offset : float
        Distance from the shoreline to the beach-ridge crest line (m).
    moraine_top : float
        Highest terrain level; relief above 6 m is scaled linearly to reach it.

    Returns
    -------
    (ny, nx) float64
    """
    ny, nx = big.shape
    ty, tx = fine.shape
    z = np.empty((ny, nx))
    zmax = 6.0
    for r in range(ny):
        for c in range(nx):
            dy = ys[r] - coast[c]
            if dy < 0.0:
                z[r, c] = -0.4 - 2.6 * _step(-dy / 380.0)
                continue
            d = dy - ridge_offset
            t = min(max(d / 1100.0, 0.0), 1.0)
            land = 0.9 + 0.9 * t * np.sqrt(t) + 25.5 * _step((d - 850.0) / 1750.0)
            amp = 0.25 + 2.85 * _step((d - 600.0) / 1400.0)
            land += _step(d / 60.0) * (amp * big[r, c] + 0.04 * fine[r % ty, c % tx])
            w = _step(d / 30.0)
            v = (0.1 + 0.025 * dy) * (1.0 - w) + land * w
            z[r, c] = v
            if v > zmax:
                zmax = v
    scale = (moraine_top - 6.0) / (zmax - 6.0)
    for r in range(ny):
        for c in range(nx):
            if z[r, c] > 6.0:
                z[r, c] = 6.0 + (z[r, c] - 6.0) * scale
    return z


@njit(cache=True)
def ridge_and_sea(
    z: np.ndarray,
    coast: np.ndarray,
    ys: np.ndarray,
    crest: np.ndarray,
    ridge_offset: float,
    crest_half: float,
    slope_run: float,
) -> None:
    """Raise the beach ridge (flat crest, linear side slopes) and keep the sea below -0.4 m.

    Works in place on ``z``; ``crest`` is the crest level of each column.
    """
    ny, nx = z.shape
    for r in range(ny):
        for c in range(nx):
            dy = ys[r] - coast[c]
            if dy < 0.0:
                if z[r, c] > -0.4:
                    z[r, c] = -0.4
                continue
            dr = abs(dy - ridge_offset)
            v = crest[c] - max(0.0, dr - crest_half) / slope_run
            if v > z[r, c]:
                z[r, c] = v
