"""Fuzzy-membership transforms at known points, range, monotonicity, NaN handling."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from klimakort.errors import ParameterError
from klimakort.suitability.transforms import (
    Transform,
    far,
    gaussian,
    linear,
    near,
    sigmoid,
    small,
)


def test_linear_known_points_and_reverse() -> None:
    np.testing.assert_allclose(linear([-1, 0, 5, 10, 20], 0, 10), [0, 0, 0.5, 1, 1])
    np.testing.assert_allclose(linear([0, 2.5, 10], 10, 0), [1, 0.75, 0])


def test_sigmoid_midpoint_and_direction() -> None:
    assert sigmoid([5.0], 5.0, 2.0)[0] == pytest.approx(0.5)
    # one spread above the midpoint: 1/(1+e^-1)
    assert sigmoid([7.0], 5.0, 2.0)[0] == pytest.approx(1 / (1 + math.exp(-1)))
    assert sigmoid([7.0], 5.0, -2.0)[0] == pytest.approx(1 / (1 + math.exp(1)))


def test_gaussian_and_near_known_points() -> None:
    assert gaussian([3.0], 3.0, 0.5)[0] == pytest.approx(1.0)
    assert gaussian([5.0], 3.0, 0.5)[0] == pytest.approx(math.exp(-2.0))
    assert near([3.0], 3.0, 0.25)[0] == pytest.approx(1.0)
    assert near([5.0], 3.0, 0.25)[0] == pytest.approx(0.5)


def test_far_and_small_are_arcgis_large_and_small() -> None:
    # ArcGIS FuzzyLarge: 1/(1+(x/f2)^-f1); FuzzySmall: 1/(1+(x/f2)^f1)
    assert far([100.0], 100.0, 3.0)[0] == pytest.approx(0.5)
    assert far([200.0], 100.0, 3.0)[0] == pytest.approx(1 / (1 + 2.0**-3))
    assert far([0.0], 100.0, 3.0)[0] == 0.0
    assert small([200.0], 100.0, 3.0)[0] == pytest.approx(1 / (1 + 8.0))
    assert small([0.0], 100.0, 3.0)[0] == 1.0
    assert small([-5.0], 100.0, 3.0)[0] == 1.0  # negatives count as 0


@pytest.mark.parametrize("kind", ["linear", "sigmoid", "gaussian", "near", "far", "small"])
def test_nan_stays_nan(kind: str) -> None:
    params = {"min": 0.0, "max": 1.0} if kind == "linear" else {"midpoint": 1.0, "spread": 1.0}
    out = Transform(kind, params)(np.array([np.nan, 0.5]))
    assert np.isnan(out[0])
    assert 0.0 <= out[1] <= 1.0


@given(
    st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=1, max_size=30),
    st.sampled_from(["linear", "sigmoid", "gaussian", "near", "far", "small"]),
)
def test_range_is_unit_interval(values: list[float], kind: str) -> None:
    params = {"min": -10.0, "max": 50.0} if kind == "linear" else {"midpoint": 20.0, "spread": 2.0}
    out = Transform(kind, params)(np.array(values))
    assert np.all((out >= 0) & (out <= 1))


@given(st.lists(st.floats(0, 1e4, allow_nan=False), min_size=2, max_size=30))
def test_far_increases_small_decreases(values: list[float]) -> None:
    x = np.sort(np.array(values))
    assert np.all(np.diff(far(x, 100.0, 2.0)) >= 0)
    assert np.all(np.diff(small(x, 100.0, 2.0)) <= 0)


@pytest.mark.parametrize(
    ("kind", "params"),
    [
        ("linear", {"min": 1.0, "max": 1.0}),
        ("gaussian", {"midpoint": 0.0, "spread": 0.0}),
        ("near", {"midpoint": 0.0, "spread": -1.0}),
        ("far", {"midpoint": 0.0, "spread": 1.0}),
        ("sigmoid", {"midpoint": 0.0, "spread": 0.0}),
        ("linear", {"min": 0.0}),
        ("bogus", {}),
    ],
)
def test_bad_parameters_raise(kind: str, params: dict[str, float]) -> None:
    with pytest.raises(ParameterError):
        Transform(kind, params)


def test_from_dict_and_describe() -> None:
    tf = Transform.from_dict({"kind": "linear", "min": 0, "max": 2})
    assert tf.describe() == "linear(min=0, max=2)"
    assert tf([1.0])[0] == pytest.approx(0.5)
