"""Rank sensitivity under weight changes: determinism, invariants, known cases."""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from klimakort.errors import InputError, ParameterError
from klimakort.suitability.sensitivity import criteria_of, rank_sensitivity, ranks_of


def _table(scores: np.ndarray, weights: list[float]) -> pd.DataFrame:
    crits = [f"c{k}" for k in range(scores.shape[1])]
    w = np.asarray(weights, dtype=float) / np.sum(weights)
    data: dict[str, object] = {"site_id": [f"S{i}" for i in range(len(scores))]}
    for k, c in enumerate(crits):
        data[f"score_{c}"] = scores[:, k]
        data[f"weight_{c}"] = w[k]
        data[f"contrib_{c}"] = scores[:, k] * w[k]
    data["score"] = scores @ w
    return pd.DataFrame(data)


def test_ranks_of_is_descending_and_stable() -> None:
    assert ranks_of(np.array([0.2, 0.9, 0.5, 0.9])).tolist() == [4, 1, 3, 2]
    two = ranks_of(np.array([[1.0, 0.0], [0.0, 1.0]]))
    assert two.tolist() == [[1, 2], [2, 1]]


def test_criteria_of_needs_both_columns() -> None:
    df = _table(np.ones((2, 2)), [1, 1])
    df["score_orphan"] = 1.0
    assert criteria_of(df) == ["c0", "c1"]


def test_same_seed_same_result_other_seed_differs() -> None:
    rng = np.random.default_rng(1)
    df = _table(rng.uniform(size=(40, 4)), [0.4, 0.3, 0.2, 0.1])
    a = rank_sensitivity(df, top_n=5, seed=7)
    b = rank_sensitivity(df, top_n=5, seed=7)
    c = rank_sensitivity(df, top_n=5, seed=8)
    pd.testing.assert_frame_equal(a.table, b.table)
    assert not a.table["mc_mean_rank"].equals(c.table["mc_mean_rank"])


def test_dominant_site_is_always_first_and_dominated_always_last() -> None:
    scores = np.array([[1.0, 1.0, 1.0], [0.5, 0.6, 0.4], [0.6, 0.4, 0.5], [0.0, 0.0, 0.0]])
    methods: tuple[Literal["uniform", "dirichlet"], ...] = ("uniform", "dirichlet")
    for method in methods:
        res = rank_sensitivity(_table(scores, [0.5, 0.3, 0.2]), top_n=2, method=method)
        t = res.table.to_dict("index")
        assert [t["S0"][c] for c in ("base_rank", "mc_min_rank", "mc_max_rank")] == [1, 1, 1]
        assert t["S0"]["p_top_n"] == 1.0
        assert [t["S3"][c] for c in ("oat_min_rank", "mc_max_rank")] == [4, 4]
        assert t["S3"]["p_top_n"] == 0.0


def test_oat_swaps_two_sites_that_trade_off() -> None:
    # S0 wins on c0, S1 on c1; with equal weights S0 is marginally ahead
    scores = np.array([[0.81, 0.2], [0.2, 0.8]])
    res = rank_sensitivity(_table(scores, [0.5, 0.5]), top_n=1, delta=0.2, n_samples=200)
    t = res.table.to_dict("index")
    assert t["S0"]["base_rank"] == 1
    assert t["S0"]["oat_max_rank"] == 2  # c1 up 20 % puts S1 first
    assert 0.0 < float(t["S0"]["p_top_n"]) < 1.0
    assert len(res.oat) == 4
    row = res.oat[(res.oat.criterion == "c1") & (res.oat.change > 0)].iloc[0]
    assert row.weights["c1"] == pytest.approx(0.6 / 1.1)
    assert row.top_n_kept == 0.0


@settings(max_examples=25, deadline=None)
@given(
    m=st.integers(1, 30),
    k=st.integers(1, 5),
    seed=st.integers(0, 1000),
    top_n=st.integers(1, 10),
)
def test_invariants(m: int, k: int, seed: int, top_n: int) -> None:
    rng = np.random.default_rng(seed)
    df = _table(rng.uniform(size=(m, k)), list(rng.uniform(0.1, 1.0, k)))
    res = rank_sensitivity(df, top_n=top_n, n_samples=50, seed=seed)
    t = res.table
    assert sorted(t["base_rank"]) == list(range(1, m + 1))
    assert (t["oat_min_rank"] <= t["base_rank"]).all()
    assert (t["base_rank"] <= t["oat_max_rank"]).all()
    assert (t["mc_min_rank"] <= t["mc_mean_rank"] + 1e-9).all()
    assert (t["mc_mean_rank"] <= t["mc_max_rank"] + 1e-9).all()
    assert t["p_top_n"].between(0, 1).all()
    # in every draw exactly min(top_n, m) sites are in the top
    assert t["p_top_n"].sum() == pytest.approx(min(top_n, m))
    assert np.allclose(t["base_score"], df.set_index("site_id").loc[t.index, "score"])
    assert sum(res.weights.values()) == pytest.approx(1.0)


def test_to_dict_subset_and_errors() -> None:
    df = _table(np.random.default_rng(0).uniform(size=(6, 2)), [1, 2])
    res = rank_sensitivity(df, top_n=3)
    doc = res.to_dict(["S2", "S4"])
    assert [s["site_id"] for s in doc["sites"]] == ["S2", "S4"]
    assert isinstance(doc["sites"][0]["base_rank"], int)
    with pytest.raises(ParameterError):
        rank_sensitivity(df, delta=1.5)
    with pytest.raises(ParameterError):
        rank_sensitivity(df, method="bogus")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="score_"):
        rank_sensitivity(df[["site_id", "score"]])
