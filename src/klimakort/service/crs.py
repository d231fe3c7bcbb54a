"""CRS names accepted from users: CRS84 (lon, lat) and the area CRS (EPSG:25832)."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

import geopandas as gpd
from pyproj import CRS, Transformer

from klimakort.errors import CRSError

CRS84_URI = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG25832_URI = "http://www.opengis.net/def/crs/EPSG/0/25832"

_ALIASES = {
    "crs84": CRS84_URI,
    "ogc:crs84": CRS84_URI,
    "urn:ogc:def:crs:ogc:1.3:crs84": CRS84_URI,
    CRS84_URI.lower(): CRS84_URI,
    "epsg:4326": CRS84_URI,  # accepted as lon/lat, the GeoJSON convention
    "epsg:25832": EPSG25832_URI,
    "25832": EPSG25832_URI,
    "urn:ogc:def:crs:epsg::25832": EPSG25832_URI,
    EPSG25832_URI.lower(): EPSG25832_URI,
}


def parse_crs(name: str | None, *, default: str = CRS84_URI) -> str:
    """Canonical URI of a user-given CRS name.

    Accepts ``CRS84``/``EPSG:4326`` (longitude, latitude) and ``EPSG:25832`` in their
    short, URN and URI forms (angle brackets allowed, as in a ``Content-Crs`` header).

    Raises
    ------
    CRSError
        Any other CRS, naming the supported ones.
    """
    if name is None or not name.strip():
        return default
    key = name.strip().strip("<>").strip().lower()
    if key not in _ALIASES:
        raise CRSError(
            f"unsupported CRS {name!r}: use CRS84 (lon, lat; {CRS84_URI}) or "
            f"EPSG:25832 (ETRS89 / UTM 32N; {EPSG25832_URI})"
        )
    return _ALIASES[key]


@lru_cache(maxsize=8)
def _transformer(src: str, dst: str) -> Transformer:
    return Transformer.from_crs(_pyproj(src), _pyproj(dst), always_xy=True)


def _pyproj(uri: str) -> CRS:
    return CRS.from_user_input("OGC:CRS84" if uri == CRS84_URI else "EPSG:25832")


def to_area_xy(x: float, y: float, crs: str, area_crs: CRS) -> tuple[float, float]:
    """Transform a point given in ``crs`` (a canonical URI) to the area CRS."""
    if not CRS.from_user_input(area_crs).equals(CRS.from_epsg(25832)):
        raise CRSError(f"the area CRS {area_crs} is not EPSG:25832")
    if crs == EPSG25832_URI:
        return float(x), float(y)
    if not (-180.0 <= x <= 180.0 and -90.0 <= y <= 90.0):
        raise CRSError(f"({x}, {y}) is not a lon/lat position; send crs=EPSG:25832 for metres")
    ex, ey = _transformer(crs, EPSG25832_URI).transform(x, y)
    return float(ex), float(ey)


def to_geojson(gdf: gpd.GeoDataFrame, crs: str = CRS84_URI) -> dict[str, Any]:
    """A FeatureCollection of ``gdf`` in ``crs`` (NaN -> null; ``fid`` as feature id)."""
    out = gdf.to_crs("OGC:CRS84") if crs == CRS84_URI else gdf.to_crs(25832)
    fc: dict[str, Any] = json.loads(out.to_json(na="null", drop_id=True))
    if "fid" in gdf.columns:
        for feat in fc["features"]:
            feat["id"] = feat["properties"].pop("fid")
    return fc
