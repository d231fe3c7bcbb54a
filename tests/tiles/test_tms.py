"""Tile matrix sets: DKUTM32 geometry and WebMercatorQuad against the closed formula."""

from __future__ import annotations

import math

import pytest
from morecantile import Tile

from klimakort.errors import DataNotFoundError, ParameterError
from klimakort.sample.grid import SampleGrid
from klimakort.tiles.tms import check_tile, get_tms

HALF_WORLD = 20037508.342789244  # pi * 6378137


def test_dkutm32_levels_and_origin() -> None:
    tms = get_tms("DKUTM32")
    assert (tms.minzoom, tms.maxzoom) == (0, 13)
    assert tms.matrix(0).cellSize == pytest.approx(1638.4)
    assert tms.matrix(10).cellSize == pytest.approx(1.6)
    assert tms.matrix(13).cellSize == pytest.approx(0.2)
    for z in range(14):
        m = tms.matrix(z)
        assert tuple(m.pointOfOrigin) == (120_000.0, 6_500_000.0)
        assert (m.tileWidth, m.tileHeight) == (256, 256)
        # the matrix covers Denmark's extent (to 1 000 000 E and 5 900 000 N)
        assert 120_000 + m.matrixWidth * 256 * m.cellSize >= 1_000_000
        assert 6_500_000 - m.matrixHeight * 256 * m.cellSize <= 5_900_000
    assert str(tms.crs.root).endswith("EPSG/0/25832")


def test_dkutm32_tile_bounds() -> None:
    tms = get_tms("DKUTM32")
    b = tms.xy_bounds(Tile(1445, 719, 10))
    assert b.left == pytest.approx(120_000 + 1445 * 409.6)
    assert b.top == pytest.approx(6_500_000 - 719 * 409.6)
    assert b.right - b.left == pytest.approx(409.6)
    assert b.top - b.bottom == pytest.approx(409.6)


def test_dkutm32_level10_aligns_with_the_sample_grid() -> None:
    grid = SampleGrid.for_cell(1.6)
    t = grid.transform
    x0, ytop = t.c, t.f
    x1, y1 = x0 + grid.nx * 1.6, ytop - grid.ny * 1.6
    tms = get_tms("DKUTM32")
    c0 = math.floor((x0 - 120_000) / 409.6)
    c1 = math.floor((x1 - 120_000) / 409.6)
    r0 = math.floor((6_500_000 - ytop) / 409.6)
    r1 = math.floor((6_500_000 - y1) / 409.6)
    checked = 0
    for x in range(c0, c1 + 1):
        for y in range(r0, r1 + 1):
            b = tms.xy_bounds(Tile(x, y, 10))
            for edge, origin in ((b.left, x0), (b.right, x0), (b.top, ytop), (b.bottom, ytop)):
                cells = (edge - origin) / 1.6
                assert cells == pytest.approx(round(cells), abs=1e-6)
            checked += 1
    assert checked == 11 * 8  # 4 x 3 km in 409.6 m tiles


@pytest.mark.parametrize(("z", "x", "y"), [(0, 0, 0), (14, 8754, 5120), (18, 140_068, 81_927)])
def test_webmercator_matches_formula(z: int, x: int, y: int) -> None:
    tms = get_tms("WebMercatorQuad")
    size = 2 * HALF_WORLD / 2**z
    b = tms.xy_bounds(Tile(x, y, z))
    assert b.left == pytest.approx(-HALF_WORLD + x * size)
    assert b.top == pytest.approx(HALF_WORLD - y * size)
    assert b.right == pytest.approx(-HALF_WORLD + (x + 1) * size)
    assert tms.matrix(z).cellSize == pytest.approx(size / 256)


def test_unknown_tms_is_404() -> None:
    with pytest.raises(DataNotFoundError, match="WebMercatorQuad"):
        get_tms("EuropeanETRS89_LAEAQuad")


def test_check_tile() -> None:
    tms = get_tms("DKUTM32")
    check_tile(tms, 0, 2, 1)
    with pytest.raises(ParameterError, match="outside"):
        check_tile(tms, 0, 3, 0)
    with pytest.raises(ParameterError, match="zoom 14"):
        check_tile(tms, 14, 0, 0)
    with pytest.raises(ParameterError, match="x=-1"):
        check_tile(tms, 5, -1, 0)
    wm = get_tms("WebMercatorQuad")
    check_tile(wm, 20, 0, 0)
    with pytest.raises(ParameterError, match=r"0\.\.19"):
        check_tile(wm, 20, 0, 0, max_zoom=19)
