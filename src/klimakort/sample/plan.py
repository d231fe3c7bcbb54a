"""The landscape plan: where the coast, beach ridge, stream and lake of the sample lie.

Everything here is in local metres (see :mod:`klimakort.sample.grid`) and is decided
before any raster is built, so the terrain, the town and the vector layers agree.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from klimakort.sample.grid import HEIGHT, WIDTH
from klimakort.sample.noise import smooth_1d, smoothstep

#: Distance (m) from the shoreline (0 m DVR90) to the beach-ridge crest line.
RIDGE_OFFSET = 35.0
#: Half width (m) of the flat ridge crest and the ridge's side slope (run per rise).
RIDGE_CREST_HALF = 3.0
RIDGE_SLOPE_RUN = 4.0
#: Crest level (m DVR90) in the single low gap, its flat half-length and ramp length (m).
GAP_LEVEL = 1.7
GAP_HALF = 20.0
GAP_RAMP = 25.0
#: Northern edge of the town; the moraine farmland lies beyond (local Y, m).
TOWN_TOP = 1650.0
#: Distance of the coast road behind the shoreline (m).
COAST_ROAD_OFFSET = 95.0
#: Half width (m) of the green corridor the stream follows through the town.
CORRIDOR_HALF = 120.0


@dataclass(frozen=True)
class LandscapePlan:
    """Positions of the large landscape features (local metres).

    Attributes
    ----------
    coast_x, coast_y : numpy.ndarray
        Shoreline vertices (every 20 m, west to east); the sea lies south of it.
    crest_phases : tuple of float
        Random phases of the ridge crest undulation.
    gap_x : float
        Centre of the single low gap in the beach ridge.
    stream_xy : numpy.ndarray
        Stream centre line (N, 2), from the northern edge to 20 m into the sea.
    corridor_x : float
        Centre of the stream's green corridor through the town.
    lake_center : tuple of float
        Centre of the lake (on the stream).
    lake_axes : tuple of float
        Semi-axes (east, north) of the elliptic lake, in metres.
    """

    coast_x: np.ndarray
    coast_y: np.ndarray
    crest_phases: tuple[float, float]
    gap_x: float
    stream_xy: np.ndarray
    corridor_x: float
    lake_center: tuple[float, float]
    lake_axes: tuple[float, float]

    def coast_at(self, x: np.ndarray | float) -> np.ndarray:
        """Shoreline Y at local X (piecewise linear through the vertices)."""
        return np.interp(x, self.coast_x, self.coast_y)

    def crest_at(self, x: np.ndarray | float) -> np.ndarray:
        """Crest level (m DVR90) of the beach ridge at local X, gap included."""
        x = np.asarray(x, dtype=np.float64)
        p1, p2 = self.crest_phases
        base = 2.75 + 0.17 * (
            0.6 * np.sin(2 * np.pi * x / 1700.0 + p1) + 0.4 * np.sin(2 * np.pi * x / 530.0 + p2)
        )
        w = smoothstep((np.abs(x - self.gap_x) - GAP_HALF) / GAP_RAMP)
        return GAP_LEVEL + (base - GAP_LEVEL) * w


def make_plan(rng: np.random.Generator) -> LandscapePlan:
    """Draw the landscape plan from ``rng`` (a fixed number of draws, in a fixed order)."""
    coast_x = np.arange(0.0, WIDTH + 20.0, 20.0)
    # rounded to 1 cm plus 5 mm: no raster cell centre (on a 0.1 m lattice) can lie exactly
    # on the shoreline, so the sea polygon and the raster sea always agree
    coast_y = np.round(430.0 + 30.0 * smooth_1d(rng, coast_x, (3100.0, 900.0)), 2) + 0.005
    crest_phases = (float(rng.uniform(0, 2 * np.pi)), float(rng.uniform(0, 2 * np.pi)))
    gap_x = float(np.round(rng.uniform(2550.0, 2900.0), 1))
    corridor_x = float(np.round(rng.uniform(1400.0, 1650.0), 1))

    # Stream: gentle meanders in the town corridor, wider ones on the moraine.
    ys = np.arange(HEIGHT, -1.0, -4.0)
    amp = 25.0 + 45.0 * smoothstep((ys - TOWN_TOP - 50.0) / 200.0)
    lam = rng.uniform(380.0, 520.0)
    phase = rng.uniform(0, 2 * np.pi)
    xs = corridor_x + amp * np.sin(2 * np.pi * ys / lam + phase)
    coast_here = float(np.interp(corridor_x, coast_x, coast_y))
    keep = ys >= coast_here - 20.0
    stream_xy = np.round(np.column_stack([xs[keep], ys[keep]]), 2)

    lake_y = float(np.round(rng.uniform(2150.0, 2350.0), 1))
    lake_x = float(np.interp(-lake_y, -stream_xy[:, 1], stream_xy[:, 0]))
    return LandscapePlan(
        coast_x=coast_x,
        coast_y=coast_y,
        crest_phases=crest_phases,
        gap_x=gap_x,
        stream_xy=stream_xy,
        corridor_x=corridor_x,
        lake_center=(round(lake_x, 2), lake_y),
        lake_axes=(75.0, 115.0),
    )
