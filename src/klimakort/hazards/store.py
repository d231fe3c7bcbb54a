"""Computed hazards kept on disk and reused until an input changes.

Computing an area's rain-flow analysis and hazards takes from seconds to minutes;
:func:`load_or_compute_hazards` does it once and keeps the result in a
:class:`HazardStore` (by default ``AREA_DIR/.klimakort/hazards/``). The next
``klimakort report``, ``suitability``, ``hazards`` or ``serve`` loads it in well under a
second.

Layout (one folder per input key, one per scenario key)::

    ROOT/rainflow-<key>/             terrain + rain-flow analysis (shared by scenarios)
        manifest.json                what it was computed from (see below), when, its key
        arrays.json, *.npy           rasters: values and their CRS/transform/attributes
        *.parquet                    tables (GeoParquet)
        scenarios/<name>-<key>/      one scenario's hazards: cloudburst, sea, groundwater
            manifest.json, result.json, *.npy, *.parquet

The rain-flow key is the SHA-256 of a manifest holding the fingerprint of every input
file the hazards read (:func:`klimakort.hazards.fingerprint.hazard_inputs`), the
:class:`~klimakort.hydro.rainflow.RainflowParams`, the burn-in settings, klimakort's
version and :data:`STORE_VERSION`. A scenario's key adds the scenario's resolved values
(defaults with the area's overrides, sources included) and the
:class:`~klimakort.hazards.area.HazardOptions`, so adding a scenario reuses the
rain-flow analysis. Each ``manifest.json`` is that manifest plus its key and the time
it was computed: a user can see what a result came from.

Rasters are stored as ``.npy`` files and memory-mapped (copy-on-write) on loading, so
opening is instant and only the cells a caller touches are read; values, coordinates,
attributes, CRS, transform and nodata round-trip exactly. Tables are GeoParquet
(pyarrow), which keeps dtypes, index and CRS. Every folder is written into a temporary
folder beside it and renamed into place when complete; a folder without a complete
manifest is never read.
"""

from __future__ import annotations

import contextlib
import filecmp
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import xarray as xr

import klimakort
from klimakort.config.area import AreaConfig
from klimakort.hazards.area import (
    AreaHazards,
    HazardOptions,
    ScenarioHazards,
    compute_hazards,
    compute_scenarios,
    resolve_scenarios,
)
from klimakort.hazards.cloudburst import CloudburstResult
from klimakort.hazards.fingerprint import describe_changes, digest, hazard_inputs
from klimakort.hazards.groundwater import GroundwaterResult
from klimakort.hazards.scenarios import Scenario, SourcedValue
from klimakort.hazards.sealevel import SeaLevelResult
from klimakort.hydro.area import burn_layers_of
from klimakort.hydro.rainflow import Rainflow, RainflowParams

__all__ = [
    "STORE_VERSION",
    "HazardStore",
    "default_store_root",
    "load_or_compute_hazards",
    "scenario_json",
]

#: bump when an algorithm changes what the stored products hold
STORE_VERSION = 1

#: folder of the store inside an area's folder
STORE_DIRNAME = Path(".klimakort") / "hazards"

#: rain-flow folders kept per store; older ones are removed after a new one is written
KEEP = 3

Progress = Callable[[str], None]

_RAINFLOW_RASTERS = ("terrain", "filled", "flowdir", "accumulation", "bluespots", "watersheds")
_RAINFLOW_TABLES = ("bluespot_table", "watershed_polygons", "network", "flowpaths")


# ----------------------------------------------------------------------------- codecs


def _enc(value: Any) -> Any:
    """A JSON-able form of an attribute value that :func:`_dec` turns back exactly."""
    if isinstance(value, bool | str | int | float) or value is None:
        return value
    if isinstance(value, np.generic):
        return {"__np__": value.dtype.str, "v": value.item()}
    if isinstance(value, np.ndarray):
        return {"__nd__": value.dtype.str, "v": value.tolist()}
    if isinstance(value, tuple):
        return {"__tuple__": [_enc(v) for v in value]}
    if isinstance(value, list):
        return [_enc(v) for v in value]
    if isinstance(value, Mapping):
        return {"__map__": [[_enc(k), _enc(v)] for k, v in value.items()]}
    raise TypeError(f"cannot store attribute value {value!r} ({type(value).__name__})")


def _dec(value: Any) -> Any:
    if isinstance(value, list):
        return [_dec(v) for v in value]
    if not isinstance(value, dict):
        return value
    if "__np__" in value:
        return np.array(value["v"], dtype=np.dtype(value["__np__"]))[()]
    if "__nd__" in value:
        return np.array(value["v"], dtype=np.dtype(value["__nd__"]))
    if "__tuple__" in value:
        return tuple(_dec(v) for v in value["__tuple__"])
    return {_dec(k): _dec(v) for k, v in value["__map__"]}


def _attrs(attrs: Mapping[Any, Any]) -> Any:
    return _enc(dict(attrs))


def _save_array(folder: Path, name: str, values: np.ndarray) -> str:
    fname = f"{name}.npy"
    np.save(folder / fname, np.ascontiguousarray(values), allow_pickle=False)
    return fname


def _load_array(folder: Path, fname: str, *, mmap: bool) -> np.ndarray:
    arr = np.load(folder / fname, mmap_mode="c" if mmap else None, allow_pickle=False)
    # a plain ndarray over the copy-on-write mapping (numba and xarray see no subclass)
    return arr.view(np.ndarray) if isinstance(arr, np.memmap) else arr


def _save_dataarray(folder: Path, key: str, da: xr.DataArray) -> dict[str, Any]:
    coords: dict[str, Any] = {}
    for cname, coord in da.coords.items():
        entry: dict[str, Any] = {"dims": list(coord.dims), "attrs": _attrs(coord.attrs)}
        if coord.ndim == 0:
            entry["value"] = _enc(coord.values[()])
        else:
            entry["file"] = _save_array(folder, f"{key}.{cname}", np.asarray(coord.values))
        coords[str(cname)] = entry
    return {
        "name": da.name,
        "dims": list(da.dims),
        "file": _save_array(folder, key, np.asarray(da.values)),
        "attrs": _attrs(da.attrs),
        "encoding": _attrs({k: v for k, v in da.encoding.items() if _jsonable(v)}),
        "coords": coords,
    }


def _jsonable(value: Any) -> bool:
    try:
        _enc(value)
    except TypeError:
        return False
    return True


def _load_dataarray(folder: Path, meta: Mapping[str, Any]) -> xr.DataArray:
    coords: dict[str, Any] = {}
    for cname, entry in meta["coords"].items():
        if "file" in entry:
            values: Any = _load_array(folder, entry["file"], mmap=False)
        else:
            values = np.array(_dec(entry["value"]))
        coords[cname] = xr.Variable(tuple(entry["dims"]), values, attrs=_dec(entry["attrs"]))
    da = xr.DataArray(
        _load_array(folder, meta["file"], mmap=True),
        dims=tuple(meta["dims"]),
        coords=coords,
        name=meta["name"],
        attrs=_dec(meta["attrs"]),
    )
    da.encoding.update(_dec(meta["encoding"]))
    return da


def _save_table(folder: Path, key: str, gdf: gpd.GeoDataFrame) -> str:
    fname = f"{key}.parquet"
    if len(gdf.columns):
        gdf.to_parquet(folder / fname)
    else:  # the placeholder GeoDataFrame() of a result without this table
        (folder / fname).touch()
    return fname


def _load_table(folder: Path, fname: str) -> gpd.GeoDataFrame:
    path = folder / fname
    if path.stat().st_size == 0:
        return gpd.GeoDataFrame()
    return gpd.read_parquet(path)


def _write_json(path: Path, doc: Any) -> None:
    path.write_text(json.dumps(doc, indent=1, ensure_ascii=False, sort_keys=False), "utf-8")


def _read_json(path: Path) -> Any:
    return json.loads(path.read_text("utf-8"))


# ----------------------------------------------------------------------------- manifests


def _sourced(v: SourcedValue) -> dict[str, Any]:
    return {"value": v.value, "unit": v.unit, "source": v.source}


def scenario_json(sc: Scenario) -> dict[str, Any]:
    """Every value of a resolved scenario (with unit and source) as JSON."""
    tables = {
        key: {str(k): _sourced(v) for k, v in getattr(sc, key).items()}
        for key in ("storm_surge_m", "rain_depth_mm", "climate_factor")
    }
    return {
        "name": sc.name,
        "period": sc.period,
        "coast": sc.coast,
        "coast_name": sc.coast_name,
        "sea_level_rise_m": _sourced(sc.sea_level_rise_m),
        "groundwater_rise_m": _sourced(sc.groundwater_rise_m),
        **tables,
        "notes": list(sc.notes),
    }


def rainflow_manifest(cfg: AreaConfig, params: RainflowParams) -> dict[str, Any]:
    """What the rain-flow products of ``cfg`` depend on (hashed into their key)."""
    burn = burn_layers_of(cfg)
    return {
        "kind": "rainflow",
        "store_version": STORE_VERSION,
        "klimakort": klimakort.__version__,
        "area": cfg.name,
        "inputs": hazard_inputs(cfg),
        "rainflow_params": asdict(params),
        "burn": {"crest_field": burn.crest_field, "building_raise_m": burn.building_raise_m},
    }


def scenario_manifest(rainflow_key: str, sc: Scenario, options: HazardOptions) -> dict[str, Any]:
    """What one scenario's hazards depend on besides the rain-flow inputs."""
    return {
        "kind": "scenario",
        "store_version": STORE_VERSION,
        "rainflow_key": rainflow_key,
        "scenario": scenario_json(sc),
        "options": asdict(options),
    }


def _created(doc: Mapping[str, Any]) -> str:
    return str(doc.get("created", "?"))


# ----------------------------------------------------------------------------- store


def default_store_root(cfg: AreaConfig) -> Path:
    """``AREA_DIR/.klimakort/hazards`` of an area."""
    return cfg.base_dir / STORE_DIRNAME


class HazardStore:
    """Hazards of one area on disk, keyed by their inputs (see the module docstring).

    Parameters
    ----------
    root : path-like
        Folder of the store (created on the first write).
    """

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    @classmethod
    def for_area(cls, cfg: AreaConfig, root: str | os.PathLike[str] | None = None) -> HazardStore:
        """The store of an area: ``root`` or :func:`default_store_root`."""
        return cls(root if root is not None else default_store_root(cfg))

    def __repr__(self) -> str:
        return f"HazardStore({str(self.root)!r})"

    # -------------------------------------------------------------- folders

    def rainflow_dir(self, key: str) -> Path:
        """Folder of the rain-flow products with ``key``."""
        return self.root / f"rainflow-{key[:16]}"

    def scenario_dir(self, rainflow_key: str, name: str, key: str) -> Path:
        """Folder of a scenario's hazards."""
        return self.rainflow_dir(rainflow_key) / "scenarios" / f"{name}-{key[:16]}"

    @staticmethod
    def manifest(folder: Path, key: str) -> dict[str, Any] | None:
        """The manifest of a complete folder with ``key``; None when absent or other."""
        path = folder / "manifest.json"
        try:
            doc = _read_json(path)
        except (FileNotFoundError, NotADirectoryError, json.JSONDecodeError):
            return None
        return doc if isinstance(doc, dict) and doc.get("key") == key else None

    def latest_rainflow_manifest(self) -> dict[str, Any] | None:
        """The most recently computed rain-flow manifest in the store, if any."""
        docs = []
        for folder in self.root.glob("rainflow-*"):
            with contextlib.suppress(OSError, json.JSONDecodeError):
                doc = _read_json(folder / "manifest.json")
                if isinstance(doc, dict):
                    docs.append(doc)
        return max(docs, key=_created) if docs else None

    def _atomic_dir(self, dest: Path, write: Callable[[Path], None]) -> Path:
        """Write a folder through ``write(tmp)`` and rename it to ``dest`` when complete."""
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.tmp-", dir=dest.parent))
        try:
            write(tmp)
            if dest.exists():  # another process got there first (same key, same content)
                shutil.rmtree(dest, ignore_errors=True)
            os.rename(tmp, dest)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return dest

    # -------------------------------------------------------------- writing

    def save_rainflow(
        self, manifest: Mapping[str, Any], terrain: xr.DataArray, rf: Rainflow
    ) -> Path:
        """Store the terrain and the rain-flow analysis under ``manifest``'s key."""
        key = digest(manifest)

        def write(d: Path) -> None:
            arrays = {"area_terrain": _save_dataarray(d, "area_terrain", terrain)}
            for name in _RAINFLOW_RASTERS:
                arrays[name] = _save_dataarray(d, name, getattr(rf, name))
            _write_json(d / "arrays.json", arrays)
            tables = {name: _save_table(d, name, getattr(rf, name)) for name in _RAINFLOW_TABLES}
            _write_json(d / "result.json", {"tables": tables, "notes": _enc(dict(rf.notes))})
            _write_json(d / "manifest.json", {**manifest, "key": key, "created": _now()})

        return self._atomic_dir(self.rainflow_dir(key), write)

    def save_scenario(self, manifest: Mapping[str, Any], sh: ScenarioHazards) -> Path:
        """Store one scenario's hazards under ``manifest``'s key."""
        key = digest(manifest)
        dest = self.scenario_dir(str(manifest["rainflow_key"]), sh.scenario.name, key)

        def write(d: Path) -> None:
            cb, sea, gw = sh.cloudburst, sh.sea, sh.groundwater
            arrays = {
                "flood_depth": _save_dataarray(d, "flood_depth", cb.flood_depth),
                "sea_min_flood_level": _save_dataarray(d, "sea_mfl", sea.min_flood_level),
                "sea_depth": _save_dataarray(d, "sea_depth", sea.depth),
                "sea_at_risk": _save_dataarray(d, "sea_at_risk", sea.at_risk),
            }
            if gw is not None:
                arrays["gw_head"] = _save_dataarray(d, "gw_head", gw.head)
                arrays["gw_depth"] = _save_dataarray(d, "gw_depth", gw.depth)
                arrays["gw_classes"] = _save_dataarray(d, "gw_classes", gw.classes)
                _save_array(d, "gw_outside_hull", gw.outside_hull)
            _write_json(d / "arrays.json", arrays)
            for name in ("state", "flooded_areas", "spill_paths"):
                _save_table(d, f"cb_{name}", getattr(cb, name))
            _save_table(d, "sea_critical_points", sea.critical_points)
            result = {
                "rain_mm": sh.rain_mm,
                "sea_level_m": sh.sea_level_m,
                "sea_level": sea.level,
                "groundwater": gw is not None,
                "cloudburst": {
                    "mass_balance": cb.mass_balance,
                    "rain_mm": cb.rain_mm,
                    "sewer_mm": cb.sewer_mm,
                    "runoff": cb.runoff,
                    "scenario": cb.scenario,
                    "source": cb.source,
                    "depth_classes": list(cb.depth_classes),
                },
            }
            _write_json(d / "result.json", result)
            _share_identical(d, dest.parent, ("sea_mfl.npy", "gw_head.npy"))
            _write_json(d / "manifest.json", {**manifest, "key": key, "created": _now()})

        return self._atomic_dir(dest, write)

    def derived_dir(self, kind: str, key: str) -> Path:
        """Folder of a derived table (e.g. ``candidate_sites``) with ``key``."""
        return self.root / "derived" / f"{kind}-{key[:16]}"

    def save_table(self, kind: str, manifest: Mapping[str, Any], table: gpd.GeoDataFrame) -> Path:
        """Store a table derived from the hazards (and other inputs) under ``manifest``'s key."""
        key = digest(manifest)

        def write(d: Path) -> None:
            _save_table(d, "table", table)
            _write_json(d / "manifest.json", {**manifest, "key": key, "created": _now()})

        dest = self._atomic_dir(self.derived_dir(kind, key), write)
        with contextlib.suppress(OSError):
            self.prune(pattern=f"derived/{kind}-*")
        return dest

    def load_table(self, kind: str, manifest: Mapping[str, Any]) -> gpd.GeoDataFrame | None:
        """The stored table of ``kind`` for ``manifest``; None when not stored."""
        key = digest(manifest)
        folder = self.derived_dir(kind, key)
        if self.manifest(folder, key) is None:
            return None
        return _load_table(folder, "table.parquet")

    def prune(self, keep: int = KEEP, pattern: str = "rainflow-*") -> list[Path]:
        """Remove all but the ``keep`` most recently computed folders matching ``pattern``."""
        folders = []
        for folder in self.root.glob(pattern):
            doc = None
            with contextlib.suppress(OSError, json.JSONDecodeError):
                doc = _read_json(folder / "manifest.json")
            folders.append((_created(doc) if isinstance(doc, dict) else "", folder))
        folders.sort(reverse=True)
        removed = []
        for _created_at, folder in folders[keep:]:
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
        return removed

    # -------------------------------------------------------------- reading

    def load_rainflow(self, key: str, params: RainflowParams) -> tuple[xr.DataArray, Rainflow]:
        """The stored terrain and rain-flow analysis with ``key``."""
        d = self.rainflow_dir(key)
        arrays = _read_json(d / "arrays.json")
        result = _read_json(d / "result.json")
        da = {name: _load_dataarray(d, meta) for name, meta in arrays.items()}
        tables = {name: _load_table(d, f) for name, f in result["tables"].items()}
        rf = Rainflow(
            terrain=da["terrain"],
            filled=da["filled"],
            flowdir=da["flowdir"],
            accumulation=da["accumulation"],
            bluespots=da["bluespots"],
            watersheds=da["watersheds"],
            bluespot_table=tables["bluespot_table"],
            watershed_polygons=tables["watershed_polygons"],
            network=tables["network"],
            flowpaths=tables["flowpaths"],
            params=params,
            notes=_dec(result["notes"]),
        )
        return da["area_terrain"], rf

    def load_scenario(self, folder: Path, sc: Scenario) -> ScenarioHazards:
        """One stored scenario's hazards (``sc`` is its resolved scenario)."""
        arrays = _read_json(folder / "arrays.json")
        res = _read_json(folder / "result.json")
        da = {name: _load_dataarray(folder, meta) for name, meta in arrays.items()}
        cbj = res["cloudburst"]
        cb = CloudburstResult(
            flood_depth=da["flood_depth"],
            state=_load_table(folder, "cb_state.parquet"),
            flooded_areas=_load_table(folder, "cb_flooded_areas.parquet"),
            spill_paths=_load_table(folder, "cb_spill_paths.parquet"),
            mass_balance=dict(cbj["mass_balance"]),
            rain_mm=cbj["rain_mm"],
            sewer_mm=cbj["sewer_mm"],
            runoff=cbj["runoff"],
            scenario=cbj["scenario"],
            source=cbj["source"],
            depth_classes=tuple(cbj["depth_classes"]),
        )
        sea = SeaLevelResult(
            level=res["sea_level"],
            min_flood_level=da["sea_min_flood_level"],
            depth=da["sea_depth"],
            at_risk=da["sea_at_risk"],
            critical_points=_load_table(folder, "sea_critical_points.parquet"),
        )
        gw = None
        if res["groundwater"]:
            gw = GroundwaterResult(
                head=da["gw_head"],
                depth=da["gw_depth"],
                classes=da["gw_classes"],
                outside_hull=_load_array(folder, "gw_outside_hull.npy", mmap=True),
            )
        return ScenarioHazards(sc, res["rain_mm"], res["sea_level_m"], cb, sea, gw)


def _share_identical(folder: Path, siblings: Path, names: Sequence[str]) -> None:
    """Hard-link files equal to a sibling scenario's (the minimum flooding level and the
    groundwater head are the same in every scenario): one copy on disk and in the cache."""
    for name in names:
        mine = folder / name
        if not mine.is_file():
            continue
        for other in siblings.glob(f"*/{name}"):
            if other.parent == folder or other.stat().st_size != mine.stat().st_size:
                continue
            if filecmp.cmp(mine, other, shallow=False):
                link = mine.with_name(f".{name}.link")
                try:
                    os.link(other, link)
                    os.replace(link, mine)
                except OSError:  # no hard links on this file system: keep the copy
                    with contextlib.suppress(OSError):
                        link.unlink()
                break


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


# ----------------------------------------------------------------------------- entry point


def _why_rainflow(store: HazardStore, manifest: Mapping[str, Any]) -> str:
    old = store.latest_rainflow_manifest()
    if old is None:
        return f"no stored hazards in {store.root}"
    reasons = describe_changes(old, manifest)
    return ", ".join(reasons) if reasons else "the stored hazards are of other inputs"


def _why_scenario(folder: Path, name: str, manifest: Mapping[str, Any]) -> str:
    others = []
    for d in (folder / "scenarios").glob(f"{name}-*"):
        with contextlib.suppress(OSError, json.JSONDecodeError):
            others.append(_read_json(d / "manifest.json"))
    if not others:
        return f"scenario {name} not stored yet"
    old = max(others, key=_created)
    if old.get("options") != manifest["options"]:
        return f"scenario {name}: return periods or sewer capacity changed"
    return f"scenario {name}: its values changed"


def _try_save(say: Progress, what: str, save: Callable[[], Path]) -> None:
    try:
        save()
    except OSError as exc:  # a read-only area folder must not stop the analysis
        say(f"{what} not stored ({exc.strerror or exc}); they will be computed again next time")


def _save_scenarios(
    store: HazardStore,
    say: Progress,
    computed: Mapping[str, ScenarioHazards],
    manifests: Mapping[str, Mapping[str, Any]],
) -> None:
    for name, sh in computed.items():
        _try_save(say, f"{name} hazards", partial(store.save_scenario, manifests[name], sh))


def load_or_compute_hazards(
    cfg: AreaConfig,
    scenarios: Sequence[str] = ("present", "2050", "2100"),
    options: HazardOptions | None = None,
    progress: Progress | None = None,
    *,
    store: HazardStore | None = None,
    recompute: bool = False,
) -> AreaHazards:
    """The hazards of ``cfg`` for ``scenarios``: loaded from ``store``, else computed and stored.

    Parameters
    ----------
    cfg : AreaConfig
        The area.
    scenarios : sequence of str
        Scenario names (area overrides applied).
    options : HazardOptions, optional
        Return periods and sewer capacity.
    progress : callable, optional
        Step messages; says whether the hazards were reused (and from when) or why they
        are computed.
    store : HazardStore, optional
        Where the hazards are kept (default :meth:`HazardStore.for_area`).
    recompute : bool
        Compute afresh even when stored hazards fit, and replace them.

    Returns
    -------
    AreaHazards
        Equal, array for array and table for table, to :func:`compute_hazards`.
    """
    options = options or HazardOptions()
    say = progress or (lambda _m: None)
    store = store or HazardStore.for_area(cfg)
    params = RainflowParams()
    loaded = resolve_scenarios(cfg, scenarios)
    say("checking the stored hazards (input fingerprints)")
    rf_manifest = rainflow_manifest(cfg, params)
    rf_key = digest(rf_manifest)
    sc_manifests = {sc.name: scenario_manifest(rf_key, sc, options) for sc in loaded}
    rf_doc = None if recompute else store.manifest(store.rainflow_dir(rf_key), rf_key)
    why = "--recompute" if recompute else ""
    if rf_doc is not None:
        try:
            return _load(store, cfg, options, params, loaded, rf_doc, sc_manifests, say)
        except (OSError, ValueError, KeyError) as exc:  # damaged by hand, disk errors
            why = f"the stored hazards in {store.rainflow_dir(rf_key)} are unreadable ({exc})"
    say(f"computing hazards: {why or _why_rainflow(store, rf_manifest)}")
    hz = compute_hazards(cfg, scenarios, options, progress=say)
    say("storing the hazards for reuse")
    _try_save(say, "hazards", lambda: store.save_rainflow(rf_manifest, hz.terrain, hz.rainflow))
    _save_scenarios(store, say, hz.scenarios, sc_manifests)
    with contextlib.suppress(OSError):
        store.prune()
    return hz


def _load(
    store: HazardStore,
    cfg: AreaConfig,
    options: HazardOptions,
    params: RainflowParams,
    loaded: Sequence[Scenario],
    rf_doc: Mapping[str, Any],
    sc_manifests: Mapping[str, Mapping[str, Any]],
    say: Progress,
) -> AreaHazards:
    t0 = time.perf_counter()
    rf_key = str(rf_doc["key"])
    rf_dir = store.rainflow_dir(rf_key)
    terrain, rf = store.load_rainflow(rf_key, params)
    found: dict[str, Path] = {}
    missing: list[Scenario] = []
    for sc in loaded:
        key = digest(sc_manifests[sc.name])
        folder = store.scenario_dir(rf_key, sc.name, key)
        if store.manifest(folder, key) is None:
            missing.append(sc)
        else:
            found[sc.name] = folder
    fresh: dict[str, ScenarioHazards] = {}
    if missing:
        say("; ".join(_why_scenario(rf_dir, sc.name, sc_manifests[sc.name]) for sc in missing))
        fresh = compute_scenarios(cfg, terrain, rf, missing, options, say)
        _save_scenarios(store, say, fresh, sc_manifests)
    hz = AreaHazards(area=cfg, terrain=terrain, rainflow=rf, options=options)
    for sc in loaded:  # in the order asked
        hz.scenarios[sc.name] = fresh.get(sc.name) or store.load_scenario(found[sc.name], sc)
    if found:
        say(
            f"hazards reused from {rf_dir} (computed {_created(rf_doc)}; "
            f"{', '.join(found)} loaded in {time.perf_counter() - t0:.2f} s)"
        )
    return hz
