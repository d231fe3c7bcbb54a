"""CRS of user input to the service: CRS84 (lon, lat) or the area CRS (EPSG:25832)."""

from __future__ import annotations

import json
from typing import Any

import geopandas as gpd
from pyproj import CRS

from klimakort.errors import CRSError, ParameterError
from klimakort.io.crs_uri import CRS84, resolve_crs
from klimakort.io.geojson_input import transformer

CRS84_URI = CRS84
EPSG25832_URI = "http://www.opengis.net/def/crs/EPSG/0/25832"
_SUPPORTED = [CRS84, EPSG25832_URI]  # what supported_crs("EPSG:25832") gives


def parse_crs(name: str | None, *, param: str = "crs") -> str:
    """Canonical URI of a user-given CRS name (default CRS84).

    Accepts CRS84 and EPSG:25832 in their short, URN, CURIE and URI forms (see
    :func:`klimakort.io.crs_uri.resolve_crs`).

    Raises
    ------
    CRSError
        Any other CRS, naming the supported ones.
    """
    try:
        return resolve_crs(name, _SUPPORTED, param)
    except ParameterError as exc:
        raise CRSError(f"{exc} (CRS84 = lon, lat; EPSG:25832 = ETRS89 / UTM 32N)") from None


def to_area_xy(x: float, y: float, crs: str, area_crs: CRS) -> tuple[float, float]:
    """Transform a point given in ``crs`` (a canonical URI) to the area CRS (EPSG:25832)."""
    if not CRS.from_user_input(area_crs).equals(CRS.from_epsg(25832)):
        raise CRSError(f"the area CRS {area_crs} is not EPSG:25832")
    if crs == EPSG25832_URI:
        return float(x), float(y)
    if not (-180.0 <= x <= 180.0 and -90.0 <= y <= 90.0):
        raise CRSError(f"({x}, {y}) is not a lon/lat position; send crs=EPSG:25832 for metres")
    ex, ey = transformer(crs, EPSG25832_URI).transform(x, y)
    return float(ex), float(ey)


def to_geojson(gdf: gpd.GeoDataFrame, crs: str = CRS84) -> dict[str, Any]:
    """A FeatureCollection of ``gdf`` in ``crs`` (NaN -> null; ``fid`` as feature id)."""
    out = gdf.to_crs("OGC:CRS84") if crs == CRS84 else gdf.to_crs(25832)
    fc: dict[str, Any] = json.loads(out.to_json(na="null", drop_id=True))
    if "fid" in gdf.columns:
        for feat in fc["features"]:
            feat["id"] = feat["properties"].pop("fid")
    return fc
