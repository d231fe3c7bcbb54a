"""``klimakort area init``: set up an area from downloaded Danish files.

:func:`init_area` takes a municipal boundary (or a bounding box), a folder of DHM terrain
tiles and the vector layers a planner downloads, and writes an area folder::

    DIR/area.toml                     validated; [sources] records every input file
    DIR/setup_report.json             the field report: per layer what was read and kept
    DIR/rasters/terrain.tif           the tiles' mosaic clipped to the boundary (COG)
    DIR/rasters/terrain_tiles.vrt     the lazy mosaic of the tiles (GDAL VRT)
    DIR/layers/boundary.gpkg          the boundary
    DIR/layers/KEY.gpkg               each layer in EPSG:25832, clipped to the boundary

``area.toml`` is written last and atomically: a failed run leaves no area.toml behind.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import shapely
from shapely.geometry.base import BaseGeometry

from klimakort.config.area import LAYER_KEYS, load_area
from klimakort.errors import ConfigError, InputError
from klimakort.io.atomic import atomic_path
from klimakort.io.vector import read_vector, write_vector
from klimakort.setup.layers import AREA_CRS, LayerReport, prepare_layer, split_layer
from klimakort.setup.schemas import SCHEMA_OF_LAYER, SCHEMAS, head_field
from klimakort.setup.tiles import (
    TerrainClip,
    build_vrt,
    check_tiles,
    clip_terrain,
    discover_tiles,
    mosaic_of,
    read_tile,
    split_vsizip,
    tile_names_covering,
)

Progress = Callable[[str], None]

#: fields of a municipal boundary layer (DAGI 2014 and the current DAGI)
_MUNI_NAME = ("KOMNAVN", "navn", "kommunenavn", "Navn")
_MUNI_CODE = ("KOMKODE", "kommunekode", "Kommunekode", "komkode")


@dataclass
class Boundary:
    """The area boundary (EPSG:25832) and where it came from."""

    geometry: BaseGeometry
    name: str
    source: dict[str, Any]


def _match(gdf: gpd.GeoDataFrame, municipality: str) -> gpd.GeoDataFrame:
    want = municipality.strip().casefold()
    hits = None
    for col in (*_MUNI_NAME, *_MUNI_CODE):
        if col in gdf.columns:
            vals = gdf[col].astype(str).str.strip().str.casefold()
            sel = (vals == want) | (vals.str.lstrip("0") == want.lstrip("0"))
            hits = sel if hits is None else hits | sel
    if hits is None or not hits.any():
        names = [str(v) for c in _MUNI_NAME if c in gdf.columns for v in gdf[c]]
        raise InputError(
            f"municipality {municipality!r} is not in the boundary file; it has {names}"
        )
    return gdf.loc[hits]


def _name_of(gdf: gpd.GeoDataFrame) -> str | None:
    col = next((c for c in _MUNI_NAME if c in gdf.columns), None)
    return " + ".join(str(v) for v in gdf[col]) if col else None


def load_boundary(
    path: Path | None = None,
    municipality: str | None = None,
    bbox: Sequence[float] | None = None,
) -> Boundary:
    """The area boundary from a polygon file (one feature, or ``municipality``) or a bbox.

    Raises
    ------
    InputError
        Neither or both given; several features and no ``municipality``; a bad bbox.
    """
    if (path is None) == (bbox is None):
        raise InputError("give either --boundary FILE or --bbox XMIN,YMIN,XMAX,YMAX (EPSG:25832)")
    if bbox is not None:
        if len(bbox) != 4 or not (bbox[0] < bbox[2] and bbox[1] < bbox[3]):
            raise InputError(f"--bbox must be XMIN,YMIN,XMAX,YMAX in EPSG:25832, got {bbox}")
        box = shapely.box(float(bbox[0]), float(bbox[1]), float(bbox[2]), float(bbox[3]))
        return Boundary(box, "bbox", {"bbox": list(map(float, bbox)), "read_as": "bounding box"})
    assert path is not None
    file, layer = split_layer(path)
    gdf = read_vector(file, crs=AREA_CRS, layer=layer)
    if municipality:
        gdf = _match(gdf, municipality)
    elif len(gdf) > 1:
        names = _name_of(gdf) or f"{len(gdf)} features"
        raise InputError(
            f"{file.name} holds several areas ({names}); choose one with --municipality"
        )
    if set(gdf.geom_type.str.removeprefix("Multi")) != {"Polygon"}:
        raise InputError(f"the boundary {file.name} must be polygons")
    geom = shapely.force_2d(shapely.union_all(gdf.geometry.to_numpy()))
    name = _name_of(gdf) or file.stem
    return Boundary(
        geom, name, {**_file_record(file, layer), "read_as": "municipal boundary", "name": name}
    )


def _tile_record(path: Path) -> dict[str, Any]:
    zipped = split_vsizip(path)
    if zipped is None:
        return _file_record(path)
    return {**_file_record(zipped[0]), "member": zipped[1]}


def _file_record(path: Path, layer: str | None = None) -> dict[str, Any]:
    rec: dict[str, Any] = {"path": str(path.resolve()), "bytes": path.stat().st_size}
    if layer:
        rec["layer"] = layer
    return rec


@dataclass
class InitResult:
    """What :func:`init_area` wrote."""

    toml: Path
    name: str
    terrain: TerrainClip
    tiles: int
    missing_tiles: list[str]
    layers: list[LayerReport] = field(default_factory=list)
    report: Path | None = None
    hints: list[str] = field(default_factory=list)


#: terrain size (cells) above which area init suggests a coarser --resolution
LARGE_CELLS = 50_000_000

#: layers the suitability profiles use, and what to do without them
_SUITABILITY_NEEDS: dict[str, str] = {
    "public_land": "sites are searched on public land only: add --layer public_land=FILE "
    "(the municipality's own parcels or green areas)",
    "institutions": "the Miyawaki profile scores the distance to schools and kindergartens: "
    "add --institutions (BBR buildings)",
    "heating_mains": "tree and forest profiles keep clear of district-heating mains: add "
    "--layer heating_mains=FILE (the utility's pipes), or give suitability a --profiles file "
    "with heating_mains_clearance_m = 0",
    "sea": "without a sea layer the sea is the terrain's nodata at the raster edge, which "
    "after clipping is the whole outside of the boundary: add --layer sea=FILE for a coastal "
    "municipality",
}


def _terrain(
    spec: str | Path, boundary: BaseGeometry, root: Path, resolution: float | None, say: Progress
) -> tuple[TerrainClip, dict[str, Any], list[str]]:
    paths = discover_tiles(spec)
    say(f"terrain: reading the headers of {len(paths)} tile(s)")
    tiles = [read_tile(p) for p in paths]
    check_tiles(tiles, AREA_CRS)
    mosaic = mosaic_of(tiles)
    vrt = build_vrt(mosaic, root / "rasters" / "terrain_tiles.vrt")
    have = {t.name.filename().lower() for t in tiles if t.name is not None}
    named = [t.name for t in tiles if t.name is not None]
    missing: list[str] = []
    if named:
        product, size = named[0].product, named[0].size_km
        for tn in tile_names_covering(boundary.bounds, product, size):
            if tn.filename().lower() not in have and shapely.box(*tn.bounds).intersects(boundary):
                missing.append(tn.filename())
    say(f"terrain: clipping the {mosaic.width} x {mosaic.height} cell mosaic to the boundary")
    clip = clip_terrain(vrt, boundary, root / "rasters" / "terrain.tif", resolution=resolution)
    record = {
        "read_as": "DHM terrain tiles (GeoTIFF, m DVR90) mosaicked through a VRT, clipped",
        "spec": str(spec),
        "cell_m": tiles[0].res,
        "nodata": tiles[0].nodata,
        "files": [_tile_record(t.path) for t in tiles],
    }
    return clip, record, missing


def _groundwater(
    spec: str | Path, field_name: str | None, boundary: BaseGeometry, root: Path
) -> tuple[dict[str, Any], LayerReport]:
    schema = SCHEMAS["groundwater_head"]
    gdf, rep = prepare_layer(
        "groundwater", [spec], schema, boundary, root / "layers" / "groundwater_head.gpkg"
    )
    name = head_field(gdf, field_name)
    rep.fields_used["head"] = name
    kind = "points" if set(gdf.geom_type.str.removeprefix("Multi")) == {"Point"} else "contours"
    return {"kind": kind, "path": "layers/groundwater_head.gpkg", "field": name}, rep


def init_area(
    directory: str | Path,
    *,
    terrain: str | Path,
    boundary: Path | None = None,
    municipality: str | None = None,
    bbox: Sequence[float] | None = None,
    layers: Mapping[str, Sequence[str | Path]] | None = None,
    groundwater: str | Path | None = None,
    groundwater_field: str | None = None,
    name: str | None = None,
    resolution: float | None = None,
    buffer_m: float = 0.0,
    overwrite: bool = False,
    progress: Progress | None = None,
) -> InitResult:
    """Write an area folder (``area.toml`` and its inputs) from downloaded Danish files.

    Parameters
    ----------
    directory : path-like
        Folder to write (created).
    terrain : path-like or str
        Folder or glob of DHM GeoTIFF tiles (``DTM_1km_{N}_{E}.tif``).
    boundary, municipality, bbox
        The area: a polygon file (``--municipality`` picks one feature by name or code)
        or a bounding box in EPSG:25832.
    layers : mapping
        Layer key -> files (``FILE`` or ``FILE:LAYER``). Keys with a Danish schema
        (parcels, buildings, local_plans, heat_plans, coastal_flood_risk,
        groundwater_depth_reference) are mapped by it; any other known key is kept as is.
    groundwater, groundwater_field
        Head contours or points and their head field (guessed when there is one).
    name : str, optional
        Area name (default: the municipality's).
    resolution : float, optional
        Terrain cell size (default: the tiles').
    buffer_m : float
        Grow the boundary by this much (catchments cross municipal borders).
    overwrite : bool
        Replace an existing area.toml.
    progress : callable, optional
        Step messages.

    Returns
    -------
    InitResult

    Raises
    ------
    ConfigError
        Unknown layer keys, an existing area.toml without ``overwrite``, or an area.toml
        that does not validate.
    """
    say = progress or (lambda _m: None)
    root = Path(directory)
    toml_path = root / "area.toml"
    if toml_path.exists() and not overwrite:
        raise ConfigError(f"{toml_path} exists; use --force to replace it")
    layers = dict(layers or {})
    unknown = sorted(set(layers) - set(LAYER_KEYS))
    if unknown:
        raise ConfigError(f"unknown layer key(s) {unknown}; known: {sorted(LAYER_KEYS)}")
    say("reading the boundary")
    bnd = load_boundary(boundary, municipality, bbox)
    area_geom = bnd.geometry.buffer(buffer_m) if buffer_m > 0 else bnd.geometry
    root.mkdir(parents=True, exist_ok=True)
    write_vector(
        gpd.GeoDataFrame({"name": [bnd.name]}, geometry=[area_geom], crs=AREA_CRS),
        root / "layers" / "boundary.gpkg",
        layer="boundary",
    )
    clip, terrain_rec, missing = _terrain(terrain, area_geom, root, resolution, say)
    sources: dict[str, Any] = {"boundary": bnd.source, "terrain": terrain_rec}
    reports: list[LayerReport] = []
    tables: dict[str, dict[str, Any]] = {}
    for key, specs in layers.items():
        schema = SCHEMAS[SCHEMA_OF_LAYER.get(key, "generic")]
        say(f"{key}: reading {len(specs)} file(s) as {schema.title}")
        _gdf, rep = prepare_layer(
            key, list(specs), schema, area_geom, root / "layers" / f"{key}.gpkg"
        )
        reports.append(rep)
        tables[key] = {"path": f"layers/{key}.gpkg", "layer": key, **schema.toml}
        sources[key] = _source_record(rep)
    gw_table = None
    if groundwater is not None:
        say("groundwater: reading the head")
        gw_table, rep = _groundwater(groundwater, groundwater_field, area_geom, root)
        reports.append(rep)
        sources["groundwater"] = _source_record(rep)
    report_path = _write_report(root, bnd, clip, missing, reports)
    area_name = name or bnd.name
    text = area_toml(area_name, tables, gw_table, sources, _description(bnd, clip))
    with atomic_path(toml_path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    try:
        load_area(toml_path)
    except ConfigError:
        toml_path.unlink()
        raise
    hints = [f"no {k} layer: {why}" for k, why in _SUITABILITY_NEEDS.items() if k not in layers]
    cells = clip.width * clip.height
    if cells > LARGE_CELLS:
        hints.append(
            f"the terrain has {cells / 1e6:.0f} M cells: the hazards need about 24 bytes per "
            f"cell ({cells * 24 / 2**30:.1f} GB); rerun with --resolution 1.6 for a first look"
        )
    return InitResult(
        toml_path, area_name, clip, len(terrain_rec["files"]), missing, reports, report_path, hints
    )


def _description(bnd: Boundary, clip: TerrainClip) -> str:
    return (
        f"{bnd.name}: set up by klimakort area init from downloaded files; terrain "
        f"{clip.width} x {clip.height} cells of {clip.res:g} m"
    )


def _source_record(rep: LayerReport) -> dict[str, Any]:
    files = []
    for f in rep.files:
        path, layer = split_layer(f)
        files.append(_file_record(path, layer))
    return {
        "read_as": rep.title,
        "schema": rep.schema,
        "files": files,
        "features_read": rep.features_read,
        "features_kept": rep.features_kept,
    }


def _write_report(
    root: Path, bnd: Boundary, clip: TerrainClip, missing: list[str], reports: list[LayerReport]
) -> Path:
    doc = {
        "boundary": {"name": bnd.name, "area_km2": bnd.geometry.area / 1e6, **bnd.source},
        "terrain": {
            "path": "rasters/terrain.tif",
            "cells": [clip.width, clip.height],
            "cell_m": clip.res,
            "bounds": list(clip.bounds),
            "cells_inside_boundary": clip.cells_inside,
            "cells_without_height": clip.cells_missing,
            "height_range_m": [clip.height_min, clip.height_max],
            "missing_tiles": missing,
        },
        "layers": {r.key: r.to_dict() for r in reports},
    }
    dest = root / "setup_report.json"
    with atomic_path(dest) as tmp:
        tmp.write_text(json.dumps(doc, indent=2, ensure_ascii=False, default=str), "utf-8")
    return dest


# --------------------------------------------------------------------------- TOML


def _value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return repr(v) if math.isfinite(v) else ("nan" if math.isnan(v) else "inf")
    if isinstance(v, Mapping):
        return (
            "{ "
            + ", ".join(f"{_key(k)} = {_value(x)}" for k, x in v.items() if x is not None)
            + " }"
        )
    if isinstance(v, list | tuple):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    return json.dumps(str(v), ensure_ascii=False)


def _key(k: str) -> str:
    return k if k.replace("_", "").replace("-", "").isalnum() and k.isascii() else json.dumps(k)


def _table(name: str, items: Mapping[str, Any]) -> list[str]:
    lines = ["", f"[{name}]"]
    for k, v in items.items():
        if v is None:
            continue
        if isinstance(v, list) and v and isinstance(v[0], Mapping):
            lines.append(f"{_key(k)} = [")
            lines += [f"    {_value(x)}," for x in v]
            lines.append("]")
        else:
            lines.append(f"{_key(k)} = {_value(v)}")
    return lines


def area_toml(
    name: str,
    layers: Mapping[str, Mapping[str, Any]],
    groundwater: Mapping[str, Any] | None,
    sources: Mapping[str, Mapping[str, Any]],
    description: str = "",
) -> str:
    """The ``area.toml`` text (paths relative to it)."""
    lines = [
        "# written by `klimakort area init`; [sources] records every input file",
        f"name = {_value(name)}",
        f"crs = {_value(AREA_CRS)}",
        f"description = {_value(description)}",
    ]
    lines += _table("terrain", {"path": "rasters/terrain.tif"})
    if groundwater:
        lines += _table("groundwater", groundwater)
    for key, tbl in layers.items():
        lines += _table(f"layers.{key}", tbl)
    for key, rec in sources.items():
        lines += _table(f"sources.{key}", rec)
    return "\n".join(lines) + "\n"
