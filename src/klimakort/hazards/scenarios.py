"""Named climate scenarios (``present``, ``2050``, ``2100``) with sourced values.

The defaults live in the package data file ``scenarios_default.toml``; every number
carries its unit and the text of its source, so that a map or a report can cite it.
An ``area.toml`` overrides any value per scenario::

    [scenarios.2100]
    sea_level_rise_m = 0.6                       # plain number: source "area.toml override"
    storm_surge_m = { 100 = 1.7 }                # one return period
    groundwater_rise_m = { value = 0.3, source = "municipal groundwater model 2024" }

:func:`load_scenario` applies such a table (``area.scenarios["2100"]``) on top of the
defaults; unknown scenario names or keys raise :class:`~klimakort.errors.ConfigError`
naming the key.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from types import MappingProxyType
from typing import Any

from klimakort.errors import ConfigError, ParameterError

__all__ = [
    "OVERRIDE_SOURCE",
    "Scenario",
    "SourcedValue",
    "load_scenario",
    "scenario_names",
]

#: source text given to values set in an area.toml without their own source
OVERRIDE_SOURCE = "area.toml override"

_DEFAULT_FILE = "scenarios_default.toml"
_SCALAR_KEYS = {"sea_level_rise_m": "m", "groundwater_rise_m": "m"}
_TABLE_KEYS = {"storm_surge_m": "m DVR90", "rain_depth_mm": "mm", "climate_factor": "1"}
_TEXT_KEYS = ("period", "coast")
_ALLOWED_KEYS = (*_SCALAR_KEYS, *_TABLE_KEYS, *_TEXT_KEYS, "notes")


@dataclass(frozen=True)
class SourcedValue:
    """A number with its unit and the source it comes from.

    Attributes
    ----------
    value : float
    unit : str
    source : str
    """

    value: float
    unit: str
    source: str

    def __float__(self) -> float:
        return self.value


@dataclass(frozen=True)
class Scenario:
    """Climate scenario values used by the hazard models.

    Attributes
    ----------
    name : str
        ``present``, ``2050`` or ``2100``.
    period : str
        Period the values describe (e.g. ``2071-2100``).
    coast : str
        Key of the coast stretch whose storm-surge statistics are used.
    coast_name : str
        Human-readable name of that coast stretch.
    sea_level_rise_m : SourcedValue
        Mean sea-level rise relative to present (m).
    groundwater_rise_m : SourcedValue
        Rise of the near-surface groundwater level relative to present (m).
    storm_surge_m : Mapping[int, SourcedValue]
        *Present-day* storm-surge return levels (m DVR90) by return period (years).
    rain_depth_mm : Mapping[int, SourcedValue]
        *Present-day* 1-hour design cloudburst depth (mm) by return period (years).
    climate_factor : Mapping[int, SourcedValue]
        Factor on the present design rain, by return period.
    notes : tuple of str
        Further context (e.g. the DK2020 plan's cloudburst-frequency figures).
    """

    name: str
    period: str
    coast: str
    coast_name: str
    sea_level_rise_m: SourcedValue
    groundwater_rise_m: SourcedValue
    storm_surge_m: Mapping[int, SourcedValue]
    rain_depth_mm: Mapping[int, SourcedValue]
    climate_factor: Mapping[int, SourcedValue]
    notes: tuple[str, ...] = ()

    def still_water_level(self, return_period: int) -> float:
        """Scenario storm-surge level (m DVR90): present return level + sea-level rise.

        Parameters
        ----------
        return_period : int
            Return period in years; must be one of ``storm_surge_m``.
        """
        surge = _lookup(self.storm_surge_m, return_period, "storm_surge_m", self.name)
        return surge.value + self.sea_level_rise_m.value

    def design_rain_mm(self, return_period: int) -> float:
        """Scenario 1-hour design rain depth (mm): present depth x climate factor.

        Parameters
        ----------
        return_period : int
            Return period in years; must be in both ``rain_depth_mm`` and ``climate_factor``.
        """
        depth = _lookup(self.rain_depth_mm, return_period, "rain_depth_mm", self.name)
        factor = _lookup(self.climate_factor, return_period, "climate_factor", self.name)
        return depth.value * factor.value

    def sources(self) -> dict[str, str]:
        """Flat mapping ``key -> source text`` for every value (for map legends and reports)."""
        out = {
            "sea_level_rise_m": self.sea_level_rise_m.source,
            "groundwater_rise_m": self.groundwater_rise_m.source,
        }
        for key in _TABLE_KEYS:
            table: Mapping[int, SourcedValue] = getattr(self, key)
            for period, item in table.items():
                out[f"{key}.{period}"] = item.source
        return out


def _lookup(
    table: Mapping[int, SourcedValue], return_period: int, key: str, name: str
) -> SourcedValue:
    if return_period not in table:
        raise ParameterError(
            f"scenario {name!r} has no {key} for a {return_period}-year return period; "
            f"available: {sorted(table)}"
        )
    return table[return_period]


@cache
def _defaults() -> dict[str, Any]:
    text = resources.files("klimakort.hazards").joinpath(_DEFAULT_FILE).read_text("utf-8")
    return tomllib.loads(text)


def scenario_names() -> tuple[str, ...]:
    """Names of the defined scenarios, in the order of the defaults file."""
    return tuple(_defaults()["scenarios"])


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"{where} must be a number, got {value!r}")
    out = float(value)
    if not math.isfinite(out):
        raise ConfigError(f"{where} must be finite, got {value!r}")
    return out


def _sourced(value: Any, unit: str, where: str) -> SourcedValue:
    """A number or a ``{value, unit?, source?}`` table -> SourcedValue."""
    if isinstance(value, SourcedValue):
        return value
    if isinstance(value, Mapping):
        unknown = set(value) - {"value", "unit", "source"}
        if unknown:
            raise ConfigError(f"{where}: unknown key(s) {sorted(unknown)}; use value/unit/source")
        if "value" not in value:
            raise ConfigError(f"{where} needs a 'value'")
        src = value.get("source", OVERRIDE_SOURCE)
        if not isinstance(src, str):
            raise ConfigError(f"{where}.source must be text, got {src!r}")
        got_unit = value.get("unit", unit)
        if got_unit != unit:
            raise ConfigError(f"{where}.unit must be {unit!r}, got {got_unit!r}")
        return SourcedValue(_number(value["value"], f"{where}.value"), unit, src)
    return SourcedValue(_number(value, where), unit, OVERRIDE_SOURCE)


def _return_period(key: Any, where: str) -> int:
    text = str(key).strip().upper().removeprefix("T")
    if not text.isdigit() or int(text) <= 0:
        raise ConfigError(f"{where}: {key!r} is not a return period in years (e.g. 100 or 'T100')")
    return int(text)


def _table(value: Any, unit: str, where: str) -> dict[int, SourcedValue]:
    if not isinstance(value, Mapping):
        raise ConfigError(f"{where} must be a table of return period -> value, got {value!r}")
    out: dict[int, SourcedValue] = {}
    for key, item in value.items():
        period = _return_period(key, where)
        out[period] = _sourced(item, unit, f"{where}.{key}")
    return out


def _check_keys(values: Mapping[str, Any], where: str) -> None:
    for key in values:
        if key not in _ALLOWED_KEYS:
            raise ConfigError(
                f"unknown key {where}.{key}; allowed keys: {', '.join(sorted(_ALLOWED_KEYS))}"
            )


def _merge(base: dict[str, Any], extra: Mapping[str, Any], where: str) -> dict[str, Any]:
    """Overlay ``extra`` on ``base`` (tables of return periods merge entry by entry)."""
    _check_keys(extra, where)
    out = dict(base)
    for key, value in extra.items():
        if key in _TABLE_KEYS:
            merged = dict(out.get(key, {}))
            merged.update(_table(value, _TABLE_KEYS[key], f"{where}.{key}"))
            out[key] = merged
        elif key in _SCALAR_KEYS:
            out[key] = _sourced(value, _SCALAR_KEYS[key], f"{where}.{key}")
        elif key == "notes":
            if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
                raise ConfigError(f"{where}.notes must be a list of text")
            out[key] = tuple(value)
        else:
            if not isinstance(value, str):
                raise ConfigError(f"{where}.{key} must be text, got {value!r}")
            out[key] = value
    return out


def _validate(name: str, values: Mapping[str, Any]) -> None:
    where = f"scenarios.{name}"
    for key in ("period", "coast", "sea_level_rise_m", "groundwater_rise_m"):
        if key not in values:
            raise ConfigError(f"{where}.{key} is missing")
    for period, item in values.get("rain_depth_mm", {}).items():
        if item.value < 0:
            raise ConfigError(f"{where}.rain_depth_mm.{period} must be >= 0, got {item.value}")
    for period, item in values.get("climate_factor", {}).items():
        if item.value <= 0:
            raise ConfigError(f"{where}.climate_factor.{period} must be > 0, got {item.value}")


def load_scenario(name: str, overrides: Mapping[str, Any] | None = None) -> Scenario:
    """Load a named scenario, optionally with an area's overrides.

    Parameters
    ----------
    name : str
        One of :func:`scenario_names` (``present``, ``2050``, ``2100``).
    overrides : mapping, optional
        The area's table for this scenario (``area.scenarios[name]``), e.g.
        ``{"sea_level_rise_m": 0.6, "storm_surge_m": {"100": 1.7}}``. A value is a number
        (its source becomes ``"area.toml override"``) or ``{value, unit?, source?}``.
        ``coast`` selects another coast stretch of the defaults file.

    Returns
    -------
    Scenario

    Raises
    ------
    ConfigError
        Unknown scenario name, unknown key, wrong type or out-of-range value; the message
        names the key.
    """
    data = _defaults()
    scenarios = data["scenarios"]
    key = str(name)
    if key not in scenarios:
        raise ConfigError(
            f"unknown scenario {name!r} (scenarios.{name}); choose one of {', '.join(scenarios)}"
        )
    values = _merge({}, data.get("common", {}), "common")
    values = _merge(values, scenarios[key], f"scenarios.{key}")
    coasts = data.get("coasts", {})
    user = dict(overrides or {})
    _check_keys(user, f"scenarios.{key}")
    coast = str(user.get("coast", values.get("coast")))
    if coast not in coasts:
        raise ConfigError(
            f"scenarios.{key}.coast = {coast!r} is not a known coast stretch; "
            f"choose one of {', '.join(coasts)}"
        )
    coast_table = {
        k: v for k, v in coasts[coast].items() if k in _TABLE_KEYS and k == "storm_surge_m"
    }
    values = _merge(values, coast_table, f"coasts.{coast}")
    values = _merge(values, user, f"scenarios.{key}")
    _validate(key, values)
    return Scenario(
        name=key,
        period=values["period"],
        coast=coast,
        coast_name=str(coasts[coast].get("name", coast)),
        sea_level_rise_m=values["sea_level_rise_m"],
        groundwater_rise_m=values["groundwater_rise_m"],
        storm_surge_m=MappingProxyType(dict(sorted(values.get("storm_surge_m", {}).items()))),
        rain_depth_mm=MappingProxyType(dict(sorted(values.get("rain_depth_mm", {}).items()))),
        climate_factor=MappingProxyType(dict(sorted(values.get("climate_factor", {}).items()))),
        notes=tuple(values.get("notes", ())),
    )
