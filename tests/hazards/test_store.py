"""The hazard store: stored hazards equal fresh ones, and are reused until an input changes."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pytest
import xarray as xr
from geopandas.testing import assert_geodataframe_equal

from klimakort.config import load_area
from klimakort.hazards import store as store_mod
from klimakort.hazards.area import AreaHazards, compute_hazards
from klimakort.hazards.store import HazardStore, load_or_compute_hazards
from klimakort.sample import write_sample

SCENARIOS = ("present", "2100")


@pytest.fixture(scope="module")
def area_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_sample(tmp_path_factory.mktemp("store_area"), cell=16.0).parent


@pytest.fixture
def area(area_dir: Path, tmp_path: Path) -> Path:
    """A private copy of the area (tests change inputs and the store)."""
    dest = tmp_path / "area"
    shutil.copytree(area_dir, dest, ignore=shutil.ignore_patterns(".klimakort"))
    return dest / "area.toml"


def _no_compute(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*_a: Any, **_k: Any) -> Any:
        raise AssertionError("hazards were computed although they were stored")

    monkeypatch.setattr(store_mod, "compute_hazards", fail)
    monkeypatch.setattr(store_mod, "compute_scenarios", fail)


def _same_raster(a: xr.DataArray, b: xr.DataArray) -> None:
    xr.testing.assert_identical(a, b)
    assert a.dtype == b.dtype
    assert np.array_equal(np.asarray(a.values), np.asarray(b.values), equal_nan=True)
    assert a.rio.crs == b.rio.crs and a.rio.transform() == b.rio.transform()
    assert np.array_equal(np.asarray(a.rio.nodata), np.asarray(b.rio.nodata), equal_nan=True)
    assert a.encoding == b.encoding


def _same_table(a: gpd.GeoDataFrame, b: gpd.GeoDataFrame) -> None:
    assert_geodataframe_equal(a, b, check_less_precise=False)
    assert a.attrs == b.attrs


def _assert_equal_hazards(a: AreaHazards, b: AreaHazards) -> None:
    _same_raster(a.terrain, b.terrain)
    for name in ("terrain", "filled", "flowdir", "accumulation", "bluespots", "watersheds"):
        _same_raster(getattr(a.rainflow, name), getattr(b.rainflow, name))
    for name in ("bluespot_table", "watershed_polygons", "network", "flowpaths"):
        _same_table(getattr(a.rainflow, name), getattr(b.rainflow, name))
    assert a.rainflow.params == b.rainflow.params and a.rainflow.notes == b.rainflow.notes
    assert a.options == b.options and list(a.scenarios) == list(b.scenarios)
    for name, p in a.scenarios.items():
        q = b.scenarios[name]
        assert (p.scenario, p.rain_mm, p.sea_level_m) == (q.scenario, q.rain_mm, q.sea_level_m)
        _same_raster(p.cloudburst.flood_depth, q.cloudburst.flood_depth)
        for t in ("state", "flooded_areas", "spill_paths"):
            _same_table(getattr(p.cloudburst, t), getattr(q.cloudburst, t))
        for f in ("mass_balance", "rain_mm", "sewer_mm", "runoff", "scenario", "source"):
            assert getattr(p.cloudburst, f) == getattr(q.cloudburst, f), f
        assert p.cloudburst.depth_classes == q.cloudburst.depth_classes
        assert p.sea.level == q.sea.level
        for r in ("min_flood_level", "depth", "at_risk"):
            _same_raster(getattr(p.sea, r), getattr(q.sea, r))
        _same_table(p.sea.critical_points, q.sea.critical_points)
        assert (p.groundwater is None) == (q.groundwater is None)
        if p.groundwater is not None and q.groundwater is not None:
            for r in ("head", "depth", "classes"):
                _same_raster(getattr(p.groundwater, r), getattr(q.groundwater, r))
            assert np.array_equal(p.groundwater.outside_hull, q.groundwater.outside_hull)


def test_stored_hazards_equal_fresh_ones_bit_for_bit(
    area: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = load_area(area)
    fresh = compute_hazards(cfg, SCENARIOS)
    first = load_or_compute_hazards(cfg, SCENARIOS)
    _assert_equal_hazards(fresh, first)
    _no_compute(monkeypatch)
    said: list[str] = []
    again = load_or_compute_hazards(cfg, SCENARIOS, progress=said.append)
    _assert_equal_hazards(fresh, again)
    assert any(m.startswith("hazards reused from ") and "computed 20" in m for m in said)
    # the scenario-independent minimum flooding level is one file on disk
    mfl = list((area.parent / ".klimakort" / "hazards").glob("rainflow-*/scenarios/*/sea_mfl.npy"))
    assert len(mfl) == 2 and mfl[0].stat().st_ino == mfl[1].stat().st_ino


def test_the_manifest_says_what_the_hazards_came_from(area: Path) -> None:
    cfg = load_area(area)
    load_or_compute_hazards(cfg, ("2100",))
    root = area.parent / ".klimakort" / "hazards"
    (rf_dir,) = root.glob("rainflow-*")
    doc = json.loads((rf_dir / "manifest.json").read_text())
    terrain = doc["inputs"]["terrain"]["files"][0]
    assert terrain["path"] == str(cfg.terrain.path.resolve())
    assert terrain["size"] == cfg.terrain.path.stat().st_size and terrain["sha256_head_tail"]
    assert doc["store_version"] == store_mod.STORE_VERSION and doc["created"].endswith("Z")
    (sc_dir,) = (rf_dir / "scenarios").glob("2100-*")
    sdoc = json.loads((sc_dir / "manifest.json").read_text())
    assert sdoc["rainflow_key"] == doc["key"]
    assert sdoc["scenario"]["sea_level_rise_m"]["value"] == pytest.approx(0.52)


def test_a_changed_input_is_recomputed_and_named(area: Path) -> None:
    cfg = load_area(area)
    load_or_compute_hazards(cfg, ("2100",))
    imp = cfg.imperviousness
    assert imp is not None
    st = imp.path.stat()
    os.utime(imp.path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    said: list[str] = []
    load_or_compute_hazards(cfg, ("2100",), progress=said.append)
    assert "computing hazards: imperviousness changed" in said


def test_a_new_scenario_reuses_the_rainflow(area: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = load_area(area)
    load_or_compute_hazards(cfg, ("2100",))
    computed: list[str] = []
    real = store_mod.compute_scenarios

    def spy(cfg: Any, dem: Any, rf: Any, scenarios: Any, *a: Any, **k: Any) -> Any:
        computed.extend(sc.name for sc in scenarios)
        return real(cfg, dem, rf, scenarios, *a, **k)

    def fail(*_a: Any, **_k: Any) -> Any:
        raise AssertionError("the rain-flow analysis was recomputed")

    monkeypatch.setattr(store_mod, "compute_hazards", fail)
    monkeypatch.setattr(store_mod, "compute_scenarios", spy)
    said: list[str] = []
    hz = load_or_compute_hazards(cfg, ("present", "2100"), progress=said.append)
    assert computed == ["present"] and list(hz.scenarios) == ["present", "2100"]
    assert "scenario present not stored yet" in said
    computed.clear()
    load_or_compute_hazards(cfg, ("present", "2100"))
    assert computed == []


def test_a_half_written_folder_is_never_read(area: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = load_area(area)

    def crash(*_a: Any, **_k: Any) -> Any:
        raise RuntimeError("disk pulled")

    monkeypatch.setattr(store_mod, "_save_table", crash)
    with pytest.raises(RuntimeError, match="disk pulled"):
        load_or_compute_hazards(cfg, ("2100",))
    root = area.parent / ".klimakort" / "hazards"
    assert not list(root.glob("rainflow-*")) and not list(root.glob(".*tmp-*"))
    monkeypatch.undo()
    hz = load_or_compute_hazards(cfg, ("2100",))
    (rf_dir,) = root.glob("rainflow-*")
    (rf_dir / "manifest.json").unlink()  # as if the rename had not happened
    said: list[str] = []
    again = load_or_compute_hazards(cfg, ("2100",), progress=said.append)
    assert any(m.startswith("computing hazards") for m in said)
    _same_raster(
        hz.scenarios["2100"].cloudburst.flood_depth, again.scenarios["2100"].cloudburst.flood_depth
    )
    (rf_dir / "filled.npy").unlink()  # a store damaged by hand is computed again, not fatal
    said.clear()
    third = load_or_compute_hazards(cfg, ("2100",), progress=said.append)
    assert any("are unreadable" in m for m in said)
    _same_raster(hz.rainflow.filled, third.rainflow.filled)
    assert (rf_dir / "filled.npy").is_file()


def test_an_unwritable_store_still_gives_the_hazards(area: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("a file where the store folder should be")
    said: list[str] = []
    hz = load_or_compute_hazards(
        load_area(area), ("2100",), store=HazardStore(blocker / "hazards"), progress=said.append
    )
    assert "2100" in hz.scenarios
    assert any("not stored" in m for m in said)


def test_recompute_replaces_the_stored_hazards(area: Path) -> None:
    cfg = load_area(area)
    load_or_compute_hazards(cfg, ("2100",))
    said: list[str] = []
    load_or_compute_hazards(cfg, ("2100",), recompute=True, progress=said.append)
    assert "computing hazards: --recompute" in said
    assert len(list((area.parent / ".klimakort" / "hazards").glob("rainflow-*"))) == 1
