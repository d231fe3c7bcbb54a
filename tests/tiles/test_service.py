"""TileService: encoded-tile cache, content ETags, empty tiles, errors, concurrency."""

from __future__ import annotations

import io
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
import xarray as xr
from PIL import Image

from klimakort.errors import DataNotFoundError, ParameterError
from klimakort.service.catalog import RASTER_LAYERS, RasterLayer
from klimakort.tiles.cache import ByteLRU, KeyedLocks
from klimakort.tiles.service import EMPTY_TILE, TileService

X0, Y0, CELL = 712_000.0, 6_171_000.0, 1.6


class FakeWorkspace:
    """The few Workspace methods the tile service uses, over one synthetic depth raster."""

    def __init__(self, da: xr.DataArray) -> None:
        self.da = da
        self.calls = 0
        self.cfg = SimpleNamespace(name="fake", synthetic=True)

    def raster_layer(self, layer: str) -> RasterLayer:
        if layer not in ("cloudburst_depth", "terrain"):
            raise DataNotFoundError(f"unknown raster layer {layer!r}")
        return RASTER_LAYERS[layer]

    def scenario(self, scenario: str | None) -> str:
        if scenario not in (None, "", "2100", "present"):
            raise DataNotFoundError(f"unknown scenario {scenario!r}")
        return scenario or "2100"

    def raster(self, layer: str, scenario: str | None = None) -> xr.DataArray:
        self.calls += 1
        return self.da


@pytest.fixture
def service(make_dem: Callable[..., xr.DataArray]) -> TileService:
    rows, cols = np.mgrid[0:300, 0:400]
    depth = np.where((rows - 150) ** 2 + (cols - 200) ** 2 < 80**2, 0.5, 0.0)
    depth[:20, :20] = np.nan
    ws: Any = FakeWorkspace(make_dem(depth, cell=CELL, x0=X0, y0=Y0))
    return TileService(ws, cache_mb=1, max_zoom=19)


def _centre_tile(svc: TileService, z: int) -> tuple[int, int]:
    w = svc.pyramid("cloudburst_depth", None, "WebMercatorQuad").window(z)
    return ((w.col0 + w.col1) // 2) // 256, ((w.row0 + w.row1) // 2) // 256


def test_tile_renders_and_is_cached(service: TileService) -> None:
    x, y = _centre_tile(service, 17)
    t1 = service.tile("cloudburst_depth", "WebMercatorQuad", 17, x, y)
    assert not t1.empty
    with Image.open(io.BytesIO(t1.png)) as img:
        assert img.size == (256, 256)
        rgba = np.asarray(img.convert("RGBA"))
    assert (rgba[..., 3] == 255).any()  # the flooded disc
    assert service.tile("cloudburst_depth", "WebMercatorQuad", 17, x, y) is t1
    assert service.tiles.hits == 1
    # the ETag is a content hash: equal after the cache is dropped and the tile re-rendered
    service.tiles.clear()
    t2 = service.tile("cloudburst_depth", "WebMercatorQuad", 17, x, y)
    assert t2 is not t1 and t2.etag == t1.etag and t2.png == t1.png
    # another style is another tile
    t3 = service.tile("cloudburst_depth", "WebMercatorQuad", 17, x, y, colormap="viridis")
    assert t3.etag != t1.etag


def test_outside_and_invisible_tiles_are_the_empty_tile(service: TileService) -> None:
    x, y = _centre_tile(service, 17)
    assert service.tile("cloudburst_depth", "WebMercatorQuad", 17, x + 40, y) is EMPTY_TILE
    # a dry area (depth 0 is transparent_below) renders as the empty tile too
    w = service.pyramid("cloudburst_depth", None, "WebMercatorQuad").window(19)
    corner = service.tile("cloudburst_depth", "WebMercatorQuad", 19, w.col1 // 256, w.row0 // 256)
    assert corner is EMPTY_TILE
    assert service.tile("terrain", "WebMercatorQuad", 17, x, y).empty is False


def test_errors(service: TileService) -> None:
    with pytest.raises(DataNotFoundError):
        service.tile("nope", "WebMercatorQuad", 17, 0, 0)
    with pytest.raises(DataNotFoundError):
        service.tile("cloudburst_depth", "WebMercatorQuad", 17, 0, 0, scenario="2200")
    with pytest.raises(DataNotFoundError):
        service.tile("cloudburst_depth", "NoSuchTMS", 17, 0, 0)
    with pytest.raises(ParameterError, match="served range"):
        service.tile("cloudburst_depth", "WebMercatorQuad", 20, 0, 0)  # max_zoom=19
    with pytest.raises(ParameterError):
        service.tile("cloudburst_depth", "DKUTM32", 5, 10_000, 0)
    with pytest.raises(ParameterError):
        service.tile("cloudburst_depth", "WebMercatorQuad", 17, 0, 0, rescale=(1.0, 0.0))


def test_concurrent_requests_build_each_level_once(
    service: TileService, monkeypatch: pytest.MonkeyPatch
) -> None:
    x, y = _centre_tile(service, 16)
    builds = 0
    lock = threading.Lock()
    pyr = service.pyramid("cloudburst_depth", None, "WebMercatorQuad")
    original = pyr._build

    def counting(zoom: int) -> Any:
        nonlocal builds
        with lock:
            builds += 1
        return original(zoom)

    monkeypatch.setattr(pyr, "_build", counting)
    with ThreadPoolExecutor(8) as pool:
        tiles = list(
            pool.map(
                lambda d: service.tile("cloudburst_depth", "WebMercatorQuad", 16, x + d % 2, y),
                range(16),
            )
        )
    assert builds == 1
    assert len({t.etag for t in tiles}) <= 2


def test_byte_lru_is_bounded() -> None:
    lru: ByteLRU[bytes] = ByteLRU(100, len)
    for i in range(20):
        lru.put(i, b"x" * 30)
        assert lru.nbytes <= 100
    assert len(lru) == 3 and 19 in lru and 16 not in lru
    assert lru.get(17) is not None
    lru.put(99, b"x" * 30)  # evicts 18, the least recently used
    assert 18 not in lru and 17 in lru
    lru.put("big", b"x" * 101)
    assert "big" not in lru
    assert KeyedLocks()("a") is not KeyedLocks()("a")
    locks = KeyedLocks()
    assert locks("a") is locks("a")
