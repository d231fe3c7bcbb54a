"""Prepare one vector layer of an area from downloaded files.

:func:`prepare_layer` reads one or more files of a source (GeoJSON, GML, GeoPackage,
Shapefile, GeoParquet), refuses a file without a CRS, reprojects to EPSG:25832, repairs
invalid geometries (and counts them), flattens 3-D geometries, derives klimakort's fields
(:mod:`klimakort.setup.schemas`), clips to the area boundary and writes a GeoPackage. Its
:class:`LayerReport` says what was read, kept, repaired and which fields were used, known
or unknown; every original field is kept in the written layer.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from shapely.geometry.base import BaseGeometry

from klimakort.errors import GeometryError, InputError, NoDataError
from klimakort.io.vector import read_vector, write_vector
from klimakort.setup.schemas import Schema, derive

AREA_CRS = "EPSG:25832"

_FAMILY = {"polygon": "Polygon", "line": "LineString", "point": "Point"}


@dataclass
class LayerReport:
    """What happened to one layer (the field report of ``area init``)."""

    key: str
    schema: str
    title: str
    files: list[str]
    source_crs: list[str]
    output: str = ""
    features_read: int = 0
    features_kept: int = 0
    features_outside: int = 0
    features_dropped: int = 0
    invalid_repaired: int = 0
    empty_dropped: int = 0
    flattened_3d: int = 0
    fields_used: dict[str, str] = field(default_factory=dict)
    fields_known: list[str] = field(default_factory=list)
    fields_unknown: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return asdict(self)


def _read_one(path: Path, layer: str | None) -> gpd.GeoDataFrame:
    if not path.is_file():
        raise InputError(f"file not found: {path}")
    if layer is None and path.suffix.lower() in (".gpkg", ".gml", ".xml"):
        layers = pyogrio.list_layers(path)
        spatial = [str(n) for n, g in layers if g is not None]
        if len(spatial) > 1:
            raise InputError(f"{path.name} has several layers {spatial}; name one as FILE:LAYER")
    return read_vector(path, crs=AREA_CRS, layer=layer)


def split_layer(spec: str | Path) -> tuple[Path, str | None]:
    """``file.gpkg:layer`` -> (path, layer); a plain path -> (path, None)."""
    text = str(spec)
    head, sep, tail = text.rpartition(":")
    if sep and head and "/" not in tail and not Path(text).exists() and len(head) > 1:
        return Path(head), tail
    return Path(text), None


def _check_family(gdf: gpd.GeoDataFrame, schema: Schema, name: str) -> None:
    family = _FAMILY.get(schema.geometry)
    if family is None or not len(gdf):
        return
    types = {str(t).removeprefix("Multi") for t in gdf.geom_type.dropna().unique()}
    if types - {family}:
        raise GeometryError(
            f"{schema.title} ({name}) should hold {family}s but has {sorted(types)}; "
            "is it the right file?"
        )


def _flatten(gdf: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, int]:
    geoms = gdf.geometry.to_numpy()
    has_z = shapely.has_z(geoms)
    if not has_z.any():
        return gdf, 0
    flat = gpd.GeoSeries(shapely.force_2d(geoms), index=gdf.index, crs=gdf.crs)
    return gdf.set_geometry(flat), int(has_z.sum())


def overlaps_boundary(geoms: np.ndarray, boundary: BaseGeometry) -> np.ndarray:
    """Features sharing more than a border with ``boundary`` (interiors meet)."""
    shapely.prepare(boundary)
    return shapely.intersects(boundary, geoms) & ~shapely.touches(boundary, geoms)


def _cut(gdf: gpd.GeoDataFrame, boundary: BaseGeometry, family: str | None) -> gpd.GeoDataFrame:
    cut = shapely.intersection(gdf.geometry.to_numpy(), boundary)
    if family:
        cut = np.array([_keep_family(g, family) for g in cut], dtype=object)
    keep = ~shapely.is_empty(cut)
    out = gdf.loc[keep].copy()
    return out.set_geometry(gpd.GeoSeries(cut[keep], index=out.index, crs=gdf.crs))


def _keep_family(geom: BaseGeometry, family: str) -> BaseGeometry:
    if geom.is_empty or geom.geom_type.removeprefix("Multi") == family:
        return geom
    parts = [g for g in shapely.get_parts(geom) if g.geom_type.removeprefix("Multi") == family]
    if not parts:
        return shapely.Polygon() if family == "Polygon" else shapely.LineString()
    if family == "Polygon":
        return shapely.multipolygons(parts) if len(parts) > 1 else parts[0]
    if family == "LineString":
        return shapely.multilinestrings(parts) if len(parts) > 1 else parts[0]
    return shapely.multipoints(parts) if len(parts) > 1 else parts[0]


def clip_to_boundary(
    gdf: gpd.GeoDataFrame, schema: Schema, boundary: BaseGeometry
) -> gpd.GeoDataFrame:
    """Keep what lies in the boundary, by the schema's rule (``select``, ``cut``, ``near``)."""
    if not len(gdf):
        return gdf
    geoms = gdf.geometry.to_numpy()
    if schema.clip == "near":
        return gdf.loc[shapely.intersects(boundary.buffer(schema.near_m), geoms)]
    inside = gdf.loc[overlaps_boundary(geoms, boundary)]
    if schema.clip == "cut":
        return _cut(inside, boundary, _FAMILY.get(schema.geometry))
    return inside


def _report_fields(cols: list[str], schema: Schema, rep: LayerReport) -> None:
    if schema.key == "generic":
        rep.fields_known = cols
        rep.notes.append("no schema: every field kept as it is")
        return
    rep.fields_known = [c for c in cols if schema.is_known(c)]
    rep.fields_unknown = [c for c in cols if not schema.is_known(c)]


def prepare_layer(
    key: str,
    specs: list[str | Path],
    schema: Schema,
    boundary: BaseGeometry,
    out_path: Path,
) -> tuple[gpd.GeoDataFrame, LayerReport]:
    """Read, check, map, clip and write one layer (several files are concatenated).

    Parameters
    ----------
    key : str
        The area.toml layer key.
    specs : list
        Files, each optionally ``FILE:LAYER``.
    schema : Schema
        The source schema.
    boundary : shapely geometry
        The area (EPSG:25832).
    out_path : Path
        GeoPackage to write (layer named ``key``).

    Returns
    -------
    (GeoDataFrame, LayerReport)
        The written layer and its report.

    Raises
    ------
    CRSError
        A file without CRS.
    InputError, GeometryError
        Missing mapping fields, wrong geometry type, unrepairable geometries.
    NoDataError
        Nothing of the layer lies in the boundary.
    """
    rep = LayerReport(key, schema.key, schema.title, [], [])
    parts = []
    raw_fields: dict[str, None] = {}  # the files' own fields, in order
    for spec in specs:
        path, layer = split_layer(spec)
        gdf = _read_one(path, layer)
        name = path.name + (f":{layer}" if layer else "")
        _check_family(gdf, schema, name)
        repair = gdf.attrs["repair"]
        rep.files.append(str(path.resolve()) + (f":{layer}" if layer else ""))
        rep.source_crs.append(str(gdf.attrs["source_crs"]))
        rep.features_read += len(gdf) + repair.n_empty_dropped
        rep.invalid_repaired += repair.n_invalid
        rep.empty_dropped += repair.n_empty_dropped
        raw_fields.update((c, None) for c in gdf.columns if c != gdf.geometry.name)
        gdf, n3d = _flatten(gdf)
        rep.flattened_3d += n3d
        gdf, derived = derive(schema, gdf)
        rep.fields_used.update(derived.used)
        rep.notes += derived.notes
        rep.features_dropped += derived.dropped
        parts.append(gdf)
    merged = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs=AREA_CRS)
    _report_fields(list(raw_fields), schema, rep)
    clipped = clip_to_boundary(merged, schema, boundary).reset_index(drop=True)
    rep.features_kept = len(clipped)
    rep.features_outside = len(merged) - len(clipped)
    if not len(clipped):
        raise NoDataError(
            f"{key}: none of the {len(merged)} feature(s) of {', '.join(rep.files)} lies in "
            "the area boundary; is it the right municipality or file?"
        )
    if rep.flattened_3d:
        rep.notes.append(f"{rep.flattened_3d} 3-D geometries flattened to 2-D")
    if "fid" in clipped.columns and not clipped["fid"].is_unique:
        # GeoPackage takes a 'fid' column as its primary key: keep the values under a new name
        clipped = clipped.rename(columns={"fid": "source_fid"})
        rep.notes.append("'fid' is not unique across the files: kept as 'source_fid'")
    rep.output = str(write_vector(clipped, out_path, layer=key))
    return clipped, rep
