"""Choose a portfolio of candidate sites: the best ``n`` sites that keep apart (exact MILP).

The problem is a binary integer programme solved exactly with HiGHS through
:func:`scipy.optimize.milp`::

    maximise    sum_i score_i * x_i
    subject to  sum_i x_i = n                               (exactly n sites)
                x_i + x_j <= 1     for every conflicting pair (closer than min_spacing_m)
                sum_{i in d} x_i <= max_per_district        (optional, per district d)
                sum_i cost_i * x_i <= budget                (optional)
                x_i in {0, 1}

Rules (documented choices)
--------------------------
* **Exactly n.** The portfolio has exactly ``n`` sites. If no such choice satisfies the
  spacing, district and budget rules the result has ``status == "infeasible"`` and no
  sites; the caller decides whether to ask for fewer sites or relax a rule.
* **Spacing is polygon distance.** Two sites conflict when the shortest distance between
  their polygons (edge to edge, 0 when they touch or overlap) is *less than*
  ``min_spacing_m``. Sites exactly ``min_spacing_m`` apart may both be chosen. Conflict
  pairs are found with a shapely STRtree (``dwithin`` query), never with an O(n²) loop.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_array

from klimakort.errors import CRSError, InputError, ParameterError
from klimakort.io.atomic import atomic_path
from klimakort.io.vector import write_vector

#: HiGHS status codes of scipy.optimize.milp -> our status words
_STATUS = {
    0: "optimal",
    1: "time_limit",
    2: "infeasible",
    3: "unbounded",
    4: "error",
}


@dataclass
class PortfolioResult:
    """Outcome of :func:`choose_portfolio`.

    Attributes
    ----------
    status : str
        ``"optimal"``, ``"infeasible"``, ``"time_limit"`` (best found within the time
        limit, see ``mip_gap``), ``"unbounded"`` or ``"error"``.
    message : str
        Human-readable explanation (the solver's message, or why it is infeasible).
    n_requested : int
        Number of sites asked for.
    objective : float or None
        Total score of the chosen sites (None when nothing was chosen).
    mip_gap : float or None
        Relative MIP gap reported by HiGHS (0 for a proven optimum).
    chosen_ids : list
        ``site_id`` of the chosen sites, best score first.
    chosen : GeoDataFrame
        The chosen candidate rows (all columns), best score first.
    n_candidates : int
        Number of candidates offered.
    n_conflicts : int
        Number of candidate pairs closer than ``min_spacing_m``.
    rules : dict
        The rules applied (spacing, district, budget), for the report.
    max_feasible : int or None
        For an infeasible request: the largest number of sites the rules allow
        (:func:`max_feasible_sites`); None otherwise.
    """

    status: str
    message: str
    n_requested: int
    objective: float | None
    mip_gap: float | None
    chosen_ids: list[Any]
    chosen: gpd.GeoDataFrame
    n_candidates: int
    n_conflicts: int
    rules: dict[str, Any] = field(default_factory=dict)
    max_feasible: int | None = None

    @property
    def feasible(self) -> bool:
        """True when sites were chosen (optimal, or best found within the time limit)."""
        return self.status in ("optimal", "time_limit") and len(self.chosen_ids) > 0

    def to_dict(self, *, explanations: bool = True) -> dict[str, Any]:
        """JSON-ready summary: status, gap, objective, rules and the chosen sites.

        Parameters
        ----------
        explanations : bool
            Include each chosen site's ``explanation`` (parsed from its JSON string).
        """
        sites = []
        for _, row in self.chosen.iterrows():
            site: dict[str, Any] = {"site_id": _plain(row.get("site_id"))}
            for col, value in row.items():
                if col in ("geometry", "explanation", "site_id"):
                    continue
                site[str(col)] = _plain(value)
            centroid = row.geometry.centroid if row.geometry is not None else None
            if centroid is not None:
                site["centroid_xy"] = [round(centroid.x, 2), round(centroid.y, 2)]
            if explanations and "explanation" in row.index:
                site["explanation"] = _parse_explanation(row["explanation"])
            sites.append(site)
        return {
            "status": self.status,
            "message": self.message,
            "n_requested": self.n_requested,
            "n_chosen": len(self.chosen_ids),
            "objective": self.objective,
            "mip_gap": self.mip_gap,
            "n_candidates": self.n_candidates,
            "n_conflicts": self.n_conflicts,
            "rules": self.rules,
            "max_feasible": self.max_feasible,
            "chosen_ids": [_plain(v) for v in self.chosen_ids],
            "sites": sites,
        }


def _plain(value: Any) -> Any:
    """numpy/pandas scalars -> plain Python for JSON; NaN -> None."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def _parse_explanation(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return _plain(value)


def conflict_pairs(geoms: gpd.GeoSeries, min_spacing_m: float) -> np.ndarray:
    """Pairs of geometries closer than ``min_spacing_m`` (polygon to polygon).

    Parameters
    ----------
    geoms : GeoSeries
        Site polygons in a projected CRS (metres).
    min_spacing_m : float
        Minimum allowed edge-to-edge distance (pairs strictly closer conflict);
        0 disables the rule.

    Returns
    -------
    numpy.ndarray
        ``(k, 2)`` int array of positional index pairs ``i < j``.
    """
    arr = np.asarray(geoms.to_numpy())
    if min_spacing_m <= 0 or len(arr) < 2:
        return np.empty((0, 2), dtype=np.int64)
    tree = shapely.STRtree(arr)
    # dwithin is "<="; the rule is "closer than": query just below the spacing
    below = float(np.nextafter(min_spacing_m, 0.0))
    left, right = tree.query(arr, predicate="dwithin", distance=below)
    keep = left < right
    return np.column_stack([left[keep], right[keep]]).astype(np.int64)


def _check_inputs(
    candidates: gpd.GeoDataFrame,
    n: int,
    min_spacing_m: float,
    district: str | None,
    max_per_district: int | None,
    cost: str | None,
    budget: float | None,
    score: str | None,
) -> None:
    if n < 0:
        raise ParameterError(f"n must be >= 0 (got {n}); ask for at least one site")
    if not math.isfinite(min_spacing_m) or min_spacing_m < 0:
        raise ParameterError(f"min_spacing_m must be a finite distance >= 0 (got {min_spacing_m})")
    if score is not None and score not in candidates.columns:
        raise InputError(f"candidates have no {score!r} column; pass score=<column name>")
    if candidates.crs is None:
        raise CRSError("candidates have no CRS; spacing needs a projected CRS in metres")
    if candidates.crs.is_geographic:
        raise CRSError(
            f"candidates are in geographic CRS {candidates.crs.to_string()}; "
            "reproject to EPSG:25832 before choosing a portfolio"
        )
    if score is not None and not np.isfinite(candidates[score].to_numpy(dtype=float)).all():
        raise InputError(f"column {score!r} has NaN or infinite scores; drop or fix those sites")
    if (max_per_district is None) != (district is None):
        raise ParameterError("district and max_per_district must be given together")
    if district is not None and district not in candidates.columns:
        raise InputError(f"candidates have no district column {district!r}")
    if max_per_district is not None and max_per_district < 0:
        raise ParameterError(f"max_per_district must be >= 0 (got {max_per_district})")
    _check_budget(candidates, cost, budget)


def _check_budget(candidates: gpd.GeoDataFrame, cost: str | None, budget: float | None) -> None:
    if (cost is None) != (budget is None):
        raise ParameterError("cost (column) and budget must be given together")
    if cost is None or budget is None:
        return
    if cost not in candidates.columns:
        raise InputError(f"candidates have no cost column {cost!r}")
    values = candidates[cost].to_numpy(dtype=float)
    if not np.isfinite(values).all() or (values < 0).any():
        raise InputError(f"cost column {cost!r} must hold finite values >= 0")
    if not (math.isfinite(budget) and budget >= 0):
        raise ParameterError(f"budget must be finite and >= 0 (got {budget})")


def _constraints(
    candidates: gpd.GeoDataFrame,
    n: int,
    pairs: np.ndarray,
    district: str | None,
    max_per_district: int | None,
    cost: str | None,
    budget: float | None,
) -> list[LinearConstraint]:
    m = len(candidates)
    cons = [LinearConstraint(np.ones((1, m)), n, n)]
    if len(pairs):
        k = len(pairs)
        rows = np.repeat(np.arange(k), 2)
        a = coo_array((np.ones(2 * k), (rows, pairs.ravel())), shape=(k, m)).tocsr()
        cons.append(LinearConstraint(a, -np.inf, 1.0))
    if district is not None and max_per_district is not None:
        codes, _ = pd.factorize(candidates[district], use_na_sentinel=True)
        valid = codes >= 0  # sites without a district are not limited
        if valid.any():
            nd = int(codes.max()) + 1
            a = coo_array(
                (np.ones(int(valid.sum())), (codes[valid], np.flatnonzero(valid))), shape=(nd, m)
            ).tocsr()
            cons.append(LinearConstraint(a, -np.inf, float(max_per_district)))
    if cost is not None and budget is not None:
        costs = candidates[cost].to_numpy(dtype=float)[None, :]
        cons.append(LinearConstraint(costs, -np.inf, float(budget)))
    return cons


def choose_portfolio(
    candidates: gpd.GeoDataFrame,
    n: int,
    *,
    min_spacing_m: float = 500.0,
    district: str | None = None,
    max_per_district: int | None = None,
    cost: str | None = None,
    budget: float | None = None,
    score: str = "score",
    id_column: str = "site_id",
    time_limit_s: float = 60.0,
) -> PortfolioResult:
    """Choose exactly ``n`` sites with the highest total score under spacing/district/budget.

    Parameters
    ----------
    candidates : GeoDataFrame
        Candidate sites (from ``candidate_sites``) with ``site_id``, ``score`` and polygon
        geometry in a projected CRS (EPSG:25832).
    n : int
        Number of sites. The portfolio has exactly ``n`` sites or the result is
        ``"infeasible"`` (with a message saying which rules were active).
    min_spacing_m : float
        Minimum edge-to-edge distance between chosen site polygons, metres (0 disables).
    district : str, optional
        Column naming each site's district (sites with a missing district are not
        limited).
    max_per_district : int, optional
        At most this many chosen sites per district (needs ``district``).
    cost : str, optional
        Column with each site's cost (>= 0, any unit).
    budget : float, optional
        Upper bound on the total cost of the chosen sites (needs ``cost``).
    score : str
        Column to maximise.
    id_column : str
        Column with site identifiers (row position is used when absent).
    time_limit_s : float
        HiGHS time limit; at the limit the best portfolio found so far is returned with
        ``status="time_limit"`` and its ``mip_gap``.

    Returns
    -------
    PortfolioResult
        Status, objective, MIP gap, chosen ids and rows.

    Raises
    ------
    ParameterError
        Negative ``n``/spacing/limit/budget, or only one of a rule's two arguments.
    InputError
        Missing columns, or non-finite scores or costs.
    CRSError
        Candidates without a CRS or in a geographic CRS.
    """
    _check_inputs(candidates, n, min_spacing_m, district, max_per_district, cost, budget, score)
    m = len(candidates)
    rules: dict[str, Any] = {
        "exactly_n": n,
        "min_spacing_m": float(min_spacing_m),
        "spacing_rule": "polygon edge-to-edge distance >= min_spacing_m",
        "district": district,
        "max_per_district": max_per_district,
        "cost": cost,
        "budget": budget,
        "solver": "HiGHS via scipy.optimize.milp",
    }
    ids = candidates[id_column].tolist() if id_column in candidates.columns else list(range(m))
    empty = candidates.iloc[:0].copy()
    if n > m:
        return PortfolioResult(
            "infeasible",
            f"asked for {n} sites but there are only {m} candidates; ask for at most {m}",
            n, None, None, [], empty, m, 0, rules, max_feasible=m,
        )  # fmt: skip
    if n == 0:
        return PortfolioResult("optimal", "no sites asked for", 0, 0.0, 0.0, [], empty, m, 0, rules)

    pairs = conflict_pairs(candidates.geometry, min_spacing_m)
    cons = _constraints(candidates, n, pairs, district, max_per_district, cost, budget)
    scores = candidates[score].to_numpy(dtype=float)
    res = milp(
        c=-scores,
        constraints=cons,
        integrality=np.ones(m),
        bounds=Bounds(0, 1),
        options={"time_limit": float(time_limit_s)},
    )
    status = _STATUS.get(int(res.status), "error")
    if res.x is None or status not in ("optimal", "time_limit"):
        if status == "time_limit":
            status = "error"
        most = None
        if status == "infeasible":
            most = _max_feasible(m, cons[1:], time_limit_s)
        return PortfolioResult(
            status, _explain_failure(status, res.message, n, rules, len(pairs), most), n,
            None, None, [], empty, m, len(pairs), rules, max_feasible=most,
        )  # fmt: skip
    chosen_pos = np.flatnonzero(np.round(res.x) > 0.5)
    order = chosen_pos[np.argsort(-scores[chosen_pos], kind="stable")]
    chosen = candidates.iloc[order].copy()
    gap = getattr(res, "mip_gap", None)
    return PortfolioResult(
        status=status,
        message=str(res.message),
        n_requested=n,
        objective=float(scores[order].sum()),
        mip_gap=None if gap is None else float(gap),
        chosen_ids=[ids[i] for i in order],
        chosen=chosen,
        n_candidates=m,
        n_conflicts=len(pairs),
        rules=rules,
    )


def _max_feasible(m: int, constraints: list[LinearConstraint], time_limit_s: float) -> int | None:
    """The most sites (any scores) that satisfy ``constraints``: a maximum independent set."""
    if not constraints:
        return m
    res = milp(
        c=-np.ones(m),
        constraints=constraints,
        integrality=np.ones(m),
        bounds=Bounds(0, 1),
        options={"time_limit": float(time_limit_s)},
    )
    if res.x is None or _STATUS.get(int(res.status)) != "optimal":
        return None
    return int(np.round(res.x).sum())


def max_feasible_sites(
    candidates: gpd.GeoDataFrame,
    *,
    min_spacing_m: float = 500.0,
    district: str | None = None,
    max_per_district: int | None = None,
    cost: str | None = None,
    budget: float | None = None,
    time_limit_s: float = 60.0,
) -> int | None:
    """The largest number of sites that the spacing, district and budget rules allow.

    Solved exactly as a MILP (maximise the number of chosen sites under the rules of
    :func:`choose_portfolio`, scores ignored).

    Returns
    -------
    int or None
        The largest feasible ``n``; None when HiGHS stops at the time limit without a
        proof.
    """
    _check_inputs(candidates, 0, min_spacing_m, district, max_per_district, cost, budget, None)
    pairs = conflict_pairs(candidates.geometry, min_spacing_m)
    cons = _constraints(candidates, 0, pairs, district, max_per_district, cost, budget)
    return _max_feasible(len(candidates), cons[1:], time_limit_s)


def _explain_failure(
    status: str, message: str, n: int, rules: dict[str, Any], k: int, most: int | None = None
) -> str:
    if status != "infeasible":
        return f"solver stopped without a portfolio ({status}): {message}"
    active = [f"minimum spacing {rules['min_spacing_m']:g} m ({k} conflicting pairs)"]
    if rules["max_per_district"] is not None:
        active.append(f"at most {rules['max_per_district']} per {rules['district']!r}")
    if rules["budget"] is not None:
        active.append(f"budget {rules['budget']:g} on {rules['cost']!r}")
    fewer = (
        f"At most {most} sites can be chosen under these rules: ask for {most} or fewer"
        if most is not None
        else "Ask for fewer sites"
    )
    return (
        f"no choice of exactly {n} sites satisfies: {'; '.join(active)}. "
        f"{fewer}, lower the spacing or relax the limits."
    )


def write_portfolio_json(
    result: PortfolioResult,
    path: str | Path,
    *,
    extra: dict[str, Any] | None = None,
) -> Path:
    """Write ``portfolio.json`` (status, gap, objective, chosen sites with explanations).

    Parameters
    ----------
    result : PortfolioResult
        The portfolio.
    path : path-like
        Destination ``.json`` (written atomically).
    extra : dict, optional
        More top-level keys (e.g. ``"sensitivity"``, ``"measure"``, ``"scenario"``).

    Returns
    -------
    Path
        The written file.
    """
    doc = result.to_dict()
    if extra:
        doc.update(extra)
    dest = Path(path)
    with atomic_path(dest) as tmp:
        tmp.write_text(json.dumps(doc, indent=2, ensure_ascii=False, allow_nan=False) + "\n")
    return dest


def write_portfolio_gpkg(result: PortfolioResult, path: str | Path) -> Path:
    """Write the chosen sites to ``portfolio.gpkg`` (one row per site, with ``rank``).

    Parameters
    ----------
    result : PortfolioResult
        The portfolio (an infeasible one writes an empty layer with the same columns).
    path : path-like
        Destination ``.gpkg`` (written atomically).

    Returns
    -------
    Path
        The written file.
    """
    gdf = result.chosen.copy()
    gdf.insert(0, "portfolio_rank", np.arange(1, len(gdf) + 1, dtype=np.int64))
    return write_vector(gdf, path, layer="portfolio")


__all__ = [
    "PortfolioResult",
    "choose_portfolio",
    "conflict_pairs",
    "write_portfolio_gpkg",
    "write_portfolio_json",
]
