"""Validation of planned sites sent by clients (pure: no file or network access).

A client sends a GeoJSON Feature whose geometry is in CRS84 (longitude, latitude) unless
its ``Content-Crs`` header names the area CRS (EPSG:25832). :func:`site_from_feature`
turns it into a :class:`~klimakort.sites.base.Site` in the area CRS, or raises a
klimakort error that names the problem and the fix. Invalid geometries are refused,
never silently repaired: a planner must see what the service stores.
"""

from __future__ import annotations

import functools
import json
import re
import tomllib
from collections.abc import Collection, Mapping
from importlib import resources
from typing import Any

import numpy as np
import shapely

from klimakort.errors import CRSError, GeometryError, ParameterError
from klimakort.io.crs_uri import CRS84, crs_uri, resolve_crs
from klimakort.io.geojson_input import (
    FAR_OUTSIDE_M,
    check_coordinates,
    geometry_from_geojson,
    to_area_crs,
    to_crs84,
)
from klimakort.sites.base import Site

#: URI of CRS84 (longitude, latitude on WGS 84), the GeoJSON default
CRS84_URI = CRS84
#: the properties a client may set
WRITABLE_PROPERTIES: tuple[str, ...] = ("site_id", "measure", "name", "planned_year")
#: properties a client may send back unchanged (derived by the service, ignored on input)
READ_ONLY_PROPERTIES: tuple[str, ...] = ("area_m2", "fid")
#: allowed range of ``planned_year``
YEAR_RANGE: tuple[int, int] = (2000, 2100)

#: how far a site may reach beyond the terrain bounds (round-off of reprojection, m)
INSIDE_TOLERANCE_M = 0.01

_SITE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._~-]{0,63}$")
_MAX_NAME = 200
_TYPE_NAMES = {
    0: "a Point",
    1: "a LineString",
    2: "a LinearRing",
    4: "a MultiPoint",
    5: "a MultiLineString",
    7: "a GeometryCollection",
}


# ---------------------------------------------------------------------- CRS


def parse_content_crs(header: str | None, area_crs: str) -> str:
    """The CRS of a request body from its ``Content-Crs`` header.

    Parameters
    ----------
    header : str or None
        The header value, e.g. ``<http://www.opengis.net/def/crs/EPSG/0/25832>``
        (angle brackets optional; ``EPSG:25832`` is accepted too). None or empty means
        CRS84.
    area_crs : str
        CRS of the area, the only projected CRS accepted.

    Returns
    -------
    str
        ``"OGC:CRS84"`` or ``area_crs``.

    Raises
    ------
    CRSError
        Any other CRS; the message lists the accepted values.
    """
    area_uri = crs_uri(area_crs)
    try:
        uri = resolve_crs(header, [CRS84_URI, area_uri], "Content-Crs")
    except ParameterError:
        raise CRSError(
            f"Content-Crs {header!r} is not supported; send coordinates in CRS84 (no header, "
            f"or Content-Crs: <{CRS84_URI}>) or in the area CRS (Content-Crs: <{area_uri}>)"
        ) from None
    return "OGC:CRS84" if uri == CRS84_URI else area_crs


def check_geometry(
    geom: shapely.Geometry, *, bounds: tuple[float, float, float, float] | None = None
) -> None:
    """Check a site outline in the area CRS.

    Parameters
    ----------
    geom : shapely geometry
        The outline.
    bounds : tuple of 4 float, optional
        Terrain bounds (xmin, ymin, xmax, ymax) the site must lie within.

    Raises
    ------
    GeometryError
        Not a (multi)polygon, empty, invalid (with GEOS's reason), zero area, or
        outside ``bounds`` (with the distance).
    """
    kind = shapely.get_type_id(geom)
    if geom is None or kind not in (3, 6):
        name = "nothing" if geom is None else _TYPE_NAMES.get(int(kind), "an unknown type")
        raise GeometryError(
            f"a planned site must be a Polygon or MultiPolygon, got {name}; draw the site's "
            "outline (tree rows too are drawn as narrow polygons)"
        )
    if shapely.is_empty(geom):
        raise GeometryError("the site's polygon is empty; draw the site's outline")
    if not shapely.is_valid(geom):
        raise GeometryError(
            f"the site's polygon is invalid ({shapely.is_valid_reason(geom)}); fix the "
            "outline (no self-intersections, holes inside their shell, closed rings) and "
            "send it again: the service does not repair sites"
        )
    if not shapely.area(geom) > 0.0:
        raise GeometryError("the site's polygon has zero area; draw an outline with an area")
    if bounds is not None:
        _check_inside(geom, bounds)


def _check_inside(geom: shapely.Geometry, bounds: tuple[float, float, float, float]) -> None:
    box = shapely.box(*bounds)
    tol = INSIDE_TOLERANCE_M
    xmin, ymin, xmax, ymax = bounds
    if shapely.covers(shapely.box(xmin - tol, ymin - tol, xmax + tol, ymax + tol), geom):
        return
    where = "({:.0f}, {:.0f}) - ({:.0f}, {:.0f})".format(*bounds)
    far = float(shapely.distance(box, shapely.points(shapely.get_coordinates(geom))).max())
    if not shapely.intersects(box, geom):
        gap = float(shapely.distance(box, geom))
        hint = (
            "; that far away the coordinates are probably in another CRS than declared"
            if gap > FAR_OUTSIDE_M
            else ""
        )
        raise GeometryError(
            f"the site lies {gap:,.0f} m outside the area's terrain {where}{hint}; draw it "
            "inside the area"
        )
    outside = float(shapely.area(shapely.difference(geom, box)))
    raise GeometryError(
        f"{outside:,.1f} m² of the site lie outside the area's terrain {where}, up to "
        f"{far:,.1f} m beyond its edge; draw the site inside the area"
    )


# ---------------------------------------------------------------------- attributes


@functools.cache
def known_measures() -> tuple[str, ...]:
    """Measure names a site may carry: the profile names and their aliases.

    Reads the built-in profile file (``klimakort/suitability/measures_default.toml``, the
    profiles :func:`klimakort.suitability.profiles.load_profiles` loads) directly, so that
    checking a site does not import the suitability stack (numba kernels, seconds).
    """
    text = resources.files("klimakort").joinpath("suitability", "measures_default.toml")
    profiles = tomllib.loads(text.read_text("utf-8")).get("profiles", {})
    aliases = (a for body in profiles.values() for a in body.get("aliases", []))
    return tuple(sorted({*profiles, *aliases}))


def check_measure(measure: object, measures: Collection[str] | None = None) -> str:
    """A known measure name; ParameterError lists the known ones."""
    known = tuple(measures) if measures is not None else known_measures()
    if measure is None or measure == "":
        raise ParameterError(
            f"property 'measure' is required; use one of {', '.join(sorted(known))}"
        )
    if not isinstance(measure, str) or measure not in known:
        raise ParameterError(f"unknown measure {measure!r}; use one of {', '.join(sorted(known))}")
    return measure


def check_year(year: object) -> int | None:
    """``planned_year`` as an int in :data:`YEAR_RANGE`, or None."""
    if year is None:
        return None
    if isinstance(year, float) and year.is_integer():
        year = int(year)
    if isinstance(year, bool) or not isinstance(year, int | np.integer):
        raise ParameterError(f"planned_year must be a whole year such as 2030, got {year!r}")
    lo, hi = YEAR_RANGE
    if not lo <= int(year) <= hi:
        raise ParameterError(f"planned_year {year} is outside {lo}..{hi}; give a year in range")
    return int(year)


def check_name(name: object) -> str | None:
    """``name`` as a stripped string of at most 200 characters, or None."""
    if name is None:
        return None
    if not isinstance(name, str):
        raise ParameterError(f"name must be text, got {type(name).__name__}")
    name = name.strip()
    if len(name) > _MAX_NAME:
        raise ParameterError(f"name has {len(name)} characters; shorten it to {_MAX_NAME}")
    return name or None


def check_site_id(site_id: object) -> str:
    """A site id: 1-64 letters, digits, ``.``, ``_``, ``~`` or ``-``, starting alphanumeric."""
    if not isinstance(site_id, str) or not _SITE_ID.match(site_id):
        raise ParameterError(
            f"site_id {site_id!r} is not allowed; use 1-64 letters, digits, '.', '_', '~' "
            "or '-' starting with a letter or digit (e.g. PS-12), or leave it out to have "
            "one generated"
        )
    return site_id


def check_site(
    site: Site,
    *,
    bounds: tuple[float, float, float, float] | None = None,
    measures: Collection[str] | None = None,
) -> Site:
    """Check every field of a site in the area CRS; returns it with its fields normalised."""
    check_geometry(site.geometry, bounds=bounds)
    return Site(
        site_id=None if site.site_id is None else check_site_id(site.site_id),
        measure=check_measure(site.measure, measures),
        name=check_name(site.name),
        planned_year=check_year(site.planned_year),
        geometry=site.geometry,
    )


# ---------------------------------------------------------------------- features


def _feature_site_id(
    feature: Mapping[str, Any], props: Mapping[str, Any], path_id: str | None
) -> str | None:
    fid = feature.get("id")
    pid = props.get("site_id")
    given = [str(v) for v in (fid, pid) if v is not None]
    if len(set(given)) > 1:
        raise ParameterError(
            f"the feature's id {fid!r} and its property site_id {pid!r} differ; send one "
            "of them, or the same value in both"
        )
    if path_id is not None:
        if given and given[0] != path_id:
            raise ParameterError(
                f"site_id {given[0]!r} in the body does not match {path_id!r} in the URL; "
                "a site's id cannot be changed (delete it and create a new one)"
            )
        return path_id
    return check_site_id(given[0]) if given else None


def site_from_feature(
    feature: Mapping[str, Any],
    *,
    area_crs: str,
    bounds: tuple[float, float, float, float] | None,
    content_crs: str | None = None,
    path_id: str | None = None,
    measures: Collection[str] | None = None,
) -> Site:
    """Validate a GeoJSON Feature sent by a client and return the site in the area CRS.

    Parameters
    ----------
    feature : mapping
        The Feature (``type``, ``geometry``, ``properties``, optional ``id``).
    area_crs : str
        CRS of the area (EPSG:25832).
    bounds : tuple of 4 float or None
        Terrain bounds in the area CRS; the site must lie inside.
    content_crs : str, optional
        The ``Content-Crs`` header (None = CRS84).
    path_id : str, optional
        The id in the URL of a PUT; the body's id, if any, must match it.
    measures : collection of str, optional
        Allowed measures (default :func:`known_measures`).

    Returns
    -------
    Site
        With ``site_id`` None when a POST leaves it to the store.

    Raises
    ------
    CRSError, GeometryError, ParameterError
        Naming the problem and the fix.
    """
    if feature.get("type") != "Feature":
        raise GeometryError(
            f"expected a GeoJSON Feature, got type {feature.get('type')!r}; wrap the "
            'geometry as {"type": "Feature", "geometry": ..., "properties": {...}}'
        )
    props = feature.get("properties") or {}
    if not isinstance(props, Mapping):
        raise ParameterError("the feature's properties must be a JSON object")
    unknown = sorted(set(props) - set(WRITABLE_PROPERTIES) - set(READ_ONLY_PROPERTIES))
    if unknown:
        raise ParameterError(
            f"unknown propert{'y' if len(unknown) == 1 else 'ies'} {', '.join(unknown)}; a "
            f"planned site has {', '.join(WRITABLE_PROPERTIES)}"
        )
    body_crs = parse_content_crs(content_crs, area_crs)
    geom = geometry_from_geojson(feature.get("geometry"))
    if not shapely.is_empty(geom):
        declare = f"the header Content-Crs: <{crs_uri(area_crs)}>"
        check_coordinates(geom, body_crs, area_crs, bounds, declare=declare)
    if body_crs == "OGC:CRS84":
        check_geometry(geom)  # report invalidity in the client's own coordinates
        geom = to_area_crs(geom, area_crs)
    site = Site(
        site_id=_feature_site_id(feature, props, path_id),
        measure=props.get("measure"),  # type: ignore[arg-type]  # checked below
        name=props.get("name"),
        planned_year=props.get("planned_year"),
        geometry=geom,
    )
    return check_site(site, bounds=bounds, measures=measures)


def site_to_feature(site: Site, area_crs: str, *, crs84: bool = True) -> dict[str, Any]:
    """A site as a GeoJSON Feature (geometry in CRS84 unless ``crs84=False``)."""
    geom = to_crs84(site.geometry, area_crs) if crs84 else site.geometry
    return {
        "type": "Feature",
        "id": site.site_id,
        "geometry": json.loads(shapely.to_geojson(geom)),
        "properties": site.properties(),
    }
