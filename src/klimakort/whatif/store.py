"""Named what-if edit sets stored with the area, in a GeoPackage written copy-on-write.

One layer (``whatif_edits``) holds every edit of every set: ``whatif`` (the set's name),
``scenario``, ``seq`` (order within the set), ``edit_id``, ``kind``, ``name``, ``params``
(the numeric properties as JSON) and the geometry (lines, polygons, points) in the area CRS.

Writes follow :mod:`klimakort.sites.gpkg`: the whole new layer is written to a temporary
file beside the GeoPackage, fsynced and renamed onto it (atomic), under a thread lock and an
exclusive ``fcntl`` lock on ``<file>.lock``, re-reading the layer under the lock, so two
writers never lose each other's change and readers see the old or the new file. Every set
is validated again (:func:`klimakort.whatif.edits.check_scenario_edit`) before it is
stored.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio

from klimakort.config.area import AreaConfig
from klimakort.errors import DataNotFoundError
from klimakort.io.atomic import atomic_path
from klimakort.whatif.edits import Bounds, Edit, ScenarioEdit, check_scenario_edit

#: the layer of the edits
LAYER = "whatif_edits"
#: where an area's what-if GeoPackage lives (relative to area.toml)
DEFAULT_GPKG = Path("layers") / "whatif_edits.gpkg"
REVISION_KEY = "klimakort_revision"
_COLUMNS = ("whatif", "scenario", "seq", "edit_id", "kind", "name", "params")


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class GpkgWhatIfStore:
    """Named scenario edits in a GeoPackage (created empty when missing).

    Parameters
    ----------
    path : path-like
        The GeoPackage.
    crs : str
        Area CRS.
    bounds : tuple of 4 float, optional
        Terrain bounds; sets reaching outside them are refused.
    """

    def __init__(
        self, path: str | os.PathLike[str], crs: str, *, bounds: Bounds | None = None
    ) -> None:
        self.path = Path(path)
        self.crs = crs
        self.bounds = bounds
        self._lock = threading.RLock()
        self._lock_path = self.path.with_name(self.path.name + ".lock")
        if not self.path.exists():
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self._lock, self._file_lock():
                if not self.path.exists():
                    self._write(self._empty(), 0)

    @classmethod
    def for_area(cls, cfg: AreaConfig, bounds: Bounds | None = None) -> GpkgWhatIfStore:
        """The store beside the area's ``area.toml`` (``layers/whatif_edits.gpkg``)."""
        return cls(cfg.base_dir / DEFAULT_GPKG, cfg.crs, bounds=bounds)

    # ------------------------------------------------------------------ file

    def _empty(self) -> gpd.GeoDataFrame:
        cols: dict[str, object] = {c: pd.Series([], dtype=object) for c in _COLUMNS}
        cols["seq"] = pd.Series([], dtype="int64")
        return gpd.GeoDataFrame(cols, geometry=gpd.GeoSeries([], crs=self.crs), crs=self.crs)

    @contextlib.contextmanager
    def _file_lock(self) -> Iterator[None]:
        with open(self._lock_path, "a+b") as fh:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)

    def _write(self, gdf: gpd.GeoDataFrame, revision: int) -> None:
        with atomic_path(self.path) as tmp:
            pyogrio.write_dataframe(
                gdf,
                tmp,
                layer=LAYER,
                driver="GPKG",
                geometry_type="Unknown",
                promote_to_multi=False,
                layer_metadata={REVISION_KEY: str(revision)},
            )
            _fsync(Path(tmp))
        _fsync(self.path.parent)

    def _load(self) -> tuple[int, gpd.GeoDataFrame]:
        info = pyogrio.read_info(self.path, layer=LAYER)
        gdf = pyogrio.read_dataframe(self.path, layer=LAYER)
        meta = info.get("layer_metadata") or {}
        if gdf.crs is not None and len(gdf):
            gdf = gdf.to_crs(self.crs)
        return int(meta.get(REVISION_KEY, 0)), gdf

    def _commit(self, change: Callable[[gpd.GeoDataFrame], gpd.GeoDataFrame]) -> None:
        with self._lock, self._file_lock():
            revision, gdf = self._load()
            self._write(change(gdf), revision + 1)

    # ------------------------------------------------------------------ API

    @property
    def revision(self) -> int:
        """Raised by every committed write."""
        return self._load()[0]

    def names(self) -> list[str]:
        """Names of the stored sets, sorted."""
        gdf = self._load()[1]
        return sorted({str(v) for v in gdf["whatif"]}) if len(gdf) else []

    def get(self, name: str) -> ScenarioEdit:
        """The stored set ``name``.

        Raises
        ------
        DataNotFoundError
            No set has this name.
        """
        gdf = self._load()[1]
        rows = gdf[gdf["whatif"] == name].sort_values("seq") if len(gdf) else gdf
        if rows.empty:
            raise DataNotFoundError(
                f"no stored what-if named {name!r}; stored: {', '.join(self.names()) or 'none'}"
            )
        edits = tuple(
            Edit(
                kind=str(r.kind),
                geometry=r.geometry,
                values={k: float(v) for k, v in json.loads(str(r.params)).items()},
                name=None if r.name is None or r.name != r.name else str(r.name),
                edit_id=str(r.edit_id),
            )
            for r in rows.itertuples()
        )
        sc = rows["scenario"].iloc[0]
        return ScenarioEdit(name, edits, None if sc is None or sc != sc else str(sc))

    def save(self, se: ScenarioEdit) -> ScenarioEdit:
        """Store a set (replacing a stored set of the same name); returns it as stored."""
        checked = check_scenario_edit(se, self.bounds)
        rows = gpd.GeoDataFrame(
            {
                "whatif": [checked.name] * len(checked.edits),
                "scenario": [checked.scenario] * len(checked.edits),
                "seq": pd.Series(range(len(checked.edits)), dtype="int64"),
                "edit_id": [e.edit_id for e in checked.edits],
                "kind": [e.kind for e in checked.edits],
                "name": [e.name for e in checked.edits],
                "params": [json.dumps(e.values, sort_keys=True) for e in checked.edits],
            },
            geometry=gpd.GeoSeries([e.geometry for e in checked.edits], crs=self.crs),
            crs=self.crs,
        )

        def change(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
            keep = gdf[gdf["whatif"] != checked.name] if len(gdf) else gdf.iloc[0:0]
            if keep.empty:
                return rows
            if keep.geometry.name != "geometry":
                keep = keep.rename_geometry("geometry")
            return gpd.GeoDataFrame(pd.concat([keep, rows], ignore_index=True), crs=self.crs)

        self._commit(change)
        return checked

    def delete(self, name: str) -> None:
        """Delete the set ``name`` (DataNotFoundError when there is none)."""

        def change(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
            hit = (gdf["whatif"] == name).to_numpy(dtype=bool)
            if not hit.any():
                raise DataNotFoundError(f"no stored what-if named {name!r}")
            return gdf[~hit].reset_index(drop=True)

        self._commit(change)
