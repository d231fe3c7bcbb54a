"""AHP weights and consistency ratio against textbook values and an independent oracle."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from klimakort.errors import ParameterError
from klimakort.suitability.ahp import RANDOM_INDEX, ahp_weights


def test_saaty_textbook_three_criteria() -> None:
    # classic 3x3 example: weights 0.637/0.258/0.105, lambda_max 3.039, CR 0.033
    w, cr = ahp_weights(np.array([[1, 3, 5], [1 / 3, 1, 3], [1 / 5, 1 / 3, 1]]))
    np.testing.assert_allclose(w, [0.637, 0.258, 0.105], atol=1e-3)
    assert cr == pytest.approx(0.033, abs=1e-3)


def test_power_iteration_oracle_four_criteria() -> None:
    a = np.array([[1, 2, 4, 3], [1 / 2, 1, 3, 2], [1 / 4, 1 / 3, 1, 1 / 2], [1 / 3, 1 / 2, 2, 1]])
    v = np.ones(4)
    for _ in range(200):
        v = a @ v
        v /= v.sum()
    lam = float((a @ v / v).mean())
    w, cr = ahp_weights(a)
    np.testing.assert_allclose(w, v, rtol=1e-8)
    assert cr == pytest.approx((lam - 4) / 3 / 0.90, rel=1e-6)


@given(st.lists(st.floats(0.05, 20.0), min_size=1, max_size=9))
def test_consistent_matrix_has_cr_zero(raw: list[float]) -> None:
    w_true = np.array(raw) / sum(raw)
    a = w_true[:, None] / w_true[None, :]
    w, cr = ahp_weights(a)
    np.testing.assert_allclose(w, w_true, rtol=1e-6)
    assert cr == pytest.approx(0.0, abs=1e-9)


def test_inconsistent_matrix_rejected_naming_cr() -> None:
    # A > B, B > C but C >> A: contradictory
    bad = [[1, 5, 1 / 7], [1 / 5, 1, 5], [7, 1 / 5, 1]]
    with pytest.raises(ParameterError, match="CR="):
        ahp_weights(bad)


@pytest.mark.parametrize(
    "matrix",
    [
        [[1, 2], [2, 1]],  # not reciprocal
        [[1, 2, 3], [0.5, 1, 2]],  # not square
        [[1, -2], [-0.5, 1]],  # negative
        [[2, 1], [1, 2]],  # diagonal
    ],
)
def test_malformed_matrices(matrix: list[list[float]]) -> None:
    with pytest.raises(ParameterError):
        ahp_weights(matrix)


def test_random_index_table_is_saaty() -> None:
    assert [RANDOM_INDEX[n] for n in (3, 4, 5, 9, 10)] == [0.58, 0.90, 1.12, 1.45, 1.49]
    assert ahp_weights(np.array([[1, 3], [1 / 3, 1]])) == (pytest.approx([0.75, 0.25]), 0.0)
