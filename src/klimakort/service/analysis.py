"""Analyses an engineer asks for: suitability with overrides, portfolios, polygon reports."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, cast

import pydantic
import shapely
from shapely.geometry.base import BaseGeometry

from klimakort.constraints.report import polygon_report
from klimakort.errors import GeometryError, ParameterError
from klimakort.io.geojson_input import CRS84_NAME, check_coordinates, to_area_crs
from klimakort.io.geojson_input import geometry_from_geojson as geojson_geometry
from klimakort.service.crs import CRS84_URI, parse_crs, to_geojson
from klimakort.service.workspace import Workspace
from klimakort.suitability.profiles import Constraints, Profile, get_profile, load_profiles

#: the CRS of the areas the service analyses
AREA_CRS = "EPSG:25832"
#: most candidates returned by one suitability request
MAX_TOP = 500


def measures() -> dict[str, dict[str, Any]]:
    """The measure profiles: label, description, criteria with default weights, constraints."""
    out = {}
    for name, prof in load_profiles().items():
        out[name] = {
            "label": prof.label,
            "description": prof.description,
            "aliases": list(prof.aliases),
            "weights": prof.weights(),
            "constraints": prof.constraints.model_dump(),
            "min_area_m2": prof.min_area_m2,
            "min_width_m": prof.min_width_m,
        }
    return out


def override_profile(
    measure: str,
    weights: Mapping[str, float] | None = None,
    constraints: Mapping[str, Any] | None = None,
) -> Profile:
    """The profile of ``measure`` with new criterion weights and/or constraints.

    Parameters
    ----------
    measure : str
        Measure name or alias.
    weights : mapping, optional
        Criterion name -> weight (> 0; normalised to sum 1). Criteria left out keep
        their default weight; naming an unknown criterion is an error.
    constraints : mapping, optional
        Constraint name -> value (see :class:`Constraints`); unknown names are errors.

    Raises
    ------
    ParameterError
        Unknown measure, criterion or constraint, or an out-of-range value.
    """
    prof = get_profile(measure)
    update: dict[str, Any] = {}
    if weights:
        names = [c.name for c in prof.criteria]
        unknown = sorted(set(weights) - set(names))
        if unknown:
            raise ParameterError(f"unknown criteria {unknown} for {prof.name}; it has {names}")
        bad = {k: v for k, v in weights.items() if not (float(v) > 0 and float(v) < 1e6)}
        if bad:
            raise ParameterError(f"weights must be > 0 (and finite), got {bad}")
        base = prof.weights()
        update["criteria"] = [
            c.model_copy(update={"weight": float(weights.get(c.name, base[c.name]))})
            for c in prof.criteria
        ]
        update["ahp"] = None
    if constraints:
        try:
            update["constraints"] = Constraints.model_validate(
                {**prof.constraints.model_dump(), **dict(constraints)}
            )
        except pydantic.ValidationError as exc:
            msgs = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
            raise ParameterError(f"constraints of {prof.name}: {msgs}") from None
    if not update:
        return prof
    try:
        return Profile.model_validate({**prof.model_dump(), **_dump(update)})
    except pydantic.ValidationError as exc:  # pragma: no cover - guarded above
        raise ParameterError(str(exc)) from None


def _dump(update: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in update.items():
        if isinstance(v, list):
            out[k] = [x.model_dump() if isinstance(x, pydantic.BaseModel) else x for x in v]
        elif isinstance(v, pydantic.BaseModel):
            out[k] = v.model_dump()
        else:
            out[k] = v
    return out


def suitability_candidates(
    ws: Workspace,
    measure: str,
    scenario: str | None = None,
    *,
    weights: Mapping[str, float] | None = None,
    constraints: Mapping[str, Any] | None = None,
    top: int = 50,
    crs: str | None = None,
) -> dict[str, Any]:
    """Ranked candidate sites of ``measure`` with explanations, as GeoJSON.

    Returns
    -------
    dict
        A FeatureCollection (CRS84 unless ``crs`` says EPSG:25832) of the ``top``
        best-scoring candidates, each with ``rank``, ``score``, per-criterion columns and
        the parsed ``explanation``; plus ``measure``, ``scenario``, ``weights``,
        ``constraints``, ``numberMatched``, ``notes`` (constraints not checked and
        criteria dropped because the area lacks their layer), ``notChecked`` and
        ``droppedCriteria``.
    """
    if not 1 <= int(top) <= MAX_TOP:
        raise ParameterError(f"top={top} must be within 1..{MAX_TOP}")
    out_crs = parse_crs(crs)
    sc = ws.scenario(scenario)
    prof = override_profile(measure, weights, constraints)
    run = ws.suitability(prof.name, sc, profile=prof, samples=200, choose=1, min_spacing_m=0.0)
    cands = run.candidates
    ranked = cands.sort_values("score", ascending=False).head(int(top)).copy()
    ranked.insert(0, "rank", range(1, len(ranked) + 1))
    ranked["fid"] = ranked["site_id"].astype(str)
    fc = to_geojson(ranked, out_crs)
    for feat in fc["features"]:
        expl = feat["properties"].get("explanation")
        if isinstance(expl, str):
            feat["properties"]["explanation"] = json.loads(expl)
    fc.update(
        measure=prof.name,
        scenario=sc,
        weights=run.result.weights,
        constraints=prof.constraints.model_dump(),
        numberMatched=len(cands),
        numberReturned=len(ranked),
        notes=list(run.result.notes),
        notChecked=dict(run.result.not_checked),
        droppedCriteria=dict(run.result.dropped_criteria),
        crs=out_crs,
    )
    return fc


def portfolio(
    ws: Workspace,
    measure: str,
    n: int,
    scenario: str | None = None,
    *,
    min_spacing_m: float = 500.0,
    weights: Mapping[str, float] | None = None,
    constraints: Mapping[str, Any] | None = None,
    crs: str | None = None,
) -> dict[str, Any]:
    """Choose ``n`` sites of ``measure`` (MILP) and return them with the solver's status.

    Returns
    -------
    dict
        The portfolio summary (status, message, objective, rules, sites with
        explanations) and ``features``: the chosen sites as GeoJSON.
    """
    if not 1 <= int(n) <= 200:
        raise ParameterError(f"n={n} must be within 1..200 sites")
    if not 0 <= float(min_spacing_m) <= 10_000:
        raise ParameterError(f"min_spacing_m={min_spacing_m} must be within 0..10000 m")
    out_crs = parse_crs(crs)
    sc = ws.scenario(scenario)
    prof = override_profile(measure, weights, constraints)
    run = ws.suitability(
        prof.name, sc, profile=prof, samples=200, choose=int(n), min_spacing_m=float(min_spacing_m)
    )
    result = run.portfolio
    body = result.to_dict(explanations=True)
    chosen = result.chosen.assign(fid=result.chosen["site_id"].astype(str))
    body["features"] = to_geojson(chosen, out_crs)["features"] if len(chosen) else []
    body.update(
        measure=prof.name,
        scenario=sc,
        crs=out_crs,
        weights=run.result.weights,
        notes=list(run.result.notes),
        notChecked=dict(run.result.not_checked),
    )
    return body


def geometry_from_geojson(
    body: Mapping[str, Any],
    crs: str | None = None,
    bounds: tuple[float, float, float, float] | None = None,
) -> BaseGeometry:
    """A polygon in EPSG:25832 from a GeoJSON geometry, Feature or FeatureCollection.

    Parameters
    ----------
    body : mapping
        The GeoJSON object.
    crs : str, optional
        Its CRS: CRS84 (default) or EPSG:25832.
    bounds : tuple of 4 float, optional
        Area bounds, to recognise swapped (lat, lon) positions.

    Raises
    ------
    GeometryError
        Not polygonal, empty, invalid, or not parseable.
    CRSError
        Coordinates that look like another CRS than ``crs``.
    """
    body_crs = CRS84_NAME if parse_crs(crs) == CRS84_URI else AREA_CRS
    kind = body.get("type")
    parsed: shapely.Geometry
    if kind == "Feature":
        parsed = geojson_geometry(body.get("geometry"))
    elif kind == "FeatureCollection":
        features = body.get("features")
        if not isinstance(features, list) or not all(isinstance(f, Mapping) for f in features):
            raise GeometryError("a FeatureCollection needs a list of Features in 'features'")
        parsed = shapely.union_all([geojson_geometry(f.get("geometry")) for f in features])
    else:
        parsed = geojson_geometry(body)
    geom = cast(BaseGeometry, parsed)
    if geom.is_empty or geom.geom_type not in ("Polygon", "MultiPolygon"):
        raise GeometryError(f"send a non-empty Polygon or MultiPolygon, got {geom.geom_type}")
    if not geom.is_valid:
        raise GeometryError(f"invalid polygon: {shapely.is_valid_reason(geom)}")
    check_coordinates(geom, body_crs, AREA_CRS, bounds, declare="crs=EPSG:25832")
    return cast(BaseGeometry, to_area_crs(geom, AREA_CRS)) if body_crs == CRS84_NAME else geom


def polygon_constraints_report(
    ws: Workspace,
    body: Mapping[str, Any],
    scenario: str | None = None,
    *,
    crs: str | None = None,
    name: str | None = None,
    max_area_km2: float = 25.0,
    lang: str = "da",
) -> dict[str, Any]:
    """Constraint report of a drawn polygon (GeoJSON in CRS84 by default), in ``lang``."""
    geom = geometry_from_geojson(body, crs, ws.bounds)
    xmin, ymin, xmax, ymax = ws.bounds
    if not geom.intersects(shapely.box(xmin, ymin, xmax, ymax)):
        raise GeometryError("the polygon lies outside the area")
    if geom.area > max_area_km2 * 1e6:
        from klimakort.errors import RequestTooLargeError

        raise RequestTooLargeError(
            f"the polygon covers {geom.area / 1e6:.1f} km²; the limit is {max_area_km2:g} km²"
        )
    return polygon_report(
        ws.cfg, ws.hz, geom, ws.scenario(scenario), name=name, sites=ws.stored_sites(), lang=lang
    )
