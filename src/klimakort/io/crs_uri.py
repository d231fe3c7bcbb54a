"""CRS names users send, as OGC URIs: ``CRS84`` (lon, lat) and EPSG codes (EPSG:25832).

One place resolves the names a request may use for a CRS (the OGC URI, a safe-CURIE
``[EPSG:25832]``, a URN, or ``EPSG:25832`` / ``OGC:CRS84`` / ``CRS84``) against the CRSs a
service supports. ``EPSG:4326`` is not an alias of CRS84: its axis order is lat, lon.
"""

from __future__ import annotations

from pyproj import CRS

from klimakort.errors import ParameterError

#: OGC URI of WGS 84 longitude/latitude (the GeoJSON default)
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"


def crs_uri(crs: CRS | str) -> str:
    """OGC URI of a CRS (``http://www.opengis.net/def/crs/EPSG/0/25832``)."""
    crs = CRS.from_user_input(crs)
    if crs.equals(CRS.from_user_input("OGC:CRS84")):
        return CRS84
    epsg = crs.to_epsg()
    if epsg is None:
        raise ParameterError(f"the CRS {crs.name!r} has no EPSG code to name it by")
    return f"http://www.opengis.net/def/crs/EPSG/0/{epsg}"


def supported_crs(storage: CRS | str) -> list[str]:
    """URIs of the CRSs a collection is served in: CRS84 and the storage CRS."""
    return [CRS84, crs_uri(storage)]


def _names(uri: str) -> set[str]:
    if uri == CRS84:
        short, urn = "OGC:CRS84", "urn:ogc:def:crs:OGC:1.3:CRS84"
    else:
        code = uri.rsplit("/", 1)[-1]
        short, urn = f"EPSG:{code}", f"urn:ogc:def:crs:EPSG::{code}"
    return {n.lower() for n in (uri, short, short.split(":", 1)[1], urn)}


def resolve_crs(value: str | None, supported: list[str], param: str = "crs") -> str:
    """The supported URI that ``value`` names (default: the first, CRS84).

    Raises
    ------
    ParameterError
        ``value`` names none of ``supported`` (the message lists them).
    """
    if value is None or value.strip() == "":
        return supported[0]
    v = value.strip().strip("<>").strip("[]").lower().replace("https://", "http://")
    for uri in supported:
        if v in _names(uri) or v.rstrip("/") in _names(uri):
            return uri
    raise ParameterError(f"{param}={value!r} is not supported; use one of: {', '.join(supported)}")
