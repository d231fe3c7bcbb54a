"""Loaders for the Danish input layers of the constraint analysis.

Each loader reads a layer with :func:`klimakort.io.read_vector` (reprojected to the
area CRS, invalid geometries repaired and reported), checks that the fields that
carry its meaning exist and are filled, and adds one normalised column that the
rest of klimakort relies on:

==========================  ==================  =============================================
loader                      added column        source
==========================  ==================  =============================================
:func:`load_parcels`        ``parcel_id``       ``{ejerlavskode}-{matrikelnummer}`` (cadastre,
                                                Matriklen) or an existing ``matrikel_id``
:func:`load_local_plans`    ``plan_id``         ``plannr`` as text (Plandata.dk)
:func:`load_heating_zones`  ``zone``            the named zone field
:func:`load_buildings`      ``building_id``     the named id field (text)
:func:`load_planned_sites`  ``measure``,        the named measure field; ``site_id`` from the
                            ``site_id``         named id field or the row number
==========================  ==================  =============================================

Every error names the file, the missing or bad field and what to do.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from klimakort.errors import GeometryError, InputError
from klimakort.io.vector import read_vector

PathLike = str | os.PathLike[str]

__all__ = [
    "LOCAL_PLAN_FIELDS",
    "load_buildings",
    "load_heating_zones",
    "load_local_plans",
    "load_parcels",
    "load_planned_sites",
]

#: accepted spellings of the cadastre fields (Matriklen2 first, then older deliveries;
#: ``landsejerlavskode`` is the old Matrikelkort GML's)
EJERLAV_FIELDS: tuple[str, ...] = (
    "ejerlavskode",
    "ejerlavsKode",
    "elavsKode",
    "elavskode",
    "landsejerlavskode",
)
MATRNR_FIELDS: tuple[str, ...] = ("matrikelnummer", "matrikelnr", "matrNr", "matrnr")

#: Plandata.dk fields kept by :func:`load_local_plans` (in this order)
LOCAL_PLAN_FIELDS: tuple[str, ...] = (
    "planid",
    "plannr",
    "plannavn",
    "plantype",
    "status",
    "datovedt",
    "doklink",
    "komnr",
)
_PLAN_REQUIRED = ("planid", "plannr", "plannavn")


def _name(gdf: gpd.GeoDataFrame) -> str:
    return str(gdf.attrs.get("source_path", "layer"))


def _require(gdf: gpd.GeoDataFrame, fields: Sequence[str], what: str) -> None:
    missing = [f for f in fields if f not in gdf.columns]
    if missing:
        have = sorted(c for c in gdf.columns if c != gdf.geometry.name)
        raise InputError(
            f"{what} {_name(gdf)} lacks field(s) {missing}; it has {have}. "
            "Name the right field in area.toml or rename it in the file."
        )


def _first_present(gdf: gpd.GeoDataFrame, names: Sequence[str]) -> str | None:
    return next((n for n in names if n in gdf.columns), None)


def _no_nulls(gdf: gpd.GeoDataFrame, field: str, what: str) -> None:
    null = gdf[field].isna()
    if null.any():
        rows = np.flatnonzero(null.to_numpy())[:10].tolist()
        raise InputError(
            f"{what} {_name(gdf)}: field {field!r} is empty in {int(null.sum())} feature(s) "
            f"(rows {rows}); fill it or remove those features."
        )


def _unique(gdf: gpd.GeoDataFrame, field: str, what: str) -> None:
    dup = gdf[field].duplicated(keep=False)
    if dup.any():
        values = sorted({str(v) for v in gdf.loc[dup, field]})
        raise InputError(
            f"{what} {_name(gdf)}: {field!r} must be unique but {len(values)} value(s) occur "
            f"more than once: {values[:10]}{' ...' if len(values) > 10 else ''}. "
            "Remove or merge the duplicates, or use another id field."
        )


def _as_text(values: pd.Series) -> pd.Series:
    """Ids as text; integral floats (from files with nulls) lose their '.0'."""
    if pd.api.types.is_float_dtype(values):
        finite = values.dropna()
        if (finite == np.round(finite)).all():
            return values.map(lambda v: None if pd.isna(v) else str(int(v))).astype(object)
    return values.map(lambda v: None if pd.isna(v) else str(v)).astype(object)


def _polygons_only(gdf: gpd.GeoDataFrame, what: str) -> gpd.GeoDataFrame:
    types = set(gdf.geom_type.dropna().unique())
    bad = types - {"Polygon", "MultiPolygon"}
    if bad:
        raise GeometryError(
            f"{what} {_name(gdf)} must hold polygons but has {sorted(bad)}; "
            "convert them to (multi)polygons first."
        )
    if len(gdf) and shapely.has_z(gdf.geometry.to_numpy()).any():
        gdf = gdf.set_geometry(
            gpd.GeoSeries(shapely.force_2d(gdf.geometry.to_numpy()), index=gdf.index, crs=gdf.crs)
        )
    return gdf


def load_parcels(
    path: PathLike, crs: Any = "EPSG:25832", *, layer: str | None = None
) -> gpd.GeoDataFrame:
    """Read cadastral parcels (matrikler) as delivered by Matriklen / Datafordeleren.

    Parameters
    ----------
    path : path-like
        GeoJSON, GML, GeoPackage, ... with fields ``ejerlavskode`` (or ``ejerlavsKode``,
        ``elavsKode``) and ``matrikelnummer`` (or ``matrikelnr``, ``matrNr``);
        ``kommunekode`` is kept when present. A layer that already has a
        ``matrikel_id`` column (klimakort's sample) is accepted as it is.
    crs : CRS-like
        Area CRS to reproject to.
    layer : str, optional
        Layer of a multi-layer source.

    Returns
    -------
    GeoDataFrame
        The original fields plus ``parcel_id`` (text, ``"{ejerlavskode}-{matrikelnummer}"``
        or the ``matrikel_id``), 2-D polygons.

    Raises
    ------
    InputError
        Missing or empty cadastre fields, or duplicate ``parcel_id`` (named).
    GeometryError
        Non-polygon features.
    """
    gdf = read_vector(path, crs=crs, layer=layer)
    gdf = _polygons_only(gdf, "parcel layer")
    ejerlav, matrnr = _first_present(gdf, EJERLAV_FIELDS), _first_present(gdf, MATRNR_FIELDS)
    if "matrikel_id" in gdf.columns:
        _no_nulls(gdf, "matrikel_id", "parcel layer")
        pid = _as_text(gdf["matrikel_id"])
    elif ejerlav and matrnr:
        _no_nulls(gdf, ejerlav, "parcel layer")
        _no_nulls(gdf, matrnr, "parcel layer")
        pid = _as_text(gdf[ejerlav]) + "-" + _as_text(gdf[matrnr]).str.strip()
    else:
        have = sorted(c for c in gdf.columns if c != gdf.geometry.name)
        raise InputError(
            f"parcel layer {_name(gdf)} needs ejerlavskode and matrikelnummer (or "
            f"matrikel_id); it has {have}. Rename the fields or use the cadastre as delivered."
        )
    out = gdf.assign(parcel_id=pid.to_numpy())
    _unique(out, "parcel_id", "parcel layer")
    return out


def _plan_date(values: pd.Series, source: str) -> pd.Series:
    """Plandata dates (int YYYYMMDD, ISO text or datetimes) as :class:`datetime.date`."""
    if pd.api.types.is_datetime64_any_dtype(values):
        parsed = values
    elif pd.api.types.is_numeric_dtype(values):
        text = values.map(lambda v: None if pd.isna(v) else f"{int(v):08d}")
        parsed = pd.to_datetime(text, format="%Y%m%d", errors="coerce")
    else:
        parsed = pd.to_datetime(values, errors="coerce", format="mixed")
    bad = parsed.isna() & values.notna()
    if bad.any():
        raise InputError(
            f"local plans {source}: datovedt {values[bad].iloc[:5].tolist()} are not dates "
            "(expected YYYYMMDD as in Plandata.dk or ISO dates)"
        )
    return parsed.map(lambda t: None if pd.isna(t) else t.date()).astype(object)


def load_local_plans(
    path: PathLike, crs: Any = "EPSG:25832", *, layer: str | None = None
) -> gpd.GeoDataFrame:
    """Read local plans (or heat-plan areas) in the Plandata.dk schema.

    Heat-plan (varmeplan) areas and other plan types delivered by Plandata.dk share
    this schema (``planid``, ``plannr``, ``plannavn``, ``plantype``, ...) and load
    with this function too; ``plantype`` tells them apart.

    Parameters
    ----------
    path : path-like
        Plandata.dk export (GeoJSON, GML, GeoPackage, ...).
    crs : CRS-like
        Area CRS.
    layer : str, optional
        Layer of a multi-layer source.

    Returns
    -------
    GeoDataFrame
        Columns ``plan_id`` (``plannr`` as text, unique), then :data:`LOCAL_PLAN_FIELDS`
        (missing optional fields are added empty; ``datovedt`` as
        :class:`datetime.date` or None) and the geometry (2-D polygons). Other
        Plandata.dk fields are dropped.

    Raises
    ------
    InputError
        ``planid``, ``plannr`` or ``plannavn`` missing or empty, duplicate ``plannr``
        (e.g. a proposal and the adopted plan: filter by ``status``), bad dates.
    GeometryError
        Non-polygon features.
    """
    gdf = read_vector(path, crs=crs, layer=layer)
    _require(gdf, _PLAN_REQUIRED, "local plans")
    for f in _PLAN_REQUIRED:
        _no_nulls(gdf, f, "local plans")
    gdf = _polygons_only(gdf, "local plans")
    gdf = gdf.assign(plan_id=_as_text(gdf["plannr"]).str.strip().to_numpy())
    _unique(gdf, "plan_id", "local plans (plannr)")
    data: dict[str, Any] = {"plan_id": gdf["plan_id"].to_numpy()}
    for f in LOCAL_PLAN_FIELDS:
        data[f] = gdf[f].to_numpy() if f in gdf.columns else np.full(len(gdf), None, object)
    data["plannr"] = gdf["plan_id"].to_numpy()
    if "datovedt" in gdf.columns:
        data["datovedt"] = _plan_date(gdf["datovedt"], _name(gdf)).to_numpy()
    out = gpd.GeoDataFrame(data, geometry=gdf.geometry.to_numpy(), crs=gdf.crs, index=gdf.index)
    out.attrs.update(gdf.attrs)
    return out


def load_heating_zones(
    path: PathLike, zone_field: str, crs: Any = "EPSG:25832", *, layer: str | None = None
) -> gpd.GeoDataFrame:
    """Read district-heating zones (fjernvarmeområder).

    Parameters
    ----------
    path : path-like
        Polygon layer.
    zone_field : str
        Field with the zone name (e.g. ``"zone"``).
    crs : CRS-like
        Area CRS.
    layer : str, optional
        Layer of a multi-layer source.

    Returns
    -------
    GeoDataFrame
        The original fields plus ``zone`` (text).

    Raises
    ------
    InputError
        ``zone_field`` missing or empty.
    GeometryError
        Non-polygon features.
    """
    gdf = read_vector(path, crs=crs, layer=layer, id_field=zone_field)
    _require(gdf, [zone_field], "heating zones")
    _no_nulls(gdf, zone_field, "heating zones")
    gdf = _polygons_only(gdf, "heating zones")
    return gdf.assign(zone=_as_text(gdf[zone_field]).to_numpy())


def load_buildings(
    path: PathLike, id_field: str, crs: Any = "EPSG:25832", *, layer: str | None = None
) -> gpd.GeoDataFrame:
    """Read building footprints (GeoDanmark / BBR).

    Parameters
    ----------
    path : path-like
        Polygon layer; 3-D footprints are flattened.
    id_field : str
        Field with a unique building id (e.g. ``"building_id"``, a BBR ``AutoUID``).
    crs : CRS-like
        Area CRS.
    layer : str, optional
        Layer of a multi-layer source.

    Returns
    -------
    GeoDataFrame
        The original fields plus ``building_id`` (text, unique).

    Raises
    ------
    InputError
        ``id_field`` missing, empty or not unique.
    GeometryError
        Non-polygon features.
    """
    gdf = read_vector(path, crs=crs, layer=layer, id_field=id_field)
    _require(gdf, [id_field], "buildings")
    _no_nulls(gdf, id_field, "buildings")
    gdf = _polygons_only(gdf, "buildings")
    out = gdf.assign(building_id=_as_text(gdf[id_field]).to_numpy())
    _unique(out, "building_id", f"buildings ({id_field})")
    return out


def load_planned_sites(
    path: PathLike,
    measure_field: str,
    crs: Any = "EPSG:25832",
    *,
    id_field: str | None = None,
    layer: str | None = None,
) -> gpd.GeoDataFrame:
    """Read planned sites (trees, Miyawaki forests, rain beds, ...): points, lines or polygons.

    Parameters
    ----------
    path : path-like
        Vector layer.
    measure_field : str
        Field naming the planned measure (e.g. ``"measure"``).
    crs : CRS-like
        Area CRS.
    id_field : str, optional
        Field with a unique site id; without it ``site_id`` is the row number (text).
    layer : str, optional
        Layer of a multi-layer source.

    Returns
    -------
    GeoDataFrame
        The original fields plus ``measure`` and ``site_id`` (text, unique).

    Raises
    ------
    InputError
        ``measure_field`` or ``id_field`` missing or empty; duplicate site ids.
    """
    gdf = read_vector(path, crs=crs, layer=layer, id_field=id_field)
    _require(gdf, [measure_field, *([id_field] if id_field else [])], "planned sites")
    _no_nulls(gdf, measure_field, "planned sites")
    if id_field:
        _no_nulls(gdf, id_field, "planned sites")
        sid = _as_text(gdf[id_field]).to_numpy()
    else:
        sid = np.array([str(i) for i in range(len(gdf))], dtype=object)
    out = gdf.assign(measure=_as_text(gdf[measure_field]).to_numpy(), site_id=sid)
    _unique(out, "site_id", f"planned sites ({id_field or 'row number'})")
    return out
