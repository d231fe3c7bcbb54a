"""Climate rules for local planning, and their evaluation into findings.

A rule turns the measured exposure of one feature (a parcel, a building, a local plan)
into a :class:`Finding` with a verdict. Rules and their thresholds live in a TOML file
(``rules_default.toml`` ships with the package); a user file can change texts, sources,
threshold values and switch rules off. The *logic* of each rule is here and depends only
on the measure names (the columns of :func:`klimakort.constraints.overlay.exposure`), not
on how the measures were computed.

Verdicts
--------
``fail``
    The constraint bites: action is required or the use is advised against.
``attention``
    Close to a threshold; look at it.
``applies``
    An obligation that applies (e.g. district-heating connection), no pass/fail.
``pass``
    The rule is clear for this feature.

A rule whose required measures are missing (absent, ``None`` or NaN) yields no finding.
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from klimakort.errors import ConfigError

if TYPE_CHECKING:
    import pandas as pd

    Measures = Mapping[str, Any] | pd.Series[Any]

Verdict = Literal["pass", "attention", "applies", "fail"]

#: verdicts from the least to the most severe
VERDICT_ORDER: tuple[Verdict, ...] = ("pass", "applies", "attention", "fail")

DEFAULT_RULES_FILE = Path(__file__).with_name("rules_default.toml")

_RULE_KEYS = {
    "title_da",
    "title_en",
    "text_da",
    "text_en",
    "source",
    "source_da",
    "enabled",
    "thresholds",
}
_THRESHOLD_KEYS = {"value", "unit", "description"}


@dataclass(frozen=True)
class Threshold:
    """A named number of a rule.

    Attributes
    ----------
    value : float
        The number.
    unit : str
        Its unit (``m``, ``m2``, ``fraction``).
    description : str
        What it means.
    """

    value: float
    unit: str
    description: str = ""


@dataclass(frozen=True)
class Rule:
    """One climate rule.

    Attributes
    ----------
    id : str
        Rule id (``building_flood``, ``floor_level``, ...).
    text_da, text_en : str
        The rule in Danish and English.
    source : str
        Citation of where the rule and its numbers come from (English).
    thresholds : Mapping[str, Threshold]
        Named thresholds.
    enabled : bool
        Disabled rules are not evaluated.
    title_da, title_en : str
        Short name of the rule for reports (the id when not given).
    source_da : str
        The citation in Danish (``source`` when not given).
    """

    id: str
    text_da: str
    text_en: str
    source: str
    thresholds: Mapping[str, Threshold]
    enabled: bool = True
    title_da: str = ""
    title_en: str = ""
    source_da: str = ""

    def title(self, lang: str) -> str:
        """Short name of the rule in ``lang`` (``da`` or ``en``)."""
        return (self.title_da if lang == "da" else self.title_en) or self.id

    def text(self, lang: str) -> str:
        """The rule in ``lang``."""
        return self.text_da if lang == "da" else self.text_en

    def source_in(self, lang: str) -> str:
        """The citation in ``lang``."""
        return (self.source_da or self.source) if lang == "da" else self.source

    def value(self, name: str) -> float:
        """The value of threshold ``name``."""
        return self.thresholds[name].value

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready description of the rule."""
        return {
            "id": self.id,
            "title_da": self.title("da"),
            "title_en": self.title("en"),
            "text_da": self.text_da,
            "text_en": self.text_en,
            "source": self.source,
            "source_da": self.source_in("da"),
            "enabled": self.enabled,
            "thresholds": {
                k: {"value": t.value, "unit": t.unit, "description": t.description}
                for k, t in self.thresholds.items()
            },
        }


@dataclass(frozen=True)
class Finding:
    """The outcome of one rule for one feature and scenario.

    Attributes
    ----------
    rule_id : str
        The rule.
    verdict : {"pass", "attention", "applies", "fail"}
        See the module documentation.
    measure : str
        Name of the measure the verdict is based on.
    measured : float, str, bool or None
        Its value (for ``floor_level``: the recommended level, m DVR90).
    threshold : float or None
        The deciding threshold.
    unit : str
        Unit of ``measured`` and ``threshold``.
    scenario : str
        Climate scenario.
    explanation_da, explanation_en : str
        One line saying what was found.
    sources : tuple of dict
        ``{"measure", "layer", "path"}`` for each measure used (from the caller's mapping).
    details : dict
        Further numbers (e.g. ``recommended_level_m``, ``margin_to_terrain_m``).
    """

    rule_id: str
    verdict: Verdict
    measure: str
    measured: float | str | bool | None
    threshold: float | None
    unit: str
    scenario: str
    explanation_da: str
    explanation_en: str
    sources: tuple[dict[str, str], ...] = ()
    details: dict[str, float | None] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready mapping (NaN becomes None)."""
        return {
            "rule_id": self.rule_id,
            "verdict": self.verdict,
            "measure": self.measure,
            "measured": _json_scalar(self.measured),
            "threshold": _json_scalar(self.threshold),
            "unit": self.unit,
            "scenario": self.scenario,
            "explanation_da": self.explanation_da,
            "explanation_en": self.explanation_en,
            "sources": [dict(s) for s in self.sources],
            "details": {k: _json_scalar(v) for k, v in self.details.items()},
        }


def _json_scalar(value: Any) -> Any:
    if value is None or isinstance(value, bool | str):
        return value
    try:
        f = float(value)
    except (TypeError, ValueError):
        return str(value)
    if not math.isfinite(f):
        return None
    return int(f) if isinstance(value, int) else f


# --------------------------------------------------------------------------- loading


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError as exc:
        raise ConfigError(f"rules file {path} does not exist; give an existing TOML file") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"rules file {path} is not valid TOML: {exc}") from exc


def _unknown_keys(user: Mapping[str, Any], base: Mapping[str, Any]) -> list[str]:
    """Dotted keys of ``user`` that the defaults do not have (or that may not change)."""
    bad: list[str] = []
    for rid, table in user.items():
        if rid not in base:
            bad.append(rid)
            continue
        if not isinstance(table, Mapping):
            bad.append(f"{rid} (must be a table)")
            continue
        bad += [f"{rid}.{k}" for k in table if k not in _RULE_KEYS]
        for tname, tval in dict(table.get("thresholds", {})).items():
            if tname not in base[rid].get("thresholds", {}):
                bad.append(f"{rid}.thresholds.{tname}")
            elif not isinstance(tval, Mapping):
                bad.append(f"{rid}.thresholds.{tname} (must be a table)")
            else:
                bad += [f"{rid}.thresholds.{tname}.{k}" for k in tval if k not in _THRESHOLD_KEYS]
    return bad


def _merge(base: dict[str, Any], user: Mapping[str, Any], where: Path) -> dict[str, Any]:
    bad = _unknown_keys(user, base)
    if bad:
        raise ConfigError(
            f"rules file {where}: unknown key(s) {bad}; known rules are {sorted(base)} with keys "
            f"{sorted(_RULE_KEYS)} and threshold keys {sorted(_THRESHOLD_KEYS)}"
        )
    out = {rid: dict(table) for rid, table in base.items()}
    for rid, table in user.items():
        thresholds = {k: dict(v) for k, v in base[rid].get("thresholds", {}).items()}
        for tname, tval in dict(table.get("thresholds", {})).items():
            if "unit" in tval and tval["unit"] != thresholds[tname]["unit"]:
                raise ConfigError(
                    f"rules file {where}: {rid}.thresholds.{tname}.unit is "
                    f"{thresholds[tname]['unit']!r} and cannot be changed (got {tval['unit']!r})"
                )
            thresholds[tname].update(tval)
        out[rid].update({k: v for k, v in table.items() if k != "thresholds"})
        out[rid]["thresholds"] = thresholds
    return out


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ConfigError(f"{where} must be a finite number, got {value!r}")
    return float(value)


def _build(rid: str, table: Mapping[str, Any]) -> Rule:
    for key in ("text_da", "text_en", "source"):
        if not isinstance(table.get(key), str) or not table[key].strip():
            raise ConfigError(f"rule {rid}: {key} must be a non-empty string")
    if not isinstance(table.get("enabled", True), bool):
        raise ConfigError(f"rule {rid}: enabled must be true or false")
    thresholds = {
        name: Threshold(
            value=_number(t.get("value"), f"rule {rid}: thresholds.{name}.value"),
            unit=str(t.get("unit", "")),
            description=str(t.get("description", "")),
        )
        for name, t in table.get("thresholds", {}).items()
    }
    for key in ("title_da", "title_en", "source_da"):
        if not isinstance(table.get(key, ""), str):
            raise ConfigError(f"rule {rid}: {key} must be a string")
    return Rule(
        id=rid,
        text_da=table["text_da"],
        text_en=table["text_en"],
        source=table["source"],
        thresholds=thresholds,
        enabled=table.get("enabled", True),
        title_da=table.get("title_da", ""),
        title_en=table.get("title_en", ""),
        source_da=table.get("source_da", ""),
    )


def load_rules(path: str | Path | None = None) -> dict[str, Rule]:
    """Load the default rules, with a user rules file merged over them.

    Parameters
    ----------
    path : path-like, optional
        A TOML file with tables ``[RULE_ID]`` (keys ``title_da``, ``title_en``,
        ``text_da``, ``text_en``, ``source``, ``source_da``, ``enabled``) and
        ``[RULE_ID.thresholds.NAME]`` (keys ``value``, ``description``). Only what it
        sets changes.

    Returns
    -------
    dict
        Rule id -> :class:`Rule`, in the order of the defaults file.

    Raises
    ------
    ConfigError
        The file is missing or not TOML, names unknown rules/keys, changes a unit, or
        sets a value that is not a finite number.
    """
    data = _read_toml(DEFAULT_RULES_FILE)
    if path is not None:
        data = _merge(data, _read_toml(Path(path)), Path(path))
    rules = {rid: _build(rid, table) for rid, table in data.items()}
    for rid in rules:
        if rid not in _EVALUATORS:
            raise ConfigError(f"rule {rid!r} has no evaluator; known rules {sorted(_EVALUATORS)}")
    missing = sorted(set(_EVALUATORS) - set(rules))
    if missing:
        raise ConfigError(f"rules file lacks the rule(s) {missing}")
    return rules


# --------------------------------------------------------------------------- evaluation


@dataclass(frozen=True)
class _Outcome:
    verdict: Verdict
    measure: str
    measured: float | str | bool | None
    threshold: float | None
    unit: str
    da: str
    en: str
    uses: tuple[str, ...]
    details: dict[str, float | None] = field(default_factory=dict)


_DECIMAL_POINT = re.compile(r"(?<=\d)\.(?=\d)")


def danish_decimals(text: str) -> str:
    """Numbers written the Danish way: ``2.47 m`` -> ``2,47 m`` (decimal comma)."""
    return _DECIMAL_POINT.sub(",", text)


def _num(measures: Mapping[str, Any], key: str) -> float | None:
    """A finite number from ``measures`` or None (missing, None, NaN, not a number)."""
    value = measures.get(key)
    if value is None or isinstance(value, bool | str):
        return None
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def _flag(measures: Mapping[str, Any], key: str) -> bool | None:
    value = measures.get(key)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return bool(value)


def _text(measures: Mapping[str, Any], key: str) -> str | None:
    value = measures.get(key)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    text = str(value).strip()
    return text or None


def _graded(
    value: float, fail: float, attention: float | None, *, above: bool = True
) -> tuple[Verdict, float]:
    """Verdict of ``value`` against a fail and an attention threshold."""
    hit = (value >= fail) if above else (value <= fail)
    if hit:
        return "fail", fail
    if attention is not None and ((value >= attention) if above else (value <= attention)):
        return "attention", attention
    return "pass", fail


def _building_flood(m: Mapping[str, Any], rule: Rule, scenario: str) -> _Outcome | None:
    key = "flood_depth_max_buffer_m"
    depth = _num(m, key)
    if depth is None:
        return None
    verdict, thr = _graded(depth, rule.value("depth"), rule.value("attention"))
    da = {
        "fail": f"{depth:.2f} m vand inden for bufferen (≥ {thr:.2f} m): bygningen oversvømmes.",
        "attention": f"{depth:.2f} m vand inden for bufferen (≥ {thr:.2f} m): vær opmærksom.",
        "pass": f"{depth:.2f} m vand inden for bufferen (< {thr:.2f} m).",
    }[verdict]
    en = {
        "fail": f"{depth:.2f} m of water in the buffer (>= {thr:.2f} m): the building floods.",
        "attention": f"{depth:.2f} m of water in the buffer (>= {thr:.2f} m): take care.",
        "pass": f"{depth:.2f} m of water in the buffer (< {thr:.2f} m).",
    }[verdict]
    return _Outcome(verdict, key, depth, thr, "m", da, en, (key,))


def _floor_level(m: Mapping[str, Any], rule: Rule, scenario: str) -> _Outcome | None:
    terrain = _num(m, "terrain_mean_m")
    if terrain is None:
        return None
    water = _num(m, "water_level_max_buffer_m")
    cloud_level = max(terrain, water if water is not None else terrain)
    candidates = {"cloudburst": cloud_level + rule.value("cloudburst_freeboard")}
    sea_level = _num(m, "sea_level_m")
    if sea_level is not None:
        candidates["sea"] = sea_level + rule.value("sea_freeboard")
    governing = max(candidates, key=lambda k: candidates[k])
    level = candidates[governing]
    margin = level - terrain
    existing = _num(m, "floor_level_m")
    uses = ("terrain_mean_m", "water_level_max_buffer_m", "sea_level_m", "floor_level_m")
    details: dict[str, float | None] = {
        "recommended_level_m": level,
        "margin_to_terrain_m": margin,
        "cloudburst_level_m": candidates["cloudburst"],
        "sea_level_m": candidates.get("sea"),
        "existing_floor_level_m": existing,
    }
    gov_da = "skybrud" if governing == "cloudburst" else "havvandstand"
    da = (
        f"Anbefalet sokkelkote {level:.2f} m DVR90 ({margin:.2f} m over terræn; styret af {gov_da})"
    )
    en = (
        f"Recommended floor level {level:.2f} m DVR90 "
        f"({margin:.2f} m above terrain; set by {governing})"
    )
    if existing is None:
        verdict: Verdict = "applies"
    elif existing < level:
        verdict = "fail"
        da += f"; eksisterende gulv {existing:.2f} m ligger lavere"
        en += f"; the existing floor at {existing:.2f} m is lower"
    else:
        verdict = "pass"
        da += f"; eksisterende gulv {existing:.2f} m er højt nok"
        en += f"; the existing floor at {existing:.2f} m is high enough"
    return _Outcome(
        verdict, "recommended_level_m", level, None, "m DVR90", da + ".", en + ".", uses, details
    )


def _basements(m: Mapping[str, Any], rule: Rule, scenario: str) -> _Outcome | None:
    key = "gw_depth_min_m"
    depth = _num(m, key)
    if depth is None:
        return None
    thr = rule.value("depth")
    if depth <= thr:
        da = f"Grundvand {depth:.2f} m under terræn (≤ {thr:.1f} m): kælder frarådes."
        en = f"Groundwater {depth:.2f} m below terrain (<= {thr:.1f} m): basements advised against."
        return _Outcome("fail", key, depth, thr, "m", da, en, (key,))
    da = f"Grundvand {depth:.2f} m under terræn (> {thr:.1f} m)."
    en = f"Groundwater {depth:.2f} m below terrain (> {thr:.1f} m)."
    return _Outcome("pass", key, depth, thr, "m", da, en, (key,))


def _infiltration(m: Mapping[str, Any], rule: Rule, scenario: str) -> _Outcome | None:
    key = "gw_depth_min_m"
    depth = _num(m, key)
    dirty = _flag(m, "contaminated")
    if depth is None and dirty is None:
        return None
    thr = rule.value("depth")
    shallow = depth is not None and depth <= thr
    uses = (key, "contaminated")
    if dirty:
        da = "Forurenet jord: nedsivning uegnet uden tilladelse."
        en = "Contaminated soil: infiltration unsuitable without a permit."
        if shallow:
            da += f" Grundvand {depth:.2f} m under terræn."
            en += f" Groundwater {depth:.2f} m below terrain."
        return _Outcome("fail", "contaminated", True, None, "", da, en, uses)
    if depth is None:
        return _Outcome(
            "pass",
            "contaminated",
            False,
            None,
            "",
            "Ingen kendt forurening.",
            "No known contamination.",
            uses,
        )
    if shallow:
        da = f"Grundvand {depth:.2f} m under terræn (≤ {thr:.1f} m): nedsivning uegnet."
        en = f"Groundwater {depth:.2f} m below terrain (<= {thr:.1f} m): infiltration unsuitable."
        return _Outcome("fail", key, depth, thr, "m", da, en, uses)
    da = f"Grundvand {depth:.2f} m under terræn (> {thr:.1f} m): nedsivning mulig med tilladelse."
    en = f"Groundwater {depth:.2f} m below terrain (> {thr:.1f} m): infiltration possible (permit)."
    return _Outcome("pass", key, depth, thr, "m", da, en, uses)


def _flow_path(m: Mapping[str, Any], rule: Rule, scenario: str) -> _Outcome | None:
    key = "flowpath_max_upstream_m2"
    area = _num(m, key)
    if area is None:
        return None
    verdict, thr = _graded(area, rule.value("upstream_area"), rule.value("attention"))
    ha = area / 10_000.0
    da = {
        "fail": f"Strømningsvej med {ha:.1f} ha opland: hold fri eller dimensioner for vandet.",
        "attention": f"Strømningsvej med {ha:.1f} ha opland: vær opmærksom.",
        "pass": f"Ingen væsentlig strømningsvej ({ha:.2f} ha opland).",
    }[verdict]
    en = {
        "fail": f"Flow path with {ha:.1f} ha upstream: keep it free or design for the water.",
        "attention": f"Flow path with {ha:.1f} ha upstream: take care.",
        "pass": f"No significant flow path ({ha:.2f} ha upstream).",
    }[verdict]
    return _Outcome(verdict, key, area, thr, "m2", da, en, (key,))


def _sea(m: Mapping[str, Any], rule: Rule, scenario: str) -> _Outcome | None:
    key = "sea_share"
    share = _num(m, key)
    if share is None:
        return None
    thr = rule.value("share")
    uses = (key, "sea_depth_max_m")
    if share > thr:
        depth = _num(m, "sea_depth_max_m")
        dtxt = f", op til {depth:.2f} m" if depth is not None else ""
        etxt = f", up to {depth:.2f} m" if depth is not None else ""
        da = (
            f"{share:.0%} af arealet oversvømmes fra havet i {scenario}{dtxt}: "
            "afværgeforanstaltninger kræves."
        )
        en = (
            f"{share:.0%} of the area floods from the sea in {scenario}{etxt}: "
            "protective measures required."
        )
        return _Outcome("fail", key, share, thr, "fraction", da, en, uses)
    da = f"Ingen oversvømmelse fra havet i {scenario}."
    en = f"No flooding from the sea in {scenario}."
    return _Outcome("pass", key, share, thr, "fraction", da, en, uses)


def _district_heating(m: Mapping[str, Any], rule: Rule, scenario: str) -> _Outcome | None:
    key = "heating_zone"
    if key not in m:
        return None
    zone = _text(m, key)
    clearance = rule.value("tree_clearance")
    if zone is None:
        return _Outcome(
            "pass",
            key,
            None,
            None,
            "",
            "Uden for fjernvarmeområde.",
            "Outside district-heating zones.",
            (key,),
        )
    da = (
        f"Fjernvarmeområde {zone}: tilslutning forventes; "
        f"træer mindst {clearance:.1f} m fra ledninger."
    )
    en = (
        f"District-heating zone {zone}: connection expected; "
        f"trees at least {clearance:.1f} m from mains."
    )
    return _Outcome("applies", key, zone, clearance, "m", da, en, (key,))


Evaluator = Callable[[Mapping[str, Any], Rule, str], "_Outcome | None"]

_EVALUATORS: dict[str, Evaluator] = {
    "building_flood": _building_flood,
    "floor_level": _floor_level,
    "basements": _basements,
    "infiltration": _infiltration,
    "flow_path": _flow_path,
    "sea": _sea,
    "district_heating": _district_heating,
}


def _source_refs(
    uses: Sequence[str], measures: Mapping[str, Any], sources: Mapping[str, Mapping[str, str]]
) -> tuple[dict[str, str], ...]:
    refs = []
    for key in uses:
        if key in sources and key in measures:
            ref = sources[key]
            refs.append({"measure": key, "layer": str(ref["layer"]), "path": str(ref["path"])})
    return tuple(refs)


def evaluate(
    measures: Measures,
    rules: Mapping[str, Rule] | None = None,
    *,
    scenario: str,
    sources: Mapping[str, Mapping[str, str]] | None = None,
) -> list[Finding]:
    """Evaluate the rules on the measures of one feature.

    Parameters
    ----------
    measures : Mapping
        Measure name -> value for one feature and scenario (a dict or a pandas row), with
        the column names of ``exposure()`` (``flood_depth_max_buffer_m``, ``gw_depth_min_m``,
        ...), and optionally ``sea_level_m`` (scenario storm-surge level, m DVR90),
        ``floor_level_m`` (existing floor level, m DVR90) and ``contaminated`` (bool).
    rules : Mapping[str, Rule], optional
        From :func:`load_rules`; the defaults when omitted.
    scenario : str
        Name of the scenario the measures belong to.
    sources : Mapping, optional
        Measure name -> ``{"layer": ..., "path": ...}`` of the data it came from.

    Returns
    -------
    list of Finding
        One per enabled rule whose measures are present, in rule order.
    """
    rules = load_rules() if rules is None else rules
    sources = sources or {}
    m: Mapping[str, Any] = (
        measures
        if isinstance(measures, Mapping)
        else {str(k): v for k, v in measures.items()}  # a pandas row
    )
    out: list[Finding] = []
    for rid, rule in rules.items():
        if not rule.enabled:
            continue
        if rid not in _EVALUATORS:
            raise ConfigError(f"rule {rid!r} has no evaluator; known rules {sorted(_EVALUATORS)}")
        res = _EVALUATORS[rid](m, rule, scenario)
        if res is None:
            continue
        out.append(
            Finding(
                rule_id=rid,
                verdict=res.verdict,
                measure=res.measure,
                measured=res.measured,
                threshold=res.threshold,
                unit=res.unit,
                scenario=scenario,
                explanation_da=danish_decimals(res.da),
                explanation_en=res.en,
                sources=_source_refs(res.uses, m, sources),
                details=res.details,
            )
        )
    return out


def worst_verdict(findings: Sequence[Finding]) -> Verdict:
    """The most severe verdict of ``findings`` (``pass`` when there are none)."""
    if not findings:
        return "pass"
    return max((f.verdict for f in findings), key=VERDICT_ORDER.index)
