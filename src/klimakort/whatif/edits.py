"""Terrain edits of a what-if scenario: typed records and their validation.

An *edit* is one drawn measure:

* ``raise_to`` (line or polygon, ``level_m``): a dike or raised road; the terrain under it
  becomes ``max(terrain, level)``;
* ``raise_by`` (line or polygon, ``height_m``): the terrain is raised by the height;
* ``lower_by`` (line or polygon, ``depth_m``): a swale or channel, lowered by the depth;
* ``basin`` (polygon, ``depth_m`` or ``volume_m3``): a retention basin, the terrain inside
  lowered by the depth (a volume is spread evenly over the basin's cells);
* ``culvert`` (line, optional ``invert_start_m`` and ``invert_end_m``): opens a flow path
  along the line, to the invert levels interpolated along it, or, without them, down to a
  profile that never rises from the higher end to the lower end ("connect");
* ``remove_building`` (polygon or point): the buildings it touches are no longer burnt into
  the terrain.

Lines are rasterised with every touched cell (no diagonal gaps), optionally buffered to
``width_m``; polygons by cell centre. A *scenario edit* is a named set of edits.

Validation refuses rather than repairs, as for planned sites
(:mod:`klimakort.sites.validate`): a client sends GeoJSON in CRS84 (or the area CRS with
``Content-Crs``), and :func:`scenario_from_geojson` returns the edits in the area CRS or
raises a klimakort error that names the problem and the fix.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

import shapely

from klimakort.errors import GeometryError, ParameterError
from klimakort.io.crs_uri import crs_uri
from klimakort.io.geojson_input import (
    check_coordinates,
    geometry_from_geojson,
    to_area_crs,
    to_crs84,
)
from klimakort.sites.validate import INSIDE_TOLERANCE_M, check_name, parse_content_crs

EditKind = Literal["raise_to", "raise_by", "lower_by", "basin", "culvert", "remove_building"]
#: every edit kind
KINDS: tuple[str, ...] = get_args(EditKind)

#: numeric properties of each kind: name -> (required?, lower bound, upper bound)
_NUMBERS: dict[str, dict[str, tuple[bool, float, float]]] = {
    "raise_to": {"level_m": (True, -10.0, 200.0), "width_m": (False, 0.0, 200.0)},
    "raise_by": {"height_m": (True, 0.0, 30.0), "width_m": (False, 0.0, 200.0)},
    "lower_by": {"depth_m": (True, 0.0, 30.0), "width_m": (False, 0.0, 200.0)},
    "basin": {"depth_m": (False, 0.0, 30.0), "volume_m3": (False, 0.0, 1e8)},
    "culvert": {
        "invert_start_m": (False, -10.0, 200.0),
        "invert_end_m": (False, -10.0, 200.0),
        "width_m": (False, 0.0, 50.0),
    },
    "remove_building": {},
}
#: geometry types each kind accepts
_GEOMETRIES: dict[str, tuple[str, ...]] = {
    "raise_to": ("LineString", "MultiLineString", "Polygon", "MultiPolygon"),
    "raise_by": ("LineString", "MultiLineString", "Polygon", "MultiPolygon"),
    "lower_by": ("LineString", "MultiLineString", "Polygon", "MultiPolygon"),
    "basin": ("Polygon", "MultiPolygon"),
    "culvert": ("LineString",),
    "remove_building": ("Polygon", "MultiPolygon", "Point"),
}
_COMMON = ("kind", "name", "edit_id")
_EDIT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._~-]{0,63}$")
_SCENARIO_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._~()+:,-]{0,79}$")
#: most edits in one scenario
MAX_EDITS = 50

Bounds = tuple[float, float, float, float]

_TYPE_NAMES = {
    0: "Point",
    1: "LineString",
    2: "LinearRing",
    3: "Polygon",
    4: "MultiPoint",
    5: "MultiLineString",
    6: "MultiPolygon",
    7: "GeometryCollection",
}


def geometry_type(geom: shapely.Geometry | None) -> str | None:
    """The GeoJSON type name of a geometry (None for no geometry)."""
    if geom is None:
        return None
    return _TYPE_NAMES.get(int(shapely.get_type_id(geom)), "Unknown")


@dataclass(frozen=True)
class Edit:
    """One terrain edit in the area CRS.

    Attributes
    ----------
    kind : str
        One of :data:`KINDS`.
    geometry : shapely geometry
        Line, polygon or point (see the module docstring), area CRS.
    values : dict
        The kind's numeric properties (m, m³), e.g. ``{"level_m": 2.8, "width_m": 6}``.
    name : str or None
        Display name.
    edit_id : str or None
        Id within its scenario (``E1``, ``E2`` ... when left out).
    """

    kind: str
    geometry: shapely.Geometry
    values: dict[str, float] = field(default_factory=dict)
    name: str | None = None
    edit_id: str | None = None

    def value(self, key: str) -> float | None:
        """A numeric property, or None when not set."""
        return self.values.get(key)

    def properties(self) -> dict[str, Any]:
        """The edit as GeoJSON properties."""
        return {"edit_id": self.edit_id, "kind": self.kind, "name": self.name, **self.values}

    def to_feature(self, area_crs: str, *, crs84: bool = True) -> dict[str, Any]:
        """The edit as a GeoJSON Feature (geometry in CRS84 unless ``crs84=False``)."""
        geom = to_crs84(self.geometry, area_crs) if crs84 else self.geometry
        return {
            "type": "Feature",
            "id": self.edit_id,
            "geometry": json.loads(shapely.to_geojson(geom)),
            "properties": self.properties(),
        }


@dataclass(frozen=True)
class ScenarioEdit:
    """A named set of edits, evaluated for one climate scenario.

    Attributes
    ----------
    name : str
        Name of the set (e.g. ``"Dike in the beach-ridge gap"``).
    edits : tuple of Edit
        The edits, applied in order.
    scenario : str or None
        Climate scenario to evaluate (None: the area's default).
    """

    name: str
    edits: tuple[Edit, ...]
    scenario: str | None = None

    def to_geojson(self, area_crs: str, *, crs84: bool = True) -> dict[str, Any]:
        """The set as a FeatureCollection with ``name`` and ``scenario`` members."""
        return {
            "type": "FeatureCollection",
            "name": self.name,
            "scenario": self.scenario,
            "features": [e.to_feature(area_crs, crs84=crs84) for e in self.edits],
        }


# ---------------------------------------------------------------------- checks


def _number(kind: str, key: str, value: object, lo: float, hi: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ParameterError(f"{kind}: {key} must be a number of metres, got {value!r}")
    v = float(value)
    if not math.isfinite(v):
        raise ParameterError(f"{kind}: {key}={value!r} must be finite")
    strict_low = key not in ("level_m", "invert_start_m", "invert_end_m")
    if (v <= lo if strict_low else v < lo) or v > hi:
        op = ">" if strict_low else ">="
        raise ParameterError(f"{kind}: {key}={v:g} must be {op} {lo:g} and <= {hi:g}")
    return v


def check_values(kind: str, values: Mapping[str, object]) -> dict[str, float]:
    """The numeric properties of an edit of ``kind``, checked.

    Raises
    ------
    ParameterError
        Unknown kind, unknown or missing property, a value out of range, a basin without
        exactly one of depth and volume, a culvert with only one invert level.
    """
    if kind not in _NUMBERS:
        raise ParameterError(f"unknown edit kind {kind!r}; use one of {', '.join(KINDS)}")
    spec = _NUMBERS[kind]
    unknown = sorted(set(values) - set(spec))
    if unknown:
        allowed = ", ".join(spec) or "no numeric properties"
        raise ParameterError(
            f"{kind}: unknown propert{'y' if len(unknown) == 1 else 'ies'} "
            f"{', '.join(unknown)}; a {kind} edit has {allowed}"
        )
    out: dict[str, float] = {}
    for key, (required, lo, hi) in spec.items():
        raw = values.get(key)
        if raw is None:
            if required:
                raise ParameterError(f"{kind}: property {key!r} is required ({_HINTS[key]})")
            continue
        out[key] = _number(kind, key, raw, lo, hi)
    if kind == "basin" and (("depth_m" in out) == ("volume_m3" in out)):
        raise ParameterError(
            "basin: give exactly one of depth_m (m dug out) and volume_m3 (storage in m³)"
        )
    if kind == "culvert" and (("invert_start_m" in out) != ("invert_end_m" in out)):
        raise ParameterError(
            "culvert: give both invert_start_m and invert_end_m, or neither (the culvert then "
            "connects its ends on a profile that never rises downstream)"
        )
    return out


_HINTS = {
    "level_m": "the crest level in m DVR90",
    "height_m": "how much to raise, in m",
    "depth_m": "how much to lower, in m",
}


def check_edit_geometry(kind: str, geom: shapely.Geometry, bounds: Bounds | None) -> None:
    """Check an edit's geometry in the area CRS.

    Raises
    ------
    GeometryError
        Wrong type for the kind, empty, invalid (GEOS's reason), zero length or area, or
        not inside ``bounds``.
    """
    allowed = _GEOMETRIES[kind]
    gtype = geometry_type(geom)
    if gtype not in allowed:
        raise GeometryError(
            f"a {kind} edit must be a {' or '.join(allowed)}, got {gtype or 'nothing'}"
        )
    if shapely.is_empty(geom):
        raise GeometryError(f"the {kind} edit's geometry is empty; draw it on the map")
    if not shapely.is_valid(geom):
        raise GeometryError(
            f"the {kind} edit's geometry is invalid ({shapely.is_valid_reason(geom)}); fix "
            "it and send it again: the service does not repair edits"
        )
    assert gtype is not None
    if "Polygon" in gtype and not shapely.area(geom) > 0:
        raise GeometryError(f"the {kind} edit's polygon has zero area")
    if "Line" in gtype and not shapely.length(geom) > 0:
        raise GeometryError(f"the {kind} edit's line has zero length")
    if bounds is not None:
        xmin, ymin, xmax, ymax = bounds
        tol = INSIDE_TOLERANCE_M
        if not shapely.covers(shapely.box(xmin - tol, ymin - tol, xmax + tol, ymax + tol), geom):
            gap = float(shapely.distance(shapely.box(*bounds), geom))
            where = "({:.0f}, {:.0f}) - ({:.0f}, {:.0f})".format(*bounds)
            what = f"lies {gap:,.0f} m outside" if gap > 0 else "reaches outside"
            raise GeometryError(
                f"the {kind} edit {what} the area's terrain {where}; draw it inside the area"
            )


def check_edit(edit: Edit, bounds: Bounds | None = None) -> Edit:
    """Check every field of an edit in the area CRS; returns it with its fields normalised."""
    if edit.kind not in KINDS:
        raise ParameterError(f"unknown edit kind {edit.kind!r}; use one of {', '.join(KINDS)}")
    values = check_values(edit.kind, edit.values)
    check_edit_geometry(edit.kind, edit.geometry, bounds)
    if edit.edit_id is not None and not (
        isinstance(edit.edit_id, str) and _EDIT_ID.match(edit.edit_id)
    ):
        raise ParameterError(
            f"edit_id {edit.edit_id!r} is not allowed; use 1-64 letters, digits, '.', '_', "
            "'~' or '-' starting with a letter or digit, or leave it out"
        )
    return Edit(edit.kind, edit.geometry, values, check_name(edit.name), edit.edit_id)


def check_scenario_name(name: object) -> str:
    """A scenario-edit name: 1-80 letters, digits, spaces and ``._~()+:,-``."""
    if not isinstance(name, str) or not _SCENARIO_NAME.match(name.strip()):
        raise ParameterError(
            f"name {name!r} is not allowed; name the what-if with 1-80 letters, digits, "
            "spaces or ._~()+:,- starting with a letter or digit (e.g. 'Dike in the gap')"
        )
    return name.strip()


def check_scenario_edit(se: ScenarioEdit, bounds: Bounds | None = None) -> ScenarioEdit:
    """Check a whole set: name, 1..:data:`MAX_EDITS` edits, unique ids (``E<n>`` generated)."""
    if not se.edits:
        raise ParameterError("the what-if has no edits; draw at least one")
    if len(se.edits) > MAX_EDITS:
        raise ParameterError(f"the what-if has {len(se.edits)} edits; send at most {MAX_EDITS}")
    edits = [check_edit(e, bounds) for e in se.edits]
    given = [e.edit_id for e in edits if e.edit_id is not None]
    if len(set(given)) != len(given):
        dup = sorted({i for i in given if given.count(i) > 1})
        raise ParameterError(f"edit ids must be unique within a what-if; repeated: {dup}")
    out, n = [], 0
    for e in edits:
        if e.edit_id is None:
            n += 1
            while f"E{n}" in given:
                n += 1
            e = Edit(e.kind, e.geometry, e.values, e.name, f"E{n}")
        out.append(e)
    scenario = se.scenario if se.scenario not in ("", None) else None
    if scenario is not None and not isinstance(scenario, str):
        raise ParameterError(f"scenario must be a scenario name such as '2100', got {scenario!r}")
    return ScenarioEdit(check_scenario_name(se.name), tuple(out), scenario)


# ---------------------------------------------------------------------- GeoJSON


def edit_from_feature(
    feature: Mapping[str, Any],
    *,
    area_crs: str,
    bounds: Bounds | None,
    content_crs: str | None = None,
) -> Edit:
    """Validate one GeoJSON Feature of a client and return the edit in the area CRS.

    Raises
    ------
    CRSError, GeometryError, ParameterError
        Naming the problem and the fix.
    """
    if not isinstance(feature, Mapping) or feature.get("type") != "Feature":
        got = feature.get("type") if isinstance(feature, Mapping) else type(feature).__name__
        raise GeometryError(f"expected a GeoJSON Feature, got {got!r}")
    props = feature.get("properties") or {}
    if not isinstance(props, Mapping):
        raise ParameterError("the feature's properties must be a JSON object")
    kind = props.get("kind")
    if kind not in KINDS:
        raise ParameterError(f"property 'kind' must be one of {', '.join(KINDS)}, got {kind!r}")
    body_crs = parse_content_crs(content_crs, area_crs)
    geom = geometry_from_geojson(feature.get("geometry"))
    if not shapely.is_empty(geom):
        declare = f"the header Content-Crs: <{crs_uri(area_crs)}>"
        check_coordinates(geom, body_crs, area_crs, bounds, declare=declare)
    if body_crs == "OGC:CRS84":
        check_edit_geometry(str(kind), geom, None)  # report invalidity in the client's CRS
        geom = to_area_crs(geom, area_crs)
    values = {k: v for k, v in props.items() if k not in _COMMON and v is not None}
    fid = feature.get("id", props.get("edit_id"))
    return check_edit(
        Edit(
            kind=str(kind),
            geometry=geom,
            values=values,  # checked by check_edit
            name=props.get("name"),
            edit_id=None if fid is None else str(fid),
        ),
        bounds,
    )


def scenario_from_geojson(
    body: Mapping[str, Any],
    *,
    area_crs: str,
    bounds: Bounds | None,
    content_crs: str | None = None,
    name: str | None = None,
    scenario: str | None = None,
) -> ScenarioEdit:
    """Validate a FeatureCollection of edits (members ``name`` and ``scenario`` optional).

    Parameters
    ----------
    body : mapping
        ``{"type": "FeatureCollection", "name": ..., "scenario": ..., "features": [...]}``.
    area_crs : str
        CRS of the area.
    bounds : tuple of 4 float or None
        Terrain bounds; every edit must lie inside.
    content_crs : str, optional
        The ``Content-Crs`` header (None = CRS84).
    name, scenario : str, optional
        Override the body's members.

    Raises
    ------
    CRSError, GeometryError, ParameterError
        The first problem found, with the feature's position in the message.
    """
    if not isinstance(body, Mapping) or body.get("type") != "FeatureCollection":
        raise GeometryError(
            "send the edits as a GeoJSON FeatureCollection, each feature with a property "
            "'kind' (raise_to, raise_by, lower_by, basin, culvert, remove_building)"
        )
    features = body.get("features")
    if not isinstance(features, Sequence) or isinstance(features, str | bytes):
        raise GeometryError("the FeatureCollection's 'features' must be a list")
    edits = []
    for i, feat in enumerate(features):
        try:
            edits.append(
                edit_from_feature(feat, area_crs=area_crs, bounds=bounds, content_crs=content_crs)
            )
        except (GeometryError, ParameterError) as exc:
            raise type(exc)(f"feature {i}: {exc}") from None
    return check_scenario_edit(
        ScenarioEdit(
            name=name if name is not None else body.get("name", "what-if"),
            edits=tuple(edits),
            scenario=scenario if scenario is not None else body.get("scenario"),
        ),
        bounds,
    )
