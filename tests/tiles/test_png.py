"""Palette PNG encoding round-trips through Pillow."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from klimakort.service.catalog import RASTER_LAYERS
from klimakort.tiles.colormap import resolve_style
from klimakort.tiles.png import empty_png, encode_indexed, encode_rgba


def _decode(png: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(png)) as img:
        assert img.format == "PNG"
        return np.asarray(img.convert("RGBA"))


def test_indexed_round_trip() -> None:
    style = resolve_style(RASTER_LAYERS["terrain"])
    rng = np.random.default_rng(1)
    idx = rng.integers(0, 256, size=(256, 256)).astype(np.uint8)
    rgba = _decode(encode_indexed(idx, style.palette))
    assert rgba.shape == (256, 256, 4)
    np.testing.assert_array_equal(rgba, style.palette[idx])
    assert (rgba[idx == 0, 3] == 0).all()


def test_indexed_round_trip_with_few_colours() -> None:
    style = resolve_style(RASTER_LAYERS["groundwater_classes"])
    idx = np.zeros((10, 20), np.uint8)
    idx[2:5, 3:9] = 3
    rgba = _decode(encode_indexed(idx, style.palette))
    np.testing.assert_array_equal(rgba, style.palette[idx])


def test_empty_png_is_transparent() -> None:
    rgba = _decode(empty_png())
    assert rgba.shape == (256, 256, 4)
    assert (rgba[..., 3] == 0).all()
    assert len(empty_png()) < 200


def test_rgba_round_trip() -> None:
    arr = np.random.default_rng(2).integers(0, 256, size=(7, 5, 4)).astype(np.uint8)
    np.testing.assert_array_equal(_decode(encode_rgba(arr)), arr)
