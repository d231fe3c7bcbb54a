"""WebMercatorQuad tile arithmetic."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pyproj import Transformer

from klimakort.errors import ParameterError
from klimakort.vectortiles import check_tile, pixel_size_m, tile_bounds, tiles_covering
from klimakort.vectortiles.grid import ORIGIN_SHIFT


def test_world_tile_and_known_tile() -> None:
    assert tile_bounds(0, 0, 0) == pytest.approx(
        (-ORIGIN_SHIFT, -ORIGIN_SHIFT, ORIGIN_SHIFT, ORIGIN_SHIFT)
    )
    # the tile of Copenhagen (12.57 E, 55.68 N) at z10 is 547/320 (slippy-map formula)
    lonlat_to = Transformer.from_crs(4326, 3857, always_xy=True)
    px, py = lonlat_to.transform(12.57, 55.68)
    b = tile_bounds(10, 547, 320)
    assert b[0] <= px < b[2] and b[1] < py <= b[3]
    assert pixel_size_m(10) == pytest.approx((b[2] - b[0]) / 4096)


@given(st.integers(0, 22), st.data())
def test_children_tile_their_parent(z: int, data: st.DataObject) -> None:
    n = 1 << z
    x, y = data.draw(st.integers(0, n - 1)), data.draw(st.integers(0, n - 1))
    parent = tile_bounds(z, x, y)
    kids = [tile_bounds(z + 1, 2 * x + i, 2 * y + j) for i in (0, 1) for j in (0, 1)]
    assert min(k[0] for k in kids) == pytest.approx(parent[0])
    assert max(k[3] for k in kids) == pytest.approx(parent[3])
    xs, ys = tiles_covering(parent, z + 1)
    # a tile's own bounds touch its neighbours; covering includes at least the 4 children
    assert {2 * x, 2 * x + 1} <= set(xs) and {2 * y, 2 * y + 1} <= set(ys)


@pytest.mark.parametrize(("z", "x", "y"), [(9, 0, 0), (23, 0, 0), (10, 1024, 0), (10, 0, -1)])
def test_check_tile_refuses(z: int, x: int, y: int) -> None:
    with pytest.raises(ParameterError, match=r"zoom|does not exist"):
        check_tile(z, x, y, 10, 22)


def test_check_tile_accepts_edges() -> None:
    check_tile(10, 1023, 1023, 10, 22)
    check_tile(22, 0, (1 << 22) - 1, 10, 22)
