"""What every planned-site store shares: the site record, the errors and the base class.

A *site* is a planned nature measure (a Miyawaki forest, a tree row, a rain garden ...)
drawn as a polygon in the area CRS. Stores keep sites by their text ``site_id`` and
expose a ``revision`` number that changes with every committed change (for ETags).
"""

from __future__ import annotations

import re
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass, replace

import geopandas as gpd
import pandas as pd
import shapely

from klimakort.errors import DataNotFoundError

#: columns of :meth:`SiteStore.read`, in order (``area_m2`` is derived, not stored)
COLUMNS: tuple[str, ...] = ("site_id", "measure", "name", "planned_year", "area_m2")
#: prefix of generated site ids (``PS-01``, ``PS-02`` ...), as in the sample area
ID_PREFIX = "PS-"


@dataclass(frozen=True)
class Site:
    """One planned site.

    Attributes
    ----------
    site_id : str or None
        Unique id; None on a new site whose id the store generates.
    measure : str
        Measure profile name (``miyawaki_forest``, ``tree_row``, ...).
    name : str or None
        Display name.
    planned_year : int or None
        Year the measure is planned for.
    geometry : shapely Polygon or MultiPolygon
        Outline in the area CRS (metres).
    """

    site_id: str | None
    measure: str
    name: str | None
    planned_year: int | None
    geometry: shapely.Geometry

    @property
    def area_m2(self) -> float:
        """Area of the outline in m² (area CRS units squared)."""
        return float(shapely.area(self.geometry))

    def with_id(self, site_id: str) -> Site:
        """The same site with ``site_id`` set."""
        return replace(self, site_id=site_id)

    def properties(self) -> dict[str, object]:
        """The attributes as a GeoJSON property mapping (with ``area_m2``, rounded to cm²)."""
        return {
            "site_id": self.site_id,
            "measure": self.measure,
            "name": self.name,
            "planned_year": self.planned_year,
            "area_m2": round(self.area_m2, 2),
        }


def next_site_id(existing: Iterable[str]) -> str:
    """The next free generated id: ``PS-`` and one more than the largest ``PS-<n>``."""
    pattern = re.compile(rf"^{re.escape(ID_PREFIX)}(\d+)$")
    numbers = [int(m.group(1)) for s in existing if (m := pattern.match(str(s)))]
    return f"{ID_PREFIX}{max(numbers, default=0) + 1:02d}"


def _optional_int(value: object) -> int | None:
    if value is None or value is pd.NA:
        return None
    try:
        if pd.isna(value):  # type: ignore[call-overload]
            return None
    except (TypeError, ValueError):
        pass
    return int(value)  # type: ignore[call-overload]


def _optional_str(value: object) -> str | None:
    if value is None or (isinstance(value, float) and value != value):
        return None
    if value is pd.NA:
        return None
    return str(value)


def sites_to_frame(sites: Iterable[Site], crs: object) -> gpd.GeoDataFrame:
    """A GeoDataFrame with :data:`COLUMNS` and geometry (``planned_year`` as ``Int64``)."""
    rows = list(sites)
    data = {
        "site_id": pd.Series([s.site_id for s in rows], dtype=object),
        "measure": pd.Series([s.measure for s in rows], dtype=object),
        "name": pd.Series([s.name for s in rows], dtype=object),
        "planned_year": pd.array([s.planned_year for s in rows], dtype="Int64"),
        "area_m2": pd.Series([s.area_m2 for s in rows], dtype="float64"),
    }
    geoms = gpd.GeoSeries([s.geometry for s in rows], crs=crs)
    return gpd.GeoDataFrame(data, geometry=geoms, crs=crs)


def frame_to_sites(gdf: gpd.GeoDataFrame) -> list[Site]:
    """The rows of a frame with ``site_id``, ``measure``, ``name``, ``planned_year``."""
    out = []
    for rec, geom in zip(
        gdf[["site_id", "measure", "name", "planned_year"]].itertuples(index=False),
        gdf.geometry,
        strict=True,
    ):
        out.append(
            Site(
                site_id=_optional_str(rec.site_id),
                measure=_optional_str(rec.measure) or "",
                name=_optional_str(rec.name),
                planned_year=_optional_int(rec.planned_year),
                geometry=geom,
            )
        )
    return out


class SiteStore(ABC):
    """Base of the planned-site stores; subclasses implement the ``_``-methods.

    The public methods are thread-safe; every write either commits completely or
    leaves the stored sites as they were.
    """

    #: CRS of the stored geometries (the area CRS)
    crs: str

    def __init__(self) -> None:
        self._lock = threading.RLock()

    # ------------------------------------------------------------------ reading

    @property
    @abstractmethod
    def revision(self) -> int:
        """A number that changes with every committed change."""

    @abstractmethod
    def read(self) -> gpd.GeoDataFrame:
        """All sites in the area CRS, columns :data:`COLUMNS` and ``geometry``."""

    def get(self, site_id: str) -> Site:
        """One site.

        Raises
        ------
        DataNotFoundError
            No site has this id.
        """
        gdf = self.read()
        hit = gdf[gdf["site_id"] == site_id]
        if hit.empty:
            raise not_found(site_id)
        return frame_to_sites(hit)[0]

    # ------------------------------------------------------------------ writing

    @abstractmethod
    def create(self, site: Site) -> Site:
        """Store a new site (its id generated when None); returns it with its id.

        Raises
        ------
        ConflictError
            The id is taken.
        """

    @abstractmethod
    def replace(self, site_id: str, site: Site) -> Site:
        """Replace the site ``site_id`` by ``site`` (whose id must be None or equal).

        Raises
        ------
        DataNotFoundError
            No site has this id.
        """

    @abstractmethod
    def delete(self, site_id: str) -> None:
        """Delete a site.

        Raises
        ------
        DataNotFoundError
            No site has this id.
        """

    def close(self) -> None:  # noqa: B027 - optional hook, a no-op by default
        """Release connections and file handles (idempotent)."""

    def __enter__(self) -> SiteStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def not_found(site_id: str) -> DataNotFoundError:
    """The error for an unknown ``site_id``."""
    return DataNotFoundError(
        f"no planned site with site_id {site_id!r}; list them at /collections/planned_sites/items"
    )
