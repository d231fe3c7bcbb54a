"""Benefit estimates per candidate site (planning figures with explicit uncertainty).

Columns added by :func:`site_benefits`:

``co2_t_yr_low/central/high``
    ``area_m2 × co2_t_per_m2_yr`` of the profile (0 when the profile has none). Young
    plantings sequester less than the central value in their first years.
``retention_m3_low/central/high``
    ``area_m2 × retention_depth_m`` (water the measure can hold per event).
``bluespot_volume_m3``
    Volume of the bluespots (filled - terrain) inside the site: water that collects there
    today and that the measure would have to store or give way to.
``shade_m2``, ``cooling_proxy_m2``
    ``shade_m2 = area_m2 × canopy_fraction`` (canopy at maturity);
    ``cooling_proxy_m2 = shade_m2 × cooling_factor`` - a relative index in m² of
    full-shade-equivalent canopy, not a temperature.
``children_500m``
    Sum of ``children`` of the institutions within ``walking_distance_m`` (500 m by
    default) of the site polygon (straight-line distance).
``benefit_sources``
    JSON with the parameters and their sources.
"""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import shapely
from rasterio import features

from klimakort.io.raster import cell_size
from klimakort.suitability.profiles import Estimate
from klimakort.suitability.raster import SuitabilityResult


def _range(area: np.ndarray, est: Estimate | None, prefix: str) -> dict[str, np.ndarray]:
    if est is None:
        return {f"{prefix}_{k}": np.zeros_like(area) for k in ("low", "central", "high")}
    return {
        f"{prefix}_low": area * est.low,
        f"{prefix}_central": area * est.central,
        f"{prefix}_high": area * est.high,
    }


def _children(
    sites: gpd.GeoDataFrame, inst: gpd.GeoDataFrame | None, radius: float, field: str
) -> np.ndarray:
    if inst is None or inst.empty or field not in inst.columns or sites.empty:
        return np.zeros(len(sites), dtype=np.int64)
    pts = inst.geometry.values
    kids = inst[field].fillna(0).to_numpy(dtype=float)
    tree = shapely.STRtree(pts)
    out = np.zeros(len(sites), dtype=np.int64)
    for i, geom in enumerate(sites.geometry.values):
        idx = tree.query(geom, predicate="dwithin", distance=radius)
        out[i] = int(kids[idx].sum())
    return out


def _bluespot_volume(sites: gpd.GeoDataFrame, result: SuitabilityResult) -> np.ndarray:
    inp = result.inputs
    if inp is None or sites.empty:
        return np.zeros(len(sites))
    t = inp.terrain
    depth = np.nan_to_num(inp.filled.values.astype(float) - t.values.astype(float))
    depth = np.where(np.asarray(inp.bluespots.values) > 0, np.maximum(depth, 0.0), 0.0)
    labels = features.rasterize(
        ((g, i + 1) for i, g in enumerate(sites.geometry.values)),
        out_shape=t.shape,
        transform=t.rio.transform(),
        fill=0,
        dtype="int32",
    )
    dx, dy = cell_size(t)
    vol = np.bincount(labels.ravel(), weights=depth.ravel(), minlength=len(sites) + 1)
    return np.asarray(vol[1:] * dx * dy)


def site_benefits(
    sites: gpd.GeoDataFrame,
    result: SuitabilityResult,
    *,
    institutions: gpd.GeoDataFrame | None = None,
    children_field: str = "children",
) -> gpd.GeoDataFrame:
    """Add benefit columns (see the module docstring) to candidate sites.

    Parameters
    ----------
    sites : GeoDataFrame
        From :func:`klimakort.suitability.candidates.candidate_sites` (needs ``area_m2``).
    result : SuitabilityResult
        The suitability run the sites came from (profile, rasters, layers).
    institutions : GeoDataFrame, optional
        Points with ``children_field``; defaults to the run's ``institutions`` layer.
    children_field : str
        Column with the number of children.

    Returns
    -------
    GeoDataFrame
        A copy of ``sites`` with the benefit columns.
    """
    b = result.profile.benefits
    out = sites.copy()
    area = out["area_m2"].to_numpy(dtype=float)
    for key, val in _range(area, b.co2_t_per_m2_yr, "co2_t_yr").items():
        out[key] = val
    for key, val in _range(area, b.retention_depth_m, "retention_m3").items():
        out[key] = val
    out["bluespot_volume_m3"] = _bluespot_volume(out, result)
    out["shade_m2"] = area * b.canopy_fraction
    out["cooling_proxy_m2"] = out["shade_m2"] * b.cooling_factor
    if institutions is None and result.inputs is not None:
        institutions = result.inputs.layers.get("institutions")
    out["children_500m"] = _children(out, institutions, b.walking_distance_m, children_field)
    sources = {
        "co2_t_per_m2_yr": b.co2_t_per_m2_yr.model_dump() if b.co2_t_per_m2_yr else None,
        "retention_depth_m": b.retention_depth_m.model_dump() if b.retention_depth_m else None,
        "canopy_fraction": b.canopy_fraction,
        "cooling_factor": b.cooling_factor,
        "cooling_source": b.cooling_source,
        "walking_distance_m": b.walking_distance_m,
    }
    out["benefit_sources"] = json.dumps(sources, ensure_ascii=False)
    return out
