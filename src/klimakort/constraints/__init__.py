"""Climate constraints: Danish input layers, exposure of features to hazards, rules, reports.

Loaders (:mod:`~klimakort.constraints.loaders`) read parcels, local plans, heating
zones, buildings and planned sites with their Danish schemas; the exposure overlay
(:mod:`~klimakort.constraints.overlay`) summarises every hazard raster per feature and
scenario with exact cell coverage. Rules (:mod:`~klimakort.constraints.rules`, defaults in
``rules_default.toml``) turn the measures into findings traced to their sources, and
:mod:`~klimakort.constraints.report` builds parcel, plan and polygon reports (JSON with a
schema, and self-contained HTML).
"""

from klimakort.constraints.loaders import (
    load_buildings,
    load_heating_zones,
    load_local_plans,
    load_parcels,
    load_planned_sites,
)
from klimakort.constraints.overlay import COLUMNS, exposure, zonal_stats
from klimakort.constraints.report import (
    parcel_report,
    plan_report,
    polygon_report,
    render_html,
    validate_report,
    write_report,
)
from klimakort.constraints.rules import (
    Finding,
    Rule,
    Threshold,
    evaluate,
    load_rules,
    worst_verdict,
)

__all__ = [
    "COLUMNS",
    "Finding",
    "Rule",
    "Threshold",
    "evaluate",
    "exposure",
    "load_buildings",
    "load_heating_zones",
    "load_local_plans",
    "load_parcels",
    "load_planned_sites",
    "load_rules",
    "parcel_report",
    "plan_report",
    "polygon_report",
    "render_html",
    "validate_report",
    "worst_verdict",
    "write_report",
    "zonal_stats",
]
