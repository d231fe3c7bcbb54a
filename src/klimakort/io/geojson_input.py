"""Geometries users send as GeoJSON: parsing, wrong-CRS detection and CRS84 <-> area CRS.

A request body is CRS84 (longitude, latitude) unless it declares the area CRS. Sending
metres as degrees, degrees as metres, or latitude before longitude is common, and each
gets an error that says so instead of a geometry kilometres away.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

import numpy as np
import shapely
from pyproj import CRS, Transformer

from klimakort.errors import CRSError, GeometryError

#: a geometry further than this from the area is almost certainly in the wrong CRS (m)
FAR_OUTSIDE_M = 50_000.0
#: how a body declares CRS84 (the default) and the area CRS
CRS84_NAME = "OGC:CRS84"


@lru_cache(maxsize=32)
def transformer(src: str, dst: str) -> Transformer:
    """A cached x/y-ordered (lon, lat) transformer between two CRS names or URIs.

    Creating one costs tens of ms; pyproj (>= 3.1) transformers are thread-safe, so one
    per pair serves every request.
    """
    return Transformer.from_crs(CRS.from_user_input(src), CRS.from_user_input(dst), always_xy=True)


def _apply(geom: shapely.Geometry, tr: Transformer) -> shapely.Geometry:
    def fn(xy: np.ndarray) -> np.ndarray:
        x, y = tr.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(geom, fn)


def to_area_crs(geom: shapely.Geometry, area_crs: str) -> shapely.Geometry:
    """A CRS84 geometry in the area CRS."""
    return _apply(geom, transformer(CRS84_NAME, area_crs))


def to_crs84(geom: shapely.Geometry, area_crs: str) -> shapely.Geometry:
    """An area-CRS geometry in CRS84 (longitude, latitude)."""
    return _apply(geom, transformer(area_crs, CRS84_NAME))


def geometry_from_geojson(obj: Mapping[str, Any] | None) -> shapely.Geometry:
    """A shapely geometry from a GeoJSON geometry object (2-D; Z is dropped).

    Raises
    ------
    GeometryError
        Missing or malformed geometry.
    """
    if obj is None:
        raise GeometryError("the feature has no geometry; send a Polygon or MultiPolygon")
    try:
        geom = shapely.geometry.shape(dict(obj))
    except (ValueError, TypeError, KeyError, AttributeError, IndexError) as exc:
        raise GeometryError(f"malformed GeoJSON geometry: {exc}") from None
    except shapely.errors.ShapelyError as exc:
        raise GeometryError(f"malformed GeoJSON geometry: {exc}") from None
    return shapely.force_2d(geom)


def _looks_like_degrees(xy: np.ndarray) -> bool:
    return bool(np.all(np.abs(xy[:, 0]) <= 180.0) and np.all(np.abs(xy[:, 1]) <= 90.0))


def check_coordinates(
    geom: shapely.Geometry,
    body_crs: str,
    area_crs: str,
    bounds: tuple[float, float, float, float] | None,
    *,
    declare: str,
) -> None:
    """Refuse coordinates that look like another CRS than the one declared.

    Parameters
    ----------
    geom : shapely geometry
        As sent.
    body_crs : str
        ``"OGC:CRS84"`` or ``area_crs``: what the request declared.
    area_crs : str
        The area CRS.
    bounds : tuple of 4 float, optional
        Area bounds; with them, swapped (lat, lon) positions are recognised.
    declare : str
        How the client declares the area CRS, for the message (e.g. a header or a
        query parameter).

    Raises
    ------
    CRSError
        Metres declared as degrees, degrees declared as metres, or swapped axes.
    GeometryError
        Non-finite coordinates.
    """
    xy = shapely.get_coordinates(geom)
    if not np.all(np.isfinite(xy)):
        raise GeometryError("the geometry has non-finite coordinates (NaN or infinity)")
    x0, y0 = (float(v) for v in xy[0])
    if body_crs == CRS84_NAME:
        if not _looks_like_degrees(xy):
            raise CRSError(
                f"coordinates such as ({x0:.6g}, {y0:.6g}) are not longitude/latitude in "
                f"degrees; they look like projected metres. Send them with {declare} "
                "or convert them to CRS84"
            )
        if bounds is not None and _swapped(xy, area_crs, bounds):
            raise CRSError(
                f"coordinates such as ({x0:.6g}, {y0:.6g}) look like (latitude, longitude); "
                "GeoJSON wants longitude first: swap the two numbers of every position"
            )
    elif _looks_like_degrees(xy):
        raise CRSError(
            f"coordinates such as ({x0:.6g}, {y0:.6g}) look like longitude/latitude in "
            f"degrees, not metres of {area_crs}; send them as CRS84 (without {declare}) "
            "or convert them to the area CRS"
        )


def _swapped(xy: np.ndarray, area_crs: str, bounds: tuple[float, float, float, float]) -> bool:
    """Whether the lon/lat positions only fall inside the area after swapping the axes."""
    box = shapely.box(*bounds)
    t = transformer(CRS84_NAME, area_crs)
    cx, cy = (float(v) for v in xy.mean(axis=0))
    if abs(cx) > 90.0:  # cannot be a latitude
        return False
    as_given = shapely.Point(*t.transform(cx, cy))
    swapped = shapely.Point(*t.transform(cy, cx))
    return bool(box.distance(as_given) > FAR_OUTSIDE_M and box.distance(swapped) < 1_000.0)
