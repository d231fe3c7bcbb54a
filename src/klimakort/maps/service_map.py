"""The interactive map of a served area: its configuration, its page and its static files.

One Leaflet app (``klimakort/maps/app``: ``index.html``, ``app.js``, ``app.css``,
``i18n.js``) runs in two modes, chosen by the configuration embedded in the page:

* ``server`` — the page served at ``/map``: raster tiles, legends, GeoJSON, point values
  and reports come from the API; the JS/CSS are served from ``/map/static/{name}``.
* ``standalone`` — ``map.html`` written by :mod:`klimakort.maps.standalone`: everything
  (scripts, images, GeoJSON, value grids) is inlined and the file works offline.

Vendored plugins (see ``vendor/README.md``) are served unmodified, except that CSS
``url(...)`` references to their images become data URIs and the CommonJS
``leaflet-side-by-side`` is wrapped so that ``require('leaflet')`` returns the page's ``L``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any, Literal

from klimakort.errors import DataNotFoundError
from klimakort.io.geojson_input import transformer
from klimakort.service.catalog import GROUPS, Collection, RasterLayer
from klimakort.service.workspace import Workspace

Mode = Literal["server", "standalone"]

#: stylesheets of the page, in load order
STYLES: tuple[str, ...] = ("leaflet.css", "leaflet.draw.css", "leaflet-side-by-side.css", "app.css")
#: scripts of the page, in load order
SCRIPTS: tuple[str, ...] = (
    "leaflet.js",
    "leaflet.draw.js",
    "leaflet-side-by-side.js",
    "proj4.js",
    "i18n.js",
    "basemap.js",
    "app.js",
    "search.js",
)
#: files that belong to the app itself (the rest come from ``vendor/``)
_APP_FILES = frozenset({"app.js", "app.css", "i18n.js", "index.html", "basemap.js", "search.js"})
_MEDIA = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}
_IMAGE_MEDIA = {".png": "image/png", ".svg": "image/svg+xml"}
_CSS_URL = re.compile(r"""url\(\s*['"]?(?P<ref>(?:images/)?[\w.-]+\.(?:png|svg))['"]?\s*\)""")
#: CommonJS modules wrapped for the browser: ``require('leaflet')`` -> ``window.L``
_COMMONJS = frozenset({"leaflet-side-by-side.js"})

#: raster layers shown when the map opens, and their opacity
DEFAULT_VISIBLE_RASTERS: tuple[str, ...] = ("hillshade", "cloudburst_depth")
DEFAULT_OPACITY: dict[str, float] = {"hillshade": 0.55, "terrain": 0.7}
#: vector collections shown when the map opens
DEFAULT_VISIBLE_COLLECTIONS: tuple[str, ...] = ("parcels", "local_plans", "planned_sites")
#: collections loaded per map view (bbox) from this zoom on; the others are loaded whole
BBOX_MIN_ZOOM: dict[str, int] = {"parcels": 15, "buildings": 16, "flooded_areas": 14}
#: collections drawn on a canvas (many features)
CANVAS_COLLECTIONS = frozenset(
    {"parcels", "buildings", "flooded_areas", "bluespots", "flowpaths", "heating_mains"}
)
#: the hazard layer offered first for the side-by-side comparison
COMPARE_LAYER = "cloudburst_depth"


@dataclass(frozen=True)
class StaticAsset:
    """A file of the map app as served: body, media type and ETag."""

    name: str
    body: bytes
    media_type: str
    etag: str


def _read(name: str) -> bytes:
    folder = "app" if name in _APP_FILES else "vendor"
    ref = resources.files("klimakort.maps").joinpath(folder).joinpath(name)
    return ref.read_bytes()


def _data_uri(match: re.Match[str]) -> str:
    ref = match.group("ref")
    media = _IMAGE_MEDIA[ref[ref.rfind(".") :]]
    data = base64.b64encode(_read(ref)).decode("ascii")
    return f'url("data:{media};base64,{data}")'


def _wrap_commonjs(source: str) -> str:
    return (
        "(function (require, module, exports) {\n"
        + source
        + '\n})(function (name) { return name === "leaflet" ? window.L : {}; }, '
        "{ exports: {} }, {});\n"
    )


@lru_cache(maxsize=32)
def static_asset(name: str) -> StaticAsset:
    """A JS or CSS file of the map app, ready to serve or inline.

    Parameters
    ----------
    name : str
        One of :data:`STYLES` or :data:`SCRIPTS`.

    Raises
    ------
    DataNotFoundError
        ``name`` is not a file of the map.
    """
    if name not in STYLES and name not in SCRIPTS:
        raise DataNotFoundError(
            f"the map has no static file {name!r}; it serves: {', '.join(STYLES + SCRIPTS)}"
        )
    text = _read(name).decode("utf-8")
    if name.endswith(".css"):
        text = _CSS_URL.sub(_data_uri, text)
    if name in _COMMONJS:
        text = _wrap_commonjs(text)
    body = text.encode("utf-8")
    etag = '"' + hashlib.sha256(body).hexdigest()[:20] + '"'
    return StaticAsset(name, body, _MEDIA[name[name.rfind(".") :]], etag)


def lonlat_bounds(ws: Workspace) -> list[float]:
    """Bounds of the area as ``[west, south, east, north]`` in lon/lat (EPSG:4326)."""
    tr = transformer(str(ws.cfg.crs), "OGC:CRS84")
    west, south, east, north = tr.transform_bounds(*ws.bounds, densify_pts=21)
    return [round(float(v), 7) for v in (west, south, east, north)]


def _raster_entry(info: RasterLayer, visible: frozenset[str]) -> dict[str, Any]:
    classes = None
    if info.classes:
        classes = {str(k): dict(v) for k, v in info.classes.items()}
    return {
        "id": info.id,
        "title": dict(info.title),
        "units": info.units,
        "group": info.group,
        "scenario_dependent": info.scenario_dependent,
        "classes": classes,
        "description": info.description,
        "visible": info.id in visible,
        "opacity": DEFAULT_OPACITY.get(info.id, 0.75),
    }


def _collection_entry(
    info: Collection, max_features: int, visible: frozenset[str]
) -> dict[str, Any]:
    return {
        "id": info.id,
        "title": dict(info.title),
        "group": info.group,
        "scenario_dependent": info.scenario_dependent,
        "description": info.description,
        "load": "bbox" if info.id in BBOX_MIN_ZOOM else "all",
        "minzoom": BBOX_MIN_ZOOM.get(info.id, 0),
        "canvas": info.id in CANVAS_COLLECTIONS,
        "visible": info.id in visible,
        "limit": max_features,
    }


def map_config(
    ws: Workspace,
    *,
    mode: Mode = "server",
    api: str = "",
    lang: str = "da",
    max_features: int = 10_000,
    max_zoom: int = 20,
    visible_rasters: Sequence[str] = DEFAULT_VISIBLE_RASTERS,
    visible_collections: Sequence[str] = DEFAULT_VISIBLE_COLLECTIONS,
    scenario: str | None = None,
    basemap: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The configuration the map app reads (``window.KLIMAKORT_CONFIG``).

    Parameters
    ----------
    ws : Workspace
        The served area.
    mode : {"server", "standalone"}
        Whether the app asks the API (``server``) or reads embedded data.
    api : str
        URL prefix of the API (``""`` when the API is at the root of the page's host).
    lang : {"da", "en"}
        Language the map opens in.
    max_features : int
        ``limit`` of GeoJSON requests (the service's ``max_features``).
    max_zoom : int
        Deepest zoom of the map.
    visible_rasters, visible_collections : sequence of str
        Layers switched on when the map opens (ids the area lacks are ignored).
    scenario : str, optional
        Scenario the map opens on (default: the workspace's default).
    basemap : dict, optional
        :func:`klimakort.maps.basemap.page_config` of the area's base map (None:
        OpenStreetMap, off at start).

    Returns
    -------
    dict
        JSON-ready: ``mode``, ``api``, ``lang``, ``area`` (name, synthetic), ``crs``
        (name and proj4 definition, for the coordinates shown), ``bounds`` (lon/lat),
        ``scenarios``, ``default_scenario``, ``groups`` (in display order, titles da/en),
        ``rasters`` and ``collections`` (catalogue entries with the map's defaults),
        ``links``.
    """
    if lang not in ("da", "en"):
        lang = "da"
    used = {r.group for r in ws.raster_layers.values()} | {c.group for c in ws.collections.values()}
    crs_name = ws.crs.to_string()
    with warnings.catch_warnings():  # PROJ strings drop datum details; fine for display
        warnings.simplefilter("ignore", UserWarning)
        proj4_def = ws.crs.to_proj4()
    links = []
    if mode == "server":
        links = [
            {
                "href": f"{api}/docs",
                "title": {"da": "API-dokumentation", "en": "API documentation"},
            },
            {"href": f"{api}/collections", "title": {"da": "Datasæt", "en": "Collections"}},
        ]
    return {
        "mode": mode,
        "api": api,
        "lang": lang,
        "area": {"name": ws.name, "synthetic": bool(ws.cfg.synthetic)},
        "crs": {"name": crs_name, "proj4": proj4_def},
        "bounds": lonlat_bounds(ws),
        "scenarios": list(ws.scenarios),
        "default_scenario": ws.scenario(scenario),
        "groups": [{"id": g, "title": dict(t)} for g, t in GROUPS.items() if g in used],
        "rasters": [
            _raster_entry(r, frozenset(visible_rasters)) for r in ws.raster_layers.values()
        ],
        "collections": [
            _collection_entry(c, max_features, frozenset(visible_collections))
            for c in ws.collections.values()
        ],
        "compare_layer": COMPARE_LAYER,
        "max_features": max_features,
        "max_zoom": max_zoom,
        "max_native_zoom": max_zoom,
        "attribution": "klimakort" + (" · syntetiske data" if ws.cfg.synthetic else ""),
        "links": links,
        "basemap": basemap,
        "addresses": mode == "server" and ws.cfg.addresses is not None,
    }


def _script_json(config: dict[str, Any]) -> str:
    """JSON safe inside ``<script>``: every ``<`` escaped as ``\\u003c``."""
    text = json.dumps(config, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return text.replace("<", "\\u003c")


def render_page(config: dict[str, Any], *, inline: bool, static_prefix: str = "") -> str:
    """The map page for ``config``.

    Parameters
    ----------
    config : dict
        From :func:`map_config` (plus embedded data in standalone mode).
    inline : bool
        Inline every script and stylesheet (standalone file) instead of linking them
        under ``static_prefix``.
    static_prefix : str
        URL prefix of the static files when not inlined, e.g. ``/map/static/``.
    """
    template = _read("index.html").decode("utf-8")
    if inline:
        styles = "\n".join(f"<style>{static_asset(n).body.decode('utf-8')}</style>" for n in STYLES)
        scripts = "\n".join(
            "<script>"
            + static_asset(n).body.decode("utf-8").replace("</script", "<\\/script")
            + "</script>"
            for n in SCRIPTS
        )
    else:

        def href(name: str) -> str:
            return f"{static_prefix}{name}?v={static_asset(name).etag.strip(chr(34))}"

        styles = "\n".join(f'<link rel="stylesheet" href="{href(n)}">' for n in STYLES)
        scripts = "\n".join(f'<script src="{href(n)}"></script>' for n in SCRIPTS)
    title = f"Klimakort – {config['area']['name']}"
    out = template.replace("__KK_TITLE__", _html_text(title))
    out = out.replace("__KK_STYLES__", styles)
    # the config last: it may contain any text, and must not be searched for placeholders
    head, tail = out.split("__KK_SCRIPTS__", 1)
    head = head.replace("__KK_CONFIG__", _script_json(config))
    return head + scripts + tail


def _html_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def service_map_html(
    ws: Workspace,
    *,
    api: str = "",
    static_prefix: str = "/map/static/",
    lang: str = "da",
    max_features: int = 10_000,
    max_zoom: int = 20,
    basemap: dict[str, Any] | None = None,
) -> str:
    """The ``/map`` page of a served area (scripts linked under ``static_prefix``).

    Parameters
    ----------
    ws : Workspace
        The served area.
    api : str
        URL prefix of the API (the app's root path behind a proxy).
    static_prefix : str
        URL prefix of :func:`static_asset` files.
    lang, max_features, max_zoom, basemap
        See :func:`map_config`.
    """
    config = map_config(
        ws,
        mode="server",
        api=api,
        lang=lang,
        max_features=max_features,
        max_zoom=max_zoom,
        basemap=basemap,
    )
    return render_page(config, inline=False, static_prefix=static_prefix)
