"""The candidate popup: criteria table, constraint checks and the cloudburst effect."""

from __future__ import annotations

import json

from klimakort.maps.suitability_layers import explanation_html


def _explanation(effect: dict[str, object] | None) -> str:
    doc: dict[str, object] = {
        "site_id": 7,
        "score": 0.61,
        "area_m2": 812.0,
        "criteria": {"children": {"value": 120.0, "score": 0.8, "weight": 0.5, "contrib": 0.4}},
        "constraints": {"public_land": {"ok": True, "value": 1.0, "units": "flag"}},
    }
    if effect is not None:
        doc["cloudburst_effect"] = effect
    return json.dumps(doc)


def test_popup_states_the_modelled_cloudburst_effect_with_its_event() -> None:
    effect = {
        "cb_flood_volume_removed_m3": 1234.4,
        "cb_flood_volume_removed_m3_low": 900.0,
        "cb_flood_volume_removed_m3_high": 1500.0,
        "cb_flooded_area_removed_m2": 2048.0,
        "cb_outflow_removed_m3": 10.0,
        "cb_water_reaching_m3": 1300.0,
        "cb_capacity_m3": 4060.0,
        "assumptions": {"scenario": "2100", "rain_mm": 63.2, "return_period": 100},
    }
    html = explanation_html(_explanation(effect))
    assert "Site 7" in html and "children" in html
    assert "Cloudburst 2100, 63 mm (T100)" in html
    assert "1,234 m³ less flooding (900–1,500)" in html
    assert "2,048 m² less flooded" in html and "it holds 4,060 m³" in html


def test_popup_without_an_effect_has_no_cloudburst_paragraph() -> None:
    assert "Cloudburst" not in explanation_html(_explanation(None))
