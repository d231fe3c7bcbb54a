"""The GeoPackage site store: CRUD, revisions, atomic writes, locking (klimakort.sites.gpkg)."""

from __future__ import annotations

import hashlib
import logging
import os
import subprocess
import sys
import textwrap
import threading
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import pyogrio
import pytest
import shapely

from klimakort.config.area import load_area
from klimakort.errors import DataNotFoundError, GeometryError, ParameterError
from klimakort.sites import ConflictError, GpkgSiteStore, Site, open_store
from klimakort.sites import gpkg as gpkg_mod

AreaFactory = Callable[..., Path]


def box_at(i: int, size: float = 10.0) -> shapely.Polygon:
    """A square inside the tiny area, different for each i."""
    x = 700_010.0 + (i % 40) * 20.0
    y = 6_169_250.0 + (i // 40) * 20.0
    return shapely.box(x, y, x + size, y + size)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def store(tiny_area: Path) -> GpkgSiteStore:
    s = open_store(load_area(tiny_area), None)
    assert isinstance(s, GpkgSiteStore)
    return s


def test_reads_the_area_layer(store: GpkgSiteStore, seed_sites: gpd.GeoDataFrame) -> None:
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
    assert gdf["site_id"].tolist() == ["PS-01", "PS-02"]
    assert gdf["area_m2"].tolist() == pytest.approx([260.0, 90.0])
    assert gdf["planned_year"].iloc[0] == 2027 and gdf["planned_year"].isna().iloc[1]
    assert gdf["name"].iloc[1] is None
    assert all(shapely.equals(a, b) for a, b in zip(gdf.geometry, seed_sites.geometry, strict=True))
    site = store.get("PS-01")
    assert site.measure == "miyawaki_forest" and site.name == "Skov ved skolen"
    with pytest.raises(DataNotFoundError, match="PS-99"):
        store.get("PS-99")


def test_create_replace_delete_change_file_and_revision(store: GpkgSiteStore) -> None:
    revs = [store.revision]
    new = store.create(Site(None, "rain_garden", "Regnbed", 2028, box_at(3)))
    assert new.site_id == "PS-03"  # after PS-01, PS-02
    revs.append(store.revision)
    mine = store.create(Site("mit-bed", "tree", None, None, box_at(4)))
    assert mine.site_id == "mit-bed"
    revs.append(store.revision)
    store.replace("PS-01", Site(None, "tree_row", "Række", 2031, box_at(5, 4.0)))
    revs.append(store.revision)
    store.delete("PS-02")
    revs.append(store.revision)
    assert revs == sorted(set(revs)) and len(revs) == 5  # strictly increasing

    # a fresh store (as another process would) sees every change in the file itself
    again = GpkgSiteStore(store.path, "EPSG:25832", layer=store.layer)
    gdf = again.read().set_index("site_id")
    assert sorted(gdf.index) == ["PS-01", "PS-03", "mit-bed"]
    assert gdf.loc["PS-01", "measure"] == "tree_row" and gdf.loc["PS-01", "planned_year"] == 2031
    assert gdf.loc["PS-01", "area_m2"] == pytest.approx(16.0)
    assert gdf.loc["PS-03", "name"] == "Regnbed"
    assert again.revision == revs[-1]


def test_conflicts_and_unknown_ids_leave_the_file_alone(store: GpkgSiteStore) -> None:
    before, rev = digest(store.path), store.revision
    with pytest.raises(ConflictError, match=r"PS-01.*exists") as err:
        store.create(Site("PS-01", "tree", None, None, box_at(1)))
    assert err.value.http_status == 409
    with pytest.raises(DataNotFoundError, match="PS-42"):
        store.replace("PS-42", Site(None, "tree", None, None, box_at(1)))
    with pytest.raises(DataNotFoundError, match="PS-42"):
        store.delete("PS-42")
    with pytest.raises(ParameterError, match="ids cannot change"):
        store.replace("PS-01", Site("PS-02", "tree", None, None, box_at(1)))
    with pytest.raises(GeometryError, match="outside"):  # stores check sites themselves
        store.create(Site(None, "tree", None, None, shapely.box(0, 0, 10, 10)))
    assert digest(store.path) == before and store.revision == rev


def test_a_write_failing_midway_keeps_the_old_file(
    store: GpkgSiteStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    before, rev, rows = digest(store.path), store.revision, store.read()
    calls: list[Path] = []
    real_write = gpkg_mod._write_frame

    def broken(gdf: gpd.GeoDataFrame, path: Path, layer: str, revision: int) -> None:
        calls.append(path)
        real_write(gdf.iloc[:1], path, layer, revision)  # a partial layer is on disk ...
        with open(path, "r+b") as fh:  # ... and half of it is garbage
            fh.seek(os.path.getsize(path) // 2)
            fh.write(b"\0" * 4096)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(gpkg_mod, "_write_frame", broken)
    with pytest.raises(OSError, match="No space left"):
        store.create(Site(None, "tree", None, None, box_at(7)))
    assert calls and calls[0] != store.path and calls[0].parent == store.path.parent
    assert digest(store.path) == before
    assert not calls[0].exists()  # the temporary file was removed
    assert sorted(p.name for p in store.path.parent.iterdir()) == ["sites.gpkg", "sites.gpkg.lock"]
    monkeypatch.undo()
    assert store.revision == rev
    assert store.read().drop(columns="geometry").equals(rows.drop(columns="geometry"))
    assert store.create(Site(None, "tree", None, None, box_at(7))).site_id == "PS-03"


def test_concurrent_threads_lose_no_write(store: GpkgSiteStore) -> None:
    errors: list[BaseException] = []

    def work(i: int) -> None:
        try:
            store.create(Site(None, "tree", f"t{i}", None, box_at(10 + i)))
            store.read()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    gdf = store.read()
    assert len(gdf) == 10 and gdf["site_id"].is_unique
    assert sorted(gdf["name"].dropna()) == sorted(["Skov ved skolen", *(f"t{i}" for i in range(8))])


def test_writers_wait_for_the_os_file_lock_of_another_process(store: GpkgSiteStore) -> None:
    # another process (plain python, no klimakort) holds the lock file, as a writing
    # klimakort process would; our write must wait for it and then see its file
    holder = textwrap.dedent(
        """
        import fcntl, sys
        fh = open(sys.argv[1], "a+b")
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        print("locked", flush=True)
        sys.stdin.readline()
        """
    )
    lock = store.path.with_name(store.path.name + ".lock")
    with subprocess.Popen(
        [sys.executable, "-c", holder, str(lock)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as proc:
        assert proc.stdout is not None and proc.stdin is not None
        assert proc.stdout.readline().strip() == "locked"
        before = digest(store.path)
        done = threading.Event()

        def write() -> None:
            store.create(Site(None, "tree", "waited", None, box_at(9)))
            done.set()

        worker = threading.Thread(target=write)
        worker.start()
        try:
            assert not done.wait(0.5)  # blocked by the other process
            assert digest(store.path) == before
        finally:
            proc.stdin.write("\n")
            proc.stdin.flush()
            assert done.wait(30)
            worker.join()
    assert store.read()["name"].tolist()[-1] == "waited"


def test_open_store_creates_an_empty_geopackage_when_the_area_has_none(
    make_area: AreaFactory, caplog: pytest.LogCaptureFixture
) -> None:
    toml = make_area(None, name="bare")
    with caplog.at_level(logging.WARNING, logger="klimakort.sites"):
        store = open_store(load_area(toml), None)
    path = toml.parent / "layers" / "planned_sites.gpkg"
    assert isinstance(store, GpkgSiteStore) and store.path == path and path.is_file()
    assert "created an empty GeoPackage" in caplog.text
    assert store.read().empty and store.revision == 0
    store.create(Site(None, "miyawaki_forest", None, 2030, box_at(0)))
    assert store.read()["site_id"].tolist() == ["PS-01"]
    caplog.clear()
    again = open_store(load_area(toml), None)  # reused, not recreated
    assert len(again.read()) == 1 and "created" not in caplog.text


def test_field_names_of_the_file_are_kept(
    make_area: AreaFactory, seed_sites: gpd.GeoDataFrame
) -> None:
    renamed = seed_sites.rename(columns={"site_id": "sted_id", "measure": "tiltag"})
    renamed["extra"] = ["keep me", "and me"]
    store = open_store(
        load_area(make_area(renamed, name="fields", id_field="sted_id", measure_field="tiltag")),
        None,
    )
    assert store.read()["measure"].tolist() == ["miyawaki_forest", "tree_row"]
    store.replace("PS-02", Site(None, "tree", None, None, box_at(2)))
    store.create(Site(None, "tree", None, None, box_at(3)))
    assert isinstance(store, GpkgSiteStore)
    raw = pyogrio.read_dataframe(store.path)
    assert {"sted_id", "tiltag", "extra"} <= set(raw.columns) and "site_id" not in raw.columns
    assert raw["extra"].tolist()[:2] == ["keep me", "and me"]
    assert raw["tiltag"].tolist() == ["miyawaki_forest", "tree", "tree"]


def test_mixed_polygon_types_are_kept(store: GpkgSiteStore) -> None:
    multi = shapely.MultiPolygon([box_at(20), box_at(22)])
    store.create(Site("multi", "tree", None, None, multi))
    gdf = store.read().set_index("site_id")
    assert gdf.geometry["multi"].geom_type == "MultiPolygon"
    assert gdf.geometry["PS-01"].geom_type == "Polygon"


def test_a_missing_or_crs_less_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DataNotFoundError, match="create_empty"):
        GpkgSiteStore(tmp_path / "none.gpkg", "EPSG:25832")
    gdf = gpd.GeoDataFrame({"site_id": ["a"], "measure": ["tree"]}, geometry=[box_at(0)])
    with pytest.warns(UserWarning, match="crs"):
        gdf.to_file(tmp_path / "nocrs.gpkg", driver="GPKG")
    from klimakort.errors import CRSError

    with pytest.raises(CRSError, match="no CRS"):
        GpkgSiteStore(tmp_path / "nocrs.gpkg", "EPSG:25832").read()
