"""Climate reports for a parcel, a local plan or any polygon: JSON and self-contained HTML.

A report says, for one climate scenario, how exposed a feature is (the measures of
:func:`klimakort.constraints.overlay.exposure`) and what the climate rules
(:mod:`klimakort.constraints.rules`) conclude for it and for the buildings in it. Every
finding names the data layer and file its measure came from.

The JSON layout is described by ``report_schema.json`` (JSON Schema draft 2020-12) beside
this module; :func:`validate_report` checks a report against it.
"""

from __future__ import annotations

import base64
import dataclasses
import difflib
import html
import io
import json
import os
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from klimakort.config.area import AreaConfig
from klimakort.constraints import report_text as rt
from klimakort.constraints.loaders import (
    load_buildings,
    load_heating_zones,
    load_local_plans,
    load_parcels,
    load_planned_sites,
)
from klimakort.constraints.overlay import COLUMNS, exposure
from klimakort.constraints.report_text import Lang, check_lang
from klimakort.constraints.rules import (
    VERDICT_ORDER,
    Finding,
    Rule,
    evaluate,
    load_rules,
    worst_verdict,
)
from klimakort.errors import DataNotFoundError, GeometryError, InputError
from klimakort.hazards.area import AreaHazards, ScenarioHazards
from klimakort.io.atomic import atomic_path
from klimakort.io.vector import read_vector

SCHEMA_PATH = Path(__file__).with_name("report_schema.json")
SCHEMA_ID = "klimakort-report/1"
#: buffer (m) around buildings for the KAMP rule
BUILDING_BUFFER_M = 1.0
#: verdicts that make a parcel or building "affected" in plan reports
AFFECTED = ("attention", "fail")

Kind = Literal["parcel", "plan", "polygon"]
Format = Literal["json", "html"]


# --------------------------------------------------------------------------- layers


def _mtime(path: Path) -> int:
    try:
        return path.stat().st_mtime_ns
    except FileNotFoundError as exc:
        raise DataNotFoundError(f"layer file {path} does not exist; check area.toml") from exc


@lru_cache(maxsize=32)
def _cached(kind: str, path: str, layer: str | None, field: str | None, crs: str, _mt: int) -> Any:
    if kind == "parcels":
        return load_parcels(path, crs, layer=layer)
    if kind == "buildings":
        return load_buildings(path, field or "building_id", crs, layer=layer)
    if kind == "heating_zones":
        return load_heating_zones(path, field or "zone", crs, layer=layer)
    if kind == "planned_sites":
        return load_planned_sites(path, field or "measure", crs, layer=layer)
    if kind == "local_plans":
        return load_local_plans(path, crs, layer=layer)
    return read_vector(path, crs=crs, layer=layer)


def _layer(cfg: AreaConfig, key: str) -> gpd.GeoDataFrame | None:
    """Layer ``key`` of the area through its loader (cached while the file is unchanged)."""
    ref = cfg.layers.get(key)
    if ref is None:
        return None
    field = {
        "buildings": ref.id_field,
        "heating_zones": ref.zone_field,
        "planned_sites": ref.measure_field,
    }.get(key)
    gdf: gpd.GeoDataFrame = _cached(
        key, str(ref.path), ref.layer, field, cfg.crs, _mtime(Path(ref.path))
    )
    return gdf


def _required(cfg: AreaConfig, key: str) -> gpd.GeoDataFrame:
    gdf = _layer(cfg, key)
    if gdf is None:
        raise DataNotFoundError(
            f"area {cfg.name!r} has no [layers.{key}] in its area.toml; add the layer to report"
        )
    return gdf


# --------------------------------------------------------------------------- sources


def _area_file(cfg: AreaConfig, path: str | os.PathLike[str]) -> str:
    """A file as the report shows it: relative to the area's folder, else its name only
    (a report never shows the server's absolute paths)."""
    p = Path(path)
    try:
        return p.resolve().relative_to(cfg.base_dir.resolve()).as_posix()
    except ValueError:
        return p.name


def layer_sources(
    cfg: AreaConfig, hz: AreaHazards, scenario: str, lang: Lang = "da"
) -> dict[str, dict[str, str]]:
    """Measure name -> ``{"layer", "path"}`` of the data that the measure derives from.

    Parameters
    ----------
    cfg : AreaConfig
        The area.
    hz : AreaHazards
        The hazards (for the scenario's rain and sea level).
    scenario : str
        Scenario name.
    lang : {"da", "en"}
        Language of the layer names.

    Returns
    -------
    dict
        ``layer`` names the data layer in ``lang``; ``path`` is its file relative to the
        area's folder (the file name when it lies elsewhere).
    """
    sh = hz.scenarios[scenario]
    names = rt.SOURCE_LAYERS
    terrain = _area_file(cfg, cfg.terrain.path)
    cloud = names["cloudburst"][lang].format(
        scenario=scenario, rain=f"{sh.rain_mm:.1f}", t=hz.options.rain_return_period
    )
    out: dict[str, dict[str, str]] = {}
    for key in COLUMNS:
        if key.startswith(("flood_", "bluespot_", "water_level_", "flowpath_")):
            out[key] = {"layer": cloud, "path": terrain}
        elif key.startswith(("terrain_", "min_flood_")):
            out[key] = {"layer": names["terrain"][lang], "path": terrain}
    if cfg.groundwater is not None:
        gw = names["groundwater"][lang].format(
            scenario=scenario, rise=f"{sh.scenario.groundwater_rise_m.value:.2f}"
        )
        for key in ("gw_depth_min_m", "gw_depth_mean_m", "gw_class"):
            out[key] = {"layer": gw, "path": _area_file(cfg, cfg.groundwater.path)}
    sea_ref = cfg.layers.get("sea")
    sea_layer = names["sea"][lang].format(scenario=scenario, level=f"{sh.sea_level_m:.2f}")
    for key in ("sea_share", "sea_depth_max_m"):
        out[key] = {
            "layer": sea_layer,
            "path": _area_file(cfg, sea_ref.path) if sea_ref else terrain,
        }
    out["sea_level_m"] = {
        "layer": names["sea_level"][lang].format(
            scenario=scenario, t=hz.options.surge_return_period
        ),
        "path": "klimakort/hazards/scenarios_default.toml",
    }
    for key, measure in (
        ("heating_zones", "heating_zone"),
        ("planned_sites", "nearest_planned_site_m"),
        ("buildings", "floor_level_m"),
        ("contaminated_soil", "contaminated"),
    ):
        ref = cfg.layers.get(key)
        if ref is not None:
            out[measure] = {"layer": names[key][lang], "path": _area_file(cfg, ref.path)}
    return out


# --------------------------------------------------------------------------- measures


def _scenario_hz(hz: AreaHazards, scenario: str) -> tuple[AreaHazards, ScenarioHazards]:
    if scenario not in hz.scenarios:
        raise DataNotFoundError(
            f"scenario {scenario!r} was not computed; the hazards hold {sorted(hz.scenarios)}. "
            "Compute it with compute_hazards(cfg, [scenario])."
        )
    sh = hz.scenarios[scenario]
    return dataclasses.replace(hz, scenarios={scenario: sh}), sh


def _py(value: Any) -> Any:
    """A JSON-ready scalar (NaN/NA -> None, numpy -> python)."""
    if value is None or value is pd.NA or isinstance(value, str | bool):
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.integer | int):
        return int(value)
    try:
        f = float(value)
    except (TypeError, ValueError):
        return str(value)
    return f if np.isfinite(f) else None


def _measures(
    cfg: AreaConfig,
    hz1: AreaHazards,
    sh: ScenarioHazards,
    features: gpd.GeoDataFrame,
    id_field: str,
    *,
    buffer_m: float | None = None,
    sites: gpd.GeoDataFrame | None = None,
) -> dict[str, dict[str, Any]]:
    """Feature id -> measures (exposure + scenario sea level + contamination + floor level).

    ``sites`` are the planned sites when they come from a store (the area's layer otherwise).
    """
    if features.empty:
        return {}
    zones = _layer(cfg, "heating_zones")
    sites = sites if sites is not None else _layer(cfg, "planned_sites")
    df = exposure(
        features[[id_field, features.geometry.name]],
        id_field,
        hz1,
        heating_zones=zones,
        planned_sites=sites,
        building_buffer_m=buffer_m,
        zone_field="zone",  # load_heating_zones normalises the zone name to "zone"
    )
    dirty = _contaminated(cfg, features, id_field)
    out: dict[str, dict[str, Any]] = {}
    for row in df.to_dict("records"):
        fid = str(row.pop(id_field))
        row.pop("scenario", None)
        m: dict[str, Any] = {str(k): _py(v) for k, v in row.items()}
        m["sea_level_m"] = float(sh.sea_level_m)
        if dirty is not None:
            m["contaminated"] = bool(dirty.get(fid, False))
        out[fid] = m
    if "floor_level_m" in features.columns:
        for fid, level in zip(
            features[id_field].astype(str), features["floor_level_m"], strict=True
        ):
            out[fid]["floor_level_m"] = _py(level)
    return out


def _contaminated(
    cfg: AreaConfig, features: gpd.GeoDataFrame, id_field: str
) -> dict[str, bool] | None:
    """Feature id -> whether it touches mapped contaminated soil (None without the layer)."""
    soil = _layer(cfg, "contaminated_soil")
    if soil is None:
        return None
    idx_feat, _ = soil.sindex.query(features.geometry.values, predicate="intersects")
    hit = np.zeros(len(features), dtype=bool)
    hit[idx_feat] = True
    return dict(zip(features[id_field].astype(str), hit.tolist(), strict=True))


# --------------------------------------------------------------------------- helpers


def _not_found(what: str, wanted: str, ids: Sequence[str]) -> DataNotFoundError:
    close = difflib.get_close_matches(wanted, list(ids), n=5, cutoff=0.5)
    hint = f"; close matches: {close}" if close else f"; e.g. {sorted(ids)[:5]}"
    return DataNotFoundError(f"{what} {wanted!r} not found among {len(ids)} {what}s{hint}")


def _inside(items: gpd.GeoDataFrame, geom: BaseGeometry) -> gpd.GeoDataFrame:
    """Rows of ``items`` whose representative point lies in ``geom``."""
    cand = items.iloc[items.sindex.query(geom, predicate="intersects")]
    if cand.empty:
        return cand
    pts = shapely.point_on_surface(cand.geometry.values)
    return cand[shapely.contains(geom, pts)]


def _feature_json(fid: str | None, geom: BaseGeometry) -> dict[str, Any]:
    return {
        "id": fid,
        "area_m2": float(geom.area),
        "bounds": [float(v) for v in geom.bounds],
        "geometry": json.loads(shapely.to_geojson(geom)),
    }


def _assess(
    measures: Mapping[str, Any],
    rules: Mapping[str, Rule],
    scenario: str,
    sources: Mapping[str, Mapping[str, str]],
) -> tuple[list[Finding], str]:
    found = evaluate(measures, rules, scenario=scenario, sources=sources)
    return found, worst_verdict(found)


def _worst_only(found: Sequence[Finding]) -> list[dict[str, Any]]:
    worst = worst_verdict(found)
    return [f.to_dict() for f in found if f.verdict == worst]


def _count(verdicts: Sequence[str]) -> dict[str, int]:
    return {v: sum(1 for x in verdicts if x == v) for v in VERDICT_ORDER}


def _scenario_json(hz: AreaHazards, sh: ScenarioHazards) -> dict[str, Any]:
    sc = sh.scenario
    return {
        "name": sc.name,
        "period": sc.period,
        "rain_mm": float(sh.rain_mm),
        "rain_return_period": hz.options.rain_return_period,
        "sea_level_m": float(sh.sea_level_m),
        "surge_return_period": hz.options.surge_return_period,
        "sea_level_rise_m": float(sc.sea_level_rise_m.value),
        "groundwater_rise_m": float(sc.groundwater_rise_m.value),
        "sources": dict(sc.sources()),
    }


def _base(
    kind: Kind,
    fid: str | None,
    name: str | None,
    cfg: AreaConfig,
    hz: AreaHazards,
    sh: ScenarioHazards,
    rules: Mapping[str, Rule],
    sources: Mapping[str, Mapping[str, str]],
    lang: Lang,
) -> dict[str, Any]:
    return {
        "schema": SCHEMA_ID,
        "kind": kind,
        "lang": lang,
        "id": fid,
        "name": name,
        "area": {"name": cfg.name, "crs": cfg.crs, "synthetic": bool(cfg.synthetic)},
        "generated": datetime.now(UTC).isoformat(timespec="seconds"),
        "scenario": _scenario_json(hz, sh),
        "rules": [r.to_dict() for r in rules.values() if r.enabled],
        "sources": [{"measure": k, **dict(v)} for k, v in sources.items()],
    }


def _buildings_in(cfg: AreaConfig, geom: BaseGeometry) -> tuple[gpd.GeoDataFrame, str]:
    blds = _layer(cfg, "buildings")
    if blds is None:
        return gpd.GeoDataFrame({"building_id": []}, geometry=[], crs=cfg.crs), "building_id"
    return _inside(blds, geom), "building_id"


def _building_entries(
    cfg: AreaConfig,
    hz1: AreaHazards,
    sh: ScenarioHazards,
    buildings: gpd.GeoDataFrame,
    rules: Mapping[str, Rule],
    sources: Mapping[str, Mapping[str, str]],
    *,
    full: bool,
    sites: gpd.GeoDataFrame | None = None,
) -> list[dict[str, Any]]:
    meas = _measures(
        cfg, hz1, sh, buildings, "building_id", buffer_m=BUILDING_BUFFER_M, sites=sites
    )
    out = []
    for bid, m in meas.items():
        found, worst = _assess(m, rules, sh.scenario.name, sources)
        entry: dict[str, Any] = {"id": bid, "worst_verdict": worst}
        if full:
            entry["measures"] = m
            entry["findings"] = [f.to_dict() for f in found]
        else:
            entry["findings"] = _worst_only(found)
        out.append(entry)
    return out


# --------------------------------------------------------------------------- reports


def parcel_report(
    cfg: AreaConfig,
    hz: AreaHazards,
    parcel_id: str,
    scenario: str = "2100",
    *,
    rules: Mapping[str, Rule] | None = None,
    sites: gpd.GeoDataFrame | None = None,
    lang: str = "da",
) -> dict[str, Any]:
    """Climate report of one cadastral parcel and the buildings on it.

    Parameters
    ----------
    cfg : AreaConfig
        The area (needs ``[layers.parcels]``; buildings, heating zones, planned sites and
        contaminated soil are used when present).
    hz : AreaHazards
        Hazards holding ``scenario``.
    parcel_id : str
        ``parcel_id`` of the parcel (``matrikel_id`` or ``{ejerlavskode}-{matrikelnummer}``).
    scenario : str
        Scenario name.
    rules : Mapping[str, Rule], optional
        Rules (:func:`load_rules`); the defaults when omitted.
    sites : GeoDataFrame, optional
        Planned sites from a site store (e.g. PostGIS); the area's ``planned_sites``
        layer is read when omitted.
    lang : {"da", "en"}
        Language of the report (its source names, and every word of its HTML page).

    Returns
    -------
    dict
        Report following ``report_schema.json``.

    Raises
    ------
    DataNotFoundError
        Unknown parcel (close matches are listed), missing parcels layer or scenario.
    """
    language = check_lang(lang)
    rules = load_rules() if rules is None else rules
    hz1, sh = _scenario_hz(hz, scenario)
    parcels = _required(cfg, "parcels")
    ids = parcels["parcel_id"].astype(str)
    hit = parcels[ids == str(parcel_id)]
    if hit.empty:
        raise _not_found("parcel", str(parcel_id), ids.tolist())
    geom = hit.geometry.iloc[0]
    sources = layer_sources(cfg, hz, scenario, language)
    m = _measures(cfg, hz1, sh, hit[["parcel_id", hit.geometry.name]], "parcel_id", sites=sites)
    measures = m[str(parcel_id)]
    found, worst = _assess(measures, rules, scenario, sources)
    blds, _ = _buildings_in(cfg, geom)
    buildings = _building_entries(cfg, hz1, sh, blds, rules, sources, full=True, sites=sites)
    report = _base("parcel", str(parcel_id), None, cfg, hz, sh, rules, sources, language)
    report.update(
        feature=_feature_json(str(parcel_id), geom),
        measures=measures,
        findings=[f.to_dict() for f in found],
        worst_verdict=worst,
        buildings=buildings,
        summary={
            "parcels": 1,
            "buildings": len(buildings),
            "parcels_by_verdict": _count([worst]),
            "buildings_by_verdict": _count([b["worst_verdict"] for b in buildings]),
        },
    )
    return report


def _area_report(
    kind: Kind,
    fid: str | None,
    name: str | None,
    geom: BaseGeometry,
    cfg: AreaConfig,
    hz: AreaHazards,
    scenario: str,
    rules: Mapping[str, Rule],
    sites: gpd.GeoDataFrame | None = None,
    lang: Lang = "da",
) -> dict[str, Any]:
    """Report of an area (plan or polygon): its own findings plus affected parcels/buildings."""
    hz1, sh = _scenario_hz(hz, scenario)
    sources = layer_sources(cfg, hz, scenario, lang)
    area = gpd.GeoDataFrame({"feature_id": [fid or "polygon"]}, geometry=[geom], crs=cfg.crs)
    measures = _measures(cfg, hz1, sh, area, "feature_id", sites=sites)[fid or "polygon"]
    found, worst = _assess(measures, rules, scenario, sources)
    parcels = _layer(cfg, "parcels")
    in_parcels = _inside(parcels, geom) if parcels is not None else None
    blds, _ = _buildings_in(cfg, geom)
    bentries = _building_entries(cfg, hz1, sh, blds, rules, sources, full=False, sites=sites)
    by_parcel: dict[str, list[dict[str, Any]]] = {}
    if "parcel_id" in blds.columns:
        parcel_of = dict(
            zip(blds["building_id"].astype(str), blds["parcel_id"].astype(str), strict=True)
        )
        for b in bentries:
            by_parcel.setdefault(parcel_of.get(b["id"], ""), []).append(b)
    pentries: list[dict[str, Any]] = []
    pverdicts: list[str] = []
    if in_parcels is not None and not in_parcels.empty:
        pmeas = _measures(
            cfg,
            hz1,
            sh,
            in_parcels[["parcel_id", in_parcels.geometry.name]],
            "parcel_id",
            sites=sites,
        )
        for pid, m in pmeas.items():
            pf, pw = _assess(m, rules, scenario, sources)
            own = by_parcel.get(pid, [])
            worst_b = max([pw, *(b["worst_verdict"] for b in own)], key=VERDICT_ORDER.index)
            pverdicts.append(worst_b)
            if worst_b in AFFECTED:
                pentries.append(
                    {
                        "id": pid,
                        "worst_verdict": worst_b,
                        "findings": _worst_only(pf),
                        "buildings": [b for b in own if b["worst_verdict"] in AFFECTED],
                    }
                )
    report = _base(kind, fid, name, cfg, hz, sh, rules, sources, lang)
    report.update(
        feature=_feature_json(fid, geom),
        measures=measures,
        findings=[f.to_dict() for f in found],
        worst_verdict=worst,
        buildings=[b for b in bentries if b["worst_verdict"] in AFFECTED],
        parcels=pentries,
        summary={
            "parcels": len(pverdicts),
            "buildings": len(bentries),
            "parcels_by_verdict": _count(pverdicts),
            "buildings_by_verdict": _count([b["worst_verdict"] for b in bentries]),
        },
    )
    return report


def plan_report(
    cfg: AreaConfig,
    hz: AreaHazards,
    plannr: str,
    scenario: str = "2100",
    *,
    rules: Mapping[str, Rule] | None = None,
    sites: gpd.GeoDataFrame | None = None,
    lang: str = "da",
) -> dict[str, Any]:
    """Climate report of a local plan: its own findings and the affected parcels and buildings.

    Parameters
    ----------
    cfg : AreaConfig
        The area; needs ``[layers.local_plans]`` (Plandata.dk schema).
    hz : AreaHazards
        Hazards holding ``scenario``.
    plannr : str
        Plan number (``plannr``), or the ``planid``.
    scenario : str
        Scenario name.
    rules : Mapping[str, Rule], optional
        Rules; the defaults when omitted.
    sites : GeoDataFrame, optional
        Planned sites from a site store (e.g. PostGIS); the area's ``planned_sites``
        layer is read when omitted.
    lang : {"da", "en"}
        Language of the report.

    Returns
    -------
    dict
        Report following ``report_schema.json``; ``parcels`` and ``buildings`` list only
        the affected ones (worst verdict ``attention`` or ``fail``) with their worst
        findings, ``summary`` counts all.

    Raises
    ------
    DataNotFoundError
        No local-plans layer, or an unknown plan (close matches are listed).
    """
    language = check_lang(lang)
    rules = load_rules() if rules is None else rules
    plans = _required(cfg, "local_plans")
    key = str(plannr)
    hit = plans[plans["plan_id"].astype(str) == key]
    if hit.empty and "planid" in plans.columns:
        hit = plans[plans["planid"].astype(str) == key]
    if hit.empty:
        raise _not_found("local plan", key, plans["plan_id"].astype(str).tolist())
    geom = shapely.union_all(hit.geometry.values)
    name = str(hit["plannavn"].iloc[0]) if "plannavn" in hit.columns else None
    return _area_report("plan", key, name, geom, cfg, hz, scenario, rules, sites, language)


def polygon_report(
    cfg: AreaConfig,
    hz: AreaHazards,
    polygon: BaseGeometry | gpd.GeoDataFrame | str | os.PathLike[str],
    scenario: str = "2100",
    *,
    rules: Mapping[str, Rule] | None = None,
    sites: gpd.GeoDataFrame | None = None,
    name: str | None = None,
    lang: str = "da",
) -> dict[str, Any]:
    """Climate report of any polygon (e.g. a draft plan area).

    Parameters
    ----------
    cfg : AreaConfig
        The area.
    hz : AreaHazards
        Hazards holding ``scenario``.
    polygon : shapely geometry, GeoDataFrame or path
        The area in the area CRS (a geometry), or a layer (all its polygons are merged;
        a file is reprojected to the area CRS).
    scenario : str
        Scenario name.
    rules : Mapping[str, Rule], optional
        Rules; the defaults when omitted.
    sites : GeoDataFrame, optional
        Planned sites from a site store (e.g. PostGIS); the area's ``planned_sites``
        layer is read when omitted.
    name : str, optional
        Title of the area in the report.
    lang : {"da", "en"}
        Language of the report.

    Returns
    -------
    dict
        As :func:`plan_report`.

    Raises
    ------
    GeometryError
        The polygon is empty or not polygonal.
    """
    language = check_lang(lang)
    rules = load_rules() if rules is None else rules
    if isinstance(polygon, str | os.PathLike):
        name = name or Path(polygon).stem
        polygon = read_vector(polygon, crs=cfg.crs)
    if isinstance(polygon, gpd.GeoDataFrame):
        if polygon.crs is None:
            raise InputError("the polygon layer has no CRS; set it before reporting")
        polygon = shapely.union_all(polygon.to_crs(cfg.crs).geometry.values)
    geom = polygon
    if geom.is_empty or geom.geom_type not in ("Polygon", "MultiPolygon"):
        raise GeometryError(f"the report area must be a non-empty polygon, got {geom.geom_type}")
    return _area_report("polygon", None, name, geom, cfg, hz, scenario, rules, sites, language)


# --------------------------------------------------------------------------- output


def validate_report(report: Mapping[str, Any]) -> None:
    """Check ``report`` against ``report_schema.json``.

    Raises
    ------
    InputError
        The report does not follow the schema (the message says where).
    """
    import jsonschema

    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(report), key=lambda e: list(e.path))
    if errors:
        e = errors[0]
        where = "/".join(str(p) for p in e.path) or "(top level)"
        raise InputError(f"report does not follow {SCHEMA_PATH.name} at {where}: {e.message}")


def to_json(report: Mapping[str, Any]) -> str:
    """The report as JSON text (UTF-8, indented)."""
    return json.dumps(report, ensure_ascii=False, indent=2, allow_nan=False)


def write_report(
    report: Mapping[str, Any],
    path: str | os.PathLike[str],
    fmt: Format = "json",
    *,
    hz: AreaHazards | None = None,
) -> Path:
    """Write a report atomically as JSON or self-contained HTML.

    Parameters
    ----------
    report : Mapping
        From :func:`parcel_report`, :func:`plan_report` or :func:`polygon_report`.
    path : path-like
        Destination.
    fmt : {"json", "html"}
        Output format.
    hz : AreaHazards, optional
        Hazards for the map inset of the HTML (no map without them).

    Returns
    -------
    Path
    """
    if fmt == "json":
        text = to_json(report)
    elif fmt == "html":
        text = render_html(report, hz)
    else:
        raise InputError(f"format {fmt!r} is not supported; use 'json' or 'html'")
    dest = Path(path)
    with atomic_path(dest) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return dest


# --------------------------------------------------------------------------- HTML

_VERDICT_COLOURS = {
    "fail": "#d7301f",
    "attention": "#fc8d59",
    "applies": "#6baed6",
    "pass": "#41ab5d",
}

_CSS = """
body{font-family:system-ui,sans-serif;margin:1.5em auto;max-width:60em;color:#222}
h1{font-size:1.5em}h2{font-size:1.15em;margin-top:1.6em}
table{border-collapse:collapse;width:100%;font-size:.9em}
th,td{border:1px solid #ccc;padding:.3em .5em;text-align:left;vertical-align:top}
th{background:#f0f0f0}.v{color:#fff;font-weight:bold;border-radius:.3em;padding:0 .4em}
.small{font-size:.8em;color:#555}figure{margin:0}img{max-width:100%}code.path{font-size:1em}
"""


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def _verdict(v: str, lang: Lang) -> str:
    colour = _VERDICT_COLOURS.get(v, "#888")
    return f'<span class="v" style="background:{colour}">{_e(rt.verdict(v, lang))}</span>'


def _num_text(value: Any, lang: Lang) -> str:
    """A number as written in ``lang`` (Danish: decimal comma, dot for thousands)."""
    if isinstance(value, bool):
        return _e(rt.label("yes" if value else "no", lang))
    if value is None:
        return rt.label("no_value", lang)
    if isinstance(value, float):
        if not np.isfinite(value):
            return "∞" if value > 0 else "−∞"
        text = f"{value:.3g}" if abs(value) < 1000 else f"{value:,.0f}"
        if "e" in text:  # 3 significant digits of a small or large number
            text = f"{value:.6f}".rstrip("0").rstrip(".")
        if lang == "da":
            text = text.replace(",", "\0").replace(".", ",").replace("\0", ".")
        return text
    return _e(value)


def _png(fig: Any) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _crop(da: Any, bounds: Sequence[float]) -> Any:
    x0, y0, x1, y1 = bounds
    ys = da.y.values
    ysl = slice(y1, y0) if ys[0] > ys[-1] else slice(y0, y1)
    return da.sel(x=slice(x0, x1), y=ysl)


def map_inset_png(
    report: Mapping[str, Any], hz: AreaHazards, *, margin_m: float = 60.0, lang: Lang = "da"
) -> str:
    """Base64 PNG of the feature on hillshaded terrain with flood and sea depths.

    Parameters
    ----------
    report : Mapping
        A report (its ``feature.geometry`` and ``scenario.name`` are used).
    hz : AreaHazards
        Hazards holding the report's scenario.
    margin_m : float
        Margin around the feature (m).
    lang : {"da", "en"}
        Language of the title and colour bar.

    Returns
    -------
    str
        Base64-encoded PNG ("" when the feature lies outside the terrain).
    """
    from matplotlib.figure import Figure

    from klimakort.maps.hillshade import hillshade

    geom = shapely.geometry.shape(report["feature"]["geometry"])
    x0, y0, x1, y1 = geom.bounds
    pad = max(margin_m, 0.15 * max(x1 - x0, y1 - y0))
    box = (x0 - pad, y0 - pad, x1 + pad, y1 + pad)
    dem = _crop(hz.terrain, box)
    if dem.size == 0 or dem.shape[0] < 2 or dem.shape[1] < 2:
        return ""
    dx, dy = (abs(float(r)) for r in hz.terrain.rio.resolution())
    extent = (
        float(dem.x.min()) - dx / 2,
        float(dem.x.max()) + dx / 2,
        float(dem.y.min()) - dy / 2,
        float(dem.y.max()) + dy / 2,
    )
    sh = hz.scenarios[report["scenario"]["name"]]
    fig = Figure(figsize=(6.0, 5.0))
    ax = fig.add_subplot()
    ax.imshow(hillshade(dem.values, dx, dy), cmap="gray", extent=extent, vmin=0, vmax=1)
    flood = _crop(sh.cloudburst.flood_depth, box).values
    im = ax.imshow(
        np.where(flood > 0.02, flood, np.nan),
        cmap="Blues",
        extent=extent,
        vmin=0,
        vmax=1.0,
        alpha=0.8,
    )
    sea = _crop(sh.sea.depth, box).values
    ax.imshow(
        np.where(sea > 0, 1.0, np.nan), cmap="Purples", extent=extent, vmin=0, vmax=1.5, alpha=0.5
    )
    for poly in getattr(geom, "geoms", [geom]):
        xs, ys = poly.exterior.xy
        ax.plot(xs, ys, color="#d7301f", lw=2)
    ax.set_xlim(extent[0], extent[1])
    ax.set_ylim(extent[2], extent[3])
    ax.set_aspect("equal")
    ax.tick_params(labelsize=7)
    ax.ticklabel_format(useOffset=False, style="plain")
    fig.colorbar(im, ax=ax, shrink=0.7, label=rt.label("map_colorbar", lang))
    title = rt.label("map_title", lang).format(name=report["scenario"]["name"])
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    return _png(fig)


def _sources_html(sources: Sequence[Mapping[str, Any]]) -> str:
    return "<br>".join(
        f"{_e(s['layer'])} <span class=small>(<code class=path>{_e(s['path'])}</code>)</span>"
        for s in sources
    )


def _rule_titles(report: Mapping[str, Any], lang: Lang) -> dict[str, str]:
    return {r["id"]: r.get(f"title_{lang}") or r["id"] for r in report["rules"]}


def _findings_table(
    findings: Sequence[Mapping[str, Any]], titles: Mapping[str, str], lang: Lang
) -> str:
    heads = ("rule", "verdict", "measured", "threshold", "unit", "explanation", "source")
    rows = ["<tr>" + "".join(f"<th>{_e(rt.label(h, lang))}</th>" for h in heads) + "</tr>"]
    for f in findings:
        rows.append(
            f"<tr><td>{_e(titles.get(f['rule_id'], f['rule_id']))}</td>"
            f"<td>{_verdict(f['verdict'], lang)}</td>"
            f"<td>{_num_text(f['measured'], lang)}</td><td>{_num_text(f['threshold'], lang)}</td>"
            f"<td>{_e(rt.unit(f['unit'], lang))}</td><td>{_e(f['explanation_' + lang])}</td>"
            f"<td>{_sources_html(f['sources'])}</td></tr>"
        )
    return "<table>" + "".join(rows) + "</table>"


def _entries_table(title: str, entries: Sequence[Mapping[str, Any]], lang: Lang) -> str:
    if not entries:
        return f"<h2>{_e(title)}</h2><p>{_e(rt.label('none', lang))}</p>"
    heads = ("id", "worst", "findings")
    rows = ["<tr>" + "".join(f"<th>{_e(rt.label(h, lang))}</th>" for h in heads) + "</tr>"]
    for e in entries:
        text = "<br>".join(
            _e(f["explanation_" + lang]) for f in e["findings"] if f["verdict"] != "pass"
        )
        rows.append(
            f"<tr><td>{_e(e['id'])}</td><td>{_verdict(e['worst_verdict'], lang)}</td>"
            f"<td>{text}</td></tr>"
        )
    return f"<h2>{_e(title)}</h2><table>{''.join(rows)}</table>"


def _measures_table(measures: Mapping[str, Any], lang: Lang) -> str:
    heads = ("measure", "value", "unit")
    rows = ["<tr>" + "".join(f"<th>{_e(rt.label(h, lang))}</th>" for h in heads) + "</tr>"]
    extra = {"sea_level_m": "m DVR90", "floor_level_m": "m DVR90", "contaminated": ""}
    for k, v in measures.items():
        unit = COLUMNS[k][0] if k in COLUMNS else extra.get(k, "")
        rows.append(
            f"<tr><td>{_e(rt.measure(k, lang))}</td><td>{_num_text(v, lang)}</td>"
            f"<td>{_e(rt.unit(unit, lang))}</td></tr>"
        )
    return "<table>" + "".join(rows) + "</table>"


def _quoted(text: str, lang: Lang) -> str:
    """A citation in its own language: marked ``lang="en"`` on a Danish page when it was
    written in English (the scenario file's citations are)."""
    return f'<span lang="en">{_e(text)}</span>' if lang == "da" else _e(text)


def _head(report: Mapping[str, Any], lang: Lang) -> list[str]:
    sc = report["scenario"]
    what = rt.KINDS[report["kind"]][lang]
    title = f"{rt.label('report', lang)} — {what} {report.get('id') or report.get('name') or ''}"
    synthetic = (
        f" — <b>{_e(rt.label('synthetic', lang))}</b>" if report["area"]["synthetic"] else ""
    )
    line = rt.label("scenario_line", lang).format(
        rain=_num_text(round(float(sc["rain_mm"]), 1), lang),
        rain_t=sc["rain_return_period"],
        sea=_num_text(round(float(sc["sea_level_m"]), 2), lang),
        sea_t=sc["surge_return_period"],
        rise=_num_text(round(float(sc["sea_level_rise_m"]), 2), lang),
        gw=_num_text(round(float(sc["groundwater_rise_m"]), 2), lang),
    )
    return [
        f"<!DOCTYPE html><html lang='{lang}'><head><meta charset='utf-8'>",
        f"<title>{_e(title.strip())}</title><style>{_CSS}</style></head><body>",
        f"<h1>{_e(title.strip())}</h1>",
        f"<p>{_e(report['area']['name'])} ({_e(report['area']['crs'])}){synthetic}. "
        f"{_e(rt.label('worst', lang))}: {_verdict(report['worst_verdict'], lang)}</p>",
        f"<p>{_e(rt.label('scenario', lang))} <b>{_e(sc['name'])}</b> ({_e(sc['period'])}): "
        f"{_e(line)}</p>",
    ]


def _tail(report: Mapping[str, Any], lang: Lang) -> list[str]:
    sc = report["scenario"]
    parts = ["<h2>" + _e(rt.label("measures", lang)) + "</h2>"]
    parts.append(_measures_table(report["measures"], lang))
    rules = "".join(
        f"<li><b>{_e(r.get(f'title_{lang}') or r['id'])}</b>: {_e(r[f'text_{lang}'])}"
        f"<br><span class=small>{_e(rt.label('source', lang))}: "
        f"{_e(r.get('source_da') or r['source'] if lang == 'da' else r['source'])}</span></li>"
        for r in report["rules"]
    )
    parts.append(f"<h2>{_e(rt.label('rules', lang))}</h2><ul>{rules}</ul>")
    srcs = "".join(
        f"<li>{_e(rt.measure(s['measure'], lang))}: {_e(s['layer'])} "
        f"<span class=small><code class=path>{_e(s['path'])}</code></span></li>"
        for s in report["sources"]
    )
    scen_src = "".join(
        f"<li>{_e(rt.scenario_value(k, lang))}: {_quoted(v, lang)}</li>"
        for k, v in sc["sources"].items()
    )
    parts.append(
        f"<h2>{_e(rt.label('sources', lang))}</h2><ul>{srcs}</ul>"
        f"<h3>{_e(rt.label('scenario_values', lang))}</h3><ul>{scen_src}</ul>"
    )
    parts.append(
        f"<p class=small>klimakort, {_e(report['generated'])}, "
        f"{_e(report['schema'])}</p></body></html>"
    )
    return parts


def render_html(report: Mapping[str, Any], hz: AreaHazards | None = None) -> str:
    """Self-contained HTML of a report (no external resources; the map is an inline PNG).

    Every heading, verdict, rule title, measure name and unit is in the report's
    language (``report["lang"]``, Danish for reports without one).

    Parameters
    ----------
    report : Mapping
        A report.
    hz : AreaHazards, optional
        Hazards for the map inset; without them the page has no map.

    Returns
    -------
    str
    """
    lang = check_lang(str(report.get("lang", "da")))
    parts = _head(report, lang)
    sc = report["scenario"]
    if hz is not None and sc["name"] in hz.scenarios:
        png = map_inset_png(report, hz, lang=lang)
        if png:
            alt = _e(rt.label("map_alt", lang))
            parts.append(f"<figure><img alt='{alt}' src='data:image/png;base64,{png}'></figure>")
    titles = _rule_titles(report, lang)
    parts.append(
        f"<h2>{_e(rt.label('findings', lang))}</h2>"
        + _findings_table(report["findings"], titles, lang)
    )
    if report["kind"] == "parcel":
        rows = [
            {"id": b["id"], "worst_verdict": b["worst_verdict"], "findings": b["findings"]}
            for b in report["buildings"]
        ]
        parts.append(_entries_table(rt.label("buildings_on_parcel", lang), rows, lang))
    else:
        s = report["summary"]
        inside = rt.label("inside", lang).format(
            parcels=s["parcels"],
            buildings=s["buildings"],
            p_hit=len(report["parcels"]),
            b_hit=len(report["buildings"]),
        )
        parts.append(f"<p>{_e(inside)}</p>")
        parts.append(_entries_table(rt.label("affected_parcels", lang), report["parcels"], lang))
        parts.append(
            _entries_table(rt.label("affected_buildings", lang), report["buildings"], lang)
        )
    parts += _tail(report, lang)
    return "\n".join(parts)
