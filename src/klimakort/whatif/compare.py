"""Compare a what-if with the base run: difference rasters, area and volume removed from
flooding, and the parcels and buildings that go from flooded to dry (or get worse).

A cell is *flooded* by a cloudburst when its depth is at least
:data:`~klimakort.constraints.overlay.FLOOD_THRESHOLD_M` (0.10 m, as in the exposure
overlay), and by the sea when the connected sea-inundation depth is above 0. The
``combined`` hazard is the deeper of the two per cell.

The flooded area of a parcel or building is measured with the exposure overlay's exact
cell coverage (:func:`klimakort.constraints.overlay.zonal_stats`): the coverage-weighted sum
of the flooded indicator times the cell area. A feature is *changed* when that area differs
by more than :data:`AREA_TOLERANCE_M2` for any hazard; its status is ``dry`` (flooded before,
dry after), ``better``, ``worse`` or ``newly_flooded``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import xarray as xr

from klimakort.constraints.overlay import FLOOD_THRESHOLD_M, zonal_stats
from klimakort.hazards.area import ScenarioHazards
from klimakort.io.raster import cell_size, check_same_grid, like

#: flooded-area differences below this (m²) are round-off, not change
AREA_TOLERANCE_M2 = 0.01
#: hazards compared
HAZARDS: tuple[str, ...] = ("cloudburst", "sea", "combined")
#: columns of the changed-feature tables (besides the id and geometry)
FEATURE_COLUMNS: tuple[str, ...] = (
    "status",
    "flooded_before_m2",
    "flooded_after_m2",
    "cloudburst_before_m2",
    "cloudburst_after_m2",
    "sea_before_m2",
    "sea_after_m2",
    "depth_max_before_m",
    "depth_max_after_m",
)


@dataclass
class HazardDifference:
    """Before/after of one hazard.

    Attributes
    ----------
    hazard : str
        ``cloudburst``, ``sea`` or ``combined``.
    before, after : xarray.DataArray
        Depth (m), NaN at nodata.
    flooded_before, flooded_after : numpy.ndarray
        Flooded indicator (1 / 0, NaN at nodata; ``combined``: flooded by either).
    difference : xarray.DataArray
        ``after - before`` (m): negative = shallower or dry, positive = deeper.
    stats : dict
        ``flooded_area_before_m2``, ``flooded_area_after_m2``, ``area_dried_m2`` (flooded
        before, not after), ``area_wetted_m2``, ``volume_before_m3``, ``volume_after_m3``,
        ``volume_removed_m3`` (before - after; negative = more water).
    """

    hazard: str
    before: xr.DataArray
    after: xr.DataArray
    difference: xr.DataArray
    flooded_before: np.ndarray
    flooded_after: np.ndarray
    stats: dict[str, float] = field(default_factory=dict)


@dataclass
class Comparison:
    """The what-if against the base run, for one scenario.

    Attributes
    ----------
    scenario : str
        Climate scenario.
    hazards : dict
        ``cloudburst`` / ``sea`` / ``combined`` -> :class:`HazardDifference`.
    parcels, buildings : GeoDataFrame
        The changed features (id column, :data:`FEATURE_COLUMNS`, geometry), sorted by
        status then id; empty frames when the area has no such layer.
    """

    scenario: str
    hazards: dict[str, HazardDifference]
    parcels: gpd.GeoDataFrame
    buildings: gpd.GeoDataFrame
    id_fields: dict[str, str] = field(default_factory=dict)


def flooded(depth: xr.DataArray | np.ndarray, hazard: str) -> np.ndarray:
    """1.0 where flooded, 0.0 where dry, NaN at nodata (float32)."""
    d = np.asarray(depth.values if isinstance(depth, xr.DataArray) else depth)
    if hazard == "sea":
        out = (d > 0).astype(np.float32)
    else:
        out = (d >= FLOOD_THRESHOLD_M).astype(np.float32)
    out[np.isnan(d)] = np.nan
    return out


def _depths(sh: ScenarioHazards) -> dict[str, xr.DataArray]:
    cb = sh.cloudburst.flood_depth
    sea = sh.sea.depth
    check_same_grid(cb, sea, "cloudburst vs sea depth")
    cbv = np.asarray(cb.values, dtype=np.float32)
    seav = np.asarray(sea.values, dtype=np.float32)
    both = np.fmax(np.nan_to_num(cbv, nan=0.0), np.nan_to_num(seav, nan=0.0))
    both[np.isnan(cbv) & np.isnan(seav)] = np.nan
    return {
        "cloudburst": cb,
        "sea": sea,
        "combined": like(cb, both.astype(np.float32), name="combined_depth"),
    }


def _indicator(depths: dict[str, xr.DataArray], hazard: str) -> np.ndarray:
    if hazard != "combined":
        return flooded(depths[hazard], hazard)
    return np.fmax(flooded(depths["cloudburst"], "cloudburst"), flooded(depths["sea"], "sea"))


def _stats(
    before: xr.DataArray, after: xr.DataArray, ib: np.ndarray, ia: np.ndarray
) -> dict[str, float]:
    dx, dy = cell_size(before)
    cell = dx * dy
    fb = np.nan_to_num(ib) > 0
    fa = np.nan_to_num(ia) > 0
    vb = float(np.nansum(np.asarray(before.values, dtype=np.float64)) * cell)
    va = float(np.nansum(np.asarray(after.values, dtype=np.float64)) * cell)
    return {
        "flooded_area_before_m2": float(fb.sum() * cell),
        "flooded_area_after_m2": float(fa.sum() * cell),
        "area_dried_m2": float((fb & ~fa).sum() * cell),
        "area_wetted_m2": float((fa & ~fb).sum() * cell),
        "volume_before_m3": vb,
        "volume_after_m3": va,
        "volume_removed_m3": vb - va,
    }


def hazard_differences(
    before: ScenarioHazards, after: ScenarioHazards
) -> dict[str, HazardDifference]:
    """Difference rasters and statistics of every hazard in :data:`HAZARDS`."""
    db, da = _depths(before), _depths(after)
    out = {}
    for hz in HAZARDS:
        b, a = db[hz], da[hz]
        check_same_grid(b, a, f"{hz} depth before vs after")
        diff = np.asarray(a.values, dtype=np.float32) - np.asarray(b.values, dtype=np.float32)
        dif = like(b, diff.astype(np.float32), name=f"{hz}_difference", attrs={"units": "m"})
        ib, ia = _indicator(db, hz), _indicator(da, hz)
        out[hz] = HazardDifference(hz, b, a, dif, ib, ia, _stats(b, a, ib, ia))
    return out


def _status(before: np.ndarray, after: np.ndarray) -> np.ndarray:
    tol = AREA_TOLERANCE_M2
    return np.select(
        [
            (before > tol) & (after <= tol),
            (before <= tol) & (after > tol),
            after < before - tol,
            after > before + tol,
        ],
        ["dry", "newly_flooded", "better", "worse"],
        default="shifted",  # as much flooded area, but by the other hazard
    )


def changed_features(
    features: gpd.GeoDataFrame,
    id_field: str,
    diffs: dict[str, HazardDifference],
) -> gpd.GeoDataFrame:
    """The features whose flooded area changed, with before/after areas and a status.

    Parameters
    ----------
    features : GeoDataFrame
        Polygons in the rasters' CRS with a unique ``id_field``.
    id_field : str
        Id column.
    diffs : dict
        From :func:`hazard_differences`.

    Returns
    -------
    GeoDataFrame
        ``id_field``, :data:`FEATURE_COLUMNS`, geometry; only changed features.
    """
    grid = diffs["cloudburst"].before
    dx, dy = cell_size(grid)
    geoms = gpd.GeoSeries(features.geometry.to_numpy(), index=features.index, crs=features.crs)
    layers: dict[str, tuple[xr.DataArray | np.ndarray, list[str]]] = {}
    for hz in ("cloudburst", "sea", "combined"):
        d = diffs[hz]
        layers[f"{hz}_b"] = (d.flooded_before, ["sum"])
        layers[f"{hz}_a"] = (d.flooded_after, ["sum"])
    layers["db"] = (np.asarray(diffs["combined"].before.values, dtype=np.float32), ["max"])
    layers["da"] = (np.asarray(diffs["combined"].after.values, dtype=np.float32), ["max"])
    stats = zonal_stats(geoms, layers, template=grid)
    area = {k: stats[f"{k}_sum"].fillna(0.0).to_numpy() * dx * dy for k in layers if "_" in k}
    changed = np.zeros(len(features), dtype=bool)
    for hz in ("cloudburst", "sea"):
        changed |= np.abs(area[f"{hz}_a"] - area[f"{hz}_b"]) > AREA_TOLERANCE_M2
    table = pd.DataFrame(
        {
            id_field: features[id_field].astype(str).to_numpy(),
            "status": _status(area["combined_b"], area["combined_a"]),
            "flooded_before_m2": area["combined_b"],
            "flooded_after_m2": area["combined_a"],
            "cloudburst_before_m2": area["cloudburst_b"],
            "cloudburst_after_m2": area["cloudburst_a"],
            "sea_before_m2": area["sea_b"],
            "sea_after_m2": area["sea_a"],
            "depth_max_before_m": stats["db_max"].to_numpy(),
            "depth_max_after_m": stats["da_max"].to_numpy(),
        }
    )
    table.loc[~changed, "status"] = "unchanged"
    keep = changed
    out = gpd.GeoDataFrame(
        table[keep].reset_index(drop=True),
        geometry=features.geometry.to_numpy()[keep],
        crs=features.crs,
    )
    order = {"dry": 0, "better": 1, "shifted": 2, "worse": 3, "newly_flooded": 4}
    out = out.assign(_o=out["status"].map(order)).sort_values(["_o", id_field])
    return gpd.GeoDataFrame(
        out.drop(columns="_o").reset_index(drop=True), geometry="geometry", crs=features.crs
    )


def _empty(id_field: str, crs: Any) -> gpd.GeoDataFrame:
    cols: dict[str, Any] = {id_field: pd.Series([], dtype=object)}
    cols.update({c: pd.Series([], dtype=float) for c in FEATURE_COLUMNS})
    cols["status"] = pd.Series([], dtype=object)
    return gpd.GeoDataFrame(cols, geometry=gpd.GeoSeries([], crs=crs), crs=crs)


def compare(
    scenario: str,
    before: ScenarioHazards,
    after: ScenarioHazards,
    parcels: tuple[gpd.GeoDataFrame, str] | None = None,
    buildings: tuple[gpd.GeoDataFrame, str] | None = None,
) -> Comparison:
    """Compare the hazards of one scenario before and after the edits.

    Parameters
    ----------
    scenario : str
        Scenario name.
    before, after : ScenarioHazards
        Base and edited hazards of that scenario (same grid).
    parcels, buildings : (GeoDataFrame, id field), optional
        Features to report.
    """
    diffs = hazard_differences(before, after)
    crs = diffs["cloudburst"].before.rio.crs
    tables = {}
    ids = {}
    for key, layer in (("parcels", parcels), ("buildings", buildings)):
        if layer is None:
            tables[key] = _empty("id", crs)
            ids[key] = "id"
            continue
        gdf, id_field = layer
        tables[key] = changed_features(gdf, id_field, diffs)
        ids[key] = id_field
    return Comparison(scenario, diffs, tables["parcels"], tables["buildings"], ids)


def report(cmp: Comparison, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """The comparison as a JSON-ready report: per-hazard statistics and changed features."""

    def rows(gdf: gpd.GeoDataFrame) -> list[dict[str, Any]]:
        out = []
        for rec in gdf.drop(columns="geometry").to_dict("records"):
            out.append(
                {
                    k: (
                        round(v, 3)
                        if isinstance(v, float) and np.isfinite(v)
                        else (None if isinstance(v, float) else v)
                    )
                    for k, v in rec.items()
                }
            )
        return out

    counts = {
        key: gdf["status"].value_counts().to_dict() if len(gdf) else {}
        for key, gdf in (("parcels", cmp.parcels), ("buildings", cmp.buildings))
    }
    return {
        "scenario": cmp.scenario,
        "flood_threshold_m": FLOOD_THRESHOLD_M,
        "hazards": {
            k: {s: round(v, 3) for s, v in d.stats.items()} for k, d in cmp.hazards.items()
        },
        "counts": counts,
        "id_fields": cmp.id_fields,
        "parcels": rows(cmp.parcels),
        "buildings": rows(cmp.buildings),
        **(extra or {}),
    }
