"""Map layers of a suitability run: score raster, candidate sites and the chosen portfolio."""

from __future__ import annotations

import html
import json
from typing import Any

import geopandas as gpd

from klimakort.maps.webmap import RasterStyle, WebMap
from klimakort.suitability.workflow import SuitabilityRun

SCORE = RasterStyle("YlGn", 0.0, 1.0, "score 0-1", opacity=0.75)


def explanation_html(explanation: str) -> str:
    """A site's explanation (JSON) as a small HTML table for its popup."""
    e: dict[str, Any] = json.loads(explanation)
    rows = [
        f"<tr><td>{html.escape(name)}</td><td>{c.get('value', float('nan')):.3g}</td>"
        f"<td>{c.get('score', float('nan')):.2f}</td><td>{c.get('weight', float('nan')):.2f}</td>"
        f"<td>{c.get('contrib', float('nan')):.3f}</td></tr>"
        for name, c in e.get("criteria", {}).items()
    ]
    checks = [
        f"<li>{'✔' if c.get('ok') else '✘'} {html.escape(name)}: {c.get('value')} "
        f"<span style='color:#666'>({html.escape(str(c.get('units', c.get('rule', ''))))})</span>"
        "</li>"
        for name, c in e.get("constraints", {}).items()
    ]
    return (
        f"<b>Site {e.get('site_id')}</b> — score {e.get('score', 0):.3f}, "
        f"{e.get('area_m2', 0):,.0f} m²<br>"
        "<table style='font-size:11px'><tr><th>criterion</th><th>value</th><th>score</th>"
        f"<th>weight</th><th>w×score</th></tr>{''.join(rows)}</table>"
        f"<ul style='margin:4px 0;padding-left:16px;font-size:11px'>{''.join(checks)}</ul>"
        f"{_effect_html(e.get('cloudburst_effect'))}"
    )


def _effect_html(eff: dict[str, Any] | None) -> str:
    """One paragraph on the site's modelled cloudburst effect (empty without one)."""
    if not eff:
        return ""
    a = eff.get("assumptions", {})

    def m3(key: str) -> str:
        v = eff.get(key)
        return "–" if v is None else f"{v:,.0f}"

    return (
        "<div style='font-size:11px'>"
        f"<b>Cloudburst {html.escape(str(a.get('scenario', '')))}, "
        f"{a.get('rain_mm', 0):.0f} mm (T{a.get('return_period', '')})</b>: "
        f"{m3('cb_flood_volume_removed_m3')} m³ less flooding "
        f"({m3('cb_flood_volume_removed_m3_low')}–{m3('cb_flood_volume_removed_m3_high')}), "
        f"{m3('cb_flooded_area_removed_m2')} m² less flooded "
        f"≥ {a.get('flooded_from_m', 0.1):.2f} m, {m3('cb_outflow_removed_m3')} m³ less "
        f"leaving the area; {m3('cb_water_reaching_m3')} m³ reach the site, it holds "
        f"{m3('cb_capacity_m3')} m³.</div>"
    )


def add_suitability(web: WebMap, run: SuitabilityRun, *, group: str = "Suitability") -> None:
    """Add the score raster, every candidate (popup: explanation) and the portfolio."""
    measure = run.summary.get("measure", "measure")
    scenario = run.summary.get("scenario", "")
    web.add_raster(
        run.result.score,
        f"Suitability {measure} ({scenario})",
        group,
        SCORE,
        caption=f"Suitability of {measure}",
    )
    if run.candidates.empty:
        return
    cands: gpd.GeoDataFrame = run.candidates.copy()
    cands["explanation_html"] = [explanation_html(e) for e in cands["explanation"]]
    web.add_vector(
        cands,
        f"Candidate sites ({len(cands)})",
        group,
        color="#41ab5d",
        fill_opacity=0.35,
        tooltip=("site_id", "score", "area_m2", "p_top_n"),
        popup=("explanation_html",),
        simplify_m=0.0,
    )
    chosen = cands[cands["site_id"].isin(run.portfolio.chosen_ids)]
    status = run.portfolio.status
    web.add_vector(
        chosen,
        f"Chosen portfolio ({len(chosen)} sites, {status})",
        group,
        color="#006d2c",
        fill_opacity=0.8,
        weight=3.0,
        tooltip=("site_id", "score", "area_m2"),
        popup=("explanation_html",),
        simplify_m=0.0,
    )
