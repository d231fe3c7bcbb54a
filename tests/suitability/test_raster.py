"""Suitability rasters: one test per hard constraint, weighted score, reasons, writing."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pytest
import xarray as xr
from shapely.geometry import LineString, Point, box

from klimakort.errors import DataNotFoundError, GridMismatchError
from klimakort.io import like, read_raster
from klimakort.suitability.profiles import Profile
from klimakort.suitability.raster import (
    CONSTRAINT_ORDER,
    SuitabilityInputs,
    suitability_from_inputs,
)

X0, Y0 = 700_000.0, 6_170_000.0
CRS = "EPSG:25832"
CRITERIA = [
    {"name": "flood", "source": "cloudburst_depth", "weight": 3.0,
     "transform": {"kind": "linear", "min": 0.0, "max": 1.0}},
    {"name": "catch", "source": "upstream_area", "weight": 1.0,
     "transform": {"kind": "linear", "min": 0.0, "max": 100.0}},
]  # fmt: skip


def gdf(*geoms: Any, **cols: Any) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(cols, geometry=list(geoms), crs=CRS)


def profile(**constraints: Any) -> Profile:
    return Profile.model_validate(
        {
            "name": "test",
            "min_area_m2": 1.0,
            "min_width_m": 1.0,
            "constraints": {"public_land": False, "avoid_buildings": False, **constraints},
            "criteria": CRITERIA,
        }
    )


def inputs(
    make_dem: Callable[..., xr.DataArray],
    shape: tuple[int, int] = (20, 20),
    cell: float = 1.0,
    *,
    bluespot_depth: np.ndarray | None = None,
    flood: float = 0.5,
    acc: float = 25.0,
    gw: np.ndarray | None = None,
    **layers: gpd.GeoDataFrame,
) -> SuitabilityInputs:
    dem = make_dem(np.zeros(shape), cell=cell, x0=X0, y0=Y0)
    depth = np.zeros(shape) if bluespot_depth is None else bluespot_depth
    f32 = np.float32
    return SuitabilityInputs(
        terrain=dem,
        filled=like(dem, (dem.values + depth).astype(f32), name="filled"),
        accumulation=like(dem, np.full(shape, acc, f32), name="acc"),
        bluespots=like(dem, (depth > 0).astype(np.int32), name="bs", nodata=0),
        flood_depth=like(dem, np.full(shape, flood, f32), name="fd"),
        groundwater_depth=None if gw is None else like(dem, gw.astype(f32), name="gw"),
        layers=dict(layers),
    )


def cell_boxes(shape: tuple[int, int], cell: float) -> list[list[Any]]:
    return [
        [box(X0 + j * cell, Y0 - (i + 1) * cell, X0 + (j + 1) * cell, Y0 - i * cell)
         for j in range(shape[1])]
        for i in range(shape[0])
    ]  # fmt: skip


def test_no_constraints_everything_suitable_and_score_by_hand(make_dem: Any) -> None:
    res = suitability_from_inputs(inputs(make_dem), profile())
    assert bool(res.mask.all())
    # 0.75 * linear(0.5; 0..1) + 0.25 * linear(25; 0..100)
    np.testing.assert_allclose(res.score.values, 0.75 * 0.5 + 0.25 * 0.25, rtol=1e-6)
    assert res.weights == pytest.approx({"flood": 0.75, "catch": 0.25})
    assert res.score.rio.crs == res.mask.rio.crs
    assert res.score.rio.transform() == res.inputs.terrain.rio.transform()  # type: ignore[union-attr]


def assert_skipped_or_required(
    make_dem: Any, constraint: dict[str, Any], name: str, layer: str, what: str
) -> None:
    """Without ``layer`` the constraint is not checked (noted); strict/required raise."""
    constraint = {"allow_protected_nature": True, **constraint}  # only this layer is missing
    res = suitability_from_inputs(inputs(make_dem), profile(**constraint))
    note = f"{what} not checked: the area has no {layer} layer"
    assert name not in res.constraints and bool(res.mask.all())
    assert res.not_checked == {name: note} and note in res.notes
    with pytest.raises(DataNotFoundError, match=f"--strict.*needs the {layer} layer"):
        suitability_from_inputs(inputs(make_dem), profile(**constraint), strict=True)
    required = profile(**constraint).model_copy(update={"require_layers": [layer]})
    with pytest.raises(DataNotFoundError, match=f"require_layers.*needs the {layer} layer"):
        suitability_from_inputs(inputs(make_dem), required)


def test_public_land_polygons_and_public_parcels(make_dem: Any) -> None:
    left = gdf(box(X0, Y0 - 20, X0 + 10, Y0))
    parcels = gdf(box(X0 + 15, Y0 - 20, X0 + 20, Y0), box(X0 + 10, Y0 - 20, X0 + 15, Y0),
                  public=[True, False])  # fmt: skip
    res = suitability_from_inputs(inputs(make_dem, public_land=left, parcels=parcels),
                                  profile(public_land=True))  # fmt: skip
    m = res.mask.values
    assert m[:, :10].all() and m[:, 15:].all() and not m[:, 10:15].any()
    assert np.isnan(res.score.values[:, 10:15]).all()
    assert_skipped_or_required(make_dem, {"public_land": True}, "public_land", "public_land",
                               "public-land constraint")  # fmt: skip


def test_buildings_excluded(make_dem: Any) -> None:
    b = gdf(box(X0 + 5, Y0 - 8, X0 + 9, Y0 - 4))
    res = suitability_from_inputs(inputs(make_dem, buildings=b), profile(avoid_buildings=True))
    m = res.mask.values
    assert not m[4:8, 5:9].any()
    assert m.sum() == 400 - 16
    assert_skipped_or_required(make_dem, {"avoid_buildings": True}, "buildings", "buildings",
                               "building-footprint constraint")  # fmt: skip


def test_heating_mains_clearance_against_exact_geometry(make_dem: Any) -> None:
    line = LineString([(X0 + 10.3, Y0), (X0 + 10.3, Y0 - 20)])
    res = suitability_from_inputs(
        inputs(make_dem, heating_mains=gdf(line)), profile(heating_mains_clearance_m=2.5)
    )
    boxes = cell_boxes((20, 20), 1.0)
    expect = np.array([[b.distance(line) >= 2.5 for b in row] for row in boxes])
    np.testing.assert_array_equal(res.mask.values, expect)
    assert expect.any() and (~expect).any()


def test_missing_heating_mains_is_noted_not_applied(make_dem: Any) -> None:
    line = LineString([(X0 + 10.3, Y0), (X0 + 10.3, Y0 - 20)])
    applied = suitability_from_inputs(
        inputs(make_dem, heating_mains=gdf(line)), profile(heating_mains_clearance_m=2.5)
    )
    off = suitability_from_inputs(
        inputs(make_dem, heating_mains=gdf(line)), profile(heating_mains_clearance_m=0.0)
    )
    missing = suitability_from_inputs(
        inputs(make_dem), profile(heating_mains_clearance_m=2.5, allow_protected_nature=True)
    )
    # without the layer the result is that of clearance 0, which differs from the applied one
    np.testing.assert_array_equal(missing.mask.values, off.mask.values)
    np.testing.assert_array_equal(missing.score.values, off.score.values)
    assert (applied.mask.values != missing.mask.values).any()
    note = "heating-mains clearance not checked: the area has no heating_mains layer"
    assert missing.notes == [note] and missing.not_checked == {"heating_mains": note}
    assert note not in off.notes and "heating_mains" in applied.constraints
    with pytest.raises(DataNotFoundError, match=r"protected_nature.*heating_mains"):
        suitability_from_inputs(
            inputs(make_dem), profile(heating_mains_clearance_m=2.5), strict=True
        )  # one error names every missing layer


def test_criterion_without_layer_dropped_and_weights_renormalised(make_dem: Any) -> None:
    inst = {"name": "kids", "source": "distance_to_institutions", "weight": 4.0,
            "transform": {"kind": "small", "midpoint": 5.0, "spread": 2.0}}  # fmt: skip
    base = profile()
    with_kids = Profile.model_validate(
        {**base.model_dump(), "criteria": [*[c.model_dump() for c in base.criteria], inst]}
    )
    res = suitability_from_inputs(inputs(make_dem), with_kids)
    ref = suitability_from_inputs(inputs(make_dem), base)
    assert res.weights == pytest.approx(ref.weights) and "kids" not in res.criteria
    assert res.weights == pytest.approx({"flood": 0.75, "catch": 0.25})
    np.testing.assert_array_equal(res.score.values, ref.score.values)
    assert set(res.dropped_criteria) == {"kids"} and res.dropped_criteria["kids"] in res.notes
    assert "no institutions layer" in res.dropped_criteria["kids"]
    with pytest.raises(DataNotFoundError, match="institutions"):
        suitability_from_inputs(inputs(make_dem), with_kids, strict=True)
    pt = gdf(Point(X0 + 2.5, Y0 - 2.5), kind=["school"])
    present = suitability_from_inputs(inputs(make_dem, institutions=pt), with_kids)
    assert present.weights["kids"] == pytest.approx(0.5) and not present.dropped_criteria


def test_protected_nature_unless_allowed(make_dem: Any) -> None:
    nat = gdf(box(X0, Y0 - 5, X0 + 5, Y0))
    res = suitability_from_inputs(inputs(make_dem, protected_nature=nat), profile())
    assert not res.mask.values[:5, :5].any() and res.mask.values.sum() == 400 - 25
    allowed = suitability_from_inputs(
        inputs(make_dem, protected_nature=nat), profile(allow_protected_nature=True)
    )
    assert bool(allowed.mask.all())
    missing = suitability_from_inputs(inputs(make_dem), profile())
    assert any("protected_nature" in n for n in missing.notes)


def test_bluespot_depth_limit(make_dem: Any) -> None:
    depth = np.zeros((20, 20))
    depth[2:5, 2:5] = 0.5
    depth[10:13, 10:13] = 0.2
    res = suitability_from_inputs(inputs(make_dem, bluespot_depth=depth),
                                  profile(max_bluespot_depth_m=0.3))  # fmt: skip
    assert not res.mask.values[2:5, 2:5].any()
    assert res.mask.values[10:13, 10:13].all()
    assert res.constraint_values["bluespot_depth"].values[3, 3] == pytest.approx(0.5)


def test_groundwater_depth_minimum_and_unknown(make_dem: Any) -> None:
    gw = np.full((20, 20), 2.0)
    gw[:, :5] = 0.5
    gw[:, 5:8] = np.nan
    res = suitability_from_inputs(inputs(make_dem, gw=gw), profile(min_groundwater_depth_m=1.0))
    m = res.mask.values
    assert m[:, 8:].all() and not m[:, :8].any()
    assert_skipped_or_required(make_dem, {"min_groundwater_depth_m": 1.0}, "groundwater_depth",
                               "groundwater", "groundwater-depth constraint")  # fmt: skip


def test_contaminated_soil(make_dem: Any) -> None:
    soil = gdf(box(X0 + 10, Y0 - 20, X0 + 20, Y0 - 10))
    res = suitability_from_inputs(inputs(make_dem, contaminated_soil=soil),
                                  profile(avoid_contaminated_soil=True))  # fmt: skip
    assert not res.mask.values[10:, 10:].any() and res.mask.values.sum() == 300
    res2 = suitability_from_inputs(inputs(make_dem), profile(avoid_contaminated_soil=True))
    assert bool(res2.mask.all()) and any("contaminated" in n for n in res2.notes)


def test_retention_near_bluespot_or_flow_path(make_dem: Any) -> None:
    shape, cell = (40, 40), 2.0
    depth = np.zeros(shape)
    depth[5, 5] = 0.4  # one bluespot cell
    inp = inputs(make_dem, shape, cell, bluespot_depth=depth, acc=0.0)
    res = suitability_from_inputs(inp, profile(max_distance_to_water_m=20.0))
    ii, jj = np.indices(shape)
    expect = np.hypot(ii - 5, jj - 5) * cell <= 20.0
    np.testing.assert_array_equal(res.mask.values, expect)
    # a flow path (upstream area above the threshold) also counts
    inp.accumulation.values[30, :] = 20_000.0
    res2 = suitability_from_inputs(inp, profile(max_distance_to_water_m=20.0))
    assert res2.mask.values[30, 39] and res2.mask.values[21, 20] and not res2.mask.values[19, 39]


def test_reasons_stack_and_bits(make_dem: Any) -> None:
    b = gdf(box(X0, Y0 - 2, X0 + 2, Y0))
    nat = gdf(box(X0 + 1, Y0 - 3, X0 + 3, Y0 - 1))
    res = suitability_from_inputs(
        inputs(make_dem, buildings=b, protected_nature=nat), profile(avoid_buildings=True)
    )
    stack = res.reasons()
    assert list(stack.constraint.values) == list(res.constraints)
    fails_any = stack.any("constraint").values
    np.testing.assert_array_equal(fails_any, ~res.mask.values)
    code = res.reason_code.values
    bb, bn = (
        1 << CONSTRAINT_ORDER.index("buildings"),
        1 << CONSTRAINT_ORDER.index("protected_nature"),
    )
    assert code[1, 1] == bb | bn  # cell (1,1) is under both
    assert code[0, 0] == bb and code[2, 2] == bn and code[10, 10] == 0


def test_scores_in_unit_interval_nan_outside_and_deterministic(make_dem: Any) -> None:
    rng = np.random.default_rng(1)
    inp = inputs(make_dem, buildings=gdf(box(X0 + 3, Y0 - 9, X0 + 7, Y0 - 3)))
    inp.flood_depth.values[:] = rng.uniform(0, 2, (20, 20))
    inp.terrain.values[0, 0] = np.nan
    a = suitability_from_inputs(inp, profile(avoid_buildings=True))
    b = suitability_from_inputs(inp, profile(avoid_buildings=True))
    s = a.score.values
    fin = np.isfinite(s)
    assert np.all((s[fin] >= 0) & (s[fin] <= 1))
    np.testing.assert_array_equal(fin, a.mask.values)
    assert not a.mask.values[0, 0]
    np.testing.assert_array_equal(s, b.score.values)


def test_write_roundtrip(make_dem: Any, tmp_path: Path) -> None:
    res = suitability_from_inputs(inputs(make_dem, buildings=gdf(box(X0, Y0 - 4, X0 + 4, Y0))),
                                  profile(avoid_buildings=True))  # fmt: skip
    path = res.write(tmp_path / "suitability.tif")
    back = read_raster(path)
    np.testing.assert_allclose(back.values, res.score.values, equal_nan=True)
    assert back.attrs.get("measure") == "test"


def test_layer_crs_and_grid_checked(make_dem: Any) -> None:
    wrong = gpd.GeoDataFrame(geometry=[Point(12.0, 55.0)], crs="EPSG:4326")
    with pytest.raises(GridMismatchError, match="reproject"):
        inputs(make_dem, institutions=wrong)
    inp = inputs(make_dem)
    with pytest.raises(GridMismatchError):
        SuitabilityInputs(
            terrain=inp.terrain,
            filled=make_dem(np.zeros((5, 5))),
            accumulation=inp.accumulation,
            bluespots=inp.bluespots,
            flood_depth=inp.flood_depth,
        )
