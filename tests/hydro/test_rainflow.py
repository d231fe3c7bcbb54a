"""The rain-flow pipeline on DataArrays: products, metadata, malstrøm agreement, files."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import rasterio
import shapely

from klimakort.core.d8codes import NODATA
from klimakort.errors import CRSError, NoDataError, ParameterError
from klimakort.hydro.rainflow import TABLE_COLUMNS, RainflowParams, rainflow, write_rainflow
from klimakort.io import read_raster

MALSTROEM = RainflowParams(
    min_depth=0.05, min_cells=6, min_volume=255.0, stream_threshold_m2=50_000.0
)


@pytest.fixture(scope="module")
def malstroem_run(malstroem_dir: Path):
    return rainflow(read_raster(malstroem_dir / "dtm.tif"), MALSTROEM)


def test_products_keep_grid_metadata(malstroem_run, malstroem_dir: Path) -> None:
    dem = read_raster(malstroem_dir / "dtm.tif")
    for da in (
        malstroem_run.filled,
        malstroem_run.flowdir,
        malstroem_run.accumulation,
        malstroem_run.bluespots,
        malstroem_run.watersheds,
    ):
        assert da.rio.crs == dem.rio.crs
        assert da.rio.transform() == dem.rio.transform()
        assert da.shape == dem.shape
    assert malstroem_run.flowdir.rio.nodata == NODATA
    assert malstroem_run.bluespots.rio.nodata == 0


def test_matches_malstroem_oracle(malstroem_run, malstroem_dir: Path) -> None:
    with rasterio.open(malstroem_dir / "filled.tif") as src:
        np.testing.assert_array_equal(malstroem_run.filled.values, src.read(1))
    with rasterio.open(malstroem_dir / "labelled.tif") as src:
        oracle = src.read(1)
    ours = malstroem_run.bluespots.values
    # same partition: a one-to-one mapping between non-zero labels
    pairs = {(int(a), int(b)) for a, b in zip(ours.ravel(), oracle.ravel(), strict=True)}
    assert len(pairs) == len({a for a, _ in pairs}) == len({b for _, b in pairs})
    assert (ours > 0).sum() == (oracle > 0).sum()
    table = malstroem_run.bluespot_table
    assert len(table) == 104
    props = {
        f["properties"]["bspot_id"]: f["properties"]
        for f in json.loads((malstroem_dir / "pourpoints.json").read_text())["features"]
    }
    for row in table.itertuples():
        # malstrøm numbers bluespots in raster-scan order of their first cell, as we do
        ref = props[row.bluespot_id]
        assert row.area_m2 == pytest.approx(ref["bspot_area"], rel=1e-3)
        assert row.volume_m3 == pytest.approx(ref["bspot_vol"], rel=1e-3)
        assert row.max_depth_m == pytest.approx(ref["bspot_dmax"], rel=1e-3)
        assert abs(row.pour_row - ref["cell_row"]) <= 1 and abs(row.pour_col - ref["cell_col"]) <= 1


def test_table_fields_and_network(malstroem_run) -> None:
    t = malstroem_run.bluespot_table
    assert list(t.columns) == [*TABLE_COLUMNS, "geometry"]
    assert t.geometry.is_valid.all()
    np.testing.assert_allclose(t.geometry.area, t.area_m2, rtol=1e-9)
    np.testing.assert_allclose(t.fill_rain_mm, t.volume_m3 / t.watershed_area_m2 * 1000)
    assert set(t.downstream_id) <= {0, *t.bluespot_id}
    net = malstroem_run.network
    assert len(net) == len(t) and (net.geometry.geom_type == "LineString").all()
    # watershed polygons tile the watershed raster
    ws = malstroem_run.watershed_polygons
    cell = 16.0 * 15.957446808510639
    counts = np.bincount(malstroem_run.watersheds.values[malstroem_run.watersheds.values > 0])
    np.testing.assert_allclose(ws.area_m2.to_numpy(), counts[ws.bluespot_id] * cell, rtol=1e-6)


def test_write_rainflow_files(malstroem_run, tmp_path: Path) -> None:
    files = write_rainflow(malstroem_run, tmp_path)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == sorted(
        [
            "terrain.tif",
            "filled.tif",
            "flowdir.tif",
            "accumulation.tif",
            "bluespots.tif",
            "watersheds.tif",
            "bluespots.gpkg",
            "flowpaths.gpkg",
        ]
    )
    assert files["bluespots"].name == "bluespots.tif"
    back = read_raster(tmp_path / "bluespots.tif")
    np.testing.assert_array_equal(back.values, malstroem_run.bluespots.values)
    assert back.attrs["units"] == "bluespot id" and "min_cells" in back.attrs["params"]
    layers = {name for name, _ in pyogrio.list_layers(tmp_path / "bluespots.gpkg")}
    assert layers == {"bluespots", "pour_points", "watersheds", "network"}
    bs = gpd.read_file(tmp_path / "bluespots.gpkg", layer="bluespots")
    assert len(bs) == 104 and bs.crs.to_epsg() == 25832
    fp = gpd.read_file(tmp_path / "flowpaths.gpkg")
    assert len(fp) > 0 and (fp.upstream_area_m2 >= 50_000).all()


def test_synthetic_bowl_has_one_bluespot(make_dem) -> None:
    yy, xx = np.mgrid[0:25, 0:25]
    bowl = ((yy - 12) ** 2 + (xx - 12) ** 2) / 10.0
    bowl[bowl > 9] = 9.0  # rim at 9 m, flat outside
    bowl[0, :] = 0.0  # the north edge is lower: water leaves there
    rf = rainflow(make_dem(bowl, cell=2.0), RainflowParams(stream_threshold_m2=4.0))
    assert len(rf.bluespot_table) == 1
    row = rf.bluespot_table.iloc[0]
    expected = np.clip(9.0 - bowl[1:], 0, None).sum() * 4.0  # row 0 is the outlet
    assert row.volume_m3 == pytest.approx(expected, rel=1e-6)
    assert row.spill_elevation_m == pytest.approx(9.0)
    total = np.isfinite(bowl).sum() * 4.0
    outlet_area = np.nansum(np.where(rf.flowdir.values == 0, rf.accumulation.values, 0))
    assert outlet_area == pytest.approx(total)


def test_bad_inputs(make_dem) -> None:
    with pytest.raises(CRSError):
        rainflow(make_dem(np.ones((5, 5)), crs=None))
    with pytest.raises(NoDataError):
        rainflow(make_dem(np.full((5, 5), np.nan)))
    with pytest.raises(ParameterError, match="min_depth"):
        RainflowParams(min_depth=-1)
    with pytest.raises(ParameterError, match="stream_threshold"):
        RainflowParams(stream_threshold_m2=0)


def test_parse_products() -> None:
    from klimakort.hydro.rainflow import PRODUCTS, parse_products

    assert parse_products(None) == set(PRODUCTS) == parse_products("all")
    assert parse_products("filled.tif, flowdir,bluespots.gpkg") == {
        "filled",
        "flowdir",
        "bluespots_gpkg",
    }
    assert parse_products(["flowpaths.gpkg"]) == {"flowpaths"}
    with pytest.raises(ParameterError, match="unknown rain-flow product 'slope'"):
        parse_products("filled,slope")
    with pytest.raises(ParameterError, match="no rain-flow product"):
        parse_products(" , ")


def test_timings_cover_every_stage(malstroem_run) -> None:
    stages = set(malstroem_run.timings)
    assert {
        "filling depressions",
        "bluespot labelling and properties",
        "D8 flow directions",
        "flow accumulation",
        "watersheds",
        "pour points and network",
        "polygonising bluespots",
        "polygonising watersheds",
        "flow-path vectorisation",
    } <= stages
    assert all(s >= 0 for s in malstroem_run.timings.values())


def test_spill_network_equals_the_per_bluespot_paths(malstroem_run) -> None:
    from klimakort.core.watersheds import flow_paths as spill_paths
    from klimakort.core.watersheds import local_watersheds, pour_points
    from klimakort.hydro.vectorize import cell_centres

    rf = malstroem_run
    fdir, labels = rf.flowdir.values, rf.bluespots.values
    pour = pour_points(fdir, labels, local_watersheds(fdir, labels), rf.filled.values)
    for path, line in zip(spill_paths(fdir, labels, pour)[1:], rf.network.geometry, strict=True):
        pts = cell_centres(rf.terrain, path[:, 0], path[:, 1])
        pts = np.vstack([pts, pts]) if len(pts) == 1 else pts
        np.testing.assert_array_equal(shapely.get_coordinates(line), pts)


def test_products_skip_work_and_files(malstroem_dir: Path, tmp_path: Path) -> None:
    from klimakort.hydro.timing import StageTimer

    dem = read_raster(malstroem_dir / "dtm.tif")
    timer = StageTimer()
    rf = rainflow(dem, MALSTROEM, progress=timer, products={"filled", "bluespots"})
    stages = [r.stage for r in timer.records]
    assert "polygonising bluespots" not in stages and "flow-path vectorisation" not in stages
    assert rf.flowpaths.empty and rf.watershed_polygons.empty and len(rf.bluespot_table) == 104
    assert rf.bluespot_table.geometry.isna().all()
    full = rainflow(dem, MALSTROEM)
    np.testing.assert_array_equal(rf.bluespots.values, full.bluespots.values)
    cols = [c for c in TABLE_COLUMNS if c != "geometry"]
    pd_equal = rf.bluespot_table[cols].equals(full.bluespot_table[cols])
    assert pd_equal
    files = write_rainflow(rf, tmp_path, progress=timer, products=["filled.tif", "bluespots"])
    assert set(files) == {"filled", "bluespots"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bluespots.tif", "filled.tif"]
    assert {"writing filled.tif", "writing bluespots.tif"} <= set(rf.timings)
