"""Legends of raster layers: JSON (title, units, colour stops or classes) and a small PNG."""

from __future__ import annotations

import io
import math
from functools import lru_cache
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from klimakort.errors import ParameterError
from klimakort.service.catalog import RasterLayer
from klimakort.tiles.colormap import Style, hex_colour, resolve_style, value_colour

LANGS = ("da", "en")
#: number of labelled stops of a continuous legend
N_STOPS = 5
_NO_DATA_LABEL = {"da": "Ingen data / under tærskel", "en": "No data / below threshold"}


def check_lang(lang: str) -> str:
    """Validate a legend language (``da`` or ``en``)."""
    if lang not in LANGS:
        raise ParameterError(f"lang must be one of {', '.join(LANGS)}, got {lang!r}")
    return lang


def format_value(value: float) -> str:
    """A short legend label: ``0.5``, ``100``, ``2500`` -> ``2.5k``, ``1e6`` -> ``1M``."""
    for size, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= size:
            return f"{value / size:.3g}{suffix}"
    return f"{value:.3g}"


def stop_values(style: Style, n: int = N_STOPS) -> list[float]:
    """Values of ``n`` evenly spaced legend stops (log-spaced on log ramps)."""
    lo, hi = style.rescale
    if style.log:
        return [float(v) for v in np.logspace(math.log10(lo), math.log10(hi), n)]
    return [float(v) for v in np.linspace(lo, hi, n)]


def legend(
    layer: RasterLayer,
    *,
    lang: str = "da",
    colormap: str | None = None,
    rescale: tuple[float, ...] | None = None,
) -> dict[str, Any]:
    """The legend of a layer as JSON-ready data.

    Parameters
    ----------
    layer : RasterLayer
        Catalogue entry.
    lang : {"da", "en"}
        Language of the title and class labels.
    colormap : str, optional
        Colour map instead of the catalogue's.
    rescale : (min, max), optional
        Value range instead of the catalogue's.

    Returns
    -------
    dict
        ``layer``, ``title``, ``units``, ``type`` (``continuous`` or ``classes``),
        ``colormap``, ``rescale``, ``scale`` (``linear``/``log``), ``transparent_below``,
        and ``stops`` (continuous: ``value``, ``color``, ``label`` from low to high) or
        ``entries`` (classes: ``value``, ``color``, ``label``). Colours are ``#rrggbb``.

    Raises
    ------
    ParameterError
        Unknown language or colour map, invalid range.
    """
    check_lang(lang)
    style = resolve_style(layer, colormap, rescale)
    out: dict[str, Any] = {
        "layer": layer.id,
        "title": layer.title.get(lang, layer.title.get("en", layer.id)),
        "units": layer.units,
        "colormap": style.colormap,
        "rescale": list(style.rescale),
        "scale": "log" if style.log else "linear",
        "transparent_below": layer.transparent_below,
        "transparent_label": _NO_DATA_LABEL[lang],
    }
    if style.classes is not None and layer.classes:
        out["type"] = "classes"
        out["entries"] = [
            {
                "value": k,
                "color": hex_colour(style.palette[i]),
                "label": layer.classes[k].get(lang, str(k)),
            }
            for i, k in enumerate(style.classes, start=1)
        ]
        return out
    out["type"] = "continuous"
    out["stops"] = [
        {"value": v, "color": value_colour(style, v), "label": format_value(v)}
        for v in stop_values(style)
    ]
    return out


@lru_cache(maxsize=4)
def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    """DejaVu Sans (shipped with matplotlib: covers æøå and ²), else Pillow's default."""
    try:
        from matplotlib import font_manager

        return ImageFont.truetype(font_manager.findfont("DejaVu Sans"), size)
    except (OSError, ImportError, ValueError):  # pragma: no cover - no FreeType
        return ImageFont.load_default()


def legend_png(
    layer: RasterLayer,
    *,
    lang: str = "da",
    colormap: str | None = None,
    rescale: tuple[float, ...] | None = None,
    width: int = 220,
) -> bytes:
    """A small PNG legend: a colour bar with value labels, or class boxes with labels.

    Parameters are those of :func:`legend`; ``width`` is the image width in pixels.
    """
    info = legend(layer, lang=lang, colormap=colormap, rescale=rescale)
    font, small = _font(12), _font(11)
    pad, bar_h = 6, 14
    title = f"{info['title']} ({info['units']})"
    if info["type"] == "classes":
        entries = info["entries"]
        height = pad * 2 + 18 + 18 * len(entries)
    else:
        height = pad * 2 + 18 + bar_h + 16
    img = Image.new("RGBA", (width, height), (255, 255, 255, 230))
    draw = ImageDraw.Draw(img)
    draw.text((pad, pad), title, fill=(0, 0, 0, 255), font=font)
    top = pad + 18
    if info["type"] == "classes":
        for j, e in enumerate(entries):
            y = top + 18 * j
            draw.rectangle((pad, y + 2, pad + 16, y + 14), fill=e["color"], outline="#555555")
            draw.text((pad + 22, y + 1), str(e["label"]), fill=(0, 0, 0, 255), font=small)
    else:
        style = resolve_style(layer, colormap, rescale)
        bar_w = width - 2 * pad
        ramp = style.palette[1 + np.round(np.linspace(0, 254, bar_w)).astype(int)]
        img.paste(Image.fromarray(np.repeat(ramp[None, :, :], bar_h, axis=0)), (pad, top))
        draw.rectangle((pad, top, pad + bar_w - 1, top + bar_h - 1), outline="#555555")
        stops = info["stops"]
        for j, s in enumerate(stops):
            x = pad + round(j * (bar_w - 1) / (len(stops) - 1))
            draw.line((x, top + bar_h, x, top + bar_h + 3), fill="#333333")
            label = s["label"]
            tw = draw.textlength(label, font=small)
            tx = min(max(pad, x - tw / 2), width - pad - tw)
            draw.text((tx, top + bar_h + 3), label, fill=(0, 0, 0, 255), font=small)
    buf = io.BytesIO()
    img.save(buf, format="PNG", compress_level=6)
    return buf.getvalue()
