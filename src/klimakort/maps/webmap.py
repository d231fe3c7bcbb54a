"""Interactive web maps (folium/Leaflet) of an area's inputs and hazards.

Rasters are warped to Web Mercator (the map's projection, so that the image sits
exactly) and embedded as PNG overlays; vector layers are embedded as GeoJSON in
WGS84 with tooltips. Layers are grouped (Terrain, Hazards, Parcels, ...) in a
grouped layer control, each raster has a legend, and a title box states the area
and whether it is a synthetic sample.
"""

from __future__ import annotations

import html
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import branca
import folium
import geopandas as gpd
import numpy as np
import xarray as xr
from folium.plugins import GroupedLayerControl
from pandas.api.types import is_bool_dtype, is_numeric_dtype
from pyproj import Transformer

from klimakort.io.atomic import atomic_path
from klimakort.io.raster import cell_size
from klimakort.maps.hillshade import colorize, hillshade
from klimakort.maps.offline import make_offline

#: longest side, in pixels, of an embedded raster overlay
MAX_OVERLAY_PX = 2000


@dataclass(frozen=True)
class RasterStyle:
    """How a raster is drawn: colormap, value range, units and opacity."""

    cmap: str
    vmin: float
    vmax: float
    units: str
    opacity: float = 0.8
    hillshade: bool = False


def _to_web_mercator(da: xr.DataArray) -> xr.DataArray:
    """Warp to EPSG:3857, decimating first so the overlay stays small."""
    step = int(np.ceil(max(da.shape) / MAX_OVERLAY_PX))
    if step > 1:
        da = da.coarsen(x=step, y=step, boundary="trim").mean()
        da = da.rio.write_transform(da.rio.transform(recalc=True))
    return da.astype("float32").rio.reproject("EPSG:3857", nodata=np.nan)


def _latlon_bounds(da3857: xr.DataArray) -> list[list[float]]:
    left, bottom, right, top = da3857.rio.bounds()
    to_ll = Transformer.from_crs("EPSG:3857", "EPSG:4326", always_xy=True)
    lon0, lat0 = to_ll.transform(left, bottom)
    lon1, lat1 = to_ll.transform(right, top)
    return [[lat0, lon0], [lat1, lon1]]


class WebMap:
    """Builder of a standalone interactive map.

    Parameters
    ----------
    bounds : tuple
        (left, bottom, right, top) of the area in ``crs``.
    crs : CRS-like
        CRS of the area.
    title : str
        Title shown in the map's title box.
    subtitle : str
        Second line (e.g. "synthetic sample" and the scenario).
    """

    def __init__(self, bounds: Sequence[float], crs: Any, title: str, subtitle: str = "") -> None:
        to_ll = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
        lon0, lat0 = to_ll.transform(bounds[0], bounds[1])
        lon1, lat1 = to_ll.transform(bounds[2], bounds[3])
        self.map = folium.Map(
            location=[(lat0 + lat1) / 2, (lon0 + lon1) / 2],
            zoom_start=14,
            tiles=None,
            control_scale=True,
            prefer_canvas=True,
        )
        self.map.fit_bounds([[lat0, lon0], [lat1, lon1]])
        self.groups: dict[str, list[folium.FeatureGroup]] = {}
        self._title_box(title, subtitle)

    def _title_box(self, title: str, subtitle: str) -> None:
        box = (
            '<div style="position:absolute;bottom:24px;left:50%;transform:translateX(-50%);'
            "z-index:9999;"
            "background:rgba(255,255,255,.9);padding:6px 10px;border-radius:4px;"
            'font:14px/1.3 sans-serif;box-shadow:0 1px 4px rgba(0,0,0,.3)">'
            f"<b>{html.escape(title)}</b><br><span style='color:#555'>"
            f"{html.escape(subtitle)}</span></div>"
        )
        # a long layer list scrolls instead of running off the screen
        css = (
            "<style>.leaflet-control-layers-expanded{max-height:calc(100vh - 140px);"
            "overflow-y:auto}</style>"
        )
        root = self.map.get_root()
        root.html.add_child(branca.element.Element(box))  # type: ignore[attr-defined]
        root.header.add_child(branca.element.Element(css))  # type: ignore[attr-defined]

    def _group(self, group: str, name: str, show: bool) -> folium.FeatureGroup:
        fg = folium.FeatureGroup(name=name, show=show, overlay=True)
        fg.add_to(self.map)
        self.groups.setdefault(group, []).append(fg)
        return fg

    def add_raster(
        self,
        da: xr.DataArray,
        name: str,
        group: str,
        style: RasterStyle,
        *,
        show: bool = False,
        legend: bool = True,
        caption: str | None = None,
    ) -> None:
        """Add a raster overlay with a colour legend.

        Parameters
        ----------
        da : xarray.DataArray
            Raster with rioxarray CRS.
        name : str
            Layer name in the layer control.
        group : str
            Layer group (e.g. "Terrain", "Hazards 2100").
        style : RasterStyle
            Colours and range.
        show : bool
            Visible when the map opens.
        legend : bool
            Add a colour bar legend.
        caption : str, optional
            Legend caption (default: the layer name), units are appended.
        """
        web = _to_web_mercator(da)
        values = web.values
        shade = None
        if style.hillshade:
            dx, dy = cell_size(web)
            shade = hillshade(values, dx, dy, z_factor=2.0)
        rgba = colorize(values, style.cmap, style.vmin, style.vmax, shade=shade)
        fg = self._group(group, name, show)
        folium.raster_layers.ImageOverlay(
            image=rgba,
            bounds=_latlon_bounds(web),
            opacity=style.opacity,
            name=name,
            mercator_project=False,
            interactive=False,
            zindex=1,
        ).add_to(fg)
        if legend:
            ramp = colorize(
                np.linspace(style.vmin, style.vmax, 9)[None, :],
                style.cmap,
                style.vmin,
                style.vmax,
            )[0]
            colors = [f"#{r:02x}{g:02x}{b:02x}" for r, g, b, _a in ramp.tolist()]
            cm = branca.colormap.LinearColormap(
                colors=colors,
                vmin=style.vmin,
                vmax=style.vmax,
                caption=f"{caption or name} ({style.units})",
            )
            self.map.add_child(cm)

    def add_vector(
        self,
        gdf: gpd.GeoDataFrame,
        name: str,
        group: str,
        *,
        color: str = "#3366cc",
        fill_opacity: float = 0.2,
        weight: float = 1.0,
        tooltip: Sequence[str] = (),
        show: bool = True,
        color_by: str | None = None,
        palette: dict[Any, str] | None = None,
        classes: Sequence[tuple[float, str]] | None = None,
        popup: Sequence[str] = (),
        simplify_m: float = 0.5,
    ) -> None:
        """Add a vector layer as GeoJSON with tooltips.

        Parameters
        ----------
        gdf : GeoDataFrame
            Layer in any CRS (reprojected to WGS84 here).
        name, group : str
            Layer name and group.
        color : str
            Stroke/fill colour (or fallback colour with ``color_by``).
        fill_opacity, weight : float
            Polygon fill opacity, stroke width in px.
        tooltip : sequence of str
            Fields shown on hover.
        show : bool
            Visible when the map opens.
        color_by : str, optional
            Field whose values pick colours from ``palette``.
        palette : dict, optional
            Value -> colour for ``color_by``.
        classes : sequence of (upper bound, colour), optional
            Numeric classes for ``color_by``: the first class whose upper bound is
            >= the value gives the colour (use ``inf`` for the last).
        popup : sequence of str
            Fields shown in the click popup (HTML values are rendered).
        simplify_m : float
            Simplification tolerance in the layer's units before embedding.
        """
        if gdf.empty:
            return
        wanted = [*tooltip, *popup, *([color_by] if color_by else [])]
        keep = [c for c in dict.fromkeys(wanted) if c in gdf.columns]
        slim = gdf[[*keep, gdf.geometry.name]].copy()
        if simplify_m > 0:
            slim = slim.set_geometry(slim.geometry.simplify(simplify_m, preserve_topology=True))
        slim = slim.to_crs("EPSG:4326")
        for col in keep:
            if not (is_numeric_dtype(slim[col]) or is_bool_dtype(slim[col])):
                slim[col] = slim[col].astype(str)
        pal = palette or {}

        def pick(value: Any) -> str:
            if classes is not None:
                if value is None or value != value:  # missing or NaN
                    return color
                return next((c for upper, c in classes if value <= upper), color)
            return pal.get(value, color)

        def style(feature: dict[str, Any]) -> dict[str, Any]:
            c = pick(feature["properties"].get(color_by)) if color_by else color
            return {"color": c, "fillColor": c, "weight": weight, "fillOpacity": fill_opacity}

        fg = self._group(group, name, show)
        fields = [c for c in tooltip if c in slim.columns]
        folium.GeoJson(
            slim,
            name=name,
            style_function=style,
            marker=folium.CircleMarker(radius=5, fill=True, fill_opacity=0.9),
            tooltip=folium.GeoJsonTooltip(fields=fields) if fields else None,
            popup=folium.GeoJsonPopup(fields=list(popup), labels=False) if popup else None,
        ).add_to(fg)

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Finish the layer control and write the HTML atomically."""
        GroupedLayerControl(
            groups={g: fgs for g, fgs in self.groups.items()},
            exclusive_groups=False,
            collapsed=False,
        ).add_to(self.map)
        dest = Path(path)
        html_text = make_offline(self.map.get_root().render())
        with atomic_path(dest) as tmp:
            tmp.write_text(html_text, encoding="utf-8")
        return dest
