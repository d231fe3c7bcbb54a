"""The map of an area: terrain, inputs and (when given) derived hazard layers."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from klimakort.config.area import AreaConfig
from klimakort.io.raster import read_raster
from klimakort.io.vector import read_vector
from klimakort.maps.webmap import RasterStyle, WebMap

#: how each input layer is drawn: (group, name, colour, fill opacity, tooltip fields)
LAYER_STYLES: dict[str, tuple[str, str, str, float, tuple[str, ...]]] = {
    "sea": ("Terrain", "Sea", "#1f5fa8", 0.25, ("name",)),
    "lakes": ("Terrain", "Lakes", "#2b8cbe", 0.5, ("name", "water_level_m")),
    "streams": ("Terrain", "Streams", "#2b8cbe", 0.0, ("name", "culvert")),
    "barriers": ("Terrain", "Dikes and beach ridge", "#8c2d04", 0.0, ("kind", "crest_m")),
    "parcels": (
        "Parcels",
        "Parcels (matrikler)",
        "#555555",
        0.05,
        ("matrikel_id", "area_m2", "public"),
    ),
    "buildings": (
        "Parcels",
        "Buildings",
        "#7f0000",
        0.5,
        ("building_id", "use", "floors", "floor_level_m", "has_basement"),
    ),
    "roads": ("Parcels", "Roads", "#444444", 0.0, ("name", "embankment_m")),
    "local_plans": ("Local plans", "Local plans", "#984ea3", 0.1, ("plannr", "plannavn")),
    "heating_zones": ("District heating", "District-heating zones", "#e6550d", 0.12, ("zone",)),
    "heating_mains": (
        "District heating",
        "District-heating mains",
        "#e6550d",
        0.0,
        ("main_id", "zone"),
    ),
    "public_land": ("Planned sites", "Public green areas", "#31a354", 0.25, ("name", "kind")),
    "institutions": (
        "Planned sites",
        "Schools and kindergartens",
        "#756bb1",
        0.9,
        ("name", "kind", "children"),
    ),
    "planned_sites": (
        "Planned sites",
        "Planned sites",
        "#006d2c",
        0.6,
        ("site_id", "measure", "name", "planned_year"),
    ),
}

#: layers visible when the map opens
SHOWN = {"parcels", "heating_zones", "planned_sites", "barriers", "sea"}


def area_map(cfg: AreaConfig, progress: Callable[[str], None] | None = None) -> WebMap:
    """Build the map of an area's inputs.

    Parameters
    ----------
    cfg : AreaConfig
        The area.
    progress : callable, optional
        Called with a short message before each layer.

    Returns
    -------
    WebMap
        Add hazard layers to it, then ``save``.
    """
    say = progress or (lambda _msg: None)
    say("terrain")
    dem = read_raster(cfg.terrain.path, expected_crs=cfg.crs)
    subtitle = "synthetic sample — not real data" if cfg.synthetic else cfg.description
    web = WebMap(dem.rio.bounds(), cfg.crs, f"klimakort — {cfg.name}", subtitle)
    finite = dem.values[np.isfinite(dem.values)]
    lo, hi = (float(np.percentile(finite, 1)), float(np.percentile(finite, 99.5)))
    web.add_raster(
        dem,
        "Terrain (hillshade)",
        "Terrain",
        RasterStyle("gist_earth", min(lo, -2.0), max(hi, 5.0), "m DVR90", 1.0, hillshade=True),
        show=True,
    )
    palette = {
        "Nord": "#e6550d",
        "Syd": "#fd8d3c",
        "miyawaki_forest": "#006d2c",
        "tree_row": "#74c476",
        "school": "#54278f",
        "kindergarten": "#9e9ac8",
    }
    for key, (group, name, color, fill, tooltip) in LAYER_STYLES.items():
        ref = cfg.layers.get(key)
        if ref is None:
            continue
        say(key)
        gdf = read_vector(ref.path, crs=cfg.crs, layer=ref.layer, id_field=ref.id_field)
        color_by = {
            "heating_zones": "zone",
            "planned_sites": "measure",
            "institutions": "kind",
        }.get(key)
        web.add_vector(
            gdf,
            name,
            group,
            color=color,
            fill_opacity=fill,
            tooltip=tooltip,
            show=key in SHOWN,
            color_by=color_by,
            palette=palette,
            weight=2.5 if key in ("barriers", "streams", "heating_mains") else 1.0,
        )
    return web
