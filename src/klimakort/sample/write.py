"""Write the synthetic sample area to a folder with an ``area.toml`` describing it.

Layout::

    DIRECTORY/area.toml
    DIRECTORY/rasters/{terrain,groundwater_head,imperviousness}.tif   (COGs)
    DIRECTORY/layers/<key>.gpkg                                      (one layer each)

Every file is written atomically (temporary file + rename).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

from klimakort.io.atomic import atomic_path
from klimakort.io.raster import write_cog
from klimakort.io.vector import write_vector
from klimakort.sample.area import DEFAULT_SEED, LAYER_KEYS, SampleArea, generate_sample
from klimakort.sample.grid import CRS, SOURCE

AREA_NAME = "Strandby (synthetic sample)"
DESCRIPTION = (
    "Synthetic coastal municipality patterned on the Køge Bugt coast (Vallensbæk/Ishøj): "
    "sea, a beach ridge with one low gap, low land, moraine, a stream with a lake, a town "
    "with parcels and buildings. Generated deterministically by klimakort.sample; not real data."
)

#: Extra keys of each ``[layers.KEY]`` table (besides ``path``).
LAYER_FIELDS: dict[str, dict[str, str]] = {
    "parcels": {"id_field": "matrikel_id"},
    "buildings": {"id_field": "building_id"},
    "roads": {"id_field": "road_id"},
    "heating_zones": {"id_field": "zone", "zone_field": "zone"},
    "heating_mains": {"id_field": "main_id", "zone_field": "zone"},
    "public_land": {"id_field": "name", "kind_field": "kind"},
    "institutions": {"id_field": "name", "kind_field": "kind"},
    "planned_sites": {"id_field": "site_id", "measure_field": "measure"},
    "barriers": {"id_field": "barrier_id", "crest_field": "crest_m", "kind_field": "kind"},
    "sea": {"id_field": "name"},
    "streams": {"id_field": "stream_id"},
    "lakes": {"id_field": "name"},
    "local_plans": {"id_field": "plannr", "name_field": "plannavn"},
}
RASTERS = {
    "terrain": "rasters/terrain.tif",
    "groundwater": "rasters/groundwater_head.tif",
    "imperviousness": "rasters/imperviousness.tif",
}


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return json.dumps(str(value), ensure_ascii=False)  # JSON string escapes are valid TOML


def area_toml(seed: int) -> str:
    """The ``area.toml`` text for a sample written with ``seed`` (paths relative to it)."""
    lines = [
        f"name = {_toml_value(AREA_NAME)}",
        f"crs = {_toml_value(CRS)}",
        "synthetic = true",
        f"seed = {int(seed)}",
        f"description = {_toml_value(DESCRIPTION)}",
        "",
        "[terrain]",
        f"path = {_toml_value(RASTERS['terrain'])}",
        "",
        "[groundwater]",
        'kind = "raster"',
        f"path = {_toml_value(RASTERS['groundwater'])}",
        "",
        "[imperviousness]",
        f"path = {_toml_value(RASTERS['imperviousness'])}",
    ]
    for key in LAYER_KEYS:
        lines += ["", f"[layers.{key}]", f"path = {_toml_value(f'layers/{key}.gpkg')}"]
        lines += [f"{k} = {_toml_value(v)}" for k, v in LAYER_FIELDS[key].items()]
    return "\n".join(lines) + "\n"


def write_area(area: SampleArea, directory: str | Path) -> Path:
    """Write an already generated :class:`SampleArea`; return the ``area.toml`` path."""
    root = Path(directory)
    root.mkdir(parents=True, exist_ok=True)
    write_cog(
        area.dem,
        root / RASTERS["terrain"],
        units="m DVR90",
        source=SOURCE,
        description="terrain (DTM), synthetic sample",
    )
    write_cog(
        area.groundwater_head,
        root / RASTERS["groundwater"],
        units="m DVR90",
        source=SOURCE,
        description="groundwater head, synthetic sample",
    )
    write_cog(
        area.imperviousness,
        root / RASTERS["imperviousness"],
        units="fraction",
        source=SOURCE,
        description="impervious fraction 0-1, synthetic sample",
    )
    for key in LAYER_KEYS:
        write_vector(area.layers[key], root / "layers" / f"{key}.gpkg", layer=key)
    toml_path = root / "area.toml"
    with atomic_path(toml_path) as tmp:
        tmp.write_text(area_toml(area.seed), encoding="utf-8")
    return toml_path


def write_sample(
    directory: str | Path,
    seed: int = DEFAULT_SEED,
    *,
    cell: float = 1.6,
    progress: Callable[[str], None] | None = None,
) -> Path:
    """Generate the synthetic sample area and write it to ``directory``.

    Parameters
    ----------
    directory : path-like
        Destination folder (created if needed; existing sample files are replaced).
    seed : int
        Generator seed (see :func:`generate_sample`).
    cell : float
        Raster cell size in metres.
    progress : callable, optional
        Called with a short message after each step.

    Returns
    -------
    Path
        The written ``area.toml``.
    """
    t0 = time.perf_counter()
    area = generate_sample(seed, cell=cell, progress=progress)
    path = write_area(area, directory)
    if progress is not None:
        progress(f"written to {Path(directory)} ({time.perf_counter() - t0:.1f} s)")
    return path
