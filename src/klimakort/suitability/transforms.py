"""Fuzzy-membership transforms that map criterion values to suitability scores in [0, 1].

The functions follow ArcGIS *Fuzzy Membership* (Spatial Analyst) definitions, so that
planners can reproduce a profile in a desktop GIS:

==========  ==============================================  ==========================
kind        formula                                          parameters
==========  ==============================================  ==========================
linear      0 at ``min``, 1 at ``max``, linear between        ``min``, ``max`` (may be
                                                              reversed: min > max)
sigmoid     ``1 / (1 + exp(-(x - midpoint) / spread))``       ``midpoint``, ``spread``
                                                              (negative: decreasing)
gaussian    ``exp(-spread * (x - midpoint)**2)``              ``midpoint``, ``spread>0``
near        ``1 / (1 + spread * (x - midpoint)**2)``          ``midpoint``, ``spread>0``
far         ``1 / (1 + (x / midpoint)**-spread)`` (Large)     ``midpoint>0``, ``spread>0``
small       ``1 / (1 + (x / midpoint)**spread)`` (Small)      ``midpoint>0``, ``spread>0``
==========  ==============================================  ==========================

``far`` and ``small`` are defined for ``x >= 0`` (distances, depths); negative values
are treated as 0. NaN stays NaN in every transform.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from klimakort.errors import ParameterError

FloatArray = npt.NDArray[np.float64]


def _arr(values: npt.ArrayLike) -> FloatArray:
    return np.asarray(values, dtype=np.float64)


def _positive(name: str, value: float, kind: str) -> None:
    if not np.isfinite(value) or value <= 0:
        raise ParameterError(f"{kind}: {name}={value} must be a positive finite number")


def linear(values: npt.ArrayLike, min: float, max: float) -> FloatArray:
    """Linear membership: 0 at ``min``, 1 at ``max`` (reversed if ``min > max``)."""
    if not (np.isfinite(min) and np.isfinite(max)) or min == max:
        raise ParameterError(f"linear: min={min} and max={max} must be finite and differ")
    x = _arr(values)
    with np.errstate(invalid="ignore"):
        return np.clip((x - min) / (max - min), 0.0, 1.0)


def sigmoid(values: npt.ArrayLike, midpoint: float, spread: float) -> FloatArray:
    """Logistic membership: 0.5 at ``midpoint``; ``spread`` (m, ...) sets the steepness."""
    if not np.isfinite(spread) or spread == 0:
        raise ParameterError(f"sigmoid: spread={spread} must be non-zero (negative: decreasing)")
    x = _arr(values)
    with np.errstate(over="ignore", invalid="ignore"):
        return 1.0 / (1.0 + np.exp(-(x - midpoint) / spread))


def gaussian(values: npt.ArrayLike, midpoint: float, spread: float) -> FloatArray:
    """Gaussian membership: 1 at ``midpoint``, ``exp(-spread (x - midpoint)²)``."""
    _positive("spread", spread, "gaussian")
    x = _arr(values)
    with np.errstate(over="ignore", invalid="ignore"):
        return np.exp(-spread * (x - midpoint) ** 2)


def near(values: npt.ArrayLike, midpoint: float, spread: float) -> FloatArray:
    """Near membership: 1 at ``midpoint``, ``1 / (1 + spread (x - midpoint)²)``."""
    _positive("spread", spread, "near")
    x = _arr(values)
    with np.errstate(over="ignore", invalid="ignore"):
        return 1.0 / (1.0 + spread * (x - midpoint) ** 2)


def far(values: npt.ArrayLike, midpoint: float, spread: float) -> FloatArray:
    """Large membership (ArcGIS *FuzzyLarge*): 0.5 at ``midpoint``, towards 1 above it."""
    _positive("midpoint", midpoint, "far")
    _positive("spread", spread, "far")
    x = np.maximum(_arr(values), 0.0)
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        return 1.0 / (1.0 + (x / midpoint) ** -spread)


def small(values: npt.ArrayLike, midpoint: float, spread: float) -> FloatArray:
    """Small membership (ArcGIS *FuzzySmall*): 0.5 at ``midpoint``, towards 1 below it."""
    _positive("midpoint", midpoint, "small")
    _positive("spread", spread, "small")
    x = np.maximum(_arr(values), 0.0)
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        return 1.0 / (1.0 + (x / midpoint) ** spread)


#: transform kind -> (function, required parameter names)
TRANSFORMS: dict[str, tuple[Callable[..., FloatArray], tuple[str, ...]]] = {
    "linear": (linear, ("min", "max")),
    "sigmoid": (sigmoid, ("midpoint", "spread")),
    "gaussian": (gaussian, ("midpoint", "spread")),
    "near": (near, ("midpoint", "spread")),
    "far": (far, ("midpoint", "spread")),
    "small": (small, ("midpoint", "spread")),
}


@dataclass(frozen=True)
class Transform:
    """A named fuzzy transform with its parameters, e.g. ``Transform("linear", {...})``."""

    kind: str
    params: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in TRANSFORMS:
            raise ParameterError(
                f"unknown transform {self.kind!r}; use one of {sorted(TRANSFORMS)}"
            )
        needed = set(TRANSFORMS[self.kind][1])
        given = set(self.params)
        if needed != given:
            raise ParameterError(
                f"transform {self.kind!r} needs parameters {sorted(needed)}, got {sorted(given)}"
            )
        # validate the parameters once, on a dummy value
        self(np.zeros(1))

    @classmethod
    def from_dict(cls, spec: Mapping[str, Any]) -> Transform:
        """Build from ``{"kind": "linear", "min": 0, "max": 1}``."""
        spec = dict(spec)
        kind = str(spec.pop("kind", ""))
        return cls(kind, {k: float(v) for k, v in spec.items()})

    def __call__(self, values: npt.ArrayLike) -> FloatArray:
        """Apply the transform; NaN stays NaN, the rest lies in [0, 1]."""
        func = TRANSFORMS[self.kind][0]
        out = func(values, **self.params)
        return np.clip(out, 0.0, 1.0)

    def describe(self) -> str:
        """Short text such as ``linear(min=0, max=1)``."""
        args = ", ".join(f"{k}={v:g}" for k, v in self.params.items())
        return f"{self.kind}({args})"
