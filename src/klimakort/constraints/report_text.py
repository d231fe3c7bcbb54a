"""Every word of a climate report's HTML page, in Danish and English (one language a page).

:func:`klimakort.constraints.report.render_html` takes its headings, verdicts, measure
names and units from here; the rules bring their own titles, texts and citations
(``rules_default.toml``) and the findings their explanations in both languages.
"""

from __future__ import annotations

from typing import Literal

from klimakort.errors import ParameterError

Lang = Literal["da", "en"]
LANGS: tuple[Lang, ...] = ("da", "en")

#: headings and phrases of the page
LABELS: dict[str, dict[Lang, str]] = {
    "report": {"da": "Klimarapport", "en": "Climate report"},
    "synthetic": {"da": "syntetiske data", "en": "synthetic data"},
    "worst": {"da": "Samlet vurdering", "en": "Overall verdict"},
    "scenario": {"da": "Klimascenarie", "en": "Climate scenario"},
    "scenario_line": {
        "da": "{rain} mm skybrud (T{rain_t}), havvandstand {sea} m DVR90 "
        "(T{sea_t}-stormflod + {rise} m havstigning), grundvand +{gw} m.",
        "en": "{rain} mm cloudburst (T{rain_t}), sea level {sea} m DVR90 "
        "(T{sea_t} storm surge + {rise} m sea-level rise), groundwater +{gw} m.",
    },
    "findings": {"da": "Vurderinger", "en": "Findings"},
    "rule": {"da": "Regel", "en": "Rule"},
    "verdict": {"da": "Vurdering", "en": "Verdict"},
    "measured": {"da": "Målt", "en": "Measured"},
    "threshold": {"da": "Grænse", "en": "Threshold"},
    "unit": {"da": "Enhed", "en": "Unit"},
    "explanation": {"da": "Forklaring", "en": "Explanation"},
    "source": {"da": "Kilde", "en": "Source"},
    "buildings_on_parcel": {"da": "Bygninger på matriklen", "en": "Buildings on the parcel"},
    "affected_parcels": {"da": "Berørte matrikler", "en": "Affected parcels"},
    "affected_buildings": {"da": "Berørte bygninger", "en": "Affected buildings"},
    "inside": {
        "da": "{parcels} matrikler og {buildings} bygninger i området; berørt: "
        "{p_hit} matrikler, {b_hit} bygninger.",
        "en": "{parcels} parcels and {buildings} buildings inside; affected: "
        "{p_hit} parcels, {b_hit} buildings.",
    },
    "none": {"da": "Ingen.", "en": "None."},
    "id": {"da": "Id", "en": "Id"},
    "measures": {"da": "Målinger", "en": "Measures"},
    "measure": {"da": "Måling", "en": "Measure"},
    "value": {"da": "Værdi", "en": "Value"},
    "rules": {"da": "Regler", "en": "Rules"},
    "sources": {"da": "Datakilder", "en": "Sources"},
    "scenario_values": {"da": "Scenariets værdier", "en": "Scenario values"},
    "map_alt": {"da": "kort", "en": "map"},
    "map_title": {
        "da": "Scenarie {name}: skybrudsvanddybde, havvand (lilla)",
        "en": "Scenario {name}: cloudburst flood depth, sea (purple)",
    },
    "map_colorbar": {"da": "skybrudsvanddybde (m)", "en": "cloudburst flood depth (m)"},
    "yes": {"da": "ja", "en": "yes"},
    "no": {"da": "nej", "en": "no"},
    "no_value": {"da": "–", "en": "–"},
}

#: the verdicts as a reader sees them
VERDICTS: dict[str, dict[Lang, str]] = {
    "pass": {"da": "ok", "en": "pass"},
    "applies": {"da": "gælder", "en": "applies"},
    "attention": {"da": "opmærksomhed", "en": "attention"},
    "fail": {"da": "ikke ok", "en": "fail"},
}

#: what a report is about
KINDS: dict[str, dict[Lang, str]] = {
    "parcel": {"da": "matrikel", "en": "parcel"},
    "plan": {"da": "lokalplan", "en": "local plan"},
    "polygon": {"da": "område", "en": "area"},
}

#: measures (klimakort.constraints.overlay.COLUMNS and the report's own) by name
MEASURES: dict[str, dict[Lang, str]] = {
    "flood_depth_max_m": {"da": "Største skybrudsvanddybde", "en": "Largest cloudburst depth"},
    "flood_depth_mean_m": {
        "da": "Gennemsnitlig skybrudsvanddybde",
        "en": "Mean cloudburst depth",
    },
    "flood_share_ge_10cm": {
        "da": "Andel med mindst 10 cm vand ved skybrud",
        "en": "Share with at least 10 cm of cloudburst water",
    },
    "bluespot_volume_m3": {"da": "Volumen i blå pletter", "en": "Bluespot volume"},
    "flowpath_length_m": {"da": "Længde af vandets veje", "en": "Length of flow paths"},
    "flowpath_max_upstream_m2": {
        "da": "Største opland til vandets veje",
        "en": "Largest upstream area of a flow path",
    },
    "gw_depth_min_m": {"da": "Mindste dybde til grundvand", "en": "Least depth to groundwater"},
    "gw_depth_mean_m": {
        "da": "Gennemsnitlig dybde til grundvand",
        "en": "Mean depth to groundwater",
    },
    "gw_class": {"da": "Grundvandsklasse", "en": "Groundwater class"},
    "sea_share": {"da": "Andel oversvømmet fra havet", "en": "Share flooded from the sea"},
    "sea_depth_max_m": {"da": "Største havvandsdybde", "en": "Largest sea-flood depth"},
    "min_flood_level_m": {
        "da": "Laveste havvandstand, der når arealet",
        "en": "Lowest sea level that reaches the area",
    },
    "terrain_min_m": {"da": "Laveste terrænkote", "en": "Lowest terrain height"},
    "terrain_mean_m": {"da": "Gennemsnitlig terrænkote", "en": "Mean terrain height"},
    "heating_zone": {"da": "Fjernvarmeområde", "en": "District-heating zone"},
    "nearest_planned_site_m": {
        "da": "Afstand til nærmeste planlagte beplantning",
        "en": "Distance to the nearest planned site",
    },
    "flood_depth_max_buffer_m": {
        "da": "Største skybrudsvanddybde ved bygningen",
        "en": "Largest cloudburst depth at the building",
    },
    "water_level_max_buffer_m": {
        "da": "Højeste vandstand ved bygningen",
        "en": "Highest water level at the building",
    },
    "sea_level_m": {"da": "Havvandstand i scenariet", "en": "Sea level of the scenario"},
    "contaminated": {"da": "Kortlagt forurenet jord", "en": "Mapped contaminated soil"},
    "floor_level_m": {"da": "Sokkelkote", "en": "Floor level"},
    "recommended_level_m": {"da": "Anbefalet sokkelkote", "en": "Recommended floor level"},
}

#: units as written in the catalogue, rules and measures -> shown
UNITS: dict[str, dict[Lang, str]] = {
    "m": {"da": "m", "en": "m"},
    "m2": {"da": "m²", "en": "m²"},
    "m²": {"da": "m²", "en": "m²"},
    "m3": {"da": "m³", "en": "m³"},
    "m³": {"da": "m³", "en": "m³"},
    "m DVR90": {"da": "m DVR90", "en": "m DVR90"},
    "m below terrain": {"da": "m under terræn", "en": "m below terrain"},
    "fraction": {"da": "andel (0-1)", "en": "share (0-1)"},
    "fraction 0-1": {"da": "andel (0-1)", "en": "share (0-1)"},
    "class": {"da": "klasse", "en": "class"},
    "name": {"da": "", "en": ""},
    "": {"da": "", "en": ""},
}

#: how the report's source layers are named (``layer_sources``)
SOURCE_LAYERS: dict[str, dict[Lang, str]] = {
    "cloudburst": {
        "da": "skybrud {scenario}: {rain} mm på 1 time (T{t}) på terrænmodellen",
        "en": "cloudburst {scenario}: {rain} mm in 1 h (T{t}) on the terrain model",
    },
    "terrain": {"da": "terrænmodel (DVR90)", "en": "terrain model (DVR90)"},
    "groundwater": {
        "da": "dybde til grundvand {scenario} (potentiale + {rise} m)",
        "en": "groundwater depth {scenario} (head + {rise} m)",
    },
    "sea": {
        "da": "havoversvømmelse {scenario} ved {level} m DVR90",
        "en": "sea inundation {scenario} at {level} m DVR90",
    },
    "sea_level": {
        "da": "scenarie {scenario}: stormflodsvandstand (T{t})",
        "en": "scenario {scenario} storm-surge level (T{t})",
    },
    "heating_zones": {"da": "fjernvarmeområder", "en": "district-heating zones"},
    "planned_sites": {"da": "planlagte beplantninger", "en": "planned sites"},
    "buildings": {"da": "bygninger", "en": "buildings"},
    "contaminated_soil": {"da": "forurenet jord", "en": "contaminated soil"},
}


#: scenario values (``Scenario.sources()`` keys, ``.N`` = return period in years)
SCENARIO_VALUES: dict[str, dict[Lang, str]] = {
    "sea_level_rise_m": {"da": "Havstigning", "en": "Sea-level rise"},
    "groundwater_rise_m": {"da": "Grundvandsstigning", "en": "Groundwater rise"},
    "storm_surge_m": {"da": "Stormflod T{n}", "en": "Storm surge T{n}"},
    "rain_depth_mm": {"da": "Regn på 1 time T{n}", "en": "1-hour rain T{n}"},
    "climate_factor": {"da": "Klimafaktor T{n}", "en": "Climate factor T{n}"},
}


def scenario_value(key: str, lang: Lang) -> str:
    """A scenario value's name (``storm_surge_m.100`` -> ``Stormflod T100``)."""
    name, _, n = key.partition(".")
    return SCENARIO_VALUES[name][lang].format(n=n) if name in SCENARIO_VALUES else key


def check_lang(lang: str) -> Lang:
    """Validate a report language (``da`` or ``en``)."""
    if lang == "da":
        return "da"
    if lang == "en":
        return "en"
    raise ParameterError(f"lang must be 'da' or 'en', got {lang!r}")


def label(key: str, lang: Lang) -> str:
    """A heading or phrase of :data:`LABELS`."""
    return LABELS[key][lang]


def verdict(code: str, lang: Lang) -> str:
    """A verdict as the reader sees it."""
    return VERDICTS[code][lang] if code in VERDICTS else code


def measure(name: str, lang: Lang) -> str:
    """A measure's name (its code when unknown: the report never hides a measure)."""
    return MEASURES[name][lang] if name in MEASURES else name


def unit(text: str, lang: Lang) -> str:
    """A unit in ``lang``."""
    return UNITS[text][lang] if text in UNITS else text


def vocabulary(lang: Lang) -> set[str]:
    """Every text this module writes in ``lang`` (for tests: the other language's words)."""
    out: set[str] = set()
    for table in (LABELS, VERDICTS, KINDS, MEASURES, UNITS, SOURCE_LAYERS, SCENARIO_VALUES):
        out.update(v[lang] for v in table.values())
    return out
