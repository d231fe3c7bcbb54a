"""Colour maps: LUT ends, transparency, classes, log scale, validation."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from matplotlib import colormaps

from klimakort.errors import ParameterError
from klimakort.service.catalog import RASTER_LAYERS, RasterLayer
from klimakort.tiles.colormap import CUSTOM_RAMPS, parse_rescale, resolve_style, to_index

DEPTH = RASTER_LAYERS["cloudburst_depth"]  # depth, 0..1, transparent at <= 0
TERRAIN = RASTER_LAYERS["terrain"]


def _hex(rgba: np.ndarray) -> str:
    return "#" + "".join(f"{int(v):02x}" for v in rgba[:3])


def test_rescale_ends_get_the_end_colours() -> None:
    style = resolve_style(TERRAIN)
    lo, hi = style.rescale
    idx = to_index(np.array([lo, hi, lo - 100, hi + 100], np.float32), style)
    assert idx.tolist() == [1, 255, 1, 255]
    ramp = CUSTOM_RAMPS["terrain"]
    assert _hex(style.palette[1]) == ramp[0]
    assert _hex(style.palette[255]) == ramp[-1]
    assert (style.palette[1:, 3] == 255).all()
    assert style.palette[0, 3] == 0


def test_matplotlib_colormap_ends() -> None:
    style = resolve_style(TERRAIN, "viridis", (0.0, 10.0))
    cmap = colormaps["viridis"]
    idx = to_index(np.array([0.0, 10.0], np.float32), style)
    for i, t in zip(idx, (0.0, 1.0), strict=True):
        expected = np.round(np.asarray(cmap(t)) * 255).astype(int)
        assert np.abs(style.palette[i].astype(int) - expected).max() <= 1


def test_nan_nodata_and_transparent_below() -> None:
    style = resolve_style(DEPTH)
    v = np.array([np.nan, -9999.0, 0.0, -0.5, 0.001, 0.5], np.float32)
    idx = to_index(v, style, nodata=-9999.0)
    assert idx[:4].tolist() == [0, 0, 0, 0]
    assert (idx[4:] > 0).all()
    assert idx[5] == 1 + round(0.5 * 254)


def test_classes_use_the_catalogue_colours() -> None:
    layer = RASTER_LAYERS["groundwater_classes"]
    style = resolve_style(layer)
    assert layer.classes is not None
    v = np.array([1, 2, 3, 4, 0, 5, 255, np.nan], np.float32)
    idx = to_index(v, style, nodata=255)
    assert idx[4:].tolist() == [0, 0, 0, 0]
    for i, k in enumerate((1, 2, 3, 4)):
        assert _hex(style.palette[idx[i]]) == layer.classes[k]["color"]


def test_flow_is_log_scaled() -> None:
    layer = RASTER_LAYERS["accumulation"]
    style = resolve_style(layer)
    assert style.log
    # 1e3 is a third of the way from 1e2 to 1e6... in log10: (3-2)/(6-2) = 0.25
    idx = to_index(np.array([50.0, 1e3, 1e4, 1e6], np.float32), style)
    assert idx[0] == 0  # below transparent_below = 100
    assert idx[1] == 1 + round(0.25 * 254)
    assert idx[2] == 1 + round(0.5 * 254)
    assert idx[3] == 255
    with pytest.raises(ParameterError, match="log scale"):
        resolve_style(layer, rescale=(0.0, 10.0))


@pytest.mark.parametrize(
    "text", ["1", "a,b", "1,2,3", "2,1", "1,1", "nan,1", "0,inf", "-1e308,1e308", "0,1e-20"]
)
def test_bad_rescale(text: str) -> None:
    with pytest.raises(ParameterError):
        parse_rescale(text)


def test_parse_rescale() -> None:
    assert parse_rescale(None) is None
    assert parse_rescale(" ") is None
    assert parse_rescale("-1.5,2") == (-1.5, 2.0)


def test_unknown_colormap_and_classes_without_classes() -> None:
    with pytest.raises(ParameterError, match="unknown colormap"):
        resolve_style(TERRAIN, "no-such-map")
    with pytest.raises(ParameterError, match="no classes"):
        resolve_style(TERRAIN, "classes")


@given(
    st.lists(st.floats(-50, 50, allow_nan=False, width=32), min_size=2, max_size=50),
    st.floats(-10, 0),
    st.floats(0.5, 20),
)
def test_index_is_monotonic_and_opaque_for_finite(
    values: list[float], lo: float, span: float
) -> None:
    layer = RasterLayer("x", {"da": "x", "en": "x"}, "m", "other", False, "depth", (lo, lo + span))
    style = resolve_style(layer)
    v = np.sort(np.asarray(values, np.float32))
    idx = to_index(v, style)
    assert (np.diff(idx.astype(int)) >= 0).all()
    assert ((idx >= 1) & (idx <= 255)).all()
