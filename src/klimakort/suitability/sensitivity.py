"""Rank stability of candidate sites under changes of the criterion weights.

A site's score is the weighted sum of its criterion scores,
``score = sum_c w_c * score_c`` with weights that sum to 1 (the ``weight_<crit>`` and
``score_<crit>`` columns of the candidate table). Two experiments re-weight and re-rank:

* **One at a time (OAT).** Each weight in turn is multiplied by ``1 - delta`` and
  ``1 + delta`` (default ±20 %), then all weights are renormalised to sum 1.
* **Monte Carlo.** ``n_samples`` weight vectors, drawn with a seeded
  :class:`numpy.random.Generator`: either every weight multiplied independently by a
  factor uniform in ``[1 - delta, 1 + delta]`` (``method="uniform"``), or a Dirichlet
  draw with mean equal to the weights (``method="dirichlet"``, ``concentration`` sets
  the spread), then renormalised.

Ranks are 1 = best; ties keep the order of the baseline ranking. For each site the
result reports its baseline rank, the min/max rank over OAT and over Monte Carlo, the
mean Monte-Carlo rank and the probability of being in the top ``top_n``. The same seed
gives the same result.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from klimakort.errors import InputError, ParameterError


@dataclass
class SensitivityResult:
    """Outcome of :func:`rank_sensitivity`.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per site, indexed by site id, best baseline rank first: ``base_score``,
        ``base_rank``, ``oat_min_rank``, ``oat_max_rank``, ``mc_min_rank``,
        ``mc_max_rank``, ``mc_mean_rank``, ``p_top_n``.
    oat : pandas.DataFrame
        One row per OAT perturbation: ``criterion``, ``change`` (e.g. +0.2), the
        renormalised ``weights`` and ``top_n_kept`` (share of the baseline top-n still
        in the top-n).
    criteria : list of str
        Criteria in column order.
    weights : dict
        Baseline weights (normalised).
    top_n, delta, n_samples, seed, method
        The settings used.
    """

    table: pd.DataFrame
    oat: pd.DataFrame
    criteria: list[str]
    weights: dict[str, float]
    top_n: int
    delta: float
    n_samples: int
    seed: int
    method: str

    def to_dict(self, ids: list[Any] | None = None) -> dict[str, Any]:
        """JSON-ready summary (optionally only for the sites in ``ids``)."""
        table = self.table if ids is None else self.table.loc[list(ids)]
        records = table.reset_index(names="site_id").to_dict("records")
        sites = [{str(k): _plain(v) for k, v in rec.items()} for rec in records]
        return {
            "method": self.method,
            "delta": self.delta,
            "n_samples": self.n_samples,
            "seed": self.seed,
            "top_n": self.top_n,
            "weights": self.weights,
            "oat": [
                {
                    "criterion": r.criterion,
                    "change": _plain(r.change),
                    "top_n_kept": _plain(r.top_n_kept),
                }
                for r in self.oat.itertuples()
            ],
            "sites": sites,
        }


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def criteria_of(candidates: pd.DataFrame) -> list[str]:
    """Criteria that have both a ``score_<crit>`` and a ``weight_<crit>`` column."""
    return [
        str(c)[len("score_") :]
        for c in candidates.columns
        if str(c).startswith("score_")
        and len(str(c)) > len("score_")
        and f"weight_{str(c)[len('score_') :]}" in candidates.columns
    ]


def ranks_of(scores: np.ndarray) -> np.ndarray:
    """Ranks (1 = highest) of each row for every column of ``scores``.

    Parameters
    ----------
    scores : numpy.ndarray
        ``(n_sites,)`` or ``(n_sites, n_samples)``.

    Returns
    -------
    numpy.ndarray
        Same shape, int64; ties are ranked in row order.
    """
    s = np.asarray(scores, dtype=float)
    flat = s.ndim == 1
    if flat:
        s = s[:, None]
    order = np.argsort(-s, axis=0, kind="stable")
    ranks = np.empty_like(order)
    cols = np.broadcast_to(np.arange(s.shape[1]), order.shape)
    ranks[order, cols] = np.arange(1, s.shape[0] + 1)[:, None]
    return ranks[:, 0] if flat else ranks


def _oat_weights(w: np.ndarray, delta: float) -> tuple[np.ndarray, list[tuple[int, float]]]:
    rows, labels = [], []
    for k in range(len(w)):
        for change in (-delta, +delta):
            v = w.copy()
            v[k] *= 1.0 + change
            rows.append(v / v.sum())
            labels.append((k, change))
    return np.array(rows).T, labels


def _mc_weights(
    w: np.ndarray, delta: float, n_samples: int, rng: np.random.Generator, method: str,
    concentration: float,
) -> np.ndarray:  # fmt: skip
    if method == "uniform":
        factors = rng.uniform(1.0 - delta, 1.0 + delta, size=(len(w), n_samples))
        v = w[:, None] * factors
    else:
        alpha = np.maximum(w * concentration, 1e-6)
        v = rng.dirichlet(alpha, size=n_samples).T
    return v / v.sum(axis=0, keepdims=True)


def rank_sensitivity(
    candidates: pd.DataFrame,
    *,
    top_n: int = 10,
    delta: float = 0.2,
    n_samples: int = 500,
    seed: int = 0,
    method: Literal["uniform", "dirichlet"] = "uniform",
    concentration: float = 100.0,
    id_column: str = "site_id",
) -> SensitivityResult:
    """Rank stability of candidates under ±``delta`` weight changes (OAT and Monte Carlo).

    Parameters
    ----------
    candidates : DataFrame or GeoDataFrame
        Candidate table with ``score_<crit>`` and ``weight_<crit>`` columns (weights are
        taken from the first row; they are the same on every row).
    top_n : int
        Size of the "top" whose membership probability is reported (e.g. the portfolio
        size).
    delta : float
        Relative weight change, 0 < delta < 1 (0.2 = ±20 %).
    n_samples : int
        Monte Carlo draws.
    seed : int
        Seed of the random generator (same seed, same result).
    method : {"uniform", "dirichlet"}
        Monte Carlo perturbation (see module docstring).
    concentration : float
        Dirichlet concentration (sum of alphas); larger = closer to the weights.
    id_column : str
        Column with site ids (row position when absent).

    Returns
    -------
    SensitivityResult
        Per-site rank ranges and top-n probabilities, and the OAT table.

    Raises
    ------
    InputError
        No criteria columns, NaN criterion scores, or weights that do not sum > 0.
    ParameterError
        ``delta``, ``top_n``, ``n_samples``, ``method`` or ``concentration`` out of range.
    """
    if not 0.0 < delta < 1.0:
        raise ParameterError(f"delta must be in (0, 1), e.g. 0.2 for ±20 % (got {delta})")
    if top_n < 1 or n_samples < 1:
        raise ParameterError(f"top_n and n_samples must be >= 1 (got {top_n}, {n_samples})")
    if method not in ("uniform", "dirichlet"):
        raise ParameterError(f"method must be 'uniform' or 'dirichlet' (got {method!r})")
    if concentration <= 0:
        raise ParameterError(f"concentration must be > 0 (got {concentration})")
    crits = criteria_of(candidates)
    if not crits:
        raise InputError(
            "candidates have no score_<criterion>/weight_<criterion> column pairs; "
            "pass the table from candidate_sites"
        )
    s = candidates[[f"score_{c}" for c in crits]].to_numpy(dtype=float)
    if not np.isfinite(s).all():
        raise InputError("criterion scores hold NaN; sites need a score for every criterion")
    if len(s) == 0:
        raise InputError("no candidate sites to analyse")
    w = np.array([float(candidates[f"weight_{c}"].iloc[0]) for c in crits])
    ids = (
        candidates[id_column].to_numpy()
        if id_column in candidates.columns
        else np.arange(len(candidates))
    )
    if not np.isfinite(w).all() or (w < 0).any() or w.sum() <= 0:
        raise InputError(f"weights must be finite, >= 0 and not all 0 (got {w.tolist()})")
    w = w / w.sum()

    base = s @ w
    base_rank = ranks_of(base)
    # order rows by baseline rank so that ties in perturbed runs keep the baseline order
    order = np.argsort(base_rank)
    s, base, base_rank, ids = s[order], base[order], base_rank[order], ids[order]
    k = min(top_n, len(s))

    w_oat, labels = _oat_weights(w, delta)
    r_oat = ranks_of(s @ w_oat)
    in_top_base = base_rank <= k
    kept = ((r_oat <= k) & in_top_base[:, None]).sum(axis=0) / k

    rng = np.random.default_rng(seed)
    w_mc = _mc_weights(w, delta, n_samples, rng, method, concentration)
    r_mc = ranks_of(s @ w_mc)

    table = pd.DataFrame(
        {
            "base_score": base,
            "base_rank": base_rank,
            "oat_min_rank": np.minimum(r_oat.min(axis=1), base_rank),
            "oat_max_rank": np.maximum(r_oat.max(axis=1), base_rank),
            "mc_min_rank": r_mc.min(axis=1),
            "mc_max_rank": r_mc.max(axis=1),
            "mc_mean_rank": r_mc.mean(axis=1),
            "p_top_n": (r_mc <= k).mean(axis=1),
        },
        index=pd.Index(ids, name=id_column),
    )
    oat = pd.DataFrame(
        {
            "criterion": [crits[i] for i, _ in labels],
            "change": [c for _, c in labels],
            "weights": [dict(zip(crits, col.tolist(), strict=True)) for col in w_oat.T],
            "top_n_kept": kept,
        }
    )
    return SensitivityResult(
        table=table,
        oat=oat,
        criteria=crits,
        weights=dict(zip(crits, w.tolist(), strict=True)),
        top_n=k,
        delta=delta,
        n_samples=n_samples,
        seed=seed,
        method=method,
    )


__all__ = ["SensitivityResult", "criteria_of", "rank_sensitivity", "ranks_of"]
