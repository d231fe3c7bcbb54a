"""Map layers of the rain-flow analysis: bluespots by fill rain, flow paths."""

from __future__ import annotations

import math

from klimakort.hydro.rainflow import Rainflow
from klimakort.maps.legend import class_legend
from klimakort.maps.webmap import WebMap

#: fill-rain classes (mm): a bluespot that fills with little rain floods first
FILL_RAIN_CLASSES: tuple[tuple[float, str, str], ...] = (
    (10.0, "#08306b", "< 10 mm"),
    (20.0, "#2171b5", "10–20 mm"),
    (40.0, "#6baed6", "20–40 mm"),
    (80.0, "#c6dbef", "40–80 mm"),
    (math.inf, "#f7fbff", "> 80 mm"),
)


def add_rainflow(web: WebMap, rf: Rainflow, *, group: str = "Rain flow") -> None:
    """Add bluespots (coloured by fill rain), their spill network and flow paths."""
    web.add_vector(
        rf.bluespot_table,
        "Bluespots (fill rain)",
        group,
        color_by="fill_rain_mm",
        classes=[(u, c) for u, c, _ in FILL_RAIN_CLASSES],
        fill_opacity=0.75,
        weight=0.5,
        tooltip=(
            "bluespot_id",
            "fill_rain_mm",
            "volume_m3",
            "area_m2",
            "max_depth_m",
            "spill_elevation_m",
            "downstream_id",
        ),
        simplify_m=0.0,
    )
    web.add_vector(
        rf.flowpaths,
        "Flow paths (vandets veje)",
        group,
        color="#1f78b4",
        weight=2.0,
        tooltip=("segment_id", "upstream_area_m2", "strahler", "length_m"),
        simplify_m=0.5,
    )
    web.add_vector(
        rf.network,
        "Bluespot spill network",
        group,
        color="#e31a1c",
        weight=1.5,
        tooltip=("bluespot_id", "downstream_id"),
        show=False,
        simplify_m=0.0,
    )
    class_legend(
        web.map, "Bluespot fill rain (mm)", [(c, label) for _, c, label in FILL_RAIN_CLASSES]
    )
