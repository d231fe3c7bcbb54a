"""Rain-flow on rasters larger than memory, tile by tile on Dask (``dask.distributed``).

Each global step is the tile-graph method: solve every chunk on its own, solve a
small graph of the chunk borders, finalise every chunk. The results are bit-identical
to the in-memory kernels of :mod:`klimakort.core`. Chunks live in Zarr stores on disk
between the steps; the products are exported as COGs.
"""

from klimakort.tiled.engine import TiledResult, rainflow_tiled

__all__ = ["TiledResult", "rainflow_tiled"]
