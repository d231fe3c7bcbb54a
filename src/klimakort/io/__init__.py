"""Raster and vector input/output with geo metadata kept and checked."""

from klimakort.io.atomic import atomic_path
from klimakort.io.raster import check_same_grid, like, read_raster, write_cog
from klimakort.io.vector import RepairReport, read_vector, repair_geometries, write_vector

__all__ = [
    "RepairReport",
    "atomic_path",
    "check_same_grid",
    "like",
    "read_raster",
    "read_vector",
    "repair_geometries",
    "write_cog",
    "write_vector",
]
