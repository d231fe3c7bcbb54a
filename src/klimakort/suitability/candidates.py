"""Candidate sites: contiguous suitable regions that are wide and large enough, scored.

A region qualifies when it survives a morphological opening with a disc of diameter
``min_width_m`` (so every part of it lies inside a disc of that diameter that fits in the
suitable area) and, after that, covers at least ``min_area_m2``. Each region becomes a
polygon (4-connected cells, EPSG of the grid) with per-criterion and per-constraint
columns and a JSON explanation.

Columns
-------
``site_id``, ``area_m2``, ``score`` (sum of ``contrib_*``), ``mean_score`` (mean of the
weighted score raster), ``value_<c>``, ``score_<c>``, ``weight_<c>``, ``contrib_<c>`` per
criterion, ``ok_<k>`` / ``val_<k>`` per hard constraint (plus ``min_area`` and
``min_width``), ``explanation``.

The explanation (JSON) also lists ``not_checked`` (constraint -> why: its layer is
missing), ``dropped_criteria`` and ``notes``; ``gdf.attrs["notes"]`` holds the notes too.
"""

from __future__ import annotations

import json
import math
from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import shapely
from rasterio import features
from scipy import ndimage

from klimakort.errors import ParameterError
from klimakort.io.raster import cell_size
from klimakort.suitability.raster import CONSTRAINT_UNITS, SuitabilityResult

#: how a constraint's cell values are summarised over a site (worst case)
_AGGREGATE: dict[str, str] = {
    "terrain": "min",
    "public_land": "min",
    "buildings": "max",
    "heating_mains": "min",
    "protected_nature": "max",
    "bluespot_depth": "max",
    "groundwater_depth": "min",
    "contaminated_soil": "max",
    "near_water": "max",
}

_FOUR = ndimage.generate_binary_structure(2, 1)


def disc(diameter_m: float, cell_m: float) -> npt.NDArray[np.bool_]:
    """Disc footprint ``n x n`` cells, ``n = ceil(diameter / cell)``.

    Cells whose centre lies within ``n/2`` cells of the footprint centre are set, so a
    strip narrower than ``diameter_m`` can never contain it.
    """
    if diameter_m <= 0 or cell_m <= 0:
        raise ParameterError(f"disc diameter {diameter_m} m and cell {cell_m} m must be > 0")
    n = max(1, math.ceil(diameter_m / cell_m - 1e-6))
    c = np.arange(n) + 0.5 - n / 2.0
    return np.asarray((c[:, None] ** 2 + c[None, :] ** 2) <= (n / 2.0) ** 2 + 1e-9)


def wide_enough(
    mask: npt.NDArray[np.bool_], min_width_m: float, cell_m: float
) -> npt.NDArray[np.bool_]:
    """Morphological opening of ``mask`` with :func:`disc` of ``min_width_m``."""
    fp = disc(min_width_m, cell_m)
    if fp.shape == (1, 1):
        return mask.copy()
    return np.asarray(ndimage.binary_opening(mask, structure=fp))


def _per_site(
    values: npt.NDArray[Any], labels: npt.NDArray[np.int32], n: int, how: str
) -> npt.NDArray[np.float64]:
    """Per-label aggregate (1..n) ignoring NaN; NaN where a site has no finite value."""
    v = np.asarray(values, dtype=float).ravel()
    lab = labels.ravel()
    sel = (lab > 0) & np.isfinite(v)
    out = np.full(n + 1, np.nan)
    if how == "mean":
        s = np.bincount(lab[sel], weights=v[sel], minlength=n + 1)
        c = np.bincount(lab[sel], minlength=n + 1)
        with np.errstate(invalid="ignore", divide="ignore"):
            out = np.where(c > 0, s / np.maximum(c, 1), np.nan)
    elif how == "min":
        np.fmin.at(out, lab[sel], v[sel])
    else:
        np.fmax.at(out, lab[sel], v[sel])
    return out[1:]


def _polygons(labels: npt.NDArray[np.int32], transform: Any, n: int) -> list[Any]:
    parts: list[list[Any]] = [[] for _ in range(n)]
    for geom, value in features.shapes(
        labels, mask=labels > 0, transform=transform, connectivity=4
    ):
        parts[int(value) - 1].append(shapely.geometry.shape(geom))
    return [shapely.union_all(p) if len(p) > 1 else p[0] for p in parts]


def _label(
    result: SuitabilityResult, min_area_m2: float, min_width_m: float
) -> tuple[npt.NDArray[np.int32], int, float]:
    dx, dy = cell_size(result.score)
    if not math.isclose(dx, dy, rel_tol=1e-6):
        raise ParameterError(f"candidate sites need square cells, got {dx} x {dy} m")
    ok = result.mask.values & np.isfinite(result.score.values)
    opened = wide_enough(ok, min_width_m, dx)
    labels, n = ndimage.label(opened, structure=_FOUR)
    counts = np.bincount(labels.ravel(), minlength=n + 1)
    keep = counts * dx * dy >= min_area_m2 - 1e-6
    keep[0] = False
    remap = np.zeros(n + 1, dtype=np.int32)
    remap[keep] = np.arange(1, int(keep.sum()) + 1, dtype=np.int32)
    return remap[labels], int(keep.sum()), dx


def _heating_distance(
    result: SuitabilityResult, geoms: list[Any]
) -> npt.NDArray[np.float64] | None:
    inp = result.inputs
    if inp is None or "heating_mains" not in result.constraints:
        return None
    mains = inp.layers.get("heating_mains")
    if mains is None or mains.empty:
        return None
    union = shapely.union_all(mains.geometry.values)
    return np.asarray(shapely.distance(np.asarray(geoms, dtype=object), union), dtype=float)


def _columns(
    result: SuitabilityResult,
    labels: npt.NDArray[np.int32],
    n: int,
    geoms: list[Any],
    cell: float,
    min_area_m2: float,
    min_width_m: float,
) -> dict[str, Any]:
    cols: dict[str, Any] = {}
    area = np.bincount(labels.ravel(), minlength=n + 1)[1:] * cell * cell
    cols["site_id"] = np.arange(1, n + 1)
    cols["area_m2"] = area
    contrib_total = np.zeros(n)
    for name, w in result.weights.items():
        cols[f"value_{name}"] = _per_site(result.criteria[name].values, labels, n, "mean")
        s = _per_site(result.scores[name].values, labels, n, "mean")
        cols[f"score_{name}"] = s
        cols[f"weight_{name}"] = np.full(n, w)
        cols[f"contrib_{name}"] = w * np.nan_to_num(s)
        contrib_total += cols[f"contrib_{name}"]
    cols["score"] = contrib_total
    cols["mean_score"] = _per_site(result.score.values, labels, n, "mean")
    for name, ok in result.constraints.items():
        cols[f"ok_{name}"] = _per_site(ok.values.astype(float), labels, n, "min") == 1.0
        cols[f"val_{name}"] = _per_site(
            result.constraint_values[name].values, labels, n, _AGGREGATE[name]
        )
    exact = _heating_distance(result, geoms)
    clearance = result.profile.constraints.heating_mains_clearance_m
    if exact is not None and clearance is not None:
        cols["val_heating_mains"] = exact
        cols["ok_heating_mains"] = cols["ok_heating_mains"] & (exact >= clearance - 1e-9)
    inner = ndimage.distance_transform_edt(labels > 0) * cell
    cols["ok_min_area"] = area >= min_area_m2 - 1e-6
    cols["val_min_area"] = area
    cols["val_min_width"] = 2.0 * _per_site(inner, labels, n, "max")
    cols["ok_min_width"] = np.ones(n, dtype=bool)  # guaranteed by the opening
    return cols


def _explanation(
    result: SuitabilityResult, row: dict[str, Any], min_area_m2: float, min_width_m: float
) -> str:
    crit = {}
    for c in result.profile.criteria:
        if c.name not in result.weights:  # dropped: its layer is missing (see notes)
            continue
        crit[c.name] = {
            "source": c.source,
            "units": result.criteria[c.name].attrs.get("units", ""),
            "transform": result.scores[c.name].attrs.get("fuzzy", ""),
            "value": _num(row[f"value_{c.name}"]),
            "score": _num(row[f"score_{c.name}"]),
            "weight": _num(row[f"weight_{c.name}"]),
            "contrib": _num(row[f"contrib_{c.name}"]),
        }
    cons: dict[str, Any] = {
        k: {
            "ok": bool(row[f"ok_{k}"]),
            "value": _num(row[f"val_{k}"]),
            "units": CONSTRAINT_UNITS[k],
        }
        for k in result.constraints
    }
    cons["min_area"] = {
        "ok": bool(row["ok_min_area"]),
        "value": _num(row["val_min_area"]),
        "rule": f">= {min_area_m2:g} m2",
    }
    cons["min_width"] = {
        "ok": bool(row["ok_min_width"]),
        "value": _num(row["val_min_width"]),
        "rule": f">= {min_width_m:g} m (opening with a disc)",
    }
    return json.dumps(
        {
            "measure": result.measure,
            "scenario": result.scenario,
            "site_id": int(row["site_id"]),
            "area_m2": _num(row["area_m2"]),
            "score": _num(row["score"]),
            "criteria": crit,
            "constraints": cons,
            "not_checked": result.not_checked,
            "dropped_criteria": result.dropped_criteria,
            "notes": result.notes,
        },
        ensure_ascii=False,
    )


def _num(v: Any) -> float | None:
    f = float(v)
    return round(f, 4) if math.isfinite(f) else None


def candidate_sites(
    result: SuitabilityResult,
    *,
    min_area_m2: float | None = None,
    min_width_m: float | None = None,
) -> gpd.GeoDataFrame:
    """Candidate sites of a suitability result.

    Parameters
    ----------
    result : SuitabilityResult
        From :func:`klimakort.suitability.raster.suitability`.
    min_area_m2, min_width_m : float, optional
        Override the profile's rules.

    Returns
    -------
    GeoDataFrame
        One polygon per site in the grid's CRS, ordered by ``site_id`` (raster order),
        with the columns listed in the module docstring. Empty (same columns) if none.
    """
    prof = result.profile
    min_area = float(prof.min_area_m2 if min_area_m2 is None else min_area_m2)
    min_width = float(prof.min_width_m if min_width_m is None else min_width_m)
    if min_area <= 0 or min_width <= 0:
        raise ParameterError(f"min_area_m2={min_area} and min_width_m={min_width} must be > 0")
    labels, n, cell = _label(result, min_area, min_width)
    geoms = _polygons(labels, result.score.rio.transform(), n) if n else []
    cols = _columns(result, labels, n, geoms, cell, min_area, min_width)
    rcrs = result.score.rio.crs
    epsg = rcrs.to_epsg() if rcrs is not None else None
    crs = f"EPSG:{epsg}" if epsg else rcrs
    gdf = gpd.GeoDataFrame(cols, geometry=geoms, crs=crs)
    gdf["explanation"] = [
        _explanation(result, row, min_area, min_width) for row in gdf.to_dict("records")
    ]
    gdf.attrs.update(
        {"measure": result.measure, "scenario": result.scenario, "notes": result.notes}
    )
    return gdf
