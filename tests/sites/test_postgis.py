"""The PostGIS site store against a real server (``KLIMAKORT_TEST_DATABASE_URL``).

Start one with ``eval "$(bash .ci/postgis.sh)"; export KLIMAKORT_TEST_DATABASE_URL``.
Skipped when the variable is unset on a developer machine; fails under ``CI=true``.
Every test works in its own table (or schema), so parallel runs do not collide.
"""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import shapely

from klimakort.config.area import load_area
from klimakort.errors import CRSError, DataNotFoundError, GeometryError
from klimakort.sites import ConflictError, GpkgSiteStore, Site, open_store
from klimakort.sites.postgis import PostgisSiteStore

Bounds = tuple[float, float, float, float]
CRS = "EPSG:25832"


@pytest.fixture(scope="module")
def database_url() -> str:
    """URL of the test database; skip locally, fail under CI when it is not set."""
    url = os.environ.get("KLIMAKORT_TEST_DATABASE_URL", "")
    if not url:
        msg = (
            "KLIMAKORT_TEST_DATABASE_URL is not set; start a server with "
            '`eval "$(bash .ci/postgis.sh)"; export KLIMAKORT_TEST_DATABASE_URL`'
        )
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(msg + " (CI=true)")
        pytest.skip(msg)
    return url


@pytest.fixture
def table() -> str:
    """A table name of this test alone."""
    return f"sites_{uuid.uuid4().hex[:16]}"


@pytest.fixture
def store(database_url: str, table: str, tiny_bounds: Bounds) -> Iterator[PostgisSiteStore]:
    s = PostgisSiteStore(database_url, CRS, table=table, bounds=tiny_bounds)
    yield s
    PostgisSiteStore(database_url, CRS, table=table).drop()
    s.close()


def box_at(i: int, size: float = 10.0) -> shapely.Polygon:
    x = 700_010.0 + (i % 40) * 20.0
    y = 6_169_250.0 + (i // 40) * 20.0
    return shapely.box(x, y, x + size, y + size)


def sql_rows(url: str, query: str) -> list[tuple[object, ...]]:
    with psycopg.connect(url) as conn:
        return list(conn.execute(query).fetchall())


def test_creates_the_tables_with_the_area_srid(
    store: PostgisSiteStore, database_url: str, table: str
) -> None:
    assert store.read().empty and store.revision == 0
    cols = sql_rows(
        database_url,
        "SELECT column_name, data_type FROM information_schema.columns "
        f"WHERE table_name = '{table}' ORDER BY ordinal_position",
    )
    assert [c[0] for c in cols] == [
        "site_id",
        "measure",
        "name",
        "planned_year",
        "geom",
        "updated",
    ]
    assert sql_rows(database_url, f"SELECT Find_SRID('public', '{table}', 'geom')") == [(25832,)]


def test_crud_and_revision(store: PostgisSiteStore, database_url: str, table: str) -> None:
    revs = [store.revision]
    a = store.create(Site(None, "miyawaki_forest", "Skov", 2027, box_at(1)))
    revs.append(store.revision)
    b = store.create(Site("eget-id", "tree_row", None, None, box_at(2, 4.0)))
    revs.append(store.revision)
    assert (a.site_id, b.site_id) == ("PS-01", "eget-id")
    assert store.create(Site(None, "tree", None, None, box_at(3))).site_id == "PS-02"
    revs.append(store.revision)
    store.replace("PS-01", Site(None, "rain_garden", "Regnbed", 2030, box_at(4, 5.0)))
    revs.append(store.revision)
    store.delete("PS-02")
    revs.append(store.revision)
    assert revs == [0, 1, 2, 3, 4, 5]

    gdf = store.read()
    assert list(gdf.columns) == [
        "site_id",
        "measure",
        "name",
        "planned_year",
        "area_m2",
        "geometry",
    ]
    assert gdf.crs.to_epsg() == 25832
    gdf = gdf.set_index("site_id")
    assert sorted(gdf.index) == ["PS-01", "eget-id"]
    assert gdf.loc["PS-01", "measure"] == "rain_garden" and gdf.loc["PS-01", "planned_year"] == 2030
    assert gdf.loc["PS-01", "area_m2"] == pytest.approx(25.0)
    assert shapely.equals(gdf.geometry["PS-01"], box_at(4, 5.0))
    assert gdf.loc["eget-id", "name"] is None
    assert store.get("eget-id").measure == "tree_row"
    # what another client of the database sees
    rows = sql_rows(
        database_url, f"SELECT site_id, round(ST_Area(geom)) FROM {table} ORDER BY site_id"
    )
    assert rows == [("PS-01", 25.0), ("eget-id", 16.0)]


def test_refused_writes_change_nothing(store: PostgisSiteStore) -> None:
    store.create(Site(None, "tree", None, None, box_at(1)))
    rev = store.revision
    with pytest.raises(ConflictError, match="PS-01"):
        store.create(Site("PS-01", "tree", None, None, box_at(2)))
    with pytest.raises(DataNotFoundError, match="PS-77"):
        store.replace("PS-77", Site(None, "tree", None, None, box_at(2)))
    with pytest.raises(DataNotFoundError, match="PS-77"):
        store.delete("PS-77")
    with pytest.raises(GeometryError, match="outside"):
        store.create(Site(None, "tree", None, None, shapely.box(0, 0, 1, 1)))
    assert store.revision == rev and len(store.read()) == 1


def test_a_failure_inside_the_transaction_rolls_everything_back(
    store: PostgisSiteStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.create(Site(None, "tree", None, None, box_at(1)))
    rev = store.revision

    def broken(cur: psycopg.Cursor[object], site: Site) -> None:
        cur.execute("SELECT 1")  # the revision was already raised in this transaction
        raise ConnectionError("connection lost")

    monkeypatch.setattr(store, "_insert", broken)
    with pytest.raises(ConnectionError):
        store.create(Site(None, "tree", None, None, box_at(2)))
    monkeypatch.undo()
    assert store.revision == rev and store.read()["site_id"].tolist() == ["PS-01"]


def test_concurrent_creates_get_distinct_generated_ids(
    database_url: str, table: str, store: PostgisSiteStore
) -> None:
    # two stores (two pools, like two processes) and several threads each
    other = PostgisSiteStore(database_url, CRS, table=table)
    errors: list[BaseException] = []

    def work(s: PostgisSiteStore, i: int) -> None:
        try:
            s.create(Site(None, "tree", f"t{i}", None, box_at(i)))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [
        threading.Thread(target=work, args=(store if i % 2 else other, i)) for i in range(10)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    other.close()
    assert not errors
    gdf = store.read()
    assert sorted(gdf["site_id"]) == [f"PS-{k:02d}" for k in range(1, 11)]
    assert sorted(gdf["name"]) == sorted(f"t{i}" for i in range(10))
    assert store.revision == 10


def test_seeds_only_a_table_never_written(
    database_url: str, table: str, tiny_area: Path, tiny_bounds: Bounds
) -> None:
    cfg = load_area(tiny_area)
    store = open_store(cfg, database_url, table=table)
    try:
        assert isinstance(store, PostgisSiteStore)
        assert store.read()["site_id"].tolist() == ["PS-01", "PS-02"]
        assert store.revision == 1
        assert store.create(Site(None, "tree", None, None, box_at(5))).site_id == "PS-03"
        store.close()
        # reopened: not seeded twice
        store = open_store(cfg, database_url, table=table)
        assert len(store.read()) == 3
        for sid in ("PS-01", "PS-02", "PS-03"):
            store.delete(sid)
        store.close()
        # emptied by users: the seed does not come back
        store = open_store(cfg, database_url, table=table)
        assert store.read().empty
        # the GeoPackage itself was never touched
        assert len(GpkgSiteStore(cfg.layers["planned_sites"].path, CRS).read()) == 2
    finally:
        store.close()
        PostgisSiteStore(database_url, CRS, table=table).drop()


def test_no_seed_unless_asked(database_url: str, table: str, tiny_area: Path) -> None:
    store = open_store(load_area(tiny_area), database_url, table=table, seed=False)
    try:
        assert store.read().empty
    finally:
        assert isinstance(store, PostgisSiteStore)
        store.drop()


def test_own_schema_and_srid_check(database_url: str, tiny_bounds: Bounds) -> None:
    schema = f"s_{uuid.uuid4().hex[:12]}"
    store = PostgisSiteStore(database_url, CRS, schema=schema, bounds=tiny_bounds)
    try:
        store.create(Site(None, "tree", None, None, box_at(1)))
        assert sql_rows(database_url, f"SELECT count(*) FROM {schema}.planned_sites") == [(1,)]
        with pytest.raises(CRSError, match=r"SRID 25832.*25833"):
            PostgisSiteStore(database_url, "EPSG:25833", schema=schema)
    finally:
        store.close()
        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


def test_unreachable_server_is_a_clear_error() -> None:
    with pytest.raises(DataNotFoundError, match=r"cannot connect.*KLIMAKORT_DATABASE_URL"):
        PostgisSiteStore("postgresql://nobody@127.0.0.1:1/none", CRS)
