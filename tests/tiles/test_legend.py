"""Legends: JSON shape, colours agree with the tile colour map, PNG."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from klimakort.errors import ParameterError
from klimakort.service.catalog import RASTER_LAYERS
from klimakort.tiles.colormap import resolve_style, to_index
from klimakort.tiles.legend import format_value, legend, legend_png


def _hex(rgba: np.ndarray) -> str:
    return "#" + "".join(f"{int(v):02x}" for v in rgba[:3])


@pytest.mark.parametrize("layer_id", list(RASTER_LAYERS))
def test_every_layer_has_a_legend(layer_id: str) -> None:
    layer = RASTER_LAYERS[layer_id]
    for lang in ("da", "en"):
        doc = legend(layer, lang=lang)
        assert doc["title"] == layer.title[lang]
        assert doc["units"] == layer.units
        items = doc["entries"] if doc["type"] == "classes" else doc["stops"]
        assert items and all(i["color"].startswith("#") and len(i["color"]) == 7 for i in items)
    with Image.open(io.BytesIO(legend_png(layer, lang="en"))) as img:
        assert img.format == "PNG" and img.size[0] == 220


def test_continuous_stops_match_the_tiles() -> None:
    layer = RASTER_LAYERS["cloudburst_depth"]
    doc = legend(layer, lang="en", rescale=(0.0, 2.0))
    assert doc["type"] == "continuous" and doc["rescale"] == [0.0, 2.0]
    values = [s["value"] for s in doc["stops"]]
    assert values[0] == 0.0 and values[-1] == 2.0 and values == sorted(values)
    style = resolve_style(layer, rescale=(0.0, 2.0))
    # the stops above the transparent threshold have the colours tiles use
    for s in doc["stops"][1:]:
        idx = to_index(np.array([s["value"]], np.float32), style)[0]
        assert s["color"] == _hex(style.palette[idx])


def test_log_legend_and_classes() -> None:
    doc = legend(RASTER_LAYERS["accumulation"])
    assert doc["scale"] == "log"
    assert [s["label"] for s in doc["stops"]] == ["100", "1k", "10k", "100k", "1M"]
    cls = legend(RASTER_LAYERS["groundwater_classes"], lang="da")
    assert cls["type"] == "classes"
    assert [e["value"] for e in cls["entries"]] == [1, 2, 3, 4]
    assert cls["entries"][3]["label"] == "over 3 m"


def test_bad_parameters() -> None:
    with pytest.raises(ParameterError, match="lang"):
        legend(RASTER_LAYERS["terrain"], lang="de")
    with pytest.raises(ParameterError):
        legend(RASTER_LAYERS["terrain"], colormap="nope")
    assert format_value(0.25) == "0.25" and format_value(2500) == "2.5k"
