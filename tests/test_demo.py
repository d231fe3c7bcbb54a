"""The demo job end to end on a coarse sample area (8 m cells, fast)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import rasterio

from klimakort.demo import run_demo


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory):
    return run_demo(tmp_path_factory.mktemp("demo"), cell=8.0)


def test_demo_writes_map_with_every_group(demo) -> None:
    text = demo.map_path.read_text(encoding="utf-8")
    for group in (
        "Terrain",
        "Parcels",
        "District heating",
        "Planned sites",
        "Rain flow",
        "Hazards present",
        "Hazards 2050",
        "Hazards 2100",
    ):
        assert f'"{group}"' in text or f"'{group}'" in text, group
    assert "synthetic sample" in text
    assert "Bluespot fill rain (mm)" in text
    assert "Candidate sites (" in text and "Chosen portfolio (" in text
    assert "https://cdn" not in text  # works offline
    # the map links the example parcel and plan reports, which exist
    for key in ("parcel_report", "plan_report"):
        report = demo.outputs[key]
        assert report.is_file() and f"reports/{report.name}" in text
        page = report.read_text(encoding="utf-8")
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
