"""GeoJSON encoding of feature frames, fast enough for pages of thousands of features.

Geometries are written by GEOS (:func:`shapely.to_geojson`, vectorised) and properties
by :func:`json.dumps` per row after one pass per column that turns missing values
(NaN, NA, NaT, infinities) into ``null`` and timestamps into ISO 8601 text. The
feature ``id`` is the ``fid`` column, which is left out of the properties.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

#: media type of GeoJSON responses
GEOJSON = "application/geo+json"


def _default(value: Any) -> Any:
    """JSON for values :func:`json.dumps` does not know (numpy scalars, timestamps...)."""
    if isinstance(value, np.generic):
        item = value.item()
        if isinstance(item, float) and not np.isfinite(item):
            return None
        return item
    if isinstance(value, (pd.Timestamp, np.datetime64)):
        return pd.Timestamp(value).isoformat()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray)):
        return value.hex()
    return str(value)


def _column_values(col: pd.Series) -> list[Any]:
    """Values of a column as JSON-ready Python objects (missing -> None)."""
    dt = col.dtype
    if pd.api.types.is_datetime64_any_dtype(dt):
        missing = col.isna().to_numpy()
        iso = [t.isoformat() for t in col.dt.to_pydatetime()] if len(col) else []
        return [None if m else v for v, m in zip(iso, missing, strict=True)]
    if isinstance(dt, np.dtype) and dt.kind in "biu":
        return col.to_numpy().tolist()
    if isinstance(dt, np.dtype) and dt.kind == "f":
        arr = col.to_numpy()
        values = arr.tolist()
        bad = ~np.isfinite(arr)
        if bad.any():
            for i in np.flatnonzero(bad).tolist():
                values[i] = None
        return values
    series: Any = col  # pandas-stubs do not allow na_value=None
    out: list[Any] = series.to_numpy(dtype=object, na_value=None).tolist()
    return out


def property_records(frame: pd.DataFrame, exclude: Sequence[str] = ()) -> list[dict[str, Any]]:
    """Rows of ``frame`` (geometry, ``fid`` and ``exclude`` left out) as JSON-ready dicts."""
    geom = frame.geometry.name if isinstance(frame, gpd.GeoDataFrame) else None
    names = [c for c in frame.columns if c not in ("fid", geom, *exclude)]
    if not names:
        return [{} for _ in range(len(frame))]
    columns = [_column_values(frame[c]) for c in names]
    keys = [str(c) for c in names]
    return [dict(zip(keys, row, strict=True)) for row in zip(*columns, strict=True)]


def _dumps(value: Any) -> str:
    return json.dumps(
        value, ensure_ascii=False, allow_nan=False, default=_default, separators=(",", ":")
    )


_WKT_TYPES = {
    "POINT": "Point",
    "MULTIPOINT": "MultiPoint",
    "LINESTRING": "LineString",
    "MULTILINESTRING": "MultiLineString",
    "POLYGON": "Polygon",
    "MULTIPOLYGON": "MultiPolygon",
}


def _rewrite(bodies: list[str], points: bool) -> list[str]:
    """GeoJSON coordinate arrays from WKT bodies (``((x y, x y), (...))``), all in one
    joined string so that the rewriting runs as a few C-level passes."""
    if not bodies:
        return []
    text = "\n".join(bodies)
    text = text.replace("), (", ")|(").replace(", ", "],[").replace(" ", ",").replace("|", ",")
    if points:  # each coordinate has its own brackets already
        return text.replace("(", "[").replace(")", "]").split("\n")
    # the innermost brackets (not next to another bracket of the same kind) open and
    # close a coordinate list, and get one more bracket for its first/last coordinate
    opened = text.split("(")
    text = opened[0] + "".join(("[[" if p else "[") + p for p in opened[1:])
    closed = text.split(")")
    return ("".join(p + ("]]" if p else "]") for p in closed[:-1]) + closed[-1]).split("\n")


def geometry_strings(geoms: np.ndarray, decimals: int) -> list[str]:
    """GeoJSON geometry texts with coordinates rounded to ``decimals`` (trailing zeros
    trimmed), rewritten from GEOS's WKT, which rounds exactly (its GeoJSON writer
    prints 17 significant digits). Collections and Z/M geometries are written by GEOS.
    """
    if len(geoms) == 0:
        return []
    wkt = shapely.to_wkt(geoms, rounding_precision=decimals, trim=True).tolist()
    out: list[str] = ["null"] * len(wkt)
    groups: dict[bool, tuple[list[int], list[str]]] = {True: ([], []), False: ([], [])}
    for i, w in enumerate(wkt):
        if w is None:
            continue
        name, _, body = w.partition(" ")
        kind = _WKT_TYPES.get(name)
        if kind is not None and body == "EMPTY":
            out[i] = f'{{"type":"{kind}","coordinates":[]}}'
        elif kind is None or not body.startswith("(") or "EMPTY" in body:
            out[i] = str(shapely.to_geojson(geoms[i]))
        else:
            out[i] = kind
            # points (and MULTIPOINT ((x y), ...)) have one bracket per coordinate already
            key = kind == "Point" or (kind == "MultiPoint" and body.startswith("(("))
            groups[key][0].append(i)
            groups[key][1].append(body)
    for points, (rows, bodies) in groups.items():
        for i, coords in zip(rows, _rewrite(bodies, points), strict=True):
            out[i] = f'{{"type":"{out[i]}","coordinates":{coords}}}'
    return out


_GEOM_SLOT = "\x00klimakort:geometry\x00"


def _decimals(frame: gpd.GeoDataFrame, decimals: int | None) -> int:
    if decimals is not None:
        return decimals
    return 7 if frame.crs is not None and frame.crs.is_geographic else 3


def features_json(frame: gpd.GeoDataFrame, decimals: int | None = None) -> str:
    """The rows of ``frame`` as a JSON array of GeoJSON Features (text).

    Parameters
    ----------
    frame : GeoDataFrame
        Features with a text ``fid`` column (the feature ``id``, left out of the
        properties), in the output CRS.
    decimals : int, optional
        Decimals of the coordinates (default 7 for geographic CRSs, 3 otherwise).

    Returns
    -------
    str
        ``[{"type":"Feature","id":...,"geometry":...,"properties":{...}}, ...]``;
        missing values are ``null``.
    """
    geoms = geometry_strings(np.asarray(frame.geometry.array), _decimals(frame, decimals))
    ids = frame["fid"].astype(str).tolist()
    records = property_records(frame)
    feats = [
        {"type": "Feature", "id": fid, "geometry": _GEOM_SLOT, "properties": props}
        for fid, props in zip(ids, records, strict=True)
    ]
    # one C-level dump, then the geometry texts go into their slots
    parts = _dumps(feats).split(_dumps(_GEOM_SLOT))
    if len(parts) != len(geoms) + 1:  # a property held the slot marker itself
        return "[" + ",".join(feature_strings(frame, decimals)) + "]"
    out = [parts[0]]
    for g, rest in zip(geoms, parts[1:], strict=True):
        out += (g, rest)
    return "".join(out)


def feature_strings(frame: gpd.GeoDataFrame, decimals: int | None = None) -> list[str]:
    """One GeoJSON Feature text per row of ``frame`` (see :func:`features_json`)."""
    geoms = geometry_strings(np.asarray(frame.geometry.array), _decimals(frame, decimals))
    ids = frame["fid"].astype(str).tolist()
    records = property_records(frame)
    return [
        f'{{"type":"Feature","id":{_dumps(fid)},"geometry":{g},"properties":{_dumps(props)}}}'
        for fid, g, props in zip(ids, geoms, records, strict=True)
    ]


def feature_json(frame: gpd.GeoDataFrame, links: list[dict[str, Any]] | None = None) -> str:
    """The first row of ``frame`` as a GeoJSON Feature text (with ``links`` if given)."""
    text = feature_strings(frame.iloc[:1])[0]
    if links is None:
        return text
    return text[:-1] + f',"links":{_dumps(links)}}}'


def feature_collection_json(features: str, **members: Any) -> str:
    """A FeatureCollection text from a features array text (:func:`features_json`)
    plus top-level ``members`` (``numberMatched``, ``links``, ...), in the order given."""
    extra = "".join(f",{_dumps(k)}:{_dumps(v)}" for k, v in members.items())
    return '{"type":"FeatureCollection","features":' + features + extra + "}"
