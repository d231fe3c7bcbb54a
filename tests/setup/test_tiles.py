"""DHM tile names, discovery, checks, the VRT mosaic and the windowed clip."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pytest
import rasterio
import shapely
from hypothesis import given
from hypothesis import strategies as st
from rasterio.transform import from_origin

from klimakort.errors import CRSError, DataNotFoundError, GridMismatchError, InputError, NoDataError
from klimakort.setup.tiles import (
    TERRAIN_NODATA,
    build_vrt,
    check_tiles,
    clip_terrain,
    discover_tiles,
    mosaic_of,
    parse_tile_name,
    read_tile,
    split_vsizip,
    tile_names_covering,
)

CELL = 10.0


def _tile(folder: Path, n: int, e: int, *, value: float | None = None, **kw: object) -> Path:
    """A 1 km tile at 10 m cells; heights = x/1000 + y/1000 (km) unless ``value``."""
    per = 100
    x0, y1 = e * 1000.0, (n + 1) * 1000.0
    xs = x0 + CELL * (np.arange(per) + 0.5)
    ys = y1 - CELL * (np.arange(per) + 0.5)
    data = (xs[None, :] / 1000.0 + ys[:, None] / 1000.0 - 6_000.0).astype(np.float32)
    if value is not None:
        data[:] = value
    profile = {
        "driver": "GTiff", "width": per, "height": per, "count": 1, "dtype": "float32",
        "crs": "EPSG:25832", "transform": from_origin(x0, y1, CELL, CELL), "nodata": -9999.0,
    }  # fmt: skip
    profile.update(kw)
    path = folder / f"DTM_1km_{n}_{e}.tif"
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data.astype(profile["dtype"]), 1)  # type: ignore[arg-type]
    return path


@given(st.integers(6040, 6410), st.integers(420, 900))
def test_tile_names_round_trip(n: int, e: int) -> None:
    name = parse_tile_name(f"DTM_1km_{n}_{e}.tif")
    assert name is not None
    assert name.filename() == f"DTM_1km_{n}_{e}.tif"
    x0, y0, x1, y1 = name.bounds
    assert (x0, y0, x1 - x0, y1 - y0) == (e * 1000.0, n * 1000.0, 1000.0, 1000.0)
    covering = tile_names_covering((x0 + 1, y0 + 1, x1 - 1, y1 - 1))
    assert [t.filename() for t in covering] == [name.filename()]


def test_parse_rejects_other_names() -> None:
    assert parse_tile_name("dtm.tif") is None
    assert parse_tile_name("DTM_1km_6170_72.tif") is None
    assert parse_tile_name("DSM_1km_6170_724.TIF") is not None


def test_discover_folder_and_glob(tmp_path: Path) -> None:
    a = _tile(tmp_path, 6170, 724)
    b = _tile(tmp_path, 6170, 725)
    (tmp_path / "readme.txt").write_text("not a tile")
    assert discover_tiles(tmp_path) == [a, b]
    assert discover_tiles(str(tmp_path / "DTM_1km_*_725.tif")) == [b]
    with pytest.raises(DataNotFoundError, match="no terrain tiles"):
        discover_tiles(tmp_path / "nothing_*.tif")


def test_zipped_tiles_are_read_in_place(tmp_path: Path) -> None:
    plain = [_tile(tmp_path, 6170, e) for e in (724, 725)]
    zdir = tmp_path / "zips"
    zdir.mkdir()
    with zipfile.ZipFile(zdir / "DTM_617_72_TIF_UTM32-ETRS89.zip", "w") as z:
        for p in plain:
            z.write(p, f"DTM_617_72_TIF_UTM32-ETRS89/{p.name}")
    found = discover_tiles(zdir)
    assert [p.name for p in found] == [p.name for p in plain]
    assert split_vsizip(found[0]) == (
        (zdir / "DTM_617_72_TIF_UTM32-ETRS89.zip").resolve(),
        f"DTM_617_72_TIF_UTM32-ETRS89/{plain[0].name}",
    )
    a = build_vrt(mosaic_of([read_tile(p) for p in found]), tmp_path / "z.vrt")
    b = build_vrt(mosaic_of([read_tile(p) for p in plain]), tmp_path / "p.vrt")
    with rasterio.open(a) as za, rasterio.open(b) as pb:
        np.testing.assert_array_equal(za.read(1), pb.read(1))


def test_read_tile_checks_name_against_georeference(tmp_path: Path) -> None:
    path = _tile(tmp_path, 6170, 724)
    wrong = tmp_path / "DTM_1km_6171_724.tif"
    path.rename(wrong)
    with pytest.raises(InputError, match="misnamed"):
        read_tile(wrong)


def test_read_tile_refuses_missing_crs_and_integers(tmp_path: Path) -> None:
    no_crs = _tile(tmp_path, 6170, 724, crs=None)
    with pytest.raises(CRSError, match="no coordinate reference system"):
        read_tile(no_crs)
    ints = _tile(tmp_path, 6170, 725, dtype="int16", nodata=-1)
    with pytest.raises(InputError, match="float heights"):
        read_tile(ints)


def test_check_tiles_refuses_mixed_grids(tmp_path: Path) -> None:
    a = read_tile(_tile(tmp_path, 6170, 724))
    other_crs = read_tile(_tile(tmp_path, 6170, 725, crs="EPSG:3044"))
    with pytest.raises(CRSError, match="EPSG:25832"):
        check_tiles([a, other_crs])
    shifted = tmp_path / "shifted"
    shifted.mkdir()
    odd = _tile(shifted, 6170, 725, transform=from_origin(725_003.0, 6_171_000.0, CELL, CELL))
    odd.rename(shifted / "x.tif")
    with pytest.raises(GridMismatchError, match="fraction of a cell"):
        check_tiles([a, read_tile(shifted / "x.tif")])


def test_vrt_mosaic_equals_the_tiles(tmp_path: Path) -> None:
    paths = [_tile(tmp_path, n, e) for n in (6170, 6171) for e in (724, 725)]
    tiles = [read_tile(p) for p in paths]
    check_tiles(tiles)
    mosaic = mosaic_of(tiles)
    assert mosaic.bounds == (724_000.0, 6_170_000.0, 726_000.0, 6_172_000.0)
    vrt = build_vrt(mosaic, tmp_path / "m.vrt")
    with rasterio.open(vrt) as src:
        assert src.crs.to_epsg() == 25832 and src.nodata == -9999.0
        whole = src.read(1)
        assert whole.shape == (200, 200)
        for p in paths:
            with rasterio.open(p) as t:
                win = src.window(*t.bounds)
                r0, c0 = round(win.row_off), round(win.col_off)
                np.testing.assert_array_equal(whole[r0 : r0 + 100, c0 : c0 + 100], t.read(1))


def test_clip_masks_outside_and_counts_missing_cells(tmp_path: Path) -> None:
    # three of four tiles: the north-east square is missing
    paths = [_tile(tmp_path, 6170, 724), _tile(tmp_path, 6170, 725), _tile(tmp_path, 6171, 724)]
    mosaic = mosaic_of([read_tile(p) for p in paths])
    vrt = build_vrt(mosaic, tmp_path / "m.vrt")
    circle = shapely.Point(725_000.0, 6_171_000.0).buffer(700.0)
    clip = clip_terrain(vrt, circle, tmp_path / "terrain.tif", rows_per_block=7)
    with rasterio.open(clip.path) as src:
        data = src.read(1)
        assert src.profile["tiled"] and src.nodata == TERRAIN_NODATA
        assert src.tags()["units"] == "m DVR90"
        b = src.bounds
    assert b.left >= circle.bounds[0] - CELL and b.right <= circle.bounds[2] + CELL
    valid = data != TERRAIN_NODATA
    assert clip.cells_valid == int(valid.sum())
    # a quarter of the disc lies in the missing tile
    assert clip.cells_missing == pytest.approx(clip.cells_inside / 4, rel=0.05)
    # every valid cell's centre lies in the disc
    rows, cols = np.nonzero(valid)
    xs = b.left + (cols + 0.5) * CELL
    ys = b.top - (rows + 0.5) * CELL
    assert shapely.contains_xy(circle, xs, ys).all()
    # heights are the tiles' own
    expected = xs / 1000.0 + ys / 1000.0 - 6_000.0
    np.testing.assert_allclose(data[valid], expected, atol=1e-3)


def test_clip_coarser_resolution_averages(tmp_path: Path) -> None:
    p = _tile(tmp_path, 6170, 724)
    vrt = build_vrt(mosaic_of([read_tile(p)]), tmp_path / "m.vrt")
    square = shapely.box(724_000.0, 6_170_000.0, 725_000.0, 6_171_000.0)
    clip = clip_terrain(vrt, square, tmp_path / "t.tif", resolution=20.0)
    assert (clip.width, clip.height, clip.res) == (50, 50, 20.0)
    with rasterio.open(clip.path) as src, rasterio.open(p) as full:
        coarse = src.read(1)
        fine = full.read(1).reshape(50, 2, 50, 2).mean(axis=(1, 3))
    np.testing.assert_allclose(coarse, fine, atol=1e-4)
    with pytest.raises(InputError, match="finer"):
        clip_terrain(vrt, square, tmp_path / "u.tif", resolution=5.0)


def test_clip_outside_the_tiles_raises(tmp_path: Path) -> None:
    vrt = build_vrt(mosaic_of([read_tile(_tile(tmp_path, 6170, 724))]), tmp_path / "m.vrt")
    far = shapely.box(800_000.0, 6_100_000.0, 801_000.0, 6_101_000.0)
    with pytest.raises(NoDataError, match="do not overlap"):
        clip_terrain(vrt, far, tmp_path / "t.tif")
    assert not (tmp_path / "t.tif").exists()
