"""The workspace: raster layers and collections of an opened area."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from klimakort.errors import DataNotFoundError
from klimakort.service import RASTER_LAYERS, Workspace


def test_every_layer_and_scenario_keeps_its_grid(workspace: Workspace) -> None:
    t = workspace.hz.terrain
    for layer, info in workspace.raster_layers.items():
        for sc in workspace.scenarios if info.scenario_dependent else [None]:
            da = workspace.raster(layer, sc)
            assert da.rio.crs == t.rio.crs and da.shape == t.shape
            assert da.rio.transform() == t.rio.transform()
            assert da.attrs["layer"] == layer
    assert set(workspace.raster_layers) == set(RASTER_LAYERS)  # the sample has groundwater


def test_scenarios_differ_where_they_should(workspace: Workspace) -> None:
    present = workspace.raster("sea_depth", "present").values
    future = workspace.raster("sea_depth", "2100").values
    assert np.nansum(future > 0) > np.nansum(present > 0)
    # terrain is scenario-free: the scenario argument is ignored
    assert workspace.raster("terrain", "2050") is workspace.raster("terrain")


def test_bluespot_depth_is_filled_minus_terrain(workspace: Workspace) -> None:
    rf = workspace.hz.rainflow
    depth = workspace.raster("bluespot_depth").values
    np.testing.assert_array_equal(depth, (rf.filled.values - rf.terrain.values).astype("f4"))
    assert np.nanmin(depth) >= 0


def test_unknown_layer_scenario_collection(workspace: Workspace) -> None:
    with pytest.raises(DataNotFoundError, match="cloudburst_depth"):
        workspace.raster("nope")
    with pytest.raises(DataNotFoundError, match="2100"):
        workspace.raster("sea_depth", "2200")
    with pytest.raises(DataNotFoundError, match="parcels"):
        workspace.features("nope")


def test_features_have_unique_text_fids(workspace: Workspace) -> None:
    for cid, info in workspace.collections.items():
        gdf = workspace.features(cid)
        assert gdf["fid"].is_unique, cid
        assert gdf.crs.to_epsg() == 25832, cid
        if info.id_field and info.id_field in gdf and gdf[info.id_field].is_unique:
            assert (gdf["fid"] == gdf[info.id_field].astype(str)).all(), cid
    flooded = workspace.features("flooded_areas")
    assert set(flooded["scenario"]) == set(workspace.scenarios)


def test_point_values_match_the_raster(workspace: Workspace) -> None:
    da = workspace.raster("cloudburst_depth", "2100")
    rows, cols = np.nonzero(da.values > 0.05)
    r, c = int(rows[0]), int(cols[0])
    x, y = float(da.x[c]), float(da.y[r])
    values = workspace.point_values(x, y, "2100")
    assert values["cloudburst_depth"] == pytest.approx(float(da.values[r, c]))
    assert values["terrain"] == pytest.approx(float(workspace.hz.terrain.values[r, c]))
    # class rasters: their nodata is reported as None, not as 255
    cls = workspace.raster("groundwater_classes", "2100")
    nd = cls.rio.nodata
    rr, cc = np.nonzero(cls.values == nd)
    if len(rr):
        v = workspace.point_values(float(cls.x[cc[0]]), float(cls.y[rr[0]]), "2100")
        assert v["groundwater_classes"] is None


@pytest.mark.slow
def test_a_reopened_workspace_reuses_hazards_and_candidate_sites(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from geopandas.testing import assert_geodataframe_equal

    from klimakort.hazards import store as store_mod
    from klimakort.hazards.store import HazardStore
    from klimakort.sample import write_sample
    from klimakort.suitability import workflow

    toml = write_sample(tmp_path / "area", cell=16.0)
    store = HazardStore(tmp_path / "store")
    first = Workspace.open(toml, ("2100",), store=store)
    cands = first.features("candidate_sites")
    assert len(cands) and cands["chosen"].any()

    def fail(*_a: Any, **_k: Any) -> Any:
        raise AssertionError("recomputed although stored")

    monkeypatch.setattr(store_mod, "compute_hazards", fail)
    monkeypatch.setattr(store_mod, "compute_scenarios", fail)
    monkeypatch.setattr(workflow, "run_suitability", fail)
    again = Workspace.open(toml, ("2100",), store=store)
    assert_geodataframe_equal(again.features("candidate_sites"), cands)
    a, b = first.raster("cloudburst_depth"), again.raster("cloudburst_depth")
    assert np.array_equal(a.values, b.values, equal_nan=True)
