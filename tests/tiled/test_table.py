"""Helpers of the tiled bluespot table: O(n) unique ids equal numpy's sorted unique."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from klimakort.tiled.table import _compact, _counts

ids = st.one_of(
    arrays(np.int32, st.integers(0, 60), elements=st.integers(0, 40)),  # dense: bincount
    arrays(np.int64, st.integers(0, 20), elements=st.integers(0, 2**40)),  # sparse: sort
)


@given(ids)
def test_compact_and_counts_equal_numpy_unique(values: np.ndarray) -> None:
    got_ids, got_inv = _compact(values)
    want_ids, want_inv = np.unique(values, return_inverse=True)
    np.testing.assert_array_equal(got_ids, want_ids)
    np.testing.assert_array_equal(got_inv, want_inv)
    got_ids, got_n = _counts(values)
    want_ids, want_n = np.unique(values, return_counts=True)
    np.testing.assert_array_equal(got_ids, want_ids)
    np.testing.assert_array_equal(got_n, want_n)
