"""The what-if report as a small self-contained HTML page."""

from __future__ import annotations

from html import escape
from typing import Any

_HAZARD_TITLES = {"cloudburst": "Cloudburst", "sea": "Sea level", "combined": "Combined"}
_STATS = (
    ("flooded_area_before_m2", "Flooded before (m²)"),
    ("flooded_area_after_m2", "Flooded after (m²)"),
    ("area_dried_m2", "Made dry (m²)"),
    ("area_wetted_m2", "Newly flooded (m²)"),
    ("volume_removed_m3", "Volume removed (m³)"),
)
_FEATURE_COLS = (
    ("status", "Status"),
    ("flooded_before_m2", "Flooded before (m²)"),
    ("flooded_after_m2", "Flooded after (m²)"),
    ("depth_max_before_m", "Max depth before (m)"),
    ("depth_max_after_m", "Max depth after (m)"),
)


def _num(v: Any) -> str:
    if v is None:
        return "–"
    if isinstance(v, float):
        return f"{v:,.2f}"
    return escape(str(v))


def _features(title: str, rows: list[dict[str, Any]], id_field: str, limit: int = 500) -> str:
    head = "".join(f"<th>{escape(t)}</th>" for _k, t in _FEATURE_COLS)
    body = "".join(
        f"<tr class='{escape(str(r.get('status')))}'><td>{escape(str(r.get(id_field)))}</td>"
        + "".join(f"<td>{_num(r.get(k))}</td>" for k, _t in _FEATURE_COLS)
        + "</tr>"
        for r in rows[:limit]
    )
    more = (
        f"<p>… and {len(rows) - limit} more (see the JSON report)</p>" if len(rows) > limit else ""
    )
    return (
        f"<h2>{escape(title)} ({len(rows)} changed)</h2>"
        f"<table><tr><th>{escape(id_field)}</th>{head}</tr>{body}</table>{more}"
    )


def render_html(report: dict[str, Any]) -> str:
    """The report of :meth:`klimakort.whatif.evaluate.WhatIfResult.report` as HTML."""
    stats_head = "".join(f"<th>{escape(t)}</th>" for _k, t in _STATS)
    stats_rows = "".join(
        f"<tr><td>{escape(_HAZARD_TITLES.get(h, h))}</td>"
        + "".join(f"<td>{_num(s.get(k))}</td>" for k, _t in _STATS)
        + "</tr>"
        for h, s in report["hazards"].items()
    )
    edits = "".join(
        f"<li>{escape(str(e.get('edit_id')))}: {escape(str(e.get('kind')))}, "
        f"{_num(e.get('cells'))} cells, {_num(e.get('volume_m3'))} m³</li>"
        for e in report.get("edits", [])
    )
    ids = report.get("id_fields", {})
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>What-if: {escape(str(report.get('name')))}</title><style>"
        "body{font:14px system-ui,sans-serif;margin:1.5em}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}"
        "td:first-child{text-align:left}tr.dry td:nth-child(2){color:#1f5fbf}"
        "tr.worse td:nth-child(2),tr.newly_flooded td:nth-child(2){color:#c0392b}"
        "</style></head><body>"
        f"<h1>What-if: {escape(str(report.get('name')))}</h1>"
        f"<p>Scenario {escape(str(report.get('scenario')))}, recomputed "
        f"{escape(str(report.get('method')))}; flooded = cloudburst depth ≥ "
        f"{report.get('flood_threshold_m')} m or reached by the sea.</p>"
        f"<ul>{edits}</ul>"
        f"<table><tr><th>Hazard</th>{stats_head}</tr>{stats_rows}</table>"
        + _features("Parcels", report.get("parcels", []), ids.get("parcels", "id"))
        + _features("Buildings", report.get("buildings", []), ids.get("buildings", "id"))
        + "</body></html>"
    )
