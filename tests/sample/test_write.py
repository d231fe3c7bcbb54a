"""write_sample writes every file and an area.toml that lists them."""

from __future__ import annotations

import tomllib
from pathlib import Path

import numpy as np
import pytest
import rasterio

from klimakort.io import read_raster, read_vector
from klimakort.sample import LAYER_KEYS, SampleArea, write_sample


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    messages: list[str] = []
    toml = write_sample(
        tmp_path_factory.mktemp("sample") / "strandby", cell=8.0, progress=messages.append
    )
    return toml, messages


def test_area_toml_schema(written: tuple[Path, list[str]]) -> None:
    toml, messages = written
    assert toml.name == "area.toml"
    assert messages and "written" in messages[-1]
    cfg = tomllib.loads(toml.read_text(encoding="utf-8"))
    assert cfg["name"] == "Strandby (synthetic sample)"
    assert cfg["crs"] == "EPSG:25832"
    assert cfg["synthetic"] is True
    assert cfg["seed"] == 2050
    assert "synthetic" in cfg["description"].lower()
    assert cfg["terrain"] == {"path": "rasters/terrain.tif"}
    assert cfg["groundwater"] == {"kind": "raster", "path": "rasters/groundwater_head.tif"}
    assert cfg["imperviousness"] == {"path": "rasters/imperviousness.tif"}
    assert set(cfg["layers"]) == set(LAYER_KEYS)
    assert cfg["layers"]["parcels"]["id_field"] == "matrikel_id"
    assert cfg["layers"]["barriers"]["crest_field"] == "crest_m"
    assert cfg["layers"]["planned_sites"]["measure_field"] == "measure"
    assert cfg["layers"]["heating_zones"]["zone_field"] == "zone"


def test_every_listed_file_exists_and_reads_back(
    written: tuple[Path, list[str]], coarse_area: SampleArea
) -> None:
    toml, _ = written
    root = toml.parent
    cfg = tomllib.loads(toml.read_text(encoding="utf-8"))
    for key, attr in (
        ("terrain", "dem"),
        ("groundwater", "groundwater_head"),
        ("imperviousness", "imperviousness"),
    ):
        path = root / cfg[key]["path"]
        da = read_raster(path, expected_crs="EPSG:25832")
        expected = getattr(coarse_area, attr).values
        np.testing.assert_array_equal(da.values, expected)
        with rasterio.open(path) as src:
            assert "synthetic" in src.tags()["source"]
            assert src.profile["tiled"]
    for key in LAYER_KEYS:
        table = cfg["layers"][key]
        gdf = read_vector(root / table["path"])
        assert len(gdf) == len(coarse_area.layers[key]), key
        assert gdf.crs.to_epsg() == 25832
        for field in ("id_field", "zone_field", "kind_field", "measure_field", "crest_field"):
            if field in table:
                assert table[field] in gdf.columns, (key, field)
        if "id_field" in table:
            assert gdf[table["id_field"]].is_unique, key
        assert gdf["synthetic"].all()
    leftovers = [p for p in root.rglob("*") if p.name.startswith(".") or p.suffix == ".tmp"]
    assert not leftovers
