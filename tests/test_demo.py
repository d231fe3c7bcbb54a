"""The demo job end to end on a coarse sample area (8 m cells, fast)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import rasterio

from klimakort.demo import run_demo


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory):
    return run_demo(tmp_path_factory.mktemp("demo"), cell=8.0)


def _config(text: str) -> dict:
    m = re.search(r"window\.KLIMAKORT_CONFIG = (?P<json>.*?);</script>", text, re.S)
    assert m, "the map embeds its configuration"
    return json.loads(m.group("json"))


def test_demo_writes_the_offline_map(demo) -> None:
    text = demo.map_path.read_text(encoding="utf-8")
    assert "https://cdn" not in text and "<script src=" not in text  # works offline
    cfg = _config(text)
    assert cfg["mode"] == "standalone" and "synthetic" in cfg["area"]["name"].lower()
    groups = [g["id"] for g in cfg["groups"]]
    for group in (
        "terrain",
        "hazards",
        "parcels",
        "local_plans",
        "heating",
        "planned_sites",
        "suitability",
    ):
        assert group in groups, group
    rasters = {r["id"]: r for r in cfg["rasters"]}
    # every scenario of a scenario layer is an embedded image with its legend
    assert set(rasters["sea_depth"]["images"]) == {"present", "2050", "2100"}
    assert all(
        img["url"].startswith("data:image/png;base64,")
        for img in rasters["sea_depth"]["images"].values()
    )
    cands = next(c for c in cfg["collections"] if c["id"] == "candidate_sites")["data"]
    chosen = [f for f in cands["features"] if f["properties"]["chosen"]]
    portfolio = json.loads(
        (demo.map_path.parent / "suitability" / "miyawaki_forest" / "portfolio.json").read_text()
    )
    assert len(chosen) == len(portfolio["chosen_ids"]) == 10
    # the example parcel and plan reports exist, self-contained
    for key in ("parcel_report", "plan_report"):
        page = demo.outputs[key].read_text(encoding="utf-8")
        assert "data:image/png;base64" in page and "https://" not in page.split("<body")[0]


def test_demo_products_are_tagged(demo) -> None:
    out = demo.map_path.parent
    for name in ("filled", "flowdir", "accumulation", "bluespots", "watersheds", "terrain"):
        assert (out / "rainflow" / f"{name}.tif").is_file()
    for scenario in ("present", "2050", "2100"):
        with rasterio.open(out / "hazards" / scenario / "sea_inundation_depth.tif") as src:
            tags = src.tags()
        assert tags["scenario"] == scenario and tags["units"] == "m"
        assert "Kystdirektoratet" in tags["source_storm_surge_m.100"]
        with rasterio.open(out / "hazards" / scenario / "cloudburst" / "flood_depth.tif") as src:
            assert src.tags()["scenario"] == scenario
        assert (out / "hazards" / scenario / "groundwater_classes.tif").is_file()
    with rasterio.open(out / "hazards" / "min_flood_level.tif") as src:
        assert src.tags()["units"] == "m DVR90"
    portfolio = json.loads((out / "suitability" / "miyawaki_forest" / "portfolio.json").read_text())
    assert portfolio["status"] in ("optimal", "infeasible")
    assert demo.trees_target == 20_000 and demo.trees_total > 0
    assert demo.outputs["tree_potential"].is_file()
    assert isinstance(demo.outputs, dict) and len(demo.outputs) > 20
    assert all(Path(p).exists() for p in demo.outputs.values())


def test_demo_map_opens_on_the_2100_story(demo) -> None:
    """The demo map opens as docs/map.png shows it: 2100, cloudburst and sea flooding,
    flow paths, parcels, plans and the candidate and chosen Miyawaki sites."""
    cfg = _config(demo.map_path.read_text(encoding="utf-8"))
    assert cfg["default_scenario"] == "2100"
    on = {r["id"] for r in cfg["rasters"] if r["visible"]}
    assert on == {"hillshade", "cloudburst_depth", "sea_depth"}
    shown = {c["id"] for c in cfg["collections"] if c["visible"]}
    assert {"flowpaths", "candidate_sites", "parcels", "planned_sites"} <= shown
    # every layer it opens with is in the page, the scenario among its scenarios
    assert shown <= {c["id"] for c in cfg["collections"]}
    assert cfg["default_scenario"] in cfg["scenarios"]
