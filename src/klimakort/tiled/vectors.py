"""``bluespots.gpkg`` of a tiled run: the bluespot table with polygons, and pour points.

The layers and columns are those of the in-memory
:func:`klimakort.hydro.rainflow.write_rainflow` for the layers ``bluespots`` and
``pour_points``. The in-memory ``watersheds`` polygons and the ``network`` of spill
paths are not written by the tiled run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import geopandas as gpd
import shapely
from affine import Affine

from klimakort.hydro.vectorize import centres_on
from klimakort.io.vector import write_layer_batches
from klimakort.tiled.chunks import ChunkGrid
from klimakort.tiled.cluster import Runner
from klimakort.tiled.polygons import label_polygons_chunks
from klimakort.tiled.table import bluespot_table_chunks

__all__ = ["write_bluespots_gpkg"]


def _columns() -> tuple[str, ...]:
    from klimakort.hydro.rainflow import TABLE_COLUMNS

    return TABLE_COLUMNS


def write_bluespots_gpkg(
    run: Runner,
    grid: ChunkGrid,
    stores: dict[str, str],
    n: int,
    transform: Affine,
    crs: Any,
    dest: Path,
    progress: Callable[[str], None] | None = None,
) -> Path:
    """Compute the tiled bluespot table and polygons and write ``dest`` atomically."""
    dx, dy = abs(float(transform.a)), abs(float(transform.e))
    table, pieces = bluespot_table_chunks(run, grid, stores, n, dx, dy)
    xy = centres_on(transform, table["pour_row"].to_numpy(), table["pour_col"].to_numpy())
    table["pour_x"], table["pour_y"] = xy[:, 0], xy[:, 1]
    table = table[list(_columns())]

    def polygons() -> Iterator[gpd.GeoDataFrame]:
        got = 0
        for ids, geoms in label_polygons_chunks(
            run, grid, stores["bluespots"], transform, pieces, progress
        ):
            got += ids.size
            rows = table.iloc[ids - 1].reset_index(drop=True)
            yield gpd.GeoDataFrame(rows, geometry=gpd.GeoSeries(geoms, crs=crs), crs=crs)
        if got != n:
            raise RuntimeError(f"polygonised {got} of {n} bluespots; the stores are inconsistent")

    def first_empty() -> Iterator[gpd.GeoDataFrame]:
        yield gpd.GeoDataFrame(table.iloc[:0], geometry=gpd.GeoSeries([], crs=crs), crs=crs)

    points = gpd.GeoDataFrame(
        table,
        geometry=shapely.points(table["pour_x"].to_numpy(), table["pour_y"].to_numpy()),
        crs=crs,
    )
    write_layer_batches(
        dest,
        {
            "bluespots": (polygons() if n else first_empty(), "MultiPolygon"),
            "pour_points": ([points], "Point"),
        },
    )
    return dest
