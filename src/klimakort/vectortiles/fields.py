"""Which attributes of each collection travel in its vector tiles.

Tiles carry ``fid`` plus a few fields useful for styling and identification; the
full attributes stay behind the features API (``/collections/{cid}/items/{fid}``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import pandas as pd

#: fields per collection, after ``fid`` (missing columns are skipped)
TILE_FIELDS: dict[str, tuple[str, ...]] = {
    "parcels": ("parcel_id", "area_m2", "land_use", "public"),
    "flooded_areas": ("bluespot_id", "depth_class", "label", "scenario"),
    "buildings": ("building_id", "use", "floors", "floor_level_m"),
    "local_plans": ("planid", "plannr", "plannavn", "status"),
    "heating_zones": ("zone",),
    "heating_mains": ("main_id", "zone"),
    "planned_sites": ("site_id", "measure", "name", "planned_year"),
    "bluespots": ("bluespot_id", "area_m2", "volume_m3", "max_depth_m"),
    "flowpaths": ("upstream_area_m2", "strahler"),
    "candidate_sites": ("site_id", "area_m2", "score", "base_rank", "chosen"),
    "public_land": ("name", "kind"),
    "institutions": ("name", "kind", "children"),
    "roads": ("road_id", "name"),
    "streams": ("stream_id", "name", "culvert"),
    "lakes": ("name",),
    "barriers": ("barrier_id", "kind", "crest_m"),
}
#: fields of a collection not listed above: up to this many short scalar columns
DEFAULT_FIELD_COUNT = 3
_SKIP = frozenset({"fid", "geometry", "synthetic"})


def tile_fields(cid: str, frame: pd.DataFrame) -> list[str]:
    """Columns of ``frame`` put in tiles of collection ``cid`` (``fid`` first)."""
    cols = (
        [c for c in frame.columns if c != frame.geometry.name]
        if hasattr(frame, "geometry")
        else list(frame.columns)
    )
    listed = TILE_FIELDS.get(cid)
    if listed is not None:
        chosen = [c for c in listed if c in cols]
    else:
        chosen = [
            c
            for c in cols
            if c not in _SKIP
            and (pd.api.types.is_numeric_dtype(frame[c]) or pd.api.types.is_string_dtype(frame[c]))
        ][:DEFAULT_FIELD_COUNT]
    return ["fid", *(c for c in chosen if c != "fid")]


def _scalar(v: Any) -> str | bool | int | float | None:
    """A value MVT can carry, or None for missing values."""
    if v is None:
        return None
    if hasattr(v, "item") and not isinstance(v, str | bytes):
        v = v.item()
    if isinstance(v, bool | int | str):
        return v
    if isinstance(v, float):
        return v if math.isfinite(v) else None
    if v is pd.NaT or v is pd.NA:
        return None
    return str(v)


def feature_properties(
    frame: pd.DataFrame, fields: Sequence[str]
) -> list[tuple[tuple[str, Any], ...]]:
    """``(key, value)`` pairs per row of ``frame`` (missing values left out)."""
    columns = [(name, frame[name].tolist()) for name in fields]
    out: list[tuple[tuple[str, Any], ...]] = []
    for i in range(len(frame)):
        row = []
        for name, values in columns:
            v = _scalar(values[i])
            if v is not None:
                row.append((name, v))
        out.append(tuple(row))
    return out
