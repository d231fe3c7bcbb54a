"""Reading, checking, clipping and writing one layer, with its field report."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pyogrio
import pytest
import shapely

from klimakort.errors import CRSError, GeometryError, InputError, NoDataError
from klimakort.setup.layers import clip_to_boundary, prepare_layer, split_layer
from klimakort.setup.schemas import SCHEMAS

BOUNDARY = shapely.box(0, 0, 100, 100)


def _write(path: Path, rows: list[dict[str, object]], geoms: list[object], crs: object) -> Path:
    gpd.GeoDataFrame(rows, geometry=geoms, crs=crs).to_file(path)
    return path


def test_select_keeps_whole_features_that_overlap(tmp_path: Path) -> None:
    geoms = [
        shapely.box(10, 10, 20, 20),  # inside
        shapely.box(90, 90, 120, 120),  # straddles: kept whole
        shapely.box(100, 0, 110, 10),  # only touches the border: outside
        shapely.box(200, 200, 210, 210),  # outside
    ]
    gdf = gpd.GeoDataFrame({"n": [1, 2, 3, 4]}, geometry=geoms, crs="EPSG:25832")
    out = clip_to_boundary(gdf, SCHEMAS["buildings"], BOUNDARY)
    assert out["n"].tolist() == [1, 2]
    assert out.geometry.iloc[1].equals(geoms[1])


def test_cut_clips_coverage_layers(tmp_path: Path) -> None:
    gdf = gpd.GeoDataFrame({"DN": [1]}, geometry=[shapely.box(50, 50, 150, 150)], crs=25832)
    out = clip_to_boundary(gdf, SCHEMAS["kdi_coastal_flood_risk"], BOUNDARY)
    assert out.geometry.iloc[0].area == pytest.approx(2500.0)
    assert out.geometry.iloc[0].within(BOUNDARY)


def test_near_keeps_contours_around_the_boundary() -> None:
    lines = [
        shapely.LineString([(-1500, 0), (-1500, 50)]),
        shapely.LineString([(-3000, 0), (-3000, 9)]),
    ]
    gdf = gpd.GeoDataFrame({"Vsp_2024": [3.0, 4.0]}, geometry=lines, crs=25832)
    out = clip_to_boundary(gdf, SCHEMAS["groundwater_head"], BOUNDARY)
    assert out["Vsp_2024"].tolist() == [3.0]


def test_prepare_reprojects_repairs_flattens_and_reports(tmp_path: Path) -> None:
    bow = shapely.Polygon([(10, 10), (30, 30), (30, 10), (10, 30), (10, 10)])  # self-crossing
    z = shapely.Polygon([(40, 40, 5), (50, 40, 5), (50, 50, 5), (40, 50, 5)])
    # in ETRS89 / UTM 33N: read, reprojected to 32N
    src = gpd.GeoDataFrame(
        {
            "AutoUID": [1, 2, 3],
            "Sum_damage_cost": [1.0, 2.0, 3.0],
            "byg021BygningensAnvendelse": [120] * 3,
        },
        geometry=[bow, z, shapely.box(500, 500, 510, 510)],
        crs="EPSG:25832",
    ).to_crs("EPSG:25833")
    path = tmp_path / "b.gpkg"
    src.to_file(path, layer="bygning")
    _out, rep = prepare_layer(
        "buildings", [path], SCHEMAS["buildings"], BOUNDARY, tmp_path / "o.gpkg"
    )
    assert rep.source_crs == ["EPSG:25833"]
    assert (rep.features_read, rep.features_kept, rep.features_outside) == (3, 2, 1)
    assert rep.invalid_repaired == 1 and rep.flattened_3d == 1
    assert rep.fields_used == {"building_id": "AutoUID"}
    assert rep.fields_unknown == ["Sum_damage_cost"]
    assert "byg021BygningensAnvendelse" in rep.fields_known
    written = gpd.read_file(tmp_path / "o.gpkg", layer="buildings")
    assert written.crs.to_epsg() == 25832
    assert {"Sum_damage_cost", "building_id", "AutoUID"} <= set(written.columns)
    assert not shapely.has_z(written.geometry.to_numpy()).any()
    assert written.is_valid.all()


def test_prepare_concatenates_files_and_renames_clashing_fid(tmp_path: Path) -> None:
    paths = []
    for season in ("summer", "winter"):
        paths.append(
            _write(
                tmp_path / f"hip_depth_{season}_0-1m.geojson",
                [{"fid": 1, "class": 2, "class_range": "0-1"}],
                [shapely.box(0, 0, 200, 50)],
                "EPSG:25832",
            )
        )
    out, rep = prepare_layer(
        "groundwater_depth_reference", paths, SCHEMAS["hip_depth_classes"], BOUNDARY,
        tmp_path / "hip.gpkg",
    )  # fmt: skip
    assert sorted(out["season"]) == ["summer", "winter"]
    assert any("source_fid" in n for n in rep.notes)
    assert len(gpd.read_file(tmp_path / "hip.gpkg")) == 2


def test_prepare_refuses_no_crs_wrong_geometry_and_nothing_inside(tmp_path: Path) -> None:
    # a shapefile without .prj has no CRS (a GeoJSON without one would mean CRS84)
    shp = _write(tmp_path / "a.shp", [{"DN": 1}], [shapely.box(0, 0, 1, 1)], 25832)
    shp.with_suffix(".prj").unlink()
    with pytest.raises(CRSError, match="no CRS"):
        prepare_layer("coastal_flood_risk", [shp], SCHEMAS["kdi_coastal_flood_risk"], BOUNDARY,
                      tmp_path / "o.gpkg")  # fmt: skip
    pts = _write(tmp_path / "p.gpkg", [{"DN": 1}], [shapely.Point(5, 5)], 25832)
    with pytest.raises(GeometryError, match="Polygons"):
        prepare_layer("coastal_flood_risk", [pts], SCHEMAS["kdi_coastal_flood_risk"], BOUNDARY,
                      tmp_path / "o.gpkg")  # fmt: skip
    far = _write(tmp_path / "f.gpkg", [{"DN": 1}], [shapely.box(500, 500, 600, 600)], 25832)
    with pytest.raises(NoDataError, match="none of the 1"):
        prepare_layer("coastal_flood_risk", [far], SCHEMAS["kdi_coastal_flood_risk"], BOUNDARY,
                      tmp_path / "o.gpkg")  # fmt: skip


def test_multi_layer_files_need_a_layer_name(tmp_path: Path) -> None:
    path = tmp_path / "two.gpkg"
    for name in ("a", "b"):
        gpd.GeoDataFrame({"DN": [1]}, geometry=[shapely.box(0, 0, 9, 9)], crs=25832).to_file(
            path, layer=name
        )
    assert [str(n) for n in pyogrio.list_layers(path)[:, 0]] == ["a", "b"]
    with pytest.raises(InputError, match="FILE:LAYER"):
        prepare_layer("coastal_flood_risk", [path], SCHEMAS["kdi_coastal_flood_risk"], BOUNDARY,
                      tmp_path / "o.gpkg")  # fmt: skip
    _, rep = prepare_layer("coastal_flood_risk", [f"{path}:b"], SCHEMAS["kdi_coastal_flood_risk"],
                           BOUNDARY, tmp_path / "o.gpkg")  # fmt: skip
    assert rep.files == [f"{path.resolve()}:b"]
    assert split_layer(f"{path}:b") == (path, "b")
    assert split_layer(path) == (path, None)
