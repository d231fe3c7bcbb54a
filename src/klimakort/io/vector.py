"""Vector I/O: GeoPackage, GeoJSON, GeoParquet and Shapefile through pyogrio.

Layers are reprojected to the area CRS (EPSG:25832 by default). A layer without a
CRS is refused rather than guessed. Invalid geometries are repaired with
``shapely.make_valid`` and the repair is reported (count and ids) in
``gdf.attrs["repair"]`` and through :mod:`logging`; geometries that stay invalid or
empty after repair raise :class:`~klimakort.errors.GeometryError` naming them.
"""

from __future__ import annotations

import importlib.util
import logging
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pyogrio
import shapely
from pyproj import CRS

from klimakort.errors import CRSError, DataNotFoundError, GeometryError, InputError
from klimakort.io.atomic import atomic_path

#: write through Arrow (much less Python per feature) when pyarrow is installed
_ARROW = importlib.util.find_spec("pyarrow") is not None

log = logging.getLogger(__name__)

PathLike = str | os.PathLike[str]


@dataclass(frozen=True)
class RepairReport:
    """What :func:`repair_geometries` did to a layer.

    Attributes
    ----------
    n_invalid : int
        Number of invalid geometries found.
    repaired_ids : list
        Ids (or row positions) of the repaired features.
    n_empty_dropped : int
        Features without geometry that were dropped.
    reasons : dict
        Id -> shapely's explanation of why the geometry was invalid (first 20).
    """

    n_invalid: int = 0
    repaired_ids: list[Any] = field(default_factory=list)
    n_empty_dropped: int = 0
    reasons: dict[Any, str] = field(default_factory=dict)

    def summary(self) -> str:
        """One line for logs and CLI output."""
        ids = ", ".join(map(str, self.repaired_ids[:10]))
        more = "" if len(self.repaired_ids) <= 10 else f" and {len(self.repaired_ids) - 10} more"
        return (
            f"{self.n_invalid} invalid geometr{'y' if self.n_invalid == 1 else 'ies'} repaired"
            + (f" (ids {ids}{more})" if self.n_invalid else "")
            + (f"; {self.n_empty_dropped} empty dropped" if self.n_empty_dropped else "")
        )


def _geometry_family(geom_type: str) -> str:
    return geom_type.removeprefix("Multi")


def repair_geometries(
    gdf: gpd.GeoDataFrame, id_field: str | None = None, *, drop_empty: bool = True
) -> tuple[gpd.GeoDataFrame, RepairReport]:
    """Repair invalid geometries, keeping each feature's geometry family.

    Parameters
    ----------
    gdf : GeoDataFrame
        Layer to repair (not modified).
    id_field : str, optional
        Column used to name features in the report (row positions otherwise).
    drop_empty : bool
        Drop features with missing or empty geometry (counted in the report).

    Returns
    -------
    (GeoDataFrame, RepairReport)

    Raises
    ------
    GeometryError
        A geometry is still invalid after ``make_valid``.
    """
    out = gdf.copy()
    ids = out[id_field].to_numpy() if id_field and id_field in out else np.arange(len(out))
    geoms = out.geometry.to_numpy()
    empty = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    n_empty = int(empty.sum()) if drop_empty else 0
    invalid = ~empty & ~shapely.is_valid(geoms)
    reasons: dict[Any, str] = {}
    if invalid.any():
        idx = np.flatnonzero(invalid)
        for i in idx[:20]:
            reasons[_plain(ids[i])] = shapely.is_valid_reason(geoms[i])
        fixed = shapely.make_valid(geoms[idx])
        for j, i in enumerate(idx):
            fixed_j = _keep_family(fixed[j], geoms[i].geom_type)
            geoms[i] = fixed_j
        still = ~shapely.is_valid(geoms[idx])
        if still.any():
            bad = [_plain(ids[i]) for i in idx[still]]
            raise GeometryError(f"{len(bad)} geometries could not be repaired: ids {bad[:10]}")
        out = out.set_geometry(gpd.GeoSeries(geoms, index=out.index, crs=out.crs))
    report = RepairReport(
        n_invalid=int(invalid.sum()),
        repaired_ids=[_plain(i) for i in ids[invalid]],
        n_empty_dropped=n_empty,
        reasons=reasons,
    )
    if drop_empty and n_empty:
        out = out.loc[~empty]
    return out, report


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _keep_family(geom: Any, original_type: str) -> Any:
    """make_valid may return a GeometryCollection; keep the parts of the original family."""
    if geom.geom_type != "GeometryCollection":
        return geom
    family = _geometry_family(original_type)
    parts = [g for g in shapely.get_parts(geom) if _geometry_family(g.geom_type) == family]
    if not parts:
        return geom
    if family == "Polygon":
        return shapely.multipolygons(parts) if len(parts) > 1 else parts[0]
    if family == "LineString":
        return shapely.multilinestrings(parts) if len(parts) > 1 else parts[0]
    return shapely.multipoints(parts) if len(parts) > 1 else parts[0]


def read_vector(
    path: PathLike,
    *,
    crs: Any = "EPSG:25832",
    layer: str | None = None,
    id_field: str | None = None,
    repair: bool = True,
) -> gpd.GeoDataFrame:
    """Read a vector layer, reproject it to ``crs`` and repair invalid geometries.

    Parameters
    ----------
    path : path-like
        GeoPackage, GeoJSON, GeoParquet (``.parquet``) or Shapefile.
    crs : CRS-like
        Target CRS (the area CRS). Must be projected.
    layer : str, optional
        Layer name for multi-layer sources such as GeoPackages.
    id_field : str, optional
        Column that identifies features in repair reports.
    repair : bool
        Repair invalid geometries (report in ``gdf.attrs["repair"]``).

    Returns
    -------
    GeoDataFrame
        In ``crs``; ``attrs`` holds ``source_path``, ``source_crs`` and ``repair``.

    Raises
    ------
    DataNotFoundError
        Missing file or layer.
    CRSError
        The layer has no CRS, or ``crs`` is not projected.
    GeometryError
        Geometries that cannot be repaired.
    """
    path = Path(path)
    if not path.exists():
        raise DataNotFoundError(f"vector layer not found: {path}")
    target = CRS.from_user_input(crs)
    if target.is_geographic:
        raise CRSError(f"target CRS {target.to_string()} is geographic; use a projected CRS")
    try:
        if path.suffix.lower() in (".parquet", ".geoparquet"):
            gdf = gpd.read_parquet(path)
        else:
            gdf = pyogrio.read_dataframe(path, layer=layer)
    except (pyogrio.errors.DataLayerError, pyogrio.errors.DataSourceError) as exc:
        raise DataNotFoundError(f"cannot read {path} (layer {layer!r}): {exc}") from exc
    if gdf.crs is None:
        raise CRSError(
            f"vector layer {path} has no CRS. Set it in the file (e.g. with ogr2ogr -a_srs "
            "EPSG:25832); klimakort never guesses a CRS."
        )
    source_crs = gdf.crs
    if not CRS.from_user_input(source_crs).equals(target):
        gdf = gdf.to_crs(target)
    report = RepairReport()
    if repair:
        gdf, report = repair_geometries(gdf, id_field)
        if report.n_invalid or report.n_empty_dropped:
            log.warning("%s: %s", path.name, report.summary())
    gdf.attrs.update({"source_path": str(path), "source_crs": str(source_crs), "repair": report})
    return gdf


def write_vector(gdf: gpd.GeoDataFrame, path: PathLike, *, layer: str | None = None) -> Path:
    """Write a GeoDataFrame to a GeoPackage (or GeoJSON by suffix), atomically.

    Parameters
    ----------
    gdf : GeoDataFrame
        Must have a CRS.
    path : path-like
        Destination; ``.gpkg`` (default driver) or ``.geojson``.
    layer : str, optional
        Layer name (defaults to the file stem).

    Returns
    -------
    Path
        The written file.
    """
    dest = Path(path)
    if gdf.crs is None:
        raise CRSError(f"refusing to write {dest.name}: the layer has no CRS")
    suffix = dest.suffix.lower()
    driver = {".gpkg": "GPKG", ".geojson": "GeoJSON", ".json": "GeoJSON"}.get(suffix)
    if driver is None:
        raise InputError(f"unsupported vector format {suffix!r}; use .gpkg or .geojson")
    plain = gdf.copy()
    plain.attrs = {}
    with atomic_path(dest) as tmp, _gpkg_write_config():
        pyogrio.write_dataframe(
            plain, tmp, layer=layer or dest.stem, driver=driver, use_arrow=_ARROW
        )
    return dest


def _promote(geoms: gpd.GeoSeries, geom_type: str) -> gpd.GeoSeries:
    """Polygons -> MultiPolygons, so that a layer has one geometry type."""
    if geom_type != "MultiPolygon":
        return geoms
    arr = geoms.to_numpy().copy()
    single = np.flatnonzero(shapely.get_type_id(arr) == shapely.GeometryType.POLYGON)
    if single.size:
        arr[single] = shapely.multipolygons(arr[single], indices=np.arange(single.size))
    return gpd.GeoSeries(arr, index=geoms.index, crs=geoms.crs)


#: geometry types written feature by feature rather than through Arrow: GDAL (3.12)
#: builds a polygon layer's R-tree in bulk on that path, but row by row on the Arrow
#: path (the 122,000 watershed polygons of a 16 M cell run: 0.55 s against 1.1 s);
#: points and lines are faster through Arrow
_FEATURE_PATH = frozenset({"Polygon", "MultiPolygon"})

#: SQLite settings of GeoPackage writes: the file is a temporary one until it is
#: renamed into place, so no journal syncing is needed while it is written
_GPKG_WRITE_CONFIG = {"OGR_SQLITE_SYNCHRONOUS": "OFF", "OGR_SQLITE_CACHE": "256"}


@contextmanager
def _gpkg_write_config() -> Iterator[None]:
    """pyogrio's GDAL options for the duration of one write, then the previous values."""
    old = {k: pyogrio.get_gdal_config_option(k) for k in _GPKG_WRITE_CONFIG}
    pyogrio.set_gdal_config_options(_GPKG_WRITE_CONFIG)
    try:
        yield
    finally:
        pyogrio.set_gdal_config_options(old)


def write_layers(path: PathLike, layers: dict[str, tuple[gpd.GeoDataFrame, str | None]]) -> Path:
    """Write several layers into one GeoPackage, atomically (empty layers included).

    Parameters
    ----------
    path : path-like
        Destination ``.gpkg``.
    layers : dict
        Layer name -> (GeoDataFrame, geometry type). With a geometry type such as
        ``"MultiPolygon"`` single polygons are promoted so that the layer has one
        type, and an empty layer is still created with that type.

    Returns
    -------
    Path
        The written file.
    """
    return write_layer_batches(path, {k: ([gdf], gt) for k, (gdf, gt) in layers.items()})


def write_layer_batches(
    path: PathLike, layers: dict[str, tuple[Iterable[gpd.GeoDataFrame], str | None]]
) -> Path:
    """:func:`write_layers` with every layer given as batches, appended in order.

    The batches of a layer share one schema; they may come from a generator, so a
    layer larger than memory is written a batch at a time. The file appears only
    when every layer is complete (atomic rename).

    Raises
    ------
    CRSError
        A batch has no CRS.
    InputError
        A layer has no batch at all (its schema is unknown).
    """
    dest = Path(path)
    with atomic_path(dest) as tmp, _gpkg_write_config():
        for name, (batches, geom_type) in layers.items():
            wrote = False
            for gdf in batches:
                if wrote and gdf.empty:
                    continue
                if gdf.crs is None:
                    raise CRSError(f"refusing to write layer {name!r}: it has no CRS")
                plain = gdf.copy(deep=False)
                plain.attrs = {}
                if len(plain) and geom_type:
                    plain = plain.set_geometry(_promote(plain.geometry, geom_type))
                kwargs = {"geometry_type": geom_type} if geom_type else {}
                pyogrio.write_dataframe(
                    plain,
                    tmp,
                    layer=name,
                    driver="GPKG",
                    append=tmp.exists(),
                    use_arrow=_ARROW and geom_type not in _FEATURE_PATH,
                    **kwargs,
                )
                wrote = True
            if not wrote:
                raise InputError(f"layer {name!r} has no batch to write (its schema is unknown)")
    return dest
