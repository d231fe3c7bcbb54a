"""Point reports, parcel search and scenario summaries."""

from __future__ import annotations

import numpy as np
import pytest
from pyproj import Transformer

from klimakort.errors import CRSError, DataNotFoundError, ParameterError
from klimakort.service import Workspace
from klimakort.service.point import point_report, scenario_summary, search_parcels


def test_point_in_a_parcel_names_it(workspace: Workspace) -> None:
    parcels = workspace.features("parcels")
    row = parcels.iloc[200]
    pt = row.geometry.representative_point()
    rep = point_report(workspace, pt.x, pt.y, "EPSG:25832", "2050")
    assert rep["parcel_id"] == row["parcel_id"] and rep["inside"] and rep["scenario"] == "2050"
    assert any(link["rel"] == "parcel-report" for link in rep["links"])
    # the same point in lon/lat gives the same answer
    lon, lat = Transformer.from_crs(25832, "OGC:CRS84", always_xy=True).transform(pt.x, pt.y)
    rep84 = point_report(workspace, lon, lat, "CRS84", "2050")
    assert rep84["parcel_id"] == row["parcel_id"]
    assert rep84["x"] == pytest.approx(pt.x, abs=0.01)
    terrain = workspace.hz.terrain.sel(x=pt.x, y=pt.y, method="nearest")
    assert rep["values"]["terrain"]["value"] == pytest.approx(float(terrain))


def test_point_outside_the_area(workspace: Workspace) -> None:
    xmin, ymin, _, _ = workspace.bounds
    rep = point_report(workspace, xmin - 500, ymin - 500, "EPSG:25832")
    assert not rep["inside"] and rep["parcel_id"] is None
    assert all(v["value"] is None for v in rep["values"].values())


def test_point_errors(workspace: Workspace) -> None:
    with pytest.raises(CRSError, match="lon/lat"):
        point_report(workspace, 712_000.0, 6_170_000.0)  # metres sent as CRS84
    with pytest.raises(CRSError, match="EPSG:25832"):
        point_report(workspace, 1.0, 2.0, "EPSG:3857")
    with pytest.raises(ParameterError):
        point_report(workspace, float("nan"), 2.0)
    with pytest.raises(DataNotFoundError):
        point_report(workspace, 12.4, 55.6, scenario="1900")


def test_search_ranks_exact_then_prefix(workspace: Workspace) -> None:
    ids = workspace.features("parcels")["parcel_id"].astype(str)
    target = ids.iloc[42]
    hits = search_parcels(workspace, target.upper(), limit=5)
    assert hits[0]["parcel_id"] == target
    prefix = target.split("-")[0] + "-1"
    hits = search_parcels(workspace, prefix, limit=100)
    assert hits and all(h["parcel_id"].startswith(prefix) for h in hits)
    lon0, lat0, lon1, lat1 = hits[0]["bbox"]
    assert 12 < lon0 < lon1 < 13 and 55 < lat0 < lat1 < 56
    assert search_parcels(workspace, "zzz-no-such") == []
    with pytest.raises(ParameterError):
        search_parcels(workspace, "   ")


def test_scenario_summary_orders_the_futures(workspace: Workspace) -> None:
    s = {d["id"]: d for d in scenario_summary(workspace)}
    assert s["2100"]["default"] and not s["present"]["default"]
    assert s["present"]["sea_level_m"] < s["2050"]["sea_level_m"] < s["2100"]["sea_level_m"]
    assert s["present"]["rain_mm"] < s["2100"]["rain_mm"]
    assert np.isclose(
        s["2100"]["sea_level_m"] - s["present"]["sea_level_m"],
        s["2100"]["sea_level_rise_m"] - s["present"]["sea_level_rise_m"],
    )


def test_served_crs_names_are_the_canonical_uris() -> None:
    from klimakort.io.crs_uri import supported_crs
    from klimakort.service.crs import _SUPPORTED

    assert supported_crs("EPSG:25832") == _SUPPORTED
