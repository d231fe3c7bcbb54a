"""Portfolio choice: exact optimum (vs brute force), spacing, districts, budget, writers."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from klimakort.errors import CRSError, InputError, ParameterError
from klimakort.suitability.portfolio import (
    choose_portfolio,
    conflict_pairs,
    write_portfolio_gpkg,
    write_portfolio_json,
)

X0, Y0 = 700_000.0, 6_170_000.0


def _sites(
    xy: np.ndarray, scores: np.ndarray | list[float], size: float = 20.0, **cols: object
) -> gpd.GeoDataFrame:
    geoms = [shapely.box(X0 + x, Y0 + y, X0 + x + size, Y0 + y + size) for x, y in xy]
    data = {
        "site_id": [f"S{i:03d}" for i in range(len(xy))],
        "score": np.asarray(scores, dtype=float),
        "explanation": [json.dumps({"why": f"site {i}"}) for i in range(len(xy))],
        **cols,
    }
    return gpd.GeoDataFrame(data, geometry=geoms, crs="EPSG:25832")


def _brute_force(
    gdf: gpd.GeoDataFrame,
    n: int,
    spacing: float,
    district: str | None = None,
    max_per: int | None = None,
    cost: str | None = None,
    budget: float | None = None,
) -> float | None:
    geoms = gdf.geometry.to_numpy()
    scores = gdf["score"].to_numpy()
    best: float | None = None
    for combo in itertools.combinations(range(len(gdf)), n):
        if any(
            shapely.distance(geoms[i], geoms[j]) < spacing
            for i, j in itertools.combinations(combo, 2)
        ):
            continue
        if district is not None and max_per is not None:
            counts = gdf[district].iloc[list(combo)].value_counts()
            if (counts > max_per).any():
                continue
        if (
            cost is not None
            and budget is not None
            and gdf[cost].iloc[list(combo)].sum() > budget + 1e-9
        ):
            continue
        total = float(scores[list(combo)].sum())
        if best is None or total > best:
            best = total
    return best


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    m=st.integers(2, 12),
    n=st.integers(1, 5),
    seed=st.integers(0, 2**31 - 1),
    spacing=st.sampled_from([0.0, 30.0, 80.0]),
    use_district=st.booleans(),
    use_budget=st.booleans(),
)
def test_optimal_against_brute_force(
    m: int, n: int, seed: int, spacing: float, use_district: bool, use_budget: bool
) -> None:
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 200, size=(m, 2))
    gdf = _sites(
        xy,
        rng.uniform(0, 1, m).round(3),
        district=rng.choice(["A", "B", "C"], m),
        cost=rng.integers(1, 10, m).astype(float),
    )
    kw: dict[str, object] = {}
    if use_district:
        kw.update(district="district", max_per_district=1)
    if use_budget:
        kw.update(cost="cost", budget=12.0)
    res = choose_portfolio(gdf, n, min_spacing_m=spacing, **kw)  # type: ignore[arg-type]
    expected = _brute_force(
        gdf,
        n,
        spacing,
        "district" if use_district else None,
        1 if use_district else None,
        "cost" if use_budget else None,
        12.0 if use_budget else None,
    )
    if expected is None:
        assert res.status == "infeasible"
        assert res.chosen_ids == []
        assert res.objective is None
    else:
        assert res.status == "optimal", res.message
        assert len(res.chosen_ids) == n
        assert res.objective == pytest.approx(expected, abs=1e-6)
        assert res.mip_gap is not None and res.mip_gap <= 1e-4
        chosen = res.chosen.geometry.to_numpy()
        for a, b in itertools.combinations(chosen, 2):
            assert shapely.distance(a, b) >= spacing


def test_spacing_is_respected_and_changes_the_choice() -> None:
    # three top sites in a cluster, two weaker ones far away
    xy = np.array([[0, 0], [30, 0], [0, 30], [1000, 0], [0, 1000]], dtype=float)
    gdf = _sites(xy, [0.9, 0.8, 0.7, 0.5, 0.4])
    close = choose_portfolio(gdf, 3, min_spacing_m=0.0)
    assert close.chosen_ids == ["S000", "S001", "S002"]
    far = choose_portfolio(gdf, 3, min_spacing_m=500.0)
    assert far.status == "optimal"
    assert far.chosen_ids == ["S000", "S003", "S004"]
    assert far.objective == pytest.approx(1.8)
    assert far.n_conflicts == 3  # the cluster's three pairs


def test_spacing_is_edge_to_edge_and_boundary_is_allowed() -> None:
    # boxes of 20 m, 120 m apart between origins -> 100 m between edges
    gdf = _sites(np.array([[0, 0], [120, 0]], dtype=float), [1.0, 1.0])
    assert choose_portfolio(gdf, 2, min_spacing_m=100.0).status == "optimal"
    res = choose_portfolio(gdf, 2, min_spacing_m=100.01)
    assert res.status == "infeasible"
    assert "spacing" in res.message


def test_infeasible_when_too_many_requested() -> None:
    gdf = _sites(np.array([[0, 0], [1000, 0]], dtype=float), [1.0, 0.5])
    res = choose_portfolio(gdf, 3)
    assert res.status == "infeasible"
    assert "only 2 candidates" in res.message
    assert not res.feasible


def test_district_and_budget_limits() -> None:
    xy = np.array([[0, 0], [1000, 0], [2000, 0], [3000, 0]], dtype=float)
    gdf = _sites(xy, [0.9, 0.8, 0.7, 0.1], district=["A", "A", "B", "B"], cost=[5.0, 5.0, 5.0, 1.0])
    res = choose_portfolio(gdf, 2, district="district", max_per_district=1)
    assert res.chosen_ids == ["S000", "S002"]
    res = choose_portfolio(gdf, 2, cost="cost", budget=6.0)
    assert res.chosen_ids == ["S000", "S003"]
    res = choose_portfolio(gdf, 3, cost="cost", budget=6.0)
    assert res.status == "infeasible"
    assert "budget" in res.message


def test_bad_arguments_raise_clear_errors() -> None:
    gdf = _sites(np.array([[0, 0], [1000, 0]], dtype=float), [1.0, 0.5])
    with pytest.raises(ParameterError):
        choose_portfolio(gdf, -1)
    with pytest.raises(ParameterError, match="together"):
        choose_portfolio(gdf, 1, budget=3.0)
    with pytest.raises(InputError, match="district"):
        choose_portfolio(gdf, 1, district="nope", max_per_district=1)
    bad = gdf.copy()
    bad.loc[0, "score"] = np.nan
    with pytest.raises(InputError, match="NaN"):
        choose_portfolio(bad, 1)
    with pytest.raises(CRSError):
        choose_portfolio(gdf.to_crs("EPSG:4326"), 1)


def test_conflict_pairs_match_pairwise_distances() -> None:
    rng = np.random.default_rng(3)
    gdf = _sites(rng.uniform(0, 2000, size=(300, 2)), rng.uniform(0, 1, 300))
    pairs = conflict_pairs(gdf.geometry, 150.0)
    geoms = gdf.geometry.to_numpy()
    d = shapely.distance(geoms[:, None], geoms[None, :])
    i, j = np.nonzero(np.triu(d < 150.0, k=1))
    assert {tuple(p) for p in pairs.tolist()} == set(zip(i.tolist(), j.tolist(), strict=True))


def test_writers(tmp_path: Path) -> None:
    xy = np.array([[0, 0], [1000, 0], [2000, 0]], dtype=float)
    gdf = _sites(xy, [0.9, 0.8, 0.7])
    res = choose_portfolio(gdf, 2)
    jpath = write_portfolio_json(res, tmp_path / "portfolio.json", extra={"measure": "m"})
    doc = json.loads(jpath.read_text())
    assert doc["status"] == "optimal"
    assert doc["chosen_ids"] == ["S000", "S001"]
    assert doc["sites"][0]["explanation"] == {"why": "site 0"}
    assert doc["measure"] == "m"
    gpath = write_portfolio_gpkg(res, tmp_path / "portfolio.gpkg")
    back = pyogrio.read_dataframe(gpath)
    assert back["site_id"].tolist() == ["S000", "S001"]
    assert back["portfolio_rank"].tolist() == [1, 2]
    # an infeasible portfolio still writes valid (empty) outputs
    bad = choose_portfolio(gdf, 3, min_spacing_m=5000.0)
    write_portfolio_gpkg(bad, tmp_path / "empty.gpkg")
    assert len(pyogrio.read_dataframe(tmp_path / "empty.gpkg")) == 0
    assert json.loads(write_portfolio_json(bad, tmp_path / "bad.json").read_text())["sites"] == []


def test_an_infeasible_request_names_the_largest_feasible_n() -> None:
    from klimakort.suitability.portfolio import max_feasible_sites

    rng = np.random.default_rng(7)
    xy = rng.uniform(0, 600, size=(9, 2))
    sites = _sites(xy, rng.uniform(0, 1, 9))
    spacing = 150.0
    pairs = {tuple(p) for p in conflict_pairs(sites.geometry, spacing).tolist()}
    best = max(
        len(c)
        for r in range(10)
        for c in itertools.combinations(range(9), r)
        if not any((i, j) in pairs for i, j in itertools.combinations(c, 2))
    )
    assert max_feasible_sites(sites, min_spacing_m=spacing) == best
    assert choose_portfolio(sites, best, min_spacing_m=spacing).feasible
    res = choose_portfolio(sites, best + 1, min_spacing_m=spacing)
    assert res.status == "infeasible" and res.max_feasible == best
    assert f"At most {best} sites can be chosen" in res.message
    assert res.to_dict()["max_feasible"] == best
