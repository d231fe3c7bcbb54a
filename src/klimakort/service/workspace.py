"""A workspace: one area opened for serving, with its hazards computed once.

:class:`Workspace` is what the API keeps in memory for an area. It loads the hazards of
every scenario at start from the area's hazard store, computing and storing them the
first time (:func:`klimakort.hazards.store.load_or_compute_hazards`), then answers for
raster layers (``DataArray`` with CRS, transform and nodata) and vector collections
(``GeoDataFrame`` in the area CRS with a unique text ``fid``). Derived layers that take
time (the suitability run behind the candidate sites, the hillshade) are computed on
first use and kept.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any, Protocol

import geopandas as gpd
import numpy as np
import pandas as pd
import xarray as xr
from pyproj import CRS

from klimakort.config.area import AreaConfig, load_area
from klimakort.errors import DataNotFoundError
from klimakort.hazards.area import AreaHazards, HazardOptions, compute_hazards
from klimakort.hazards.store import HazardStore, load_or_compute_hazards
from klimakort.io.vector import read_vector
from klimakort.service.catalog import COLLECTIONS, RASTER_LAYERS, Collection, RasterLayer

Progress = Callable[[str], None]

#: the scenarios a workspace computes unless told otherwise
DEFAULT_SCENARIOS: tuple[str, ...] = ("present", "2050", "2100")
#: the measure whose candidate sites are served as ``candidate_sites``
CANDIDATE_MEASURE = "miyawaki_forest"
#: minimum spacing of the portfolio marked ``chosen`` among the candidate sites
CANDIDATE_SPACING_M = 250.0


def candidate_manifest(cfg: AreaConfig, hz: AreaHazards, scenario: str) -> dict[str, Any]:
    """What the served candidate sites depend on (their key in the hazard store).

    Every input of the area (the suitability reads most layers), the scenario's values,
    the hazard options, the built-in measure profiles and the portfolio spacing.
    """
    from importlib import resources

    from klimakort import __version__
    from klimakort.hazards.fingerprint import area_inputs, digest
    from klimakort.hazards.store import STORE_VERSION, scenario_json
    from klimakort.suitability.effect import EFFECT_VERSION

    profiles = resources.files("klimakort.suitability").joinpath("measures_default.toml")
    return {
        "kind": "candidate_sites",
        "store_version": STORE_VERSION,
        "klimakort": __version__,
        "measure": CANDIDATE_MEASURE,
        "min_spacing_m": CANDIDATE_SPACING_M,
        "scenario": scenario_json(hz.scenarios[scenario].scenario),
        "options": asdict(hz.options),
        "rainflow_params": asdict(hz.rainflow.params),
        "profiles_sha256": digest(profiles.read_text("utf-8")),
        "cloudburst_effect": EFFECT_VERSION,
        "inputs": area_inputs(cfg),
    }


class SiteStore(Protocol):
    """Where planned sites live (a GeoPackage or PostGIS); see :mod:`klimakort.sites`."""

    @property
    def revision(self) -> int:
        """A number that changes whenever the stored sites change."""
        ...

    def read(self) -> gpd.GeoDataFrame:
        """All stored sites in the area CRS."""
        ...


def _with_fid(gdf: gpd.GeoDataFrame, id_field: str | None) -> gpd.GeoDataFrame:
    """Add a text ``fid``: the id field when present and unique, else row numbers from 1."""
    out = gdf.reset_index(drop=True)
    if id_field and id_field in out.columns:
        ids = out[id_field].astype(str)
        if ids.is_unique and not out[id_field].isna().any():
            return out.assign(fid=ids.to_numpy())
    return out.assign(fid=[str(i) for i in range(1, len(out) + 1)])


class Workspace:
    """An area with its hazards, raster layers and vector collections.

    Parameters
    ----------
    cfg : AreaConfig
        The area.
    hz : AreaHazards
        Its hazards (every scenario the service offers).
    sites : SiteStore, optional
        Store of planned sites; the area's ``planned_sites`` layer is read when omitted.
    store : HazardStore, optional
        Where derived layers that take long (the candidate sites) are kept between runs.
    """

    def __init__(
        self,
        cfg: AreaConfig,
        hz: AreaHazards,
        sites: SiteStore | None = None,
        *,
        store: HazardStore | None = None,
    ) -> None:
        self.cfg = cfg
        self.hz = hz
        self.sites = sites
        self.store = store
        self._lock = threading.RLock()
        self._rasters: dict[tuple[str, str | None], xr.DataArray] = {}
        self._vectors: dict[str, gpd.GeoDataFrame] = {}
        self._suitability: dict[tuple[str, str], Any] = {}
        #: collections this area cannot offer, with the reason (e.g. candidate sites of an
        #: area without the layers the Miyawaki profile needs)
        self.unavailable: dict[str, str] = {}

    # ------------------------------------------------------------------ opening

    @classmethod
    def open(
        cls,
        area: AreaConfig | str | Path,
        scenarios: Sequence[str] = DEFAULT_SCENARIOS,
        *,
        options: HazardOptions | None = None,
        sites: SiteStore | None = None,
        progress: Progress | None = None,
        store: HazardStore | None = None,
        cache: bool = True,
        recompute: bool = False,
    ) -> Workspace:
        """Load an area and its hazards for ``scenarios`` (stored, or computed and stored).

        Parameters
        ----------
        area : AreaConfig or path
            The area or its ``area.toml``.
        scenarios : sequence of str
            Scenario names.
        options : HazardOptions, optional
            Return periods of the design events.
        sites : SiteStore, optional
            Store of planned sites.
        progress : callable, optional
            Step messages (computing hazards takes from seconds to minutes).
        store : HazardStore, optional
            Where computed hazards are kept (default: the area's, see
            :meth:`HazardStore.for_area`).
        cache : bool
            Use the hazard store; False computes the hazards without reading or writing it.
        recompute : bool
            Compute the hazards afresh and replace the stored ones.
        """
        cfg = area if isinstance(area, AreaConfig) else load_area(area)
        if not cache:
            hz = compute_hazards(cfg, tuple(scenarios), options=options, progress=progress)
            return cls(cfg, hz, sites=sites)
        store = store or HazardStore.for_area(cfg)
        hz = load_or_compute_hazards(
            cfg, tuple(scenarios), options, progress, store=store, recompute=recompute
        )
        return cls(cfg, hz, sites=sites, store=store)

    # ------------------------------------------------------------------ metadata

    @property
    def name(self) -> str:
        """Name of the area."""
        return self.cfg.name

    @property
    def crs(self) -> CRS:
        """CRS of the area (EPSG:25832 for Danish areas)."""
        return CRS.from_user_input(self.cfg.crs)

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """Bounds of the terrain (xmin, ymin, xmax, ymax) in the area CRS."""
        b = self.hz.terrain.rio.bounds()
        return (float(b[0]), float(b[1]), float(b[2]), float(b[3]))

    @property
    def scenarios(self) -> list[str]:
        """Scenario names, in the order computed."""
        return list(self.hz.scenarios)

    @property
    def default_scenario(self) -> str:
        """``2100`` when computed, else the last scenario."""
        return "2100" if "2100" in self.hz.scenarios else self.scenarios[-1]

    @property
    def raster_layers(self) -> dict[str, RasterLayer]:
        """Raster layers available for this area (groundwater only with a head)."""
        has_gw = any(sh.groundwater is not None for sh in self.hz.scenarios.values())
        return {k: v for k, v in RASTER_LAYERS.items() if has_gw or not k.startswith("groundwater")}

    @property
    def collections(self) -> dict[str, Collection]:
        """Vector collections available for this area."""
        derived = {"bluespots", "flowpaths", "flooded_areas", "candidate_sites"}
        return {
            k: v
            for k, v in COLLECTIONS.items()
            if (k in derived or k in self.cfg.layers or (k == "planned_sites" and self.sites))
            and k not in self.unavailable
        }

    # ------------------------------------------------------------------ rasters

    def raster_layer(self, layer: str) -> RasterLayer:
        """Catalogue entry of ``layer``; DataNotFoundError names the known ones."""
        known = self.raster_layers
        if layer not in known:
            raise DataNotFoundError(
                f"unknown raster layer {layer!r}; this area has: {', '.join(known)}"
            )
        return known[layer]

    def scenario(self, scenario: str | None) -> str:
        """Check a scenario name (None = the default scenario)."""
        if scenario is None or scenario == "":
            return self.default_scenario
        if scenario not in self.hz.scenarios:
            raise DataNotFoundError(
                f"unknown scenario {scenario!r}; this area has: {', '.join(self.scenarios)}"
            )
        return scenario

    def raster(self, layer: str, scenario: str | None = None) -> xr.DataArray:
        """A raster layer as a DataArray (NaN = nodata) in the area CRS.

        Parameters
        ----------
        layer : str
            Id of :attr:`raster_layers`.
        scenario : str, optional
            Scenario of scenario-dependent layers (default :attr:`default_scenario`);
            ignored by the others.

        Raises
        ------
        DataNotFoundError
            Unknown layer or scenario.
        """
        info = self.raster_layer(layer)
        sc = self.scenario(scenario) if info.scenario_dependent else None
        key = (layer, sc)
        with self._lock:
            if key not in self._rasters:
                da = self._make_raster(layer, sc)
                da.attrs.update(layer=layer, units=info.units)
                if sc is not None:
                    da.attrs["scenario"] = sc
                self._rasters[key] = da
            return self._rasters[key]

    def _make_raster(self, layer: str, sc: str | None) -> xr.DataArray:
        hz, rf = self.hz, self.hz.rainflow
        if layer == "terrain":
            return hz.terrain
        if layer == "hillshade":
            from klimakort.maps.hillshade import hillshade

            dx, dy = (abs(v) for v in hz.terrain.rio.resolution())
            shade = hillshade(hz.terrain.values, dx, dy) * 255.0
            return hz.terrain.copy(data=shade.astype(np.float32))
        if layer == "accumulation":
            return rf.accumulation
        if layer == "bluespot_depth":
            depth = (rf.filled - rf.terrain).astype(np.float32)
            return depth.rio.write_nodata(np.nan, encoded=False)
        sh = hz.scenarios[str(sc)]
        if layer == "cloudburst_depth":
            return sh.cloudburst.flood_depth
        if layer == "sea_depth":
            return sh.sea.depth
        if layer == "sea_at_risk":
            return sh.sea.at_risk
        gw = sh.groundwater
        if gw is None:  # pragma: no cover - filtered by raster_layers
            raise DataNotFoundError(f"the area has no groundwater head for {layer!r}")
        return gw.depth if layer == "groundwater_depth" else gw.classes

    def point_values(self, x: float, y: float, scenario: str | None = None) -> dict[str, Any]:
        """Every raster layer's value at a point in the area CRS (None = nodata/outside)."""
        sc = self.scenario(scenario)
        out: dict[str, Any] = {}
        for layer in self.raster_layers:
            if layer == "hillshade":
                continue
            da = self.raster(layer, sc)
            inv = ~da.rio.transform()
            col, row = inv * (x, y)
            r, c = int(np.floor(row)), int(np.floor(col))
            inside = 0 <= r < da.shape[-2] and 0 <= c < da.shape[-1]
            v = float(da.values[..., r, c].ravel()[0]) if inside else float("nan")
            nodata = da.rio.nodata
            if nodata is not None and np.isfinite(nodata) and v == float(nodata):
                v = float("nan")
            out[layer] = v if np.isfinite(v) else None
        return out

    # ------------------------------------------------------------------ vectors

    def collection(self, cid: str) -> Collection:
        """Catalogue entry of ``cid``; DataNotFoundError names the known ones."""
        known = self.collections
        if cid not in known:
            raise DataNotFoundError(
                f"unknown collection {cid!r}; this area has: {', '.join(known)}"
            )
        return known[cid]

    def revision(self, cid: str) -> int:
        """A number that changes when the features of ``cid`` change (for ETags)."""
        if cid == "planned_sites" and self.sites is not None:
            return int(self.sites.revision)
        return 0

    def stored_sites(self) -> gpd.GeoDataFrame | None:
        """The planned sites of the site store (None without one: reports read the area)."""
        return self.sites.read() if self.sites is not None else None

    def features(self, cid: str) -> gpd.GeoDataFrame:
        """The features of a collection in the area CRS, with a unique text ``fid``.

        Raises
        ------
        DataNotFoundError
            Unknown collection.
        """
        info = self.collection(cid)
        if cid == "planned_sites" and self.sites is not None:
            return _with_fid(self.sites.read(), info.id_field)
        with self._lock:
            if cid not in self._vectors:
                self._vectors[cid] = _with_fid(self._make_vector(cid), info.id_field)
            return self._vectors[cid]

    def _make_vector(self, cid: str) -> gpd.GeoDataFrame:
        rf = self.hz.rainflow
        if cid == "bluespots":
            return rf.bluespot_table
        if cid == "flowpaths":
            return rf.flowpaths
        if cid == "flooded_areas":
            parts = [
                sh.cloudburst.flooded_areas.assign(scenario=name)
                for name, sh in self.hz.scenarios.items()
            ]
            return gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs=self.crs)
        if cid == "candidate_sites":
            return self._candidate_sites()
        ref = self.cfg.layers[cid]
        if cid == "parcels":
            from klimakort.constraints.loaders import load_parcels

            return load_parcels(ref.path, self.cfg.crs, layer=ref.layer)
        return read_vector(ref.path, crs=self.cfg.crs, layer=ref.layer)

    def _candidate_sites(self) -> gpd.GeoDataFrame:
        """Candidate sites of :data:`CANDIDATE_MEASURE`: stored, or computed and stored."""
        sc = self.default_scenario
        manifest = None
        if self.store is not None and (CANDIDATE_MEASURE, sc) not in self._suitability:
            manifest = candidate_manifest(self.cfg, self.hz, sc)
            stored = self.store.load_table("candidate_sites", manifest)
            if stored is not None:
                return stored
        run = self.suitability(CANDIDATE_MEASURE, sc)
        chosen = {str(v) for v in run.portfolio.chosen_ids}
        cands = run.candidates
        out = cands.assign(chosen=cands["site_id"].astype(str).isin(chosen).to_numpy())
        if self.store is not None and manifest is not None:
            with contextlib.suppress(OSError):  # a read-only area: computed again next time
                self.store.save_table("candidate_sites", manifest, out)
        return out

    # ------------------------------------------------------------------ suitability

    def remember_suitability(self, run: Any, scenario: str) -> None:
        """Keep a suitability run computed elsewhere (e.g. by the demo) as the cached one."""
        with self._lock:
            self._suitability[(run.result.measure, self.scenario(scenario))] = run
            if run.result.measure == CANDIDATE_MEASURE:
                self._vectors.pop("candidate_sites", None)

    def suitability(self, measure: str, scenario: str | None = None, **kwargs: Any) -> Any:
        """The suitability run of ``measure`` (cached when run with default arguments).

        Returns
        -------
        klimakort.suitability.workflow.SuitabilityRun
        """
        from klimakort.suitability.workflow import run_suitability

        sc = self.scenario(scenario)
        if kwargs:
            return run_suitability(self.cfg, self.hz, measure, sc, **kwargs)
        with self._lock:
            key = (measure, sc)
            if key not in self._suitability:
                self._suitability[key] = run_suitability(
                    self.cfg, self.hz, measure, sc, min_spacing_m=CANDIDATE_SPACING_M
                )
            return self._suitability[key]
