"""Planned sites in a GeoPackage, written copy-on-write.

Every change reads the current layer, builds the whole new layer in a temporary file in
the same folder, fsyncs it and renames it onto the GeoPackage (:func:`os.replace`, atomic
on POSIX), then fsyncs the folder. A crash or an error at any point leaves the previous
file complete. Writers are serialised by a thread lock and an exclusive ``fcntl`` lock on
``<file>.lock``, so two threads or two processes never interleave (and never lose each
other's update: the layer is re-read under the lock). Readers need no lock: they see the
old or the new file, never a mix.

The revision is a counter kept in the layer's metadata (``klimakort_revision``), raised by
every write; a GeoPackage written by other tools starts at 0.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS

from klimakort.errors import ConflictError, CRSError, DataNotFoundError, ParameterError
from klimakort.io.atomic import atomic_path
from klimakort.sites.base import (
    Site,
    SiteStore,
    next_site_id,
    not_found,
)
from klimakort.sites.validate import check_site

log = logging.getLogger(__name__)

#: layer-metadata key of the revision counter
REVISION_KEY = "klimakort_revision"
_STORED = ("site_id", "measure", "name", "planned_year")

Bounds = tuple[float, float, float, float]
Signature = tuple[int, int, int]


def _signature(path: Path) -> Signature | None:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size)


def _geometry_type(geoms: gpd.GeoSeries) -> str:
    kinds = set(geoms.geom_type.dropna())
    if kinds <= {"Polygon"}:
        return "Polygon"
    if kinds == {"MultiPolygon"}:
        return "MultiPolygon"
    return "Unknown"


def _write_frame(gdf: gpd.GeoDataFrame, path: Path, layer: str, revision: int) -> None:
    """Write ``gdf`` as the only layer of a new GeoPackage at ``path`` and fsync it."""
    pyogrio.write_dataframe(
        gdf,
        path,
        layer=layer,
        driver="GPKG",
        geometry_type=_geometry_type(gdf.geometry),
        promote_to_multi=False,
        layer_metadata={REVISION_KEY: str(revision)},
    )
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class GpkgSiteStore(SiteStore):
    """Planned sites in one layer of a GeoPackage.

    Parameters
    ----------
    path : path-like
        The GeoPackage; see :meth:`create_empty` for a new one.
    crs : str
        Area CRS; the layer is reprojected to it on reading and stored in it.
    layer : str, optional
        Layer name (default: the file's only layer).
    fields : dict, optional
        Field names of the file for ``site_id``, ``measure`` and ``name`` when they differ
        (the area's ``id_field``, ``measure_field``, ``name_field``).
    bounds : tuple of 4 float, optional
        Terrain bounds; writes outside them are refused.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        crs: str,
        *,
        layer: str | None = None,
        fields: dict[str, str] | None = None,
        bounds: Bounds | None = None,
    ) -> None:
        super().__init__()
        self.path = Path(path)
        self.crs = crs
        self.bounds = bounds
        if not self.path.is_file():
            raise DataNotFoundError(
                f"planned-sites GeoPackage not found: {self.path}; create one with "
                "GpkgSiteStore.create_empty"
            )
        layers = [str(n) for n in pyogrio.list_layers(self.path)[:, 0]]
        if layer is None:
            if len(layers) != 1:
                raise ParameterError(
                    f"{self.path} has layers {layers}; name the planned-sites layer in "
                    "area.toml ([layers.planned_sites] layer = ...)"
                )
            layer = layers[0]
        elif layer not in layers:
            raise DataNotFoundError(f"{self.path} has no layer {layer!r}; it has {layers}")
        self.layer = layer
        # canonical name -> file field name, for the fields named differently in the file
        self._fields = {k: v for k, v in (fields or {}).items() if v and k != v}
        self._lock_path = self.path.with_name(self.path.name + ".lock")
        self._cache: tuple[Signature, int, gpd.GeoDataFrame] | None = None

    # ------------------------------------------------------------------ creation

    @classmethod
    def create_empty(
        cls, path: str | os.PathLike[str], crs: str, *, layer: str = "planned_sites"
    ) -> Path:
        """Write a GeoPackage with an empty planned-sites layer (atomically); returns it."""
        empty = gpd.GeoDataFrame(
            {
                "site_id": pd.Series([], dtype=object),
                "measure": pd.Series([], dtype=object),
                "name": pd.Series([], dtype=object),
                "planned_year": pd.array([], dtype="Int64"),
            },
            geometry=gpd.GeoSeries([], crs=crs),
            crs=crs,
        )
        dest = Path(path)
        with atomic_path(dest) as tmp:
            _write_frame(empty, tmp, layer, 0)
        _fsync_dir(dest.parent)
        return dest

    # ------------------------------------------------------------------ reading

    def _load(self) -> tuple[Signature, int, gpd.GeoDataFrame]:
        """Read the file as it is now: (signature, revision, canonical frame)."""
        for _ in range(5):
            before = _signature(self.path)
            info = pyogrio.read_info(self.path, layer=self.layer)
            raw = pyogrio.read_dataframe(self.path, layer=self.layer)
            if before is not None and _signature(self.path) == before:
                meta = info.get("layer_metadata") or {}
                return before, int(meta.get(REVISION_KEY, 0)), self._canonical(raw)
        raise DataNotFoundError(f"{self.path} keeps changing or vanished while being read")

    def _canonical(self, raw: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        gdf = raw.rename(columns={v: k for k, v in self._fields.items()})
        if gdf.crs is None:
            raise CRSError(
                f"{self.path} layer {self.layer!r} has no CRS; assign {self.crs} to it "
                "(e.g. with ogr2ogr -a_srs) rather than letting the service guess"
            )
        if not CRS.from_user_input(gdf.crs).equals(CRS.from_user_input(self.crs)):
            gdf = gdf.to_crs(self.crs)
        for col in ("site_id", "measure", "name"):
            if col not in gdf.columns:
                gdf[col] = None
            gdf[col] = pd.Series(
                [None if v is None or v is pd.NA or v != v else str(v) for v in gdf[col]],
                index=gdf.index,
                dtype=object,
            )
        years = gdf["planned_year"] if "planned_year" in gdf.columns else None
        gdf["planned_year"] = (
            pd.array([pd.NA] * len(gdf), dtype="Int64")
            if years is None
            else pd.to_numeric(years).round().astype("Int64")
        )
        return gdf.reset_index(drop=True)

    def _current(self) -> tuple[int, gpd.GeoDataFrame]:
        with self._lock:
            sig = _signature(self.path)
            if self._cache is None or self._cache[0] != sig:
                self._cache = self._load()
            return self._cache[1], self._cache[2]

    @property
    def revision(self) -> int:
        """Counter in the layer metadata, raised by every committed write."""
        return self._current()[0]

    def read(self) -> gpd.GeoDataFrame:
        """All sites (area CRS): site_id, measure, name, planned_year, area_m2, geometry."""
        gdf = self._current()[1].copy()
        cols = ["site_id", "measure", "name", "planned_year"]
        out = gdf[cols].copy()
        out["area_m2"] = np.asarray(shapely.area(gdf.geometry.values), dtype="float64")
        return gpd.GeoDataFrame(out, geometry=gdf.geometry.values, crs=gdf.crs)

    # ------------------------------------------------------------------ writing

    @contextlib.contextmanager
    def _file_lock(self) -> Iterator[None]:
        with open(self._lock_path, "a+b") as fh:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)

    def _commit(self, change: Callable[[gpd.GeoDataFrame], gpd.GeoDataFrame]) -> None:
        """Apply ``change`` to the current layer and replace the file, atomically."""
        with self._lock, self._file_lock():
            _sig, revision, gdf = self._load()  # fresh: another process may have written
            new = change(gdf.copy())
            out = new.rename(columns=self._fields)
            with atomic_path(self.path) as tmp:
                _write_frame(out, tmp, self.layer, revision + 1)
            _fsync_dir(self.path.parent)
            self._cache = None

    @staticmethod
    def _set_row(gdf: gpd.GeoDataFrame, idx: int, site: Site) -> None:
        for col in _STORED:
            gdf.at[idx, col] = getattr(site, col)
        gdf.loc[[idx], gdf.geometry.name] = gpd.GeoSeries([site.geometry], index=[idx])

    def create(self, site: Site) -> Site:
        """Append a site (id generated as ``PS-<n>`` when None); ConflictError if taken."""
        site = check_site(site, bounds=self.bounds)
        stored: list[Site] = []

        def change(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
            ids = [str(s) for s in gdf["site_id"].dropna()]
            new = site if site.site_id is not None else site.with_id(next_site_id(ids))
            if new.site_id in ids:
                raise ConflictError(
                    f"a planned site with site_id {new.site_id!r} exists; change it with "
                    f"PUT /collections/planned_sites/items/{new.site_id} or pick another id"
                )
            geom_col = gdf.geometry.name
            row = gpd.GeoDataFrame(
                {
                    "site_id": [new.site_id],
                    "measure": [new.measure],
                    "name": [new.name],
                    "planned_year": pd.array([new.planned_year], dtype="Int64"),
                    geom_col: gpd.GeoSeries([new.geometry], crs=gdf.crs),
                },
                geometry=geom_col,
                crs=gdf.crs,
            )
            stored.append(new)
            if gdf.empty:
                return row
            return gpd.GeoDataFrame(pd.concat([gdf, row], ignore_index=True), crs=gdf.crs)

        self._commit(change)
        return stored[0]

    def replace(self, site_id: str, site: Site) -> Site:
        """Replace the site ``site_id`` (extra fields of the file are kept)."""
        if site.site_id not in (None, site_id):
            raise ParameterError(
                f"site_id {site.site_id!r} does not match {site_id!r}; ids cannot change"
            )
        new = check_site(site.with_id(site_id), bounds=self.bounds)

        def change(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
            hits = np.flatnonzero((gdf["site_id"] == site_id).to_numpy(dtype=bool))
            if hits.size == 0:
                raise not_found(site_id)
            self._set_row(gdf, int(gdf.index[hits[0]]), new)
            return gdf

        self._commit(change)
        return new

    def delete(self, site_id: str) -> None:
        """Delete the site ``site_id``."""

        def change(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
            keep = (gdf["site_id"] != site_id).to_numpy(dtype=bool)
            if keep.all():
                raise not_found(site_id)
            return gdf[keep].reset_index(drop=True)

        self._commit(change)
