"""What a planner clicks: every hazard value at a point, and parcel lookup by matrikel id."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import shapely

from klimakort.errors import ParameterError
from klimakort.service.crs import CRS84_URI, parse_crs, to_area_xy
from klimakort.service.workspace import Workspace

#: longest search text accepted
MAX_QUERY = 64


def point_report(
    ws: Workspace, x: float, y: float, crs: str | None = None, scenario: str | None = None
) -> dict[str, Any]:
    """Hazard values, the parcel and the local plan at a point.

    Parameters
    ----------
    ws : Workspace
        The area.
    x, y : float
        The point, in ``crs``.
    crs : str, optional
        ``CRS84`` (default; x = longitude) or ``EPSG:25832``.
    scenario : str, optional
        Scenario (default: the workspace's default).

    Returns
    -------
    dict
        ``x``, ``y`` (area CRS), ``crs``, ``scenario``, ``inside`` (within the terrain),
        ``values`` (layer -> value, units, title), ``parcel_id``, ``local_plan`` and
        ``links`` to the parcel report.
    """
    uri = parse_crs(crs)
    if not (np.isfinite(x) and np.isfinite(y)):
        raise ParameterError("x and y must be finite numbers")
    ex, ey = to_area_xy(x, y, uri, ws.crs)
    sc = ws.scenario(scenario)
    xmin, ymin, xmax, ymax = ws.bounds
    inside = xmin <= ex <= xmax and ymin <= ey <= ymax
    values = ws.point_values(ex, ey, sc) if inside else dict.fromkeys(ws.raster_layers)
    layers = ws.raster_layers
    out: dict[str, Any] = {
        "x": round(ex, 2),
        "y": round(ey, 2),
        "crs": "EPSG:25832",
        "input": {"x": x, "y": y, "crs": uri},
        "scenario": sc,
        "inside": inside,
        "values": {
            k: {"value": v, "units": layers[k].units, "title": layers[k].title}
            for k, v in values.items()
            if k in layers
        },
        "parcel_id": None,
        "local_plan": None,
        "links": [],
    }
    pt = shapely.Point(ex, ey)
    for cid, field, key in (
        ("parcels", "parcel_id", "parcel_id"),
        ("local_plans", "plannr", "local_plan"),
    ):
        if cid not in ws.collections:
            continue
        hit = _containing(ws, cid, pt)
        if hit is not None:
            out[key] = str(hit.get(field, hit["fid"]))
    if out["parcel_id"]:
        href = f"/parcels/{out['parcel_id']}/report?scenario={sc}"
        out["links"].append({"rel": "parcel-report", "href": f"{href}&f=html", "type": "text/html"})
        out["links"].append(
            {"rel": "parcel-report", "href": f"{href}&f=json", "type": "application/json"}
        )
    if out["local_plan"]:
        href = f"/plans/{out['local_plan']}/report?scenario={sc}&f=html"
        out["links"].append({"rel": "plan-report", "href": href, "type": "text/html"})
    return out


def _containing(ws: Workspace, cid: str, pt: shapely.Point) -> Any:
    gdf = ws.features(cid)
    idx = gdf.sindex.query(pt, predicate="within")
    if len(idx) == 0:
        return None
    return gdf.iloc[int(np.min(idx))]


def search_parcels(ws: Workspace, q: str, limit: int = 10) -> list[dict[str, Any]]:
    """Parcels whose matrikel id matches ``q`` (exact first, then prefix, then substring).

    ``q`` may be ``ejerlavskode-matrikelnummer`` (``2000651-12a``), a matrikelnummer
    (``12a``) or part of either; case and spaces are ignored.

    Returns
    -------
    list of dict
        ``parcel_id``, ``matrikelnummer``, ``ejerlavskode`` and ``bbox`` in CRS84.
    """
    text = re.sub(r"\s+", "", q or "").lower()
    if not text or len(text) > MAX_QUERY:
        raise ParameterError(f"q must hold 1 to {MAX_QUERY} characters of a matrikel id")
    if not 1 <= limit <= 100:
        raise ParameterError(f"limit={limit} must be within 1..100")
    parcels = ws.features("parcels")
    ids = parcels["parcel_id"].astype(str).str.lower()
    nr = parcels["matrikelnummer"].astype(str).str.lower() if "matrikelnummer" in parcels else ids
    rank = np.full(len(parcels), 9, dtype=np.int8)
    rank[ids.str.contains(text, regex=False).to_numpy()] = 3
    rank[ids.str.startswith(text).to_numpy()] = 2
    rank[(nr == text).to_numpy()] = 1
    rank[(ids == text).to_numpy()] = 0
    order = np.lexsort((ids.to_numpy(), rank))
    order = order[rank[order] < 9][:limit]
    hits = parcels.iloc[order]
    bounds = hits.to_crs("OGC:CRS84").bounds.to_numpy() if len(hits) else np.empty((0, 4))
    out = []
    for (_, row), bb in zip(hits.iterrows(), bounds, strict=True):
        out.append(
            {
                "parcel_id": str(row["parcel_id"]),
                "ejerlavskode": _plain(row.get("ejerlavskode")),
                "matrikelnummer": _plain(row.get("matrikelnummer")),
                "bbox": [round(float(v), 7) for v in bb],
                "crs": CRS84_URI,
            }
        )
    return out


def _plain(v: Any) -> Any:
    if v is None:
        return None
    if isinstance(v, np.generic):
        return v.item()
    return v


def scenario_summary(ws: Workspace) -> list[dict[str, Any]]:
    """The served scenarios with their design values and sources (for the scenario picker)."""
    out = []
    for name, sh in ws.hz.scenarios.items():
        sc = sh.scenario
        out.append(
            {
                "id": name,
                "period": sc.period,
                "default": name == ws.default_scenario,
                "rain_mm": round(sh.rain_mm, 2),
                "rain_return_period": ws.hz.options.rain_return_period,
                "sea_level_m": round(sh.sea_level_m, 3),
                "surge_return_period": ws.hz.options.surge_return_period,
                "sea_level_rise_m": sc.sea_level_rise_m.value,
                "groundwater_rise_m": sc.groundwater_rise_m.value,
                "coast": sc.coast_name,
                "sources": sc.sources(),
            }
        )
    return out
