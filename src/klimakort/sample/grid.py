"""The sample area's raster grid and its deterministic random streams.

The synthetic area is 4 km (east) by 3 km (north) in EPSG:25832, placed at Vallensbæk
Strand (x0 = 712 000, y_top = 6 171 000). All generator code works in *local* metres
(``X`` east of ``x0``, ``Y`` north of the southern edge) and converts to map coordinates
only when building geometries and rasters.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import rioxarray  # noqa: F401  (registers the .rio accessor)
import xarray as xr
from rasterio.transform import Affine

from klimakort.errors import ParameterError

#: Map coordinates of the area's north-west corner and its extent (m).
X0 = 712_000.0
Y_TOP = 6_171_000.0
WIDTH = 4_000.0
HEIGHT = 3_000.0
CRS = "EPSG:25832"
#: Tag written to every raster (``source``) and vector layer (``synthetic``).
SOURCE = "synthetic sample (klimakort.sample, deterministic from seed)"

# One independent random stream per generator component, so that changing one part
# never shifts the random numbers of another.
STREAM_IDS = {
    "plan": 1,
    "terrain": 2,
    "town": 3,
    "buildings": 4,
    "groundwater": 5,
    "layers": 6,
    "imperviousness": 7,
}


def rng_for(seed: int, component: str) -> np.random.Generator:
    """Return the PCG64 generator of one component for ``seed`` (same on every machine)."""
    return np.random.Generator(
        np.random.PCG64(np.random.SeedSequence([seed, STREAM_IDS[component]]))
    )


@dataclass(frozen=True)
class SampleGrid:
    """North-up grid of the sample area.

    Attributes
    ----------
    cell : float
        Cell size in metres (square cells).
    nx, ny : int
        Number of columns and rows.
    """

    cell: float
    nx: int
    ny: int

    @classmethod
    def for_cell(cls, cell: float) -> SampleGrid:
        """Build the grid covering the 4 x 3 km area with ``cell`` metre cells.

        Raises
        ------
        ParameterError
            ``cell`` is not a finite number between 0.5 and 50 m.
        """
        if not (isinstance(cell, int | float) and math.isfinite(cell) and 0.5 <= cell <= 50.0):
            raise ParameterError(
                f"cell size must be a number of metres between 0.5 and 50, got {cell!r}"
            )
        return cls(float(cell), round(WIDTH / cell), round(HEIGHT / cell))

    @property
    def shape(self) -> tuple[int, int]:
        """(rows, columns)."""
        return (self.ny, self.nx)

    @property
    def height(self) -> float:
        """Northern extent of the grid in local metres."""
        return self.ny * self.cell

    @property
    def transform(self) -> Affine:
        """Affine transform in map coordinates (north-west corner at X0, Y_TOP)."""
        return Affine(self.cell, 0.0, X0, 0.0, -self.cell, Y_TOP)

    @property
    def y0(self) -> float:
        """Map y of the grid's southern edge (local ``Y = 0``)."""
        return Y_TOP - self.height

    def local_x(self) -> np.ndarray:
        """Local X of the column centres (1-D, float64)."""
        return self.cell * (np.arange(self.nx) + 0.5)

    def local_y(self) -> np.ndarray:
        """Local Y of the row centres, north first (1-D, float64)."""
        return self.height - self.cell * (np.arange(self.ny) + 0.5)

    def to_map(self, xy: np.ndarray) -> np.ndarray:
        """Local (..., 2) coordinates -> map coordinates rounded to 1 mm."""
        out = np.asarray(xy, dtype=np.float64) + np.array([X0, self.y0])
        return np.round(out, 3)

    def to_local(self, xy: np.ndarray) -> np.ndarray:
        """Map (..., 2) coordinates -> local coordinates."""
        return np.asarray(xy, dtype=np.float64) - np.array([X0, self.y0])

    def cell_index(self, local_xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Row and column of the cells containing local points (clipped to the grid)."""
        xy = np.asarray(local_xy, dtype=np.float64)
        col = np.clip(np.floor(xy[..., 0] / self.cell).astype(np.int64), 0, self.nx - 1)
        row = np.clip(
            np.floor((self.height - xy[..., 1]) / self.cell).astype(np.int64), 0, self.ny - 1
        )
        return row, col

    def dataarray(self, values: np.ndarray, name: str, units: str, **attrs: object) -> xr.DataArray:
        """Wrap ``values`` (float32) as a rioxarray-tagged DataArray on this grid."""
        xs = X0 + self.local_x()
        ys = self.y0 + self.local_y()
        da = xr.DataArray(
            np.asarray(values, dtype=np.float32),
            dims=("y", "x"),
            coords={"y": ys, "x": xs},
            name=name,
            attrs={"units": units, "source": SOURCE, "synthetic": "true", **attrs},
        )
        da.rio.write_crs(CRS, inplace=True)
        da.rio.write_transform(self.transform, inplace=True)
        return da.rio.write_nodata(np.nan, encoded=False, inplace=True)


def quantise(values: np.ndarray, step: float) -> np.ndarray:
    """Round to a multiple of ``step`` (float64 -> float32).

    The generator uses transcendental ufuncs (exp, sin, ...) whose SIMD code paths may
    differ in the last bit between CPUs; rounding the outputs to millimetres (or 0.01 for
    fractions) makes the published values identical on every machine.
    """
    scale = 1.0 / step
    return (np.round(np.asarray(values, dtype=np.float64) * scale) / scale).astype(np.float32)
