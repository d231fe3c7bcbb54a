"""Exposure overlay: exact coverage-weighted statistics per feature and scenario."""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import geopandas as gpd
import numpy as np
import pytest
import shapely
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st
from rasterio.transform import from_origin

from klimakort.config import load_area
from klimakort.constraints.loaders import load_heating_zones, load_parcels, load_planned_sites
from klimakort.constraints.overlay import COLUMNS, exposure, zonal_stats
from klimakort.errors import CRSError, GeometryError, GridMismatchError, InputError
from klimakort.hazards.area import AreaHazards, HazardOptions, ScenarioHazards, compute_hazards
from klimakort.sample import write_sample

X0, Y0 = 700_000.0, 6_170_000.0
MakeDem = Callable[..., xr.DataArray]


def _hazards(
    make_dem: MakeDem,
    terrain: np.ndarray,
    depth: np.ndarray,
    *,
    filled: np.ndarray | None = None,
    bluespots: np.ndarray | None = None,
    sea: np.ndarray | None = None,
    mfl: np.ndarray | None = None,
    gw: np.ndarray | None = None,
    gw_classes: np.ndarray | None = None,
    flowpaths: gpd.GeoDataFrame | None = None,
) -> AreaHazards:
    """AreaHazards of one scenario on a grid of 1 m cells with its top-left corner at (X0, Y0)."""

    def grid(values: np.ndarray) -> xr.DataArray:
        return make_dem(values, cell=1.0, x0=X0, y0=Y0)

    zeros = np.zeros_like(terrain)
    dem = grid(terrain)
    rf: Any = SimpleNamespace(
        terrain=dem,
        filled=grid(terrain if filled is None else filled),
        bluespots=grid(zeros if bluespots is None else bluespots),
        flowpaths=flowpaths
        if flowpaths is not None
        else gpd.GeoDataFrame({"upstream_area_m2": []}, geometry=[], crs="EPSG:25832"),
    )
    groundwater: Any = None
    if gw is not None:
        classes = gw_classes if gw_classes is not None else np.ones_like(gw)
        groundwater = SimpleNamespace(depth=grid(gw), classes=grid(classes))
    sh = ScenarioHazards(
        scenario=None,  # type: ignore[arg-type]
        rain_mm=0.0,
        sea_level_m=1.0,
        cloudburst=SimpleNamespace(flood_depth=grid(depth)),  # type: ignore[arg-type]
        sea=SimpleNamespace(  # type: ignore[arg-type]
            depth=grid(zeros if sea is None else sea),
            min_flood_level=grid(np.full_like(terrain, np.inf) if mfl is None else mfl),
        ),
        groundwater=groundwater,
    )
    return AreaHazards(
        area=None,  # type: ignore[arg-type]
        terrain=dem,
        rainflow=rf,
        options=HazardOptions(),
        scenarios={"present": sh},
    )


def _features(*geoms: Any, crs: str | None = "EPSG:25832") -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"fid": [f"f{i}" for i in range(len(geoms))]}, geometry=list(geoms), crs=crs
    )


def _box(c0: float, r0: float, c1: float, r1: float) -> shapely.Polygon:
    """Box in cell units: columns c0..c1, rows r0..r1 (row 0 at the top)."""
    return shapely.box(X0 + c0, Y0 - r1, X0 + c1, Y0 - r0)


DEPTH = np.array(
    [
        [0.30, 0.05, 0.20, 0.0],
        [0.00, 0.50, 0.00, 0.0],
        [0.00, 0.00, 0.00, 0.0],
    ],
    dtype=np.float32,
)


def test_two_and_a_half_cells_exact(make_dem: MakeDem) -> None:
    terrain = np.arange(12, dtype=np.float32).reshape(3, 4)
    hz = _hazards(make_dem, terrain, DEPTH)
    out = exposure(_features(_box(0, 0, 2.5, 1)), "fid", hz)
    row = out.iloc[0]
    assert row.fid == "f0" and row.scenario == "present"
    # cells 0.30 and 0.05 fully, 0.20 half: area 2.5 cells
    assert row.flood_depth_mean_m == pytest.approx((0.30 + 0.05 + 0.5 * 0.20) / 2.5, abs=1e-6)
    assert row.flood_share_ge_10cm == pytest.approx((1 + 0 + 0.5) / 2.5, abs=1e-6)
    assert row.flood_depth_max_m == pytest.approx(0.30)
    assert row.terrain_mean_m == pytest.approx((0 + 1 + 0.5 * 2) / 2.5, abs=1e-6)
    assert row.terrain_min_m == 0.0
    assert list(out.columns) == [
        "fid",
        "scenario",
        *(c for c in COLUMNS if not c.endswith("_buffer_m")),
    ]


def test_nan_cells_are_left_out(make_dem: MakeDem) -> None:
    depth = DEPTH.copy()
    depth[0, 1] = np.nan
    depth[2, :] = np.nan
    hz = _hazards(make_dem, np.zeros((3, 4), np.float32), depth)
    out = exposure(_features(_box(0, 0, 2, 1), _box(0, 2, 4, 3)), "fid", hz)
    # only the valid cell (0.30) of the first feature counts
    assert out.flood_depth_mean_m[0] == pytest.approx(0.30)
    assert out.flood_share_ge_10cm[0] == pytest.approx(1.0)
    # the second feature lies on nodata only
    assert np.isnan(out.flood_depth_mean_m[1]) and np.isnan(out.flood_depth_max_m[1])


def test_feature_outside_raster_gives_nan(make_dem: MakeDem) -> None:
    hz = _hazards(make_dem, np.ones((3, 4), np.float32), DEPTH)
    far = shapely.box(X0 + 1000, Y0 + 1000, X0 + 1010, Y0 + 1010)
    out = exposure(_features(_box(0, 0, 1, 1), far), "fid", hz)
    cols = ["flood_depth_max_m", "flood_share_ge_10cm", "terrain_mean_m", "bluespot_volume_m3"]
    assert out.loc[1, cols].isna().all()
    assert out.loc[0, cols].notna().all()


def test_crs_and_grid_mismatch(make_dem: MakeDem) -> None:
    hz = _hazards(make_dem, np.ones((3, 4), np.float32), DEPTH)
    feats = _features(_box(0, 0, 1, 1))
    with pytest.raises(CRSError, match="EPSG:25833"):
        exposure(feats.set_crs("EPSG:25833", allow_override=True), "fid", hz)
    with pytest.raises(CRSError, match="no CRS"):
        exposure(_features(_box(0, 0, 1, 1), crs=None), "fid", hz)
    shifted = make_dem(DEPTH, cell=1.0, x0=X0 + 0.5, y0=Y0)
    hz.scenarios["present"].cloudburst.flood_depth = shifted
    with pytest.raises(GridMismatchError, match="flood depth"):
        exposure(feats, "fid", hz)


def test_geometry_problems(make_dem: MakeDem) -> None:
    hz = _hazards(make_dem, np.zeros((3, 4), np.float32), DEPTH)
    # a bow-tie over the top-left 2x2 cells: repaired into two triangles of 1 cell each
    bowtie = shapely.Polygon([(X0, Y0), (X0 + 2, Y0 - 2), (X0 + 2, Y0), (X0, Y0 - 2)])
    assert not bowtie.is_valid
    out = exposure(_features(bowtie), "fid", hz)
    # each of the four top-left cells is covered by half: the mean is their plain mean
    assert out.flood_depth_mean_m[0] == pytest.approx((0.30 + 0.05 + 0.0 + 0.50) / 4, abs=1e-6)
    assert out.flood_depth_max_m[0] == pytest.approx(0.50)
    with pytest.raises(GeometryError, match="polygons"):
        exposure(_features(shapely.Point(X0 + 1, Y0 - 1)), "fid", hz)
    with pytest.raises(GeometryError, match="no geometry"):
        exposure(_features(shapely.Polygon()), "fid", hz)


def test_ids_must_be_unique(make_dem: MakeDem) -> None:
    hz = _hazards(make_dem, np.zeros((3, 4), np.float32), DEPTH)
    feats = _features(_box(0, 0, 1, 1), _box(1, 0, 2, 1))
    feats["fid"] = ["a", "a"]
    with pytest.raises(InputError, match="unique"):
        exposure(feats, "fid", hz)
    with pytest.raises(InputError, match="nope"):
        exposure(feats, "nope", hz)


def test_bluespot_volume(make_dem: MakeDem) -> None:
    terrain = np.zeros((3, 4), np.float32)
    filled = np.array([[0.4, 0.2, 0, 0], [0.1, 0, 0, 0], [0, 0, 0, 0]], np.float32)
    # cell (1,0) is filled but not a bluespot (filtered): it does not count
    bluespots = np.array([[3, 3, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]], np.float32)
    hz = _hazards(make_dem, terrain, DEPTH, filled=filled, bluespots=bluespots)
    out = exposure(_features(_box(0.5, 0, 2, 2)), "fid", hz)
    assert out.bluespot_volume_m3[0] == pytest.approx(0.5 * 0.4 + 0.2, abs=1e-6)


def test_flowpaths_clipped(make_dem: MakeDem) -> None:
    lines = gpd.GeoDataFrame(
        {"upstream_area_m2": [5000.0, 20000.0, 90000.0]},
        geometry=[
            shapely.LineString([(X0 - 5, Y0 - 0.5), (X0 + 10, Y0 - 0.5)]),  # 2 m inside
            shapely.LineString([(X0 + 1.5, Y0 + 5), (X0 + 1.5, Y0 - 5)]),  # 1 m inside
            shapely.LineString([(X0 + 3, Y0), (X0 + 3, Y0 - 3)]),  # outside
        ],
        crs="EPSG:25832",
    )
    hz = _hazards(make_dem, np.zeros((3, 4), np.float32), DEPTH, flowpaths=lines)
    out = exposure(_features(_box(0, 0, 2, 1), _box(0, 2, 1, 3)), "fid", hz)
    assert out.flowpath_length_m.tolist() == pytest.approx([3.0, 0.0])
    assert out.flowpath_max_upstream_m2[0] == 20000.0
    assert np.isnan(out.flowpath_max_upstream_m2[1])


def test_sea_groundwater_and_levels(make_dem: MakeDem) -> None:
    shape = (3, 4)
    sea = np.zeros(shape, np.float32)
    sea[0, :2] = [0.4, 0.1]
    sea[0, 3] = np.nan  # the sea itself
    mfl = np.full(shape, np.inf, np.float32)
    mfl[0, :3] = [0.6, 0.9, 2.0]
    mfl[0, 3] = -np.inf
    gw = np.full(shape, 2.5, np.float32)
    gw[1, 1] = 0.4
    classes = np.where(gw < 1, 1, 3).astype(np.float32)
    hz = _hazards(
        make_dem, np.ones(shape, np.float32), DEPTH, sea=sea, mfl=mfl, gw=gw, gw_classes=classes
    )
    feats = _features(_box(0, 0, 2, 2), _box(2, 0, 4, 1), _box(0, 2, 4, 3))
    out = exposure(feats, "fid", hz)
    assert out.sea_share.tolist() == pytest.approx([0.5, 0.0, 0.0])  # sea cell left out
    assert out.sea_depth_max_m[0] == pytest.approx(0.4)
    assert out.min_flood_level_m.tolist() == [pytest.approx(0.6), -np.inf, np.inf]
    assert out.gw_depth_min_m[0] == pytest.approx(0.4)
    assert out.gw_depth_mean_m[0] == pytest.approx((3 * 2.5 + 0.4) / 4)
    assert out.gw_class.tolist() == [1, 3, 3]
    assert str(out.gw_class.dtype) == "Int64"


def test_without_groundwater_gw_columns_are_missing(make_dem: MakeDem) -> None:
    hz = _hazards(make_dem, np.zeros((3, 4), np.float32), DEPTH)
    out = exposure(_features(_box(0, 0, 1, 1)), "fid", hz)
    assert np.isnan(out.gw_depth_min_m[0]) and out.gw_class.isna().all()


def test_heating_zone_and_nearest_site(make_dem: MakeDem) -> None:
    hz = _hazards(make_dem, np.zeros((3, 4), np.float32), DEPTH)
    zones = gpd.GeoDataFrame(
        {"zone": ["A", "B"]}, geometry=[_box(0, 0, 0.8, 3), _box(0.8, 0, 4, 3)], crs="EPSG:25832"
    )
    sites = gpd.GeoDataFrame(
        geometry=[shapely.Point(X0 + 10, Y0 - 0.5), _box(3.5, 2, 4, 3)], crs="EPSG:25832"
    )
    feats = _features(_box(0, 0, 2, 1), _box(0, 2, 1, 3), shapely.box(X0 - 9, Y0, X0 - 8, Y0 + 1))
    out = exposure(feats, "fid", hz, heating_zones=zones, planned_sites=sites)
    assert out.heating_zone.tolist() == ["B", "A", None]  # B holds 1.2 of f0's 2 m²
    assert out.nearest_planned_site_m.tolist() == pytest.approx(
        [np.hypot(1.5, 1.0), 2.5, np.hypot(11.5, 2.0)]
    )
    bad = sites.set_crs("EPSG:4326", allow_override=True)
    with pytest.raises(CRSError, match="planned sites"):
        exposure(feats, "fid", hz, planned_sites=bad)


def test_building_buffer(make_dem: MakeDem) -> None:
    terrain = np.full((3, 4), 10.0, np.float32)
    terrain[1, 2] = 12.0
    depth = np.zeros((3, 4), np.float32)
    depth[1, 2] = 0.25  # within 1 m south-east of the building, not under it
    depth[2, 0] = 0.9  # 1.5 m away diagonally: outside the buffer
    hz = _hazards(make_dem, terrain, depth)
    building = _box(1.2, 0.2, 2.0, 1.0)
    out = exposure(_features(building), "fid", hz, building_buffer_m=1.0)
    assert out.flood_depth_max_m[0] == 0.0
    assert out.flood_depth_max_buffer_m[0] == pytest.approx(0.25)
    assert out.water_level_max_buffer_m[0] == pytest.approx(12.25)
    assert list(out.columns)[-2:] == ["flood_depth_max_buffer_m", "water_level_max_buffer_m"]


def _coverage_1d(lo: float, hi: float, n: int) -> np.ndarray:
    edges = np.arange(n + 1, dtype=float)
    return np.clip(np.minimum(edges[1:], hi) - np.maximum(edges[:-1], lo), 0, None)


@settings(max_examples=40, deadline=None)
@given(
    c0=st.floats(0, 5.5),
    w=st.floats(0.05, 3),
    r0=st.floats(0, 3.5),
    h=st.floats(0.05, 3),
    seed=st.integers(0, 2**16),
)
def test_mean_matches_analytic_coverage(
    c0: float, w: float, r0: float, h: float, seed: int
) -> None:
    """Rectangle means equal the analytic coverage-weighted mean (an independent oracle)."""
    rng = np.random.default_rng(seed)
    values = rng.uniform(0, 1, (5, 7)).astype(np.float32)
    template = xr.DataArray(values, dims=("y", "x")).rio.write_crs("EPSG:25832")
    template = template.rio.write_transform(from_origin(X0, Y0, 1.0, 1.0))
    c1, r1 = min(c0 + w, 7.0), min(r0 + h, 5.0)
    geoms = gpd.GeoSeries([_box(c0, r0, c1, r1)], crs="EPSG:25832")
    res = zonal_stats(geoms, {"v": (template, ["mean", "max", "count"])})
    cov = np.outer(_coverage_1d(r0, r1, 5), _coverage_1d(c0, c1, 7))
    expected = float((cov * values).sum() / cov.sum())
    assert res["v_mean"].iloc[0] == pytest.approx(expected, rel=1e-5, abs=1e-6)
    assert res["v_count"].iloc[0] == pytest.approx(cov.sum(), rel=1e-6)
    assert res["v_max"].iloc[0] == pytest.approx(float(values[cov > 1e-9].max()), abs=1e-6)


# ------------------------------------------------------------------------- sample area


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> tuple[AreaHazards, Any]:
    toml = write_sample(tmp_path_factory.mktemp("area"), cell=16.0)
    cfg = load_area(toml)
    hz = compute_hazards(cfg, ("present", "2100"))
    parcels = load_parcels(cfg.layers["parcels"].path)
    zones = load_heating_zones(cfg.layers["heating_zones"].path, "zone")
    sites = load_planned_sites(cfg.layers["planned_sites"].path, "measure", id_field="site_id")
    out = exposure(parcels, "parcel_id", hz, heating_zones=zones, planned_sites=sites)
    sea = gpd.read_file(cfg.layers["sea"].path)
    return hz, SimpleNamespace(parcels=parcels, out=out, sea=sea)


def test_sample_area_sanity(sample: tuple[AreaHazards, Any]) -> None:
    _, s = sample
    out = s.out
    assert len(out) == 2 * len(s.parcels)
    assert set(out.scenario) == {"present", "2100"}
    for col in ("flood_share_ge_10cm", "sea_share"):
        assert out[col].between(0, 1).all()
    assert (out.flood_depth_max_m >= out.flood_depth_mean_m - 1e-6).all()
    assert (out.terrain_mean_m >= out.terrain_min_m - 1e-6).all()
    # the groundwater class is the class of the shallowest depth
    edges = np.array([1.0, 2.0, 3.0])
    expected = np.searchsorted(edges, out.gw_depth_min_m.to_numpy(), side="right") + 1
    np.testing.assert_array_equal(out.gw_class.to_numpy(dtype=int), expected)
    assert out.heating_zone.isin(["Nord", "Syd"]).sum() > 0.5 * len(out)


def test_sample_sea_floods_coast_in_2100(sample: tuple[AreaHazards, Any]) -> None:
    hz, s = sample
    out = s.out
    now = out[out.scenario == "present"].set_index("parcel_id")
    later = out[out.scenario == "2100"].set_index("parcel_id")
    level = hz.scenarios["2100"].sea_level_m
    wet = later.sea_share > 0
    assert wet.sum() > (now.sea_share > 0).sum()
    assert (later.sea_share >= now.sea_share - 1e-9).all()
    # a parcel floods from the sea only if the sea reaches it and it lies below the level
    assert (later.min_flood_level_m[wet] <= level + 1e-6).all()
    assert (later.terrain_min_m[wet] < level).all()
    # flooded parcels lie nearer the sea than dry ones
    geoms = s.parcels.set_index("parcel_id").geometry
    dist = geoms.distance(s.sea.union_all())
    assert dist[wet.index[wet]].median() < dist[wet.index[~wet]].median()


def test_exposure_is_repeatable(sample: tuple[AreaHazards, Any]) -> None:
    # exposure is pure: running it twice gives the same table
    hz, s = sample
    again = exposure(s.parcels.iloc[:50], "parcel_id", hz)
    first = s.out.set_index(["parcel_id", "scenario"]).loc[
        again.set_index(["parcel_id", "scenario"]).index
    ]
    np.testing.assert_allclose(
        again.flood_depth_mean_m.to_numpy(), first.flood_depth_mean_m.to_numpy()
    )


@pytest.mark.parametrize("pick", [slice(0, 1), slice(10, 13), slice(None)])
def test_reading_a_window_around_the_features_changes_no_number(
    sample: tuple[AreaHazards, Any], monkeypatch: pytest.MonkeyPatch, pick: slice
) -> None:
    from klimakort.constraints import overlay

    hz, s = sample
    feats = s.parcels.iloc[pick]
    feats = feats.assign(geometry=feats.geometry.translate(0.3, -0.7))  # off the cell edges
    win = overlay._window(feats.geometry, hz.terrain, pad_m=1.0)
    if pick != slice(None):  # one or a few parcels: a small part of the area is read
        assert win is not None
        cells = (win[0].stop - win[0].start) * (win[1].stop - win[1].start)
        assert cells < 0.2 * hz.terrain.size
    windowed = exposure(feats, "parcel_id", hz, building_buffer_m=1.0)
    monkeypatch.setattr(overlay, "_window", lambda *_a, **_k: None)
    whole = exposure(feats, "parcel_id", hz, building_buffer_m=1.0)
    import pandas as pd

    pd.testing.assert_frame_equal(windowed, whole, check_exact=True)


def test_window_is_clipped_to_the_grid_and_none_outside(make_dem: MakeDem) -> None:
    from klimakort.constraints import overlay

    grid = make_dem(np.zeros((20, 30)), cell=2.0, x0=X0, y0=Y0)
    inside = gpd.GeoSeries([shapely.box(X0 + 10, Y0 - 10, X0 + 14, Y0 - 6)], crs="EPSG:25832")
    rows, cols = overlay._window(inside, grid)  # type: ignore[misc]
    assert (rows.start, rows.stop, cols.start, cols.stop) == (2, 6, 4, 8)
    edge = gpd.GeoSeries([shapely.box(X0 - 50, Y0 - 10, X0 + 4, Y0 + 50)], crs="EPSG:25832")
    rows, cols = overlay._window(edge, grid)  # type: ignore[misc]
    assert (rows.start, cols.start, cols.stop) == (0, 0, 3)
    away = gpd.GeoSeries([shapely.box(X0 - 500, Y0 - 10, X0 - 400, Y0)], crs="EPSG:25832")
    assert overlay._window(away, grid) is None
