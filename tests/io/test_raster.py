"""Raster reading and COG writing keep CRS, transform, nodata and tags."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin

from klimakort.errors import CRSError, DataNotFoundError, GridMismatchError
from klimakort.io import check_same_grid, like, read_raster, write_cog


def _write_plain(
    path: Path, data: np.ndarray, crs: str | None, nodata: float | None, driver: str = "GTiff"
) -> None:
    profile = {
        "driver": driver,
        "width": data.shape[1],
        "height": data.shape[0],
        "count": 1,
        "dtype": data.dtype.name,
        "transform": from_origin(700000, 6170000, 1.6, 1.6),
    }
    if crs:
        profile["crs"] = crs
    if nodata is not None:
        profile["nodata"] = nodata
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data, 1)


def test_roundtrip_keeps_metadata_and_tags(tmp_path: Path, make_dem) -> None:
    values = np.arange(600 * 700, dtype=np.float32).reshape(600, 700) / 1000
    values[3, 4] = np.nan
    dem = make_dem(values)
    path = write_cog(
        dem,
        tmp_path / "d.tif",
        units="m DVR90",
        source="unit test",
        scenario="2100",
        description="terrain",
    )
    back = read_raster(path)
    assert back.rio.crs.to_epsg() == 25832
    assert back.rio.transform().almost_equals(dem.rio.transform())
    assert np.isnan(back.rio.nodata)
    np.testing.assert_array_equal(back.values, values)
    assert back.attrs["units"] == "m DVR90"
    assert back.attrs["scenario"] == "2100"
    assert back.attrs["source"] == "unit test"
    with rasterio.open(path) as src:
        assert src.profile["tiled"] and src.profile["compress"] == "zstd"
        assert src.overviews(1), "a COG has overviews"
        assert src.descriptions[0] == "terrain"


def test_nodata_becomes_nan(tmp_path: Path) -> None:
    data = np.array([[1, -9999], [3, 4]], dtype=np.float32)
    _write_plain(tmp_path / "n.tif", data, "EPSG:25832", -9999.0)
    da = read_raster(tmp_path / "n.tif")
    assert np.isnan(da.values[0, 1]) and da.values[1, 1] == 4
    assert np.isnan(da.rio.nodata)
    assert da.attrs["source_nodata"] == -9999.0


def test_integer_raster_keeps_nodata_value(tmp_path: Path) -> None:
    data = np.array([[1, 0], [3, 4]], dtype=np.int32)
    _write_plain(tmp_path / "i.tif", data, "EPSG:25832", 0)
    da = read_raster(tmp_path / "i.tif")
    assert da.dtype == np.int32 and da.rio.nodata == 0


def test_missing_crs_is_refused(tmp_path: Path) -> None:
    _write_plain(tmp_path / "nocrs.tif", np.ones((4, 4), np.float32), None, None)
    with pytest.raises(CRSError, match="no coordinate reference system"):
        read_raster(tmp_path / "nocrs.tif")


def test_geographic_crs_is_refused(tmp_path: Path) -> None:
    _write_plain(tmp_path / "geo.tif", np.ones((4, 4), np.float32), "EPSG:4326", None)
    with pytest.raises(CRSError, match="geographic"):
        read_raster(tmp_path / "geo.tif")


def test_expected_crs_mismatch(tmp_path: Path) -> None:
    _write_plain(tmp_path / "u33.tif", np.ones((4, 4), np.float32), "EPSG:25833", None)
    with pytest.raises(CRSError, match="expected"):
        read_raster(tmp_path / "u33.tif", expected_crs="EPSG:25832")


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DataNotFoundError):
        read_raster(tmp_path / "nope.tif")


def test_esri_ascii_grid(tmp_path: Path) -> None:
    asc = tmp_path / "dem.asc"
    asc.write_text(
        "ncols 3\nnrows 2\nxllcorner 700000\nyllcorner 6170000\ncellsize 1.6\n"
        "NODATA_value -9999\n1.5 2.5 -9999\n4 5 6\n"
    )
    (tmp_path / "dem.prj").write_text(rasterio.crs.CRS.from_epsg(25832).to_wkt())
    da = read_raster(asc)
    assert da.shape == (2, 3)
    assert da.rio.crs.to_epsg() == 25832
    assert da.values[0, 0] == 1.5 and np.isnan(da.values[0, 2])
    assert da.rio.transform().c == 700000 and da.rio.transform().f == 6170000 + 3.2


def test_ascii_grid_without_prj_is_refused(tmp_path: Path) -> None:
    asc = tmp_path / "dem.asc"
    asc.write_text("ncols 1\nnrows 1\nxllcorner 0\nyllcorner 0\ncellsize 1\n5\n")
    with pytest.raises(CRSError):
        read_raster(asc)


def test_grid_checks(make_dem) -> None:
    a = make_dem(np.zeros((4, 4)))
    check_same_grid(a, make_dem(np.ones((4, 4))))
    with pytest.raises(GridMismatchError, match="shape"):
        check_same_grid(a, make_dem(np.zeros((4, 5))))
    with pytest.raises(GridMismatchError, match="transform"):
        check_same_grid(a, make_dem(np.zeros((4, 4)), x0=700_001.0))
    with pytest.raises(GridMismatchError, match="CRS"):
        check_same_grid(a, make_dem(np.zeros((4, 4)), crs="EPSG:25833"))
    out = like(a, np.full((4, 4), 2.0, np.float32), name="twos")
    check_same_grid(a, out)
    assert out.name == "twos" and np.isnan(out.rio.nodata)
    with pytest.raises(GridMismatchError):
        like(a, np.zeros((3, 3)), name="bad")


def test_write_refuses_missing_crs(tmp_path: Path, make_dem) -> None:
    with pytest.raises(CRSError):
        write_cog(make_dem(np.ones((4, 4)), crs=None), tmp_path / "x.tif", units="m", source="t")
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize("shape", [(300, 200), (513, 100), (1100, 2100), (4000, 4000)])
def test_overview_levels_are_those_of_the_cog_driver(tmp_path: Path, shape) -> None:
    from klimakort.io.raster import overview_factors

    profile = {"driver": "COG", "width": shape[1], "height": shape[0], "count": 1}
    profile |= {"dtype": "uint8", "crs": "EPSG:25832", "blocksize": 512, "overviews": "AUTO"}
    profile |= {"transform": from_origin(700_000, 6_170_000, 1, 1)}
    with rasterio.open(tmp_path / "ref.tif", "w", **profile) as dst:
        dst.write(np.zeros(shape, dtype=np.uint8), 1)
    with rasterio.open(tmp_path / "ref.tif") as src:
        assert overview_factors(*shape) == src.overviews(1)
