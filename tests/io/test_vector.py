"""Vector reading: formats, reprojection, CRS errors and geometry repair."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pytest
from shapely.geometry import Point, Polygon

from klimakort.errors import CRSError, DataNotFoundError, InputError
from klimakort.io import read_vector, repair_geometries, write_vector

BOWTIE = Polygon([(0, 0), (10, 10), (10, 0), (0, 10), (0, 0)])
SQUARE = Polygon([(0, 0), (10, 0), (10, 10), (0, 10)])


def _frame(crs: str | None = "EPSG:25832") -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"fid_": ["a", "b", "c"]},
        geometry=[SQUARE, BOWTIE, SQUARE.buffer(-2)],
        crs=crs,
    )


@pytest.mark.parametrize("suffix", [".gpkg", ".geojson", ".parquet", ".shp"])
def test_formats_roundtrip(tmp_path: Path, suffix: str) -> None:
    gdf = _frame().iloc[[0, 2]]
    path = tmp_path / f"layer{suffix}"
    if suffix == ".parquet":
        gdf.to_parquet(path)
    elif suffix == ".shp":
        gdf.to_file(path, engine="pyogrio")
    else:
        write_vector(gdf, path)
    back = read_vector(path)
    assert len(back) == 2 and back.crs.to_epsg() == 25832
    assert back.geometry.area.sum() == pytest.approx(gdf.geometry.area.sum())


def test_reprojects_to_area_crs(tmp_path: Path) -> None:
    wgs = gpd.GeoDataFrame({"n": [1]}, geometry=[Point(12.36, 55.62)], crs="EPSG:4326")
    write_vector(wgs.to_crs(25833), tmp_path / "p.gpkg")
    back = read_vector(tmp_path / "p.gpkg")
    assert back.crs.to_epsg() == 25832
    x, y = back.geometry.iloc[0].x, back.geometry.iloc[0].y
    # Vallensbæk is near 712 km E / 6168 km N in UTM 32
    assert 700_000 < x < 730_000 and 6_150_000 < y < 6_180_000
    assert back.attrs["source_crs"].endswith("25833")


def test_missing_crs_refused(tmp_path: Path) -> None:
    # GeoJSON without "crs" means CRS84 by the spec, so a GeoJSON always has a CRS;
    # a shapefile without .prj has none
    gdf = gpd.GeoDataFrame({"n": [1]}, geometry=[Point(1, 2)], crs=None)
    shp = tmp_path / "nocrs.shp"
    with pytest.warns(UserWarning, match="crs"):
        gdf.to_file(shp, engine="pyogrio")
    with pytest.raises(CRSError, match="no CRS"):
        read_vector(shp)


def test_repair_reports_count_and_ids(tmp_path: Path) -> None:
    write_vector(_frame(), tmp_path / "bad.gpkg")
    back = read_vector(tmp_path / "bad.gpkg", id_field="fid_")
    report = back.attrs["repair"]
    assert report.n_invalid == 1 and report.repaired_ids == ["b"]
    assert "Self-intersection" in report.reasons["b"]
    assert back.geometry.is_valid.all()
    # the bow tie becomes its two triangles: area 50, still polygonal
    assert back.geometry.iloc[1].area == pytest.approx(50.0)
    assert back.geometry.iloc[1].geom_type in ("Polygon", "MultiPolygon")
    assert "1 invalid geometry repaired (ids b)" in report.summary()


def test_repair_drops_empty_and_counts() -> None:
    gdf = gpd.GeoDataFrame({"k": [1, 2]}, geometry=[SQUARE, None], crs="EPSG:25832")
    out, report = repair_geometries(gdf, "k")
    assert len(out) == 1 and report.n_empty_dropped == 1 and report.n_invalid == 0


def test_missing_file_and_layer(tmp_path: Path) -> None:
    with pytest.raises(DataNotFoundError):
        read_vector(tmp_path / "none.gpkg")
    write_vector(_frame().iloc[[0]], tmp_path / "one.gpkg", layer="a")
    with pytest.raises(DataNotFoundError, match="layer"):
        read_vector(tmp_path / "one.gpkg", layer="zzz")


def test_write_refuses_unknown_format_and_no_crs(tmp_path: Path) -> None:
    with pytest.raises(InputError):
        write_vector(_frame(), tmp_path / "x.csv")
    with pytest.raises(CRSError):
        write_vector(_frame(crs=None), tmp_path / "x.gpkg")
    assert not any(tmp_path.iterdir())


def test_layer_batches_are_appended_and_a_layer_without_batches_writes_nothing(
    tmp_path: Path,
) -> None:
    from klimakort.io.vector import write_layer_batches

    def batch(start: int) -> gpd.GeoDataFrame:
        pts = [Point(700_000 + i, 6_170_000) for i in range(start, start + 3)]
        return gpd.GeoDataFrame({"n": list(range(start, start + 3))}, geometry=pts, crs=25832)

    dest = tmp_path / "b.gpkg"
    write_layer_batches(dest, {"pts": ((batch(s) for s in (0, 3, 6)), "Point")})
    got = gpd.read_file(dest, layer="pts")
    assert got["n"].tolist() == list(range(9))
    with pytest.raises(InputError, match="no batch"):
        write_layer_batches(tmp_path / "c.gpkg", {"pts": ([], "Point")})
    assert not (tmp_path / "c.gpkg").exists()  # atomic: nothing half-written
