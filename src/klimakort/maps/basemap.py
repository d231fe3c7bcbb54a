"""The base map under the hazard layers: Danish WMTS/XYZ services, OpenStreetMap otherwise.

An area names its base map in ``area.toml``::

    [basemap]
    preset = "skaermkort_daempet"         # or kind/url/layer/matrix_set/crs/... below
    token_env = "KLIMAKORT_BASEMAP_TOKEN"   # the variable holding the token, never the token

and ``KLIMAKORT_BASEMAP_*`` settings of the service override any key
(:func:`resolve_basemap`). Two tile grids are supported:

* ``EPSG:3857`` — Web Mercator XYZ tiles (``{z}/{x}/{y}``) or a WMTS on the
  GoogleMapsCompatible grid: drawn by Leaflet as they are;
* ``EPSG:25832`` — a WMTS on Dataforsyningen's ``View1`` grid (klimakort's
  ``DKUTM32`` tile matrix set, :mod:`klimakort.tiles.tms`): the map keeps its Web
  Mercator CRS (every overlay stays as it is) and ``basemap.js`` draws each Web Mercator
  tile from the UTM tiles under it with one affine transform per tile (exact to well
  under a pixel at the zooms of a municipality).

Presets (Dataforsyningen, token from https://dataforsyningen.dk; check the layer names
against the service's GetCapabilities if Dataforsyningen renames them):

============================  ==========================================  ===========
preset                        service / layer                             grid
============================  ==========================================  ===========
``skaermkort``                ``topo_skaermkort_wmts_DAF`` / ``topo_skaermkort``    View1
``skaermkort_daempet``        ``topo_skaermkort_daempet_DAF`` / ``topo_skaermkort_daempet``  View1
``orto_foraar``               ``orto_foraar_DAF`` / ``orto_foraar``        View1
``orto_foraar_webm``          ``orto_foraar_webm_DAF`` / ``orto_foraar_webm``  GoogleMapsCompatible
============================  ==========================================  ===========

A token reaches the browser only in the served ``/map`` page (the browser fetches the
tiles itself, as every Dataforsyningen web map does: use a token meant for web pages);
the standalone ``map.html`` never contains one (:func:`page_config` with
``include_token=False``), so a base map that needs a token falls back to OpenStreetMap
there.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal
from urllib.parse import quote, urlsplit

from klimakort.config.area import BasemapRef
from klimakort.errors import ConfigError
from klimakort.tiles.tms import DK_LEVEL0_CELL, DK_MAXZOOM, DK_ORIGIN, TILE_SIZE

Kind = Literal["wmts", "xyz"]
Grid = Literal["EPSG:25832", "EPSG:3857"]

#: the variable a token is read from when ``token_env`` is not given
DEFAULT_TOKEN_ENV = "KLIMAKORT_BASEMAP_TOKEN"
_DAF = "https://api.dataforsyningen.dk"
_DAF_ATTRIBUTION = "© Klimadatastyrelsen, Dataforsyningen"

#: Dataforsyningen presets: every key of :class:`klimakort.config.area.BasemapRef`
PRESETS: dict[str, dict[str, Any]] = {
    "skaermkort": {
        "kind": "wmts",
        "url": f"{_DAF}/topo_skaermkort_wmts_DAF",
        "layer": "topo_skaermkort",
        "matrix_set": "View1",
        "format": "image/jpeg",
        "crs": "EPSG:25832",
        "title": "Skærmkort (Dataforsyningen)",
        "attribution": _DAF_ATTRIBUTION,
        "needs_token": True,
    },
    "skaermkort_daempet": {
        "kind": "wmts",
        "url": f"{_DAF}/topo_skaermkort_daempet_DAF",
        "layer": "topo_skaermkort_daempet",
        "matrix_set": "View1",
        "format": "image/jpeg",
        "crs": "EPSG:25832",
        "title": "Skærmkort, dæmpet (Dataforsyningen)",
        "attribution": _DAF_ATTRIBUTION,
        "needs_token": True,
    },
    "orto_foraar": {
        "kind": "wmts",
        "url": f"{_DAF}/orto_foraar_DAF",
        "layer": "orto_foraar",
        "matrix_set": "View1",
        "format": "image/jpeg",
        "crs": "EPSG:25832",
        "title": "Ortofoto, forår (Dataforsyningen)",
        "attribution": _DAF_ATTRIBUTION + ", GeoDanmark",
        "needs_token": True,
    },
    "orto_foraar_webm": {
        "kind": "wmts",
        "url": f"{_DAF}/orto_foraar_webm_DAF",
        "layer": "orto_foraar_webm",
        "matrix_set": "DFD_GoogleMapsCompatible",
        "format": "image/jpeg",
        "crs": "EPSG:3857",
        "title": "Ortofoto, forår (Dataforsyningen, Web Mercator)",
        "attribution": _DAF_ATTRIBUTION + ", GeoDanmark",
        "needs_token": True,
    },
}
#: settings (``KLIMAKORT_BASEMAP_<KEY>``) that override the area's ``[basemap]``
OVERRIDE_KEYS: tuple[str, ...] = (
    "preset",
    "kind",
    "url",
    "layer",
    "matrix_set",
    "style",
    "format",
    "crs",
    "title",
    "attribution",
    "max_zoom",
)
#: the value of ``KLIMAKORT_BASEMAP_PRESET`` that turns a configured base map off
OFF = "osm"


@dataclass(frozen=True)
class Basemap:
    """A resolved base map.

    Attributes
    ----------
    kind : {"wmts", "xyz"}
        WMTS (KVP GetTile, or a RESTful template) or a plain XYZ template.
    crs : {"EPSG:25832", "EPSG:3857"}
        Tile grid: Dataforsyningen's View1 (DKUTM32) or Web Mercator.
    template : str
        Tile URL with ``{z}``, ``{x}``, ``{y}`` (and ``{token}`` where the token goes).
    title, attribution : str
        Shown in the layer panel and the map's attribution.
    max_zoom : int
        Deepest native level of the service (View1: 13; XYZ: 19 unless given).
    token : str or None
        The token, when one is configured (never shown in ``repr``).
    needs_token : bool
        Whether the service refuses requests without a token (the presets).
    preset : str or None
        The preset it came from.
    """

    kind: Kind
    crs: Grid
    template: str
    title: str
    attribution: str
    max_zoom: int
    token: str | None = field(default=None, repr=False)
    needs_token: bool = False
    preset: str | None = None

    def tile_url(self, z: int, x: int, y: int, *, token: str | None = None) -> str:
        """The URL of one tile (``token`` defaults to the configured one)."""
        tok = self.token if token is None else token
        return (
            self.template.replace("{z}", str(z))
            .replace("{x}", str(x))
            .replace("{y}", str(y))
            .replace("{token}", quote(tok or "", safe=""))
        )


def _wmts_template(values: Mapping[str, Any]) -> str:
    url = str(values["url"])
    if "{z}" in url:  # RESTful WMTS template
        return url
    for key in ("layer", "matrix_set"):
        if not values.get(key):
            raise ConfigError(f"basemap.{key}: a WMTS base map (kind = 'wmts') needs {key}")
    params = (
        "SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
        f"&LAYER={quote(str(values['layer']))}&STYLE={quote(str(values.get('style') or 'default'))}"
        f"&FORMAT={quote(str(values.get('format') or 'image/png'), safe='/')}"
        f"&TILEMATRIXSET={quote(str(values['matrix_set']))}"
        "&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}"
    )
    return url + ("&" if "?" in url else "?") + params


def _check_url(url: str) -> None:
    parts = urlsplit(url.replace("{", "").replace("}", ""))
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(f"basemap.url: {url!r} is not an http(s) URL")


def _merged(ref: BasemapRef | None, overrides: Mapping[str, Any] | None) -> dict[str, Any]:
    own = ref.model_dump(exclude_none=True) if ref is not None else {}
    extra = {k: v for k, v in (overrides or {}).items() if v is not None and v != ""}
    preset = extra.get("preset", own.get("preset"))
    if preset is None or preset == OFF:
        base: dict[str, Any] = {}
    elif preset in PRESETS:
        base = dict(PRESETS[preset])
    else:
        raise ConfigError(
            f"basemap.preset: unknown preset {preset!r}; known: {', '.join(PRESETS)} "
            f"(or {OFF!r} for OpenStreetMap)"
        )
    if extra.get("preset") and extra["preset"] != own.get("preset"):
        own = {k: v for k, v in own.items() if k == "token_env"}  # a new preset wins whole
    return {**base, **own, **extra, "preset": preset}


def resolve_basemap(
    ref: BasemapRef | None,
    overrides: Mapping[str, Any] | None = None,
    *,
    token: str | None = None,
    env: Mapping[str, str] | None = None,
) -> Basemap | None:
    """The base map of an area, with the service's settings applied.

    Parameters
    ----------
    ref : BasemapRef or None
        The area's ``[basemap]`` table.
    overrides : mapping, optional
        Values of :data:`OVERRIDE_KEYS` (``KLIMAKORT_BASEMAP_*``); None/empty values are
        ignored; ``preset = "osm"`` turns the base map off.
    token : str, optional
        The token (``KLIMAKORT_BASEMAP_TOKEN``); wins over ``env``.
    env : mapping, optional
        Environment the variable named by ``token_env`` is read from (default
        ``os.environ``; pass ``{}`` to read none).

    Returns
    -------
    Basemap or None
        None when neither the area nor the settings configure one (OpenStreetMap).

    Raises
    ------
    ConfigError
        Unknown preset, missing URL/layer/matrix set, a URL that is not http(s), an
        XYZ template without ``{z}/{x}/{y}``.
    """
    values = _merged(ref, overrides)
    if values["preset"] == OFF or not (values.get("url") or values.get("kind")):
        return None
    if not values.get("url"):
        raise ConfigError("basemap.url: give a preset or a url")
    kind: Kind = values.get("kind") or ("xyz" if "{z}" in str(values["url"]) else "wmts")
    if kind not in ("wmts", "xyz"):
        raise ConfigError(f"basemap.kind: {kind!r} is not 'wmts' or 'xyz'")
    template = _wmts_template(values) if kind == "wmts" else str(values["url"])
    if not all(p in template for p in ("{z}", "{x}", "{y}")):
        raise ConfigError(f"basemap.url: {template!r} lacks {{z}}, {{x}} or {{y}}")
    _check_url(template)
    crs: Grid = values.get("crs") or "EPSG:3857"
    if crs not in ("EPSG:25832", "EPSG:3857"):
        raise ConfigError(f"basemap.crs: {crs!r} is not EPSG:25832 or EPSG:3857")
    if token is None:
        name = values.get("token_env") or DEFAULT_TOKEN_ENV
        token = (os.environ if env is None else env).get(name) or None
    needs_token = bool(values.get("needs_token"))
    if "{token}" not in template and (needs_token or token is not None):
        template += ("&" if "?" in template else "?") + "token={token}"
    default_zoom = DK_MAXZOOM if crs == "EPSG:25832" else 19
    return Basemap(
        kind=kind,
        crs=crs,
        template=template,
        title=str(values.get("title") or values.get("preset") or "Base map"),
        attribution=str(values.get("attribution") or ""),
        max_zoom=default_zoom if values.get("max_zoom") is None else int(values["max_zoom"]),
        token=token,
        needs_token=needs_token,
        preset=values.get("preset"),
    )


def without_token(basemap: Basemap) -> Basemap:
    """The same base map with no token (for files that may be passed on)."""
    return replace(basemap, token=None)


def dkutm32_grid() -> dict[str, Any]:
    """The View1 / DKUTM32 grid as the browser needs it (origin, level-0 cell, levels)."""
    return {
        "origin": list(DK_ORIGIN),
        "cell0": DK_LEVEL0_CELL,
        "max_level": DK_MAXZOOM,
        "tile_size": TILE_SIZE,
    }


def page_config(basemap: Basemap | None, *, include_token: bool = True) -> dict[str, Any] | None:
    """The ``basemap`` entry of the map configuration, or None for OpenStreetMap.

    Parameters
    ----------
    basemap : Basemap or None
        From :func:`resolve_basemap`.
    include_token : bool
        Put the token into the tile URL (the served page). When False, or when the base
        map needs a token that is not configured, the entry says ``available: false``
        with the reason, and the map shows OpenStreetMap.

    Returns
    -------
    dict or None
        ``kind``, ``crs``, ``url`` (``{z}/{x}/{y}`` template, the token filled in),
        ``title`` (da/en), ``attribution``, ``max_zoom``, ``grid`` (EPSG:25832 only),
        ``available`` and ``reason``.
    """
    if basemap is None:
        return None
    token = basemap.token if include_token else None
    available = not (basemap.needs_token and not token)
    reason = ""
    if not available:
        reason = (
            "the base map needs a token: set KLIMAKORT_BASEMAP_TOKEN (or the variable "
            "named by basemap.token_env)"
            if include_token
            else "a base map with a token is not written into offline files"
        )
    url = basemap.template.replace("{token}", quote(token or "", safe=""))
    entry: dict[str, Any] = {
        "kind": basemap.kind,
        "crs": basemap.crs,
        "url": url if available else "",
        "title": {"da": basemap.title, "en": basemap.title},
        "attribution": basemap.attribution,
        "max_zoom": basemap.max_zoom,
        "available": available,
        "reason": reason,
    }
    if basemap.crs == "EPSG:25832":
        entry["grid"] = dkutm32_grid()
    return entry


def dk_level_for(resolution_m: float, max_level: int = DK_MAXZOOM) -> int:
    """The View1 level whose cell is the coarsest not coarser than ``resolution_m``.

    The same choice ``basemap.js`` makes per Web Mercator tile (exposed for tests and
    for print maps).
    """
    if resolution_m <= 0 or not math.isfinite(resolution_m):
        raise ConfigError(f"resolution {resolution_m} m must be positive")
    level = math.ceil(math.log2(DK_LEVEL0_CELL / resolution_m) - 1e-9)
    return max(0, min(max_level, level))
