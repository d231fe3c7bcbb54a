"""Colour maps as 256-entry RGBA lookup tables, and values -> palette indices.

A :class:`Style` resolves a layer's colour map and value range once. Rendering is
then two cheap array steps: :func:`to_index` maps values onto ``uint8`` palette
indices (0 = transparent: NaN, nodata, values at or below ``transparent_below``,
unknown classes; 1..255 = the colour ramp or the classes), and the palette PNG
encoder (:mod:`klimakort.tiles.png`) writes the indices with ``Style.palette``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from matplotlib import colormaps
from matplotlib.colors import Colormap, LinearSegmentedColormap, to_rgba

from klimakort.errors import ParameterError
from klimakort.service.catalog import RasterLayer

#: number of colours of a continuous ramp (index 0 is reserved for transparent)
N_COLOURS = 255

#: klimakort's own colour ramps (low value first)
CUSTOM_RAMPS: dict[str, tuple[str, ...]] = {
    "terrain": ("#2b6e3f", "#75a84e", "#d4cf7d", "#c49a5a", "#8c5a3c", "#f2ede6"),
    "flow": ("#d6ecfa", "#7fb9e6", "#2f7fc8", "#1a3f9e", "#2a0a5e"),
    "depth": ("#deebf7", "#9ecae1", "#4292c6", "#08519c", "#08306b"),
    "sea": ("#d4f0ec", "#7ccbc4", "#2a9aa6", "#11627f", "#0b2f55"),
    "groundwater": ("#08306b", "#2171b5", "#6baed6", "#c6dbef", "#f7fbff"),
}
#: colour maps drawn on a log10 scale
LOG_RAMPS = frozenset({"flow"})
#: largest magnitude accepted in ``rescale`` (float32 rendering)
MAX_ABS_VALUE = 1e12
#: aliases of matplotlib names
ALIASES = {"gray": "gray", "grey": "gray"}


@dataclass(frozen=True, eq=False)
class Style:
    """A resolved colour style of a layer.

    Attributes
    ----------
    colormap : str
        Colour map name (``classes`` for class layers).
    rescale : tuple of float
        Value range ``(min, max)`` mapped onto the ramp.
    log : bool
        Whether values are mapped on a log10 scale.
    transparent_below : float or None
        Values at or below this are transparent.
    classes : tuple of int, optional
        Class values in palette order (index ``i + 1`` is ``classes[i]``).
    palette : numpy.ndarray
        ``(256, 4)`` uint8 RGBA table; entry 0 is fully transparent.
    """

    colormap: str
    rescale: tuple[float, float]
    log: bool
    transparent_below: float | None
    classes: tuple[int, ...] | None
    palette: np.ndarray

    @property
    def key(self) -> tuple[object, ...]:
        """A hashable key (for caches and ETags)."""
        return (self.colormap, self.rescale, self.log, self.transparent_below, self.classes)


def colormap_names() -> list[str]:
    """Names accepted by :func:`resolve_style` besides any matplotlib colour map."""
    return [*CUSTOM_RAMPS, "gray", "classes"]


@lru_cache(maxsize=64)
def _ramp(name: str) -> np.ndarray:
    """``(255, 4)`` uint8 colours of a named ramp, low to high."""
    cmap: Colormap
    if name in CUSTOM_RAMPS:
        cmap = LinearSegmentedColormap.from_list(name, list(CUSTOM_RAMPS[name]))
    else:
        try:
            cmap = colormaps[ALIASES.get(name, name)]
        except KeyError:
            raise ParameterError(
                f"unknown colormap {name!r}; use one of {', '.join(colormap_names())} "
                "or a matplotlib colour map name (e.g. viridis)"
            ) from None
    rgba = cmap(np.linspace(0.0, 1.0, N_COLOURS))
    out = np.round(np.asarray(rgba) * 255.0).astype(np.uint8)
    out[:, 3] = 255
    return out


def parse_rescale(text: str | None) -> tuple[float, float] | None:
    """Parse ``"min,max"`` (None/empty -> None); ParameterError when malformed."""
    if text is None or text.strip() == "":
        return None
    parts = text.split(",")
    try:
        if len(parts) != 2:
            raise ValueError
        lo, hi = float(parts[0]), float(parts[1])
    except ValueError:
        raise ParameterError(
            f"rescale={text!r} is not 'min,max' with two numbers, e.g. rescale=0,2"
        ) from None
    return check_rescale((lo, hi))


def check_rescale(rescale: tuple[float, ...] | list[float]) -> tuple[float, float]:
    """Validate a value range: two finite numbers with min < max."""
    if len(rescale) != 2:
        raise ParameterError(f"rescale needs two numbers (min, max), got {rescale!r}")
    lo, hi = float(rescale[0]), float(rescale[1])
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise ParameterError(f"rescale must be finite numbers, got {lo}, {hi}")
    if not lo < hi:
        raise ParameterError(f"rescale needs min < max, got min={lo}, max={hi}")
    if max(abs(lo), abs(hi)) > MAX_ABS_VALUE or (hi - lo) < MAX_ABS_VALUE**-1:
        raise ParameterError(
            f"rescale {lo}, {hi} is out of range: use values within ±{MAX_ABS_VALUE:g} "
            f"that differ by at least {MAX_ABS_VALUE**-1:g}"
        )
    return (lo, hi)


def _class_palette(layer: RasterLayer) -> tuple[tuple[int, ...], np.ndarray]:
    if not layer.classes:
        raise ParameterError(
            f"layer {layer.id!r} has no classes; choose a colour ramp such as viridis"
        )
    keys = tuple(sorted(int(k) for k in layer.classes))
    if len(keys) > N_COLOURS:  # pragma: no cover - the catalogue has a handful
        raise ParameterError(f"layer {layer.id!r} has more than {N_COLOURS} classes")
    palette = np.zeros((256, 4), np.uint8)
    for i, k in enumerate(keys, start=1):
        palette[i] = np.round(np.asarray(to_rgba(layer.classes[k]["color"])) * 255)
    return keys, palette


def resolve_style(
    layer: RasterLayer,
    colormap: str | None = None,
    rescale: tuple[float, ...] | list[float] | None = None,
) -> Style:
    """The colour style of ``layer`` (catalogue defaults unless overridden).

    Parameters
    ----------
    layer : RasterLayer
        Catalogue entry.
    colormap : str, optional
        ``terrain``, ``gray``, ``flow`` (log scale), ``depth``, ``sea``, ``groundwater``,
        ``classes`` (the layer's class colours) or a matplotlib colour map name.
    rescale : (min, max), optional
        Value range; finite with min < max (and min > 0 for log-scaled ramps).

    Raises
    ------
    ParameterError
        Unknown colour map, invalid range, or ``classes`` for a layer without classes.
    """
    name = (colormap or layer.colormap).strip()
    lo, hi = check_rescale(rescale) if rescale is not None else check_rescale(layer.rescale)
    if name == "classes":
        keys, palette = _class_palette(layer)
        return Style(name, (lo, hi), False, layer.transparent_below, keys, palette)
    log = name in LOG_RAMPS
    if log and lo <= 0:
        raise ParameterError(
            f"colormap {name!r} is drawn on a log scale and needs rescale min > 0, got {lo}"
        )
    palette = np.zeros((256, 4), np.uint8)
    palette[1:] = _ramp(name)
    return Style(name, (lo, hi), log, layer.transparent_below, None, palette)


def to_index(values: np.ndarray, style: Style, nodata: float | None = None) -> np.ndarray:
    """Map values onto palette indices of ``style`` (0 = transparent).

    Parameters
    ----------
    values : numpy.ndarray
        Raster values (any shape; float or integer).
    style : Style
        The resolved style.
    nodata : float, optional
        Value drawn transparent besides NaN.

    Returns
    -------
    numpy.ndarray
        ``uint8`` indices of the same shape.
    """
    v = np.asarray(values, dtype=np.float32)
    invalid = ~np.isfinite(v)
    if nodata is not None and np.isfinite(nodata):
        invalid |= v == np.float32(nodata)
    if style.transparent_below is not None:
        invalid |= v <= np.float32(style.transparent_below)
    if style.classes is not None:
        keys = np.asarray(style.classes, dtype=np.float32)
        pos = np.clip(np.searchsorted(keys, v), 0, len(keys) - 1)
        out = (pos + 1).astype(np.uint8)
        out[(keys[pos] != v) | invalid] = 0
        return out
    lo, hi = style.rescale
    with np.errstate(invalid="ignore", divide="ignore"):
        if style.log:
            t = (np.log10(v) - np.float32(math.log10(lo))) * np.float32(
                1.0 / (math.log10(hi) - math.log10(lo))
            )
        else:
            t = (v - np.float32(lo)) * np.float32(1.0 / (hi - lo))
        t = np.clip(t * np.float32(N_COLOURS - 1), 0.0, N_COLOURS - 1) + np.float32(1.5)
        t[invalid] = 0.0
    return t.astype(np.uint8)


def hex_colour(rgba: np.ndarray) -> str:
    """``#rrggbb`` of one palette entry."""
    r, g, b = (int(v) for v in rgba[:3])
    return f"#{r:02x}{g:02x}{b:02x}"


def value_colour(style: Style, value: float) -> str:
    """``#rrggbb`` that ``value`` is drawn with (continuous styles)."""
    idx = int(to_index(np.array([value], np.float32), _opaque(style))[0])
    return hex_colour(style.palette[idx])


def _opaque(style: Style) -> Style:
    return Style(style.colormap, style.rescale, style.log, None, style.classes, style.palette)
