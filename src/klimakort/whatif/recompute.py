"""The hazards of an edited terrain: the what-if run.

:func:`run_whatif` applies a scenario edit to the area's raw terrain and buildings
(:mod:`klimakort.whatif.apply`) and recomputes rain-flow, cloudburst, sea level and
groundwater for one climate scenario:

* ``method="full"`` runs exactly the area pipeline of the base run
  (:func:`klimakort.hazards.area.compute_hazards`) on a copy of the area whose terrain and
  buildings are the edited ones, so the what-if can never drift from the base method;
* ``method="auto"`` (the default) or ``"local"`` recomputes the rain-flow analysis only
  where the edit can change it (:mod:`klimakort.whatif.local`), verifies the seam, and
  falls back to the full run when the check fails or the affected region is most of the
  area; the local result equals the full one (tested).
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import geopandas as gpd
import numpy as np
import rasterio
import xarray as xr

from klimakort.config.area import AreaConfig
from klimakort.hazards.area import AreaHazards, compute_hazards
from klimakort.io.raster import read_raster
from klimakort.io.vector import read_vector
from klimakort.whatif.apply import AppliedEdits, apply_edits
from klimakort.whatif.edits import ScenarioEdit

Progress = Callable[[str], None]
Method = Literal["full", "local", "auto"]


@dataclass
class WhatIfRun:
    """A scenario edit evaluated against the base run.

    Attributes
    ----------
    edit : ScenarioEdit
        What was drawn.
    scenario : str
        Climate scenario evaluated.
    applied : AppliedEdits
        Edited terrain, buildings left, footprint and per-edit summary.
    base, edited : AreaHazards
        Hazards before (the base run) and after the edits (``edited`` holds ``scenario``).
    method : str
        ``"full"`` or ``"local"`` (what was actually run).
    notes : dict
        How the run went (affected cells, fallback reason, seconds).
    """

    edit: ScenarioEdit
    scenario: str
    applied: AppliedEdits
    base: AreaHazards
    edited: AreaHazards
    method: str
    notes: dict[str, object] = field(default_factory=dict)


def area_buildings(cfg: AreaConfig) -> gpd.GeoDataFrame | None:
    """The area's building footprints indexed by their id (row numbers without an id)."""
    ref = cfg.layers.get("buildings")
    if ref is None:
        return None
    gdf = read_vector(ref.path, crs=cfg.crs, layer=ref.layer)
    if ref.id_field and ref.id_field in gdf.columns and gdf[ref.id_field].is_unique:
        gdf = gdf.set_index(gdf[ref.id_field].astype(str))
    return gdf


def raw_terrain(cfg: AreaConfig) -> xr.DataArray:
    """The area's terrain model as read by the base run (before burning)."""
    return read_raster(cfg.terrain.path, expected_crs=cfg.crs)


def _write_tif(da: xr.DataArray, path: Path) -> None:
    values = np.asarray(da.values)
    profile = {
        "driver": "GTiff",
        "height": values.shape[0],
        "width": values.shape[1],
        "count": 1,
        "dtype": values.dtype.name,
        "crs": da.rio.crs,
        "transform": da.rio.transform(),
        "nodata": np.nan,
    }
    with rasterio.Env(), rasterio.open(path, "w", **profile) as dst:
        dst.write(values, 1)


def edited_area(cfg: AreaConfig, applied: AppliedEdits, folder: Path) -> AreaConfig:
    """A copy of ``cfg`` whose terrain (and buildings, if any were removed) are the edited
    ones, written into ``folder``."""
    tif = folder / "terrain_edited.tif"
    _write_tif(applied.terrain, tif)
    update: dict[str, object] = {"terrain": cfg.terrain.model_copy(update={"path": tif})}
    ref = cfg.layers.get("buildings")
    if ref is not None and applied.removed_buildings and applied.buildings is not None:
        gpkg = folder / "buildings_edited.gpkg"
        applied.buildings.reset_index(drop=True).to_file(gpkg, layer="buildings", driver="GPKG")
        layers = dict(cfg.layers)
        layers["buildings"] = ref.model_copy(update={"path": gpkg, "layer": "buildings"})
        update["layers"] = layers
    return cfg.model_copy(update=update)


def full_recompute(
    cfg: AreaConfig,
    applied: AppliedEdits,
    scenario: str,
    base: AreaHazards,
    progress: Progress | None = None,
) -> AreaHazards:
    """The hazards of ``scenario`` on the edited area, by the base run's own pipeline."""
    with tempfile.TemporaryDirectory(prefix="klimakort-whatif-") as tmp:
        edited_cfg = edited_area(cfg, applied, Path(tmp))
        hz = compute_hazards(edited_cfg, (scenario,), options=base.options, progress=progress)
    hz.area = cfg
    return hz


def run_whatif(
    cfg: AreaConfig,
    base: AreaHazards,
    edit: ScenarioEdit,
    *,
    scenario: str | None = None,
    method: Method = "auto",
    progress: Progress | None = None,
) -> WhatIfRun:
    """Evaluate a scenario edit.

    Parameters
    ----------
    cfg : AreaConfig
        The area (its raw terrain and buildings are read again).
    base : AreaHazards
        The base run (it must hold the scenario).
    edit : ScenarioEdit
        Checked edits (:func:`klimakort.whatif.edits.check_scenario_edit`).
    scenario : str, optional
        Climate scenario (default: the edit's, else ``2100`` or the base's last).
    method : {"full", "local", "auto"}
        The local recompute with fallback to the full pipeline (``"auto"``, the default,
        and ``"local"`` are the same; see :mod:`klimakort.whatif.local`), or always the
        full pipeline.
    progress : callable, optional
        Step messages.

    Returns
    -------
    WhatIfRun
    """
    from klimakort.errors import DataNotFoundError

    say = progress or (lambda _m: None)
    names = list(base.scenarios)
    sc = scenario or edit.scenario or ("2100" if "2100" in names else names[-1])
    if sc not in base.scenarios:
        raise DataNotFoundError(f"unknown scenario {sc!r}; the base run has {', '.join(names)}")
    t0 = time.perf_counter()
    say("applying the edits to the terrain")
    applied = apply_edits(raw_terrain(cfg), edit.edits, area_buildings(cfg))
    notes: dict[str, object] = {"edited_cells": int(applied.footprint.sum())}
    edited: AreaHazards | None = None
    used = "full"
    if method in ("local", "auto"):
        from klimakort.whatif.local import local_recompute

        edited, local_notes = local_recompute(cfg, applied, sc, base, progress=say)
        notes.update(local_notes)
        used = "local" if edited is not None else "full"
    if edited is None:
        say("recomputing every hazard on the edited terrain (full run)")
        edited = full_recompute(cfg, applied, sc, base, progress=say)
    notes["seconds"] = round(time.perf_counter() - t0, 3)
    return WhatIfRun(edit, sc, applied, base, edited, used, notes)
