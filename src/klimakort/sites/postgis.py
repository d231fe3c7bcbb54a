"""Planned sites in a PostGIS table (psycopg 3 with a connection pool).

Table ``<table>`` holds the sites (``site_id`` text primary key, ``measure``, ``name``,
``planned_year``, ``geom geometry(Geometry, <srid>)``, ``updated``); table
``<table>_revision`` holds one row whose ``revision`` every write raises *in the same
transaction*. That update also takes the row lock that serialises writers (threads or
processes), so id generation and the duplicate check cannot race. A write that fails
(validation, unknown id, a dropped connection) rolls back as a whole.

Both tables are created when missing (under an advisory lock, so concurrent starts do not
collide). :class:`PostgisSiteStore` seeds an empty table from a GeoPackage only when asked
(``seed_from=``) and only while the table has never been written (revision 0): deleting
every site does not bring the seed back.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import geopandas as gpd
import psycopg
import shapely
from psycopg import sql
from psycopg_pool import ConnectionPool
from pyproj import CRS

from klimakort.errors import ConflictError, CRSError, DataNotFoundError, ParameterError
from klimakort.sites.base import (
    Site,
    SiteStore,
    frame_to_sites,
    next_site_id,
    not_found,
    sites_to_frame,
)
from klimakort.sites.validate import check_site

T = TypeVar("T")
Bounds = tuple[float, float, float, float]
_NAME = r"[a-z_][a-z0-9_]{0,40}"


def _check_identifier(value: str, what: str) -> str:
    if not re.fullmatch(_NAME, value):
        raise ParameterError(
            f"{what} {value!r} is not allowed; use lower-case letters, digits and _ "
            "(at most 41 characters, not starting with a digit)"
        )
    return value


class PostgisSiteStore(SiteStore):
    """Planned sites in PostGIS.

    Parameters
    ----------
    url : str
        ``postgresql://user@host:port/db`` (libpq connection string or URL).
    crs : str
        Area CRS (an EPSG CRS; its code is the table's SRID).
    table : str
        Table name (``planned_sites``); the revision lives in ``<table>_revision``.
    schema : str, optional
        Schema of both tables (created when missing); default the search path's first.
    seed_from : SiteStore or path-like, optional
        Sites (a store, or a GeoPackage path) copied in when the table has never been
        written.
    bounds : tuple of 4 float, optional
        Terrain bounds; writes outside them are refused.
    pool_size : int
        Most connections kept open.
    """

    def __init__(
        self,
        url: str,
        crs: str,
        *,
        table: str = "planned_sites",
        schema: str | None = None,
        seed_from: SiteStore | str | os.PathLike[str] | None = None,
        bounds: Bounds | None = None,
        pool_size: int = 4,
    ) -> None:
        super().__init__()
        epsg = CRS.from_user_input(crs).to_epsg()
        if epsg is None:
            raise CRSError(f"{crs} has no EPSG code; PostGIS needs an SRID (e.g. EPSG:25832)")
        self.crs = crs
        self.srid = int(epsg)
        self.bounds = bounds
        self.table = _check_identifier(table, "table name")
        self.schema = None if schema is None else _check_identifier(schema, "schema name")
        self._t = self._ident(self.table)
        self._rev = self._ident(f"{self.table}_revision")
        self._cache: tuple[int, gpd.GeoDataFrame] | None = None
        try:  # fail fast (the pool would retry until its timeout)
            psycopg.connect(url, connect_timeout=10).close()
        except psycopg.Error as exc:
            raise DataNotFoundError(
                f"cannot connect to the planned-sites database ({_redact(url)}): "
                f"{' '.join(str(exc).split())}; check KLIMAKORT_DATABASE_URL and that the "
                "server runs"
            ) from None
        self._pool = ConnectionPool(
            url,
            min_size=1,
            max_size=max(1, pool_size),
            open=True,
            timeout=30.0,
            name=f"klimakort-sites-{self.table}",
        )
        try:
            self._setup(seed_from)
        except Exception:
            self._pool.close()
            raise

    # ------------------------------------------------------------------ plumbing

    def _ident(self, name: str) -> sql.Composable:
        if self.schema is None:
            return sql.Identifier(name)
        return sql.Identifier(self.schema, name)

    def _transaction(self, body: Callable[[psycopg.Cursor[Any]], T]) -> T:
        """Run ``body`` in one transaction (committed on return, rolled back on error).

        Concurrency is the database's business: writers queue on the revision row lock.
        """
        with self._pool.connection() as conn, conn.transaction(), conn.cursor() as cur:
            return body(cur)

    def _setup(self, seed_from: SiteStore | str | os.PathLike[str] | None) -> None:
        def body(cur: psycopg.Cursor[Any]) -> None:
            cur.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"klimakort:{self.table}",))
            if self.schema is not None:
                cur.execute(
                    sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(self.schema))
                )
            cur.execute(
                sql.SQL(
                    "CREATE TABLE IF NOT EXISTS {t} ("
                    " site_id text PRIMARY KEY,"
                    " measure text NOT NULL,"
                    " name text,"
                    " planned_year integer,"
                    " geom geometry(Geometry, {srid}) NOT NULL,"
                    " updated timestamptz NOT NULL DEFAULT now())"
                ).format(t=self._t, srid=sql.Literal(self.srid))
            )
            cur.execute(
                sql.SQL(
                    "CREATE TABLE IF NOT EXISTS {r} ("
                    " id integer PRIMARY KEY CHECK (id = 1),"
                    " revision bigint NOT NULL)"
                ).format(r=self._rev)
            )
            cur.execute(
                sql.SQL(
                    "INSERT INTO {r} (id, revision) VALUES (1, 0) ON CONFLICT (id) DO NOTHING"
                ).format(r=self._rev)
            )
            cur.execute(
                sql.SQL("SELECT Find_SRID(current_schema()::text, %s, 'geom')")
                if self.schema is None
                else sql.SQL("SELECT Find_SRID(%s, %s, 'geom')"),
                (self.table,) if self.schema is None else (self.schema, self.table),
            )
            row = cur.fetchone()
            if row is None or int(row[0]) != self.srid:
                raise CRSError(
                    f"table {self.table} stores SRID {row and row[0]}, the area uses "
                    f"{self.srid}; use another table or reproject the table"
                )
            if seed_from is not None:
                self._seed(cur, seed_from if isinstance(seed_from, SiteStore) else Path(seed_from))

        self._transaction(body)

    def _seed(self, cur: psycopg.Cursor[Any], source: SiteStore | Path) -> None:
        cur.execute(sql.SQL("SELECT revision FROM {r} WHERE id = 1").format(r=self._rev))
        rev = cur.fetchone()
        cur.execute(sql.SQL("SELECT count(*) FROM {t}").format(t=self._t))
        count = cur.fetchone()
        if not rev or not count or int(rev[0]) != 0 or int(count[0]) != 0:
            return
        if not isinstance(source, SiteStore):
            from klimakort.sites.gpkg import GpkgSiteStore

            source = GpkgSiteStore(source, self.crs)
        sites = frame_to_sites(source.read())
        for site in sites:
            self._insert(cur, site)
        self._bump(cur)

    def _bump(self, cur: psycopg.Cursor[Any]) -> int:
        """Raise the revision; the row lock it takes serialises writers until commit."""
        cur.execute(
            sql.SQL(
                "UPDATE {r} SET revision = revision + 1 WHERE id = 1 RETURNING revision"
            ).format(r=self._rev)
        )
        row = cur.fetchone()
        if row is None:  # pragma: no cover - the row is created in _setup
            raise DataNotFoundError(f"revision row of {self.table} is missing")
        return int(row[0])

    def _insert(self, cur: psycopg.Cursor[Any], site: Site) -> None:
        cur.execute(
            sql.SQL(
                "INSERT INTO {t} (site_id, measure, name, planned_year, geom, updated) "
                "VALUES (%s, %s, %s, %s, ST_GeomFromWKB(%s, {srid}), now())"
            ).format(t=self._t, srid=sql.Literal(self.srid)),
            (
                site.site_id,
                site.measure,
                site.name,
                site.planned_year,
                shapely.to_wkb(site.geometry),
            ),
        )

    # ------------------------------------------------------------------ reading

    @property
    def revision(self) -> int:
        """The revision counter (raised by every committed write)."""

        def body(cur: psycopg.Cursor[Any]) -> int:
            cur.execute(sql.SQL("SELECT revision FROM {r} WHERE id = 1").format(r=self._rev))
            row = cur.fetchone()
            return int(row[0]) if row else 0

        return self._transaction(body)

    def read(self) -> gpd.GeoDataFrame:
        """All sites (area CRS): site_id, measure, name, planned_year, area_m2, geometry."""

        def body(cur: psycopg.Cursor[Any]) -> tuple[int, gpd.GeoDataFrame]:
            cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            cur.execute(sql.SQL("SELECT revision FROM {r} WHERE id = 1").format(r=self._rev))
            row = cur.fetchone()
            rev = int(row[0]) if row else 0
            if self._cache is not None and self._cache[0] == rev:
                return self._cache
            cur.execute(
                sql.SQL(
                    "SELECT site_id, measure, name, planned_year, ST_AsBinary(geom) "
                    "FROM {t} ORDER BY site_id"
                ).format(t=self._t)
            )
            sites = [
                Site(sid, measure, name, year, shapely.from_wkb(bytes(wkb)))
                for sid, measure, name, year, wkb in cur.fetchall()
            ]
            self._cache = (rev, sites_to_frame(sites, self.crs))
            return self._cache

        return self._transaction(body)[1].copy()

    # ------------------------------------------------------------------ writing

    def create(self, site: Site) -> Site:
        """Insert a site (id generated as ``PS-<n>`` when None); ConflictError if taken."""
        site = check_site(site, bounds=self.bounds)

        def body(cur: psycopg.Cursor[Any]) -> Site:
            self._bump(cur)
            if site.site_id is None:
                cur.execute(sql.SQL("SELECT site_id FROM {t}").format(t=self._t))
                new = site.with_id(next_site_id(r[0] for r in cur.fetchall()))
            else:
                new = site
            cur.execute(
                sql.SQL("SELECT 1 FROM {t} WHERE site_id = %s").format(t=self._t),
                (new.site_id,),
            )
            if cur.fetchone() is not None:
                raise ConflictError(
                    f"a planned site with site_id {new.site_id!r} exists; change it with "
                    f"PUT /collections/planned_sites/items/{new.site_id} or pick another id"
                )
            self._insert(cur, new)
            return new

        return self._transaction(body)

    def replace(self, site_id: str, site: Site) -> Site:
        """Replace the site ``site_id``."""
        if site.site_id not in (None, site_id):
            raise ParameterError(
                f"site_id {site.site_id!r} does not match {site_id!r}; ids cannot change"
            )
        new = check_site(site.with_id(site_id), bounds=self.bounds)

        def body(cur: psycopg.Cursor[Any]) -> Site:
            self._bump(cur)
            cur.execute(
                sql.SQL(
                    "UPDATE {t} SET measure = %s, name = %s, planned_year = %s, "
                    "geom = ST_GeomFromWKB(%s, {srid}), updated = now() WHERE site_id = %s"
                ).format(t=self._t, srid=sql.Literal(self.srid)),
                (
                    new.measure,
                    new.name,
                    new.planned_year,
                    shapely.to_wkb(new.geometry),
                    site_id,
                ),
            )
            if cur.rowcount != 1:
                raise not_found(site_id)
            return new

        return self._transaction(body)

    def delete(self, site_id: str) -> None:
        """Delete the site ``site_id``."""

        def body(cur: psycopg.Cursor[Any]) -> None:
            self._bump(cur)
            cur.execute(sql.SQL("DELETE FROM {t} WHERE site_id = %s").format(t=self._t), (site_id,))
            if cur.rowcount != 1:
                raise not_found(site_id)

        self._transaction(body)

    def close(self) -> None:
        """Close the connection pool (idempotent)."""
        self._pool.close()

    def drop(self) -> None:
        """Drop both tables (tests and tear-down only); the store is closed afterwards."""

        def body(cur: psycopg.Cursor[Any]) -> None:
            cur.execute(sql.SQL("DROP TABLE IF EXISTS {t}, {r}").format(t=self._t, r=self._rev))

        try:
            self._transaction(body)
        finally:
            self.close()


def _redact(url: str) -> str:
    """``url`` without its password."""
    try:
        info = psycopg.conninfo.conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return "<unparsable URL>"
    info.pop("password", None)
    return " ".join(f"{k}={v}" for k, v in info.items())
