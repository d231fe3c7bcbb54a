"""A dike in the sample's beach-ridge gap: the sea-flooded low land behind it goes dry, and
the report lists exactly the parcels whose flooded area changed (checked independently
against the before/after rasters with exact polygon-cell intersections)."""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pytest
import rasterio.features
import shapely

from klimakort.config.area import AreaConfig
from klimakort.io.vector import read_vector
from klimakort.whatif.compare import AREA_TOLERANCE_M2, flooded
from klimakort.whatif.edits import Edit, ScenarioEdit, check_scenario_edit
from klimakort.whatif.evaluate import WhatIfResult, evaluate


def gap_dike(cfg: AreaConfig) -> ScenarioEdit:
    """A dike at 2.8 m DVR90 (above the 2100 storm level) along the ridge's low gap."""
    ref = cfg.layers["barriers"]
    barriers = read_vector(ref.path, crs=cfg.crs)
    gap = barriers.loc[barriers["crest_m"].idxmin()]
    edit = Edit("raise_to", gap.geometry, {"level_m": 2.8, "width_m": 8.0}, name="Dige i hullet")
    return check_scenario_edit(ScenarioEdit("Dike in the gap", (edit,), "2100"))


@pytest.fixture(scope="module")
def dike_result(workspace: Any) -> WhatIfResult:
    return evaluate(workspace.cfg, workspace.hz, gap_dike(workspace.cfg), method="full")


def test_the_dike_turns_the_sea_flooded_low_land_dry(dike_result: WhatIfResult) -> None:
    sea = dike_result.comparison.hazards["sea"]
    before = np.nan_to_num(sea.before.values) > 0
    after = np.nan_to_num(sea.after.values) > 0
    # behind the ridge: north of the barrier lines
    ys = sea.before["y"].to_numpy()[:, None] * np.ones(before.shape[1])
    behind = ys > 6_168_500.0
    assert (before & behind).sum() > 10_000  # a large low area floods through the gap in 2100
    assert not (after & behind).any()  # ... and all of it is dry with the dike
    assert not (after & ~before).any()  # the dike floods nothing new
    stats = sea.stats
    assert stats["area_dried_m2"] > 0.9 * stats["flooded_area_before_m2"]
    assert stats["volume_removed_m3"] > 0


def _changed_cells(hz: Any) -> gpd.GeoSeries:
    """Polygons of the cells whose flooded indicator changed, per hazard, unioned."""
    geoms = []
    for name in ("cloudburst", "sea"):
        d = hz[name]
        b = np.nan_to_num(flooded(d.before, name))
        a = np.nan_to_num(flooded(d.after, name))
        mask = (a != b).astype(np.uint8)
        for geom, _v in rasterio.features.shapes(
            mask, mask=mask > 0, transform=d.before.rio.transform()
        ):
            geoms.append((name, shapely.geometry.shape(geom)))
    return gpd.GeoSeries(
        [g for _n, g in geoms], index=[n for n, _g in geoms], crs=hz["sea"].before.rio.crs
    )


def test_the_report_lists_exactly_the_parcels_whose_flooded_area_changed(
    dike_result: WhatIfResult, workspace: Any
) -> None:
    parcels = workspace.features("parcels")
    cells = _changed_cells(dike_result.comparison.hazards)
    expected = set()
    for name in ("cloudburst", "sea"):
        region = shapely.union_all(cells.loc[[name]].to_numpy()) if name in cells.index else None
        if region is None:
            continue
        inter = shapely.area(shapely.intersection(parcels.geometry.to_numpy(), region))
        expected |= set(parcels["matrikel_id"].to_numpy()[inter > AREA_TOLERANCE_M2])
    listed = dike_result.comparison.parcels
    assert len(expected) > 100
    assert set(listed["matrikel_id"]) == expected
    assert (listed["status"] == "dry").sum() > 100
    report = dike_result.report()
    assert {p["matrikel_id"] for p in report["parcels"]} == expected
    assert report["counts"]["parcels"].get("worse", 0) == 0


def test_flooded_areas_of_listed_parcels_match_exact_cell_intersections(
    dike_result: WhatIfResult,
) -> None:
    sea = dike_result.comparison.hazards["sea"]
    t = sea.before.rio.transform()
    cell = abs(t.a * t.e)
    listed = dike_result.comparison.parcels.head(25)
    for rec in listed.itertuples():
        geom = rec.geometry
        xmin, ymin, xmax, ymax = geom.bounds
        c0, r0 = (int(np.floor(v)) for v in ~t * (xmin, ymax))
        c1, r1 = (int(np.ceil(v)) for v in ~t * (xmax, ymin))
        areas = {}
        for when, ind in (("before", sea.flooded_before), ("after", sea.flooded_after)):
            total = 0.0
            for r in range(r0, r1):
                for c in range(c0, c1):
                    if ind[r, c] > 0:
                        x0, y0 = t * (c, r)
                        box = shapely.box(x0, y0 - abs(t.e), x0 + t.a, y0)
                        total += shapely.area(shapely.intersection(box, geom))
            areas[when] = total
        assert rec.sea_before_m2 == pytest.approx(areas["before"], abs=1e-3 * cell)
        assert rec.sea_after_m2 == pytest.approx(areas["after"], abs=1e-3 * cell)
