"""``rainflow_tiled``: the rain-flow products of a DEM larger than memory, on Dask.

Steps (each over the chunks of Zarr stores in a scratch folder of ``out_dir``):
ingest the DEM, flat fill, D8 with flat resolution, flow accumulation, bluespot
labels, local watersheds, the bluespot table and polygons (``bluespots.gpkg``); then
every raster is exported as a COG. Peak memory per worker is a few chunks. The client
holds chunk-border data for the rasters; for ``bluespots.gpkg`` it holds the table
(one row per bluespot: its pieces per chunk while they are merged) and the polygons
of one row of chunks, which grows with the number of bluespots, not of cells.
"""

from __future__ import annotations

import os
import shutil
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dask.array as dsa
import numpy as np
import xarray as xr

from klimakort.errors import ParameterError
from klimakort.io.raster import cell_size, check_projected_crs
from klimakort.tiled.accumulation import accumulation_chunks
from klimakort.tiled.chunks import ChunkGrid, create_store
from klimakort.tiled.cluster import runner
from klimakort.tiled.export import export_cog
from klimakort.tiled.fill import fill_chunks
from klimakort.tiled.flats import flowdir_chunks
from klimakort.tiled.labels import BluespotFilter, label_chunks
from klimakort.tiled.vectors import write_bluespots_gpkg
from klimakort.tiled.watersheds import watershed_chunks

__all__ = ["TiledResult", "open_dem", "rainflow_tiled"]

#: product -> (dtype, nodata, units, description)
PRODUCTS: dict[str, tuple[str, float | int, str, str]] = {
    "filled": ("dem", np.nan, "m DVR90", "depression-filled terrain (flat fill)"),
    "flowdir": (
        "uint8",
        255,
        "ESRI D8 code",
        "D8 directions: 1 E,2 SE,4 S,8 SW,16 W,32 NW,64 N,128 NE,0 outlet",
    ),
    "accumulation": ("float32", np.nan, "m2", "upstream area"),
    "bluespots": ("int32", 0, "bluespot id", "bluespot labels, 0 = none"),
    "watersheds": ("int32", -1, "bluespot id", "local watershed of each bluespot"),
}


@dataclass
class TiledResult:
    """What :func:`rainflow_tiled` wrote."""

    files: dict[str, Path]
    n_bluespots: int
    shape: tuple[int, int]
    chunks: int
    flat_rounds: int
    seconds: dict[str, float] = field(default_factory=dict)


def open_dem(dem: str | os.PathLike[str] | xr.DataArray, chunks: int) -> xr.DataArray:
    """The DEM as a lazily chunked DataArray (NaN = nodata)."""
    if isinstance(dem, xr.DataArray):
        da = dem
    else:
        import rioxarray

        opened = rioxarray.open_rasterio(dem, chunks={"x": chunks, "y": chunks}, masked=True)
        assert isinstance(opened, xr.DataArray)
        da = opened.squeeze("band", drop=True) if "band" in opened.dims else opened
        da.attrs.setdefault("source_path", str(dem))
    if da.ndim != 2:
        raise ParameterError(f"the terrain model must be one band, got dims {da.dims}")
    return da


def _export(
    store: str,
    dest: Path,
    crs: Any,
    transform: Any,
    nodata: float,
    tags: dict[str, str],
    description: str,
) -> Path:
    """One COG export, as a task on a worker (all products are written in parallel)."""
    return export_cog(
        store, dest, crs=crs, transform=transform, nodata=nodata, tags=tags, description=description
    )


def _zarr_chunk(chunks: int) -> int:
    """Zarr chunk side: 512 when it divides the run's chunks (thin halo reads), else the chunks."""
    return 512 if chunks % 512 == 0 else chunks


def rainflow_tiled(
    dem: str | os.PathLike[str] | xr.DataArray,
    out_dir: str | os.PathLike[str],
    chunks: int = 4096,
    params: Any = None,
    client: Any = None,
    *,
    progress: Callable[[str], None] | None = None,
    keep_stores: bool = False,
    vectors: bool = True,
) -> TiledResult:
    """Rain-flow rasters of a DEM, chunk by chunk on Dask, bit-identical to in memory.

    Parameters
    ----------
    dem : path or xarray.DataArray
        A GeoTIFF/COG/VRT (read lazily with rioxarray) or a DataArray (numpy or Dask
        backed) with a projected CRS; NaN = nodata.
    out_dir : path
        Output folder: ``filled.tif``, ``flowdir.tif``, ``accumulation.tif``,
        ``bluespots.tif``, ``watersheds.tif`` (COGs) and ``bluespots.gpkg``.
    chunks : int
        Chunk side in cells (8 .. 16000).
    params : klimakort.hydro.rainflow.RainflowParams, optional
        Thresholds; ``inland_nodata`` must be ``"outlet"`` (the tiled engine does not
        find nodata holes connected to the edge across chunks).
    client : None, address, distributed.Client or scheduler name
        See :func:`klimakort.tiled.cluster.runner` (default: a new LocalCluster).
    progress : callable, optional
        Receives a message at the start of each step.
    keep_stores : bool
        Keep the Zarr stores (``out_dir/.tiled-*``) instead of deleting them.
    vectors : bool
        Also write ``bluespots.gpkg`` (layers ``bluespots`` with the polygons and the
        table of the in-memory run, and ``pour_points``; see
        :mod:`klimakort.tiled.vectors`).

    Returns
    -------
    TiledResult

    Notes
    -----
    The products equal, bit for bit, those of the in-memory kernels:
    ``fill_depressions(z, flats="flat")``, ``d8_flat_resolved(filled, dx, dy)``,
    ``upstream_area(fdir, dx * dy)``, ``label_bluespots(filled - z, ...)`` and
    ``local_watersheds(fdir, labels)``.
    """
    from klimakort.hydro.rainflow import RainflowParams

    params = params or RainflowParams()
    if params.inland_nodata != "outlet":
        raise ParameterError(
            "the tiled rain-flow supports inland_nodata='outlet' only; "
            "run the in-memory rainflow for 'barrier'"
        )
    say = progress or (lambda _m: None)
    da = open_dem(dem, chunks)
    crs = check_projected_crs(da.rio.crs, "terrain")
    transform = da.rio.transform()
    dx, dy = cell_size(da)
    ny, nx = (int(s) for s in da.shape)
    grid = ChunkGrid(ny, nx, chunks)
    dtype = np.dtype(da.dtype) if np.issubdtype(da.dtype, np.floating) else np.dtype(np.float32)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    scratch = out / f".tiled-{uuid.uuid4().hex[:8]}"
    scratch.mkdir()
    st = {name: str(scratch / f"{name}.zarr") for name in ("dem", *PRODUCTS)}
    zch = _zarr_chunk(chunks)
    seconds: dict[str, float] = {}
    t0 = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal t0
        now = time.perf_counter()
        seconds[name] = now - t0
        t0 = now

    try:
        with runner(client) as run:
            lap("cluster")
            say("reading terrain into chunks")
            arr = (
                da.data
                if isinstance(da.data, dsa.Array)
                else dsa.from_array(np.asarray(da.values), chunks=zch)
            )
            arr = arr.astype(dtype).rechunk(zch)
            run.compute(arr.to_zarr(st["dem"], overwrite=True, compute=False))
            for name, (dt, nod, _u, _d) in PRODUCTS.items():
                create_store(st[name], (ny, nx), dtype if dt == "dem" else np.dtype(dt), nod, zch)
            lap("ingest")
            say("filling depressions")
            fill_chunks(run, grid, st["dem"], st["filled"], dtype)
            lap("fill")
            say("D8 flow directions")
            rounds = flowdir_chunks(run, grid, st["filled"], st["flowdir"], dx, dy)
            lap("flowdir")
            say("flow accumulation")
            accumulation_chunks(run, grid, st["flowdir"], st["accumulation"], dx * dy)
            lap("accumulation")
            say("bluespots")
            filt = BluespotFilter(params.min_depth, params.min_cells, params.min_volume, dx * dy)
            nb = label_chunks(run, grid, st["dem"], st["filled"], st["bluespots"], filt)
            lap("bluespots")
            say("watersheds")
            watershed_chunks(run, grid, st["flowdir"], st["bluespots"], st["watersheds"])
            lap("watersheds")
            gpkg: dict[str, Path] = {}
            if vectors:
                say("bluespot table and polygons")
                gpkg["bluespots_gpkg"] = write_bluespots_gpkg(
                    run, grid, st, nb, transform, crs, out / "bluespots.gpkg", say
                )
                lap("bluespot table and polygons")
            say("writing COGs")
            src = str(da.attrs.get("source_path", da.name or "terrain"))
            names = list(PRODUCTS)
            exports = [
                (
                    st[name],
                    out / f"{name}.tif",
                    crs,
                    transform,
                    nod,
                    {
                        "units": units,
                        "source": f"klimakort rainflow (tiled, chunks={chunks}) of {src}",
                        "software": "klimakort",
                        "params": str(params),
                    },
                    desc,
                )
                for name, (_dt, nod, units, desc) in PRODUCTS.items()
            ]
            files = dict(zip(names, run(_export, exports), strict=True)) | gpkg
            lap("export")
    finally:
        if not keep_stores:
            shutil.rmtree(scratch, ignore_errors=True)
    return TiledResult(files, nb, (ny, nx), chunks, rounds, seconds)
