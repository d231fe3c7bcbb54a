"""Named what-if edit sets in a GeoPackage: round trip, replace, delete, atomic writes."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
import shapely

from klimakort.errors import DataNotFoundError, GeometryError
from klimakort.whatif.edits import Edit, ScenarioEdit
from klimakort.whatif.store import GpkgWhatIfStore

CRS = "EPSG:25832"
BOUNDS = (700_000.0, 6_169_200.0, 701_000.0, 6_170_000.0)
LINE = shapely.LineString([(700_100, 6_169_500), (700_400, 6_169_520)])
BOX = shapely.box(700_100, 6_169_500, 700_200, 6_169_600)


def dike_and_basin(name: str = "Plan A") -> ScenarioEdit:
    return ScenarioEdit(
        name,
        (
            Edit("raise_to", LINE, {"level_m": 2.8, "width_m": 6.0}, name="Dige"),
            Edit("basin", BOX, {"volume_m3": 900.0}),
            Edit("remove_building", shapely.Point(700_150, 6_169_550), {}),
        ),
        "2100",
    )


def test_round_trip_keeps_order_values_ids_and_geometry(tmp_path: Path) -> None:
    store = GpkgWhatIfStore(tmp_path / "w.gpkg", CRS, bounds=BOUNDS)
    assert store.names() == [] and store.revision == 0
    saved = store.save(dike_and_basin())
    back = GpkgWhatIfStore(tmp_path / "w.gpkg", CRS).get("Plan A")
    assert back == saved
    assert [e.edit_id for e in back.edits] == ["E1", "E2", "E3"]
    assert back.scenario == "2100" and back.edits[0].name == "Dige"
    assert store.revision == 1


def test_saving_a_name_again_replaces_it_and_delete_removes_it(tmp_path: Path) -> None:
    store = GpkgWhatIfStore(tmp_path / "w.gpkg", CRS)
    store.save(dike_and_basin("A"))
    store.save(dike_and_basin("B"))
    store.save(ScenarioEdit("A", (Edit("culvert", LINE, {}),)))
    assert store.names() == ["A", "B"]
    assert [e.kind for e in store.get("A").edits] == ["culvert"]
    store.delete("A")
    assert store.names() == ["B"]
    with pytest.raises(DataNotFoundError, match="no stored what-if named 'A'"):
        store.get("A")
    with pytest.raises(DataNotFoundError):
        store.delete("A")


def test_an_invalid_set_is_refused_and_the_file_is_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "w.gpkg"
    store = GpkgWhatIfStore(path, CRS, bounds=BOUNDS)
    store.save(dike_and_basin())
    before = path.read_bytes()
    outside = ScenarioEdit("X", (Edit("basin", shapely.box(0, 0, 10, 10), {"depth_m": 1}),))
    with pytest.raises(GeometryError, match="outside"):
        store.save(outside)
    assert path.read_bytes() == before and store.names() == ["Plan A"]


def test_concurrent_writers_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "w.gpkg"
    stores = [GpkgWhatIfStore(path, CRS) for _ in range(4)]
    threads = [
        threading.Thread(target=s.save, args=(dike_and_basin(f"set {i}"),))
        for i, s in enumerate(stores)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert stores[0].names() == [f"set {i}" for i in range(4)]
    assert stores[0].revision == 4
