"""Measure profiles: what a nature-based measure needs (hard constraints) and prefers (criteria).

Profiles are read from TOML. The built-in file ``measures_default.toml`` defines
``miyawaki_forest``, ``tree``, ``infiltration``, ``retention_basin`` (alias
``climate_park``) and ``rain_garden``; users pass their own TOML with the same schema to
override or add profiles (see :func:`load_profiles`).
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from klimakort.errors import ConfigError, DataNotFoundError, ParameterError
from klimakort.suitability.ahp import ahp_weights
from klimakort.suitability.transforms import Transform

_DEFAULT_FILE = "measures_default.toml"

#: criterion rasters that :mod:`klimakort.suitability.raster` can derive, with units
CRITERION_SOURCES: dict[str, str] = {
    "distance_to_institutions": "m to the nearest school or kindergarten",
    "distance_to_flowpaths": "m to the nearest flow path (upstream area >= threshold)",
    "cloudburst_depth": "m of water in the design cloudburst of the scenario",
    "imperviousness": "fraction 0-1 of sealed surface in the surrounding window",
    "groundwater_depth": "m from terrain down to the groundwater table in the scenario",
    "bluespot_depth": "m from terrain up to the bluespot spill level (filled - terrain)",
    "upstream_area": "m2 of upstream catchment (flow accumulation)",
}

#: area layers (and rasters) a profile can depend on; a missing one is skipped with a note
#: unless it is named in ``require_layers`` (or the run is strict)
AREA_LAYERS: tuple[str, ...] = (
    "public_land",
    "buildings",
    "heating_mains",
    "protected_nature",
    "groundwater",
    "contaminated_soil",
    "institutions",
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Constraints(_Strict):
    """Hard constraints; a constraint that is ``None``/``False`` is not applied."""

    public_land: bool = True
    avoid_buildings: bool = True
    heating_mains_clearance_m: float | None = Field(None, ge=0)
    allow_protected_nature: bool = False
    max_bluespot_depth_m: float | None = Field(None, ge=0)
    min_groundwater_depth_m: float | None = None
    avoid_contaminated_soil: bool = False
    max_distance_to_water_m: float | None = Field(None, ge=0)


class Criterion(_Strict):
    """One criterion: a raster source, its fuzzy transform and (optionally) a direct weight."""

    name: str = Field(min_length=1, pattern=r"^[a-z][a-z0-9_]*$")
    source: str
    transform: dict[str, Any]
    weight: float | None = Field(None, gt=0)
    description: str = ""

    @model_validator(mode="after")
    def _check(self) -> Criterion:
        if self.source not in CRITERION_SOURCES:
            raise ValueError(
                f"unknown criterion source {self.source!r}; use one of {sorted(CRITERION_SOURCES)}"
            )
        Transform.from_dict(self.transform)  # raises ParameterError on bad parameters
        return self

    def make_transform(self) -> Transform:
        """The :class:`Transform` of this criterion."""
        return Transform.from_dict(self.transform)


class Estimate(_Strict):
    """A benefit parameter with low/central/high values, its unit and its source."""

    low: float
    central: float
    high: float
    unit: str
    source: str

    @model_validator(mode="after")
    def _ordered(self) -> Estimate:
        if not self.low <= self.central <= self.high:
            raise ValueError(
                f"need low <= central <= high, got {(self.low, self.central, self.high)}"
            )
        return self


class Benefits(_Strict):
    """Benefit parameters of a measure (see :mod:`klimakort.suitability.benefits`)."""

    co2_t_per_m2_yr: Estimate | None = None
    retention_depth_m: Estimate | None = None
    canopy_fraction: float = Field(0.0, ge=0, le=1)
    cooling_factor: float = Field(0.0, ge=0, le=1)
    cooling_source: str = ""
    walking_distance_m: float = Field(500.0, gt=0)
    #: runoff coefficient of the site once the measure is built (None: unchanged); the
    #: cloudburst effect uses ``min(today's coefficient, this)`` on the site's cells
    runoff_coefficient_after: float | None = Field(None, ge=0, le=1)
    runoff_coefficient_source: str = ""


class Profile(_Strict):
    """A measure profile (see ``measures_default.toml`` for documented examples)."""

    name: str
    label: str = ""
    description: str = ""
    aliases: list[str] = Field(default_factory=list)
    min_area_m2: float = Field(gt=0)
    min_width_m: float = Field(gt=0)
    flowpath_min_upstream_m2: float = Field(10_000.0, gt=0)
    imperviousness_window_m: float = Field(50.0, gt=0)
    constraints: Constraints = Field(default_factory=Constraints)
    criteria: list[Criterion] = Field(min_length=1)
    ahp: list[list[float]] | None = None
    benefits: Benefits = Field(default_factory=Benefits)
    require_layers: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _weights_given(self) -> Profile:
        unknown = sorted(set(self.require_layers) - set(AREA_LAYERS))
        if unknown:
            raise ValueError(f"require_layers: unknown layers {unknown}; use {list(AREA_LAYERS)}")
        names = [c.name for c in self.criteria]
        if len(set(names)) != len(names):
            raise ValueError(f"criterion names must be unique, got {names}")
        direct = [c.weight is not None for c in self.criteria]
        if self.ahp is None and not all(direct):
            raise ValueError("give every criterion a weight, or give an ahp matrix")
        if self.ahp is not None and any(direct):
            raise ValueError("give either criterion weights or an ahp matrix, not both")
        if self.ahp is not None and np.shape(self.ahp) != (len(names), len(names)):
            raise ValueError(
                f"ahp matrix must be {len(names)}x{len(names)} (criteria order {names})"
            )
        if self.ahp is not None:
            ahp_weights(self.ahp)  # ParameterError (naming CR) if inconsistent
        return self

    def weights(self) -> dict[str, float]:
        """Normalised criterion weights (sum 1), from direct weights or the AHP matrix.

        Raises
        ------
        ParameterError
            The AHP matrix is inconsistent (CR >= 0.1).
        """
        names = [c.name for c in self.criteria]
        if self.ahp is not None:
            w, _cr = ahp_weights(self.ahp)
        else:
            w = np.array([float(c.weight or 0.0) for c in self.criteria])
            w = w / w.sum()
        return {n: float(v) for n, v in zip(names, w, strict=True)}

    def consistency_ratio(self) -> float | None:
        """AHP consistency ratio, or None for direct weights."""
        return None if self.ahp is None else ahp_weights(self.ahp)[1]


def _parse(data: Mapping[str, Any], origin: str) -> dict[str, Profile]:
    raw = data.get("profiles")
    if not isinstance(raw, dict) or not raw:
        raise ConfigError(f"{origin}: needs a [profiles.<name>] table per measure")
    out: dict[str, Profile] = {}
    for name, body in raw.items():
        if not isinstance(body, dict):
            raise ConfigError(f"{origin}: profiles.{name} must be a table")
        try:
            out[name] = Profile.model_validate({"name": name, **body})
        except ValidationError as exc:
            err = exc.errors()[0]
            loc = ".".join(str(p) for p in err["loc"])
            raise ConfigError(f"{origin}: profiles.{name}.{loc}: {err['msg']}") from exc
        except ParameterError as exc:
            raise ConfigError(f"{origin}: profiles.{name}: {exc}") from exc
    return out


def load_profiles(path: str | Path | None = None) -> dict[str, Profile]:
    """Load measure profiles: the built-in ones, overridden/extended by ``path``.

    Parameters
    ----------
    path : path-like, optional
        A user TOML with ``[profiles.<name>]`` tables. A profile of the same name
        replaces the built-in one entirely.

    Returns
    -------
    dict of str to Profile
        By canonical name (aliases are resolved by :func:`get_profile`).
    """
    text = resources.files("klimakort.suitability").joinpath(_DEFAULT_FILE).read_text("utf-8")
    profiles = _parse(tomllib.loads(text), _DEFAULT_FILE)
    if path is not None:
        p = Path(path)
        if not p.exists():
            raise DataNotFoundError(f"measure profile file not found: {p}")
        try:
            data = tomllib.loads(p.read_text("utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{p}: invalid TOML: {exc}") from exc
        profiles.update(_parse(data, str(p)))
    return profiles


def get_profile(measure: str, profiles: Mapping[str, Profile] | None = None) -> Profile:
    """The profile called ``measure`` (or having it as an alias).

    Raises
    ------
    ParameterError
        No such measure; the message lists the known ones.
    """
    profiles = profiles if profiles is not None else load_profiles()
    if measure in profiles:
        return profiles[measure]
    for prof in profiles.values():
        if measure in prof.aliases:
            return prof
    known = sorted([*profiles, *(a for p in profiles.values() for a in p.aliases)])
    raise ParameterError(f"unknown measure {measure!r}; known measures are {known}")
