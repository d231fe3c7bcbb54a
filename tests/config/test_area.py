"""area.toml validation: every error names the key and the problem."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import box

from klimakort.config import load_area
from klimakort.errors import ConfigError
from klimakort.io import write_cog, write_vector


@pytest.fixture
def area_dir(tmp_path: Path, make_dem) -> Path:
    """A minimal valid area: terrain 100 x 80 cells and a parcels layer inside it."""
    write_cog(make_dem(np.ones((80, 100))), tmp_path / "terrain.tif", units="m", source="t")
    parcels = gpd.GeoDataFrame(
        {"matrikel_id": ["2000651-1a"]},
        geometry=[box(700_010, 6_169_900, 700_050, 6_169_950)],
        crs="EPSG:25832",
    )
    write_vector(parcels, tmp_path / "parcels.gpkg")
    return tmp_path


def _toml(area_dir: Path, body: str) -> Path:
    path = area_dir / "area.toml"
    path.write_text(body)
    return path


VALID = """
name = "Test"
[terrain]
path = "terrain.tif"
[layers.parcels]
path = "parcels.gpkg"
id_field = "matrikel_id"
[scenarios.2100]
sea_level_rise_m = 0.6
"""


def test_valid_area_resolves_paths(area_dir: Path) -> None:
    cfg = load_area(_toml(area_dir, VALID))
    assert cfg.crs == "EPSG:25832"
    assert cfg.terrain.path == area_dir / "terrain.tif"
    ref = cfg.layer("parcels")
    assert ref is not None and ref.path == area_dir / "parcels.gpkg"
    assert cfg.layer("buildings") is None
    assert cfg.scenarios == {"2100": {"sea_level_rise_m": 0.6}}
    assert cfg.base_dir == area_dir


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (VALID.replace('name = "Test"', ""), r"name: Field required"),
        (VALID.replace("[terrain]\npath", "[terrain]\npaht"), r"terrain\.paht: unknown key"),
        (VALID + '\n[layers.parks]\npath = "x.gpkg"\n', r"layers: .*unknown layer.*parks"),
        ('crs = "EPSG:4326"\n' + VALID, r"crs: EPSG:4326 is geographic"),
        ('crs = "EPSG:999999"\n' + VALID, r"crs: unknown CRS"),
        (VALID.replace("terrain.tif", "missing.tif"), r"terrain\.path: file not found"),
        (
            VALID.replace('path = "parcels.gpkg"', 'path = "nope.gpkg"'),
            r"layers\.parcels\.path: file not found",
        ),
        (VALID.replace("[terrain]", "[terrain\n"), r"invalid TOML.*line"),
    ],
)
def test_errors_name_key_and_problem(area_dir: Path, body: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_area(_toml(area_dir, body))


def test_layer_outside_terrain(area_dir: Path) -> None:
    far = gpd.GeoDataFrame({"a": [1]}, geometry=[box(0, 0, 10, 10)], crs="EPSG:25832")
    write_vector(far, area_dir / "far.gpkg")
    body = VALID + '\n[layers.buildings]\npath = "far.gpkg"\n'
    with pytest.raises(ConfigError, match=r"layers\.buildings\.path: .* does not overlap"):
        load_area(_toml(area_dir, body))


def test_raster_crs_mismatch(area_dir: Path, make_dem) -> None:
    write_cog(
        make_dem(np.ones((10, 10)), crs="EPSG:25833"), area_dir / "imp.tif", units="1", source="t"
    )
    body = VALID + '\n[imperviousness]\npath = "imp.tif"\n'
    with pytest.raises(ConfigError, match=r"imperviousness\.path: CRS mismatch.*25833"):
        load_area(_toml(area_dir, body))


def test_terrain_crs_mismatch(area_dir: Path, make_dem) -> None:
    write_cog(
        make_dem(np.ones((10, 10)), crs="EPSG:25833"),
        area_dir / "terrain.tif",
        units="m",
        source="t",
    )
    with pytest.raises(ConfigError, match=r"terrain\.path: CRS mismatch"):
        load_area(_toml(area_dir, VALID))


def test_vector_in_other_crs_is_accepted_when_it_overlaps(area_dir: Path) -> None:
    p = gpd.read_file(area_dir / "parcels.gpkg").to_crs("EPSG:4326")
    write_vector(p, area_dir / "parcels_wgs.gpkg")
    body = VALID.replace("parcels.gpkg", "parcels_wgs.gpkg")
    assert load_area(_toml(area_dir, body)).layer("parcels") is not None


def test_groundwater_kinds(area_dir: Path) -> None:
    body = VALID + '\n[groundwater]\nkind = "contours"\npath = "parcels.gpkg"\nfield = "h"\n'
    cfg = load_area(_toml(area_dir, body))
    assert cfg.groundwater is not None and cfg.groundwater.kind == "contours"
    bad = VALID + '\n[groundwater]\nkind = "wells"\npath = "parcels.gpkg"\n'
    with pytest.raises(ConfigError, match=r"groundwater\.kind"):
        load_area(_toml(area_dir, bad))


def test_missing_toml(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_area(tmp_path / "area.toml")
