"""Queryables of a collection: a JSON Schema (2020-12) of its properties.

Types follow the GeoDataFrame dtypes; text columns with few distinct values list them
as an ``enum`` (e.g. the ``scenario`` of flooded areas), which also tells a client
what to filter on.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import pandas as pd

from klimakort.features.cql2 import GEOMETRY
from klimakort.features.query import queryable_columns

JSON_SCHEMA_2020_12 = "https://json-schema.org/draft/2020-12/schema"
#: media type of the queryables document
SCHEMA_JSON = "application/schema+json"
#: text columns with at most this many distinct values get an ``enum``
MAX_ENUM = 12


def property_schema(col: pd.Series) -> dict[str, Any]:
    """JSON Schema of one column (type from the dtype; ``enum`` for short text lists)."""
    dt = col.dtype
    schema: dict[str, Any]
    if pd.api.types.is_bool_dtype(dt):
        schema = {"type": "boolean"}
    elif pd.api.types.is_integer_dtype(dt):
        schema = {"type": "integer"}
    elif pd.api.types.is_numeric_dtype(dt):
        schema = {"type": "number"}
    elif pd.api.types.is_datetime64_any_dtype(dt):
        schema = {"type": "string", "format": "date-time"}
    else:
        schema = {"type": "string"}
        values = col.dropna().unique()
        if 0 < len(values) <= MAX_ENUM and len(col) > len(values):
            schema["enum"] = sorted(str(v) for v in values)
    if col.isna().any():
        schema["type"] = [schema["type"], "null"]
    return schema


def queryables(
    frame: gpd.GeoDataFrame, *, schema_id: str, title: str, description: str = ""
) -> dict[str, Any]:
    """The queryables document of a collection.

    Parameters
    ----------
    frame : GeoDataFrame
        The features (``fid`` and the geometry are not queryable as properties).
    schema_id : str
        URL of the document (``$id``).
    title, description : str
        Of the collection.

    Returns
    -------
    dict
        JSON Schema 2020-12 with one entry per property, and ``geometry`` (the primary
        geometry, for the spatial functions: ``S_INTERSECTS(geometry, ...)``).
    """
    props: dict[str, Any] = {
        GEOMETRY: {
            "title": "Geometri (geometry)",
            "format": "geometry-any",
            "x-ogc-role": "primary-geometry",
        }
    }
    props |= {
        name: {"title": name, **property_schema(frame[name])} for name in queryable_columns(frame)
    }
    return {
        "$schema": JSON_SCHEMA_2020_12,
        "$id": schema_id,
        "type": "object",
        "title": title,
        "description": description,
        "properties": props,
        "additionalProperties": False,
    }
