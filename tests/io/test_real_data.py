"""Every real Vallensbæk layer in ../shared/data loads in EPSG:25832, repaired and counted."""

from __future__ import annotations

from pathlib import Path

import pytest

from klimakort.io import read_vector

VALLENSBAEK_LAYERS = [
    "beach_ridge",
    "boreholes",
    "buildings_with_basement",
    "coastal_flood_risk_kdi",
    "conservation_areas",
    "groundwater_head_contours_2024",
    "groundwater_obs_with_dhm",
    "groundwater_soundings_2025",
    "hip_depth_summer_0-1m",
    "hip_depth_summer_1-2m",
    "hip_depth_summer_2-3m",
    "hip_depth_summer_3-7m",
    "hip_depth_winter_0-1m",
    "hip_depth_winter_1-2m",
    "hip_depth_winter_2-3m",
    "hip_depth_winter_3-7m",
    "lakes",
    "local_plans",
    "near_surface_groundwater_risk_1m_geo",
    "near_surface_groundwater_risk_2m_geo",
    "protected_nature_p3",
    "sewer_catchments",
    "soil_contamination_v1",
    "soil_contamination_v2",
    "streams",
]


def test_every_layer_is_listed(shared_data: Path) -> None:
    on_disk = sorted(p.stem for p in (shared_data / "vallensbaek").glob("*.geojson"))
    assert on_disk == sorted(VALLENSBAEK_LAYERS)


@pytest.mark.parametrize("name", VALLENSBAEK_LAYERS)
def test_layer_loads(shared_data: Path, name: str) -> None:
    gdf = read_vector(shared_data / "vallensbaek" / f"{name}.geojson")
    assert len(gdf) > 0
    assert gdf.crs.to_epsg() == 25832
    assert gdf.geometry.is_valid.all()
    assert not gdf.geometry.is_empty.any()
    report = gdf.attrs["repair"]
    assert report.n_invalid == len(report.repaired_ids)
    # Vallensbæk and the Vestegnen wells around it lie within these UTM 32 bounds
    x0, y0, x1, y1 = gdf.total_bounds
    assert 690_000 < x0 < x1 < 730_000 and 6_155_000 < y0 < y1 < 6_195_000


def test_empty_geometries_are_dropped_and_counted(shared_data: Path) -> None:
    gdf = read_vector(shared_data / "vallensbaek" / "groundwater_head_contours_2024.geojson")
    report = gdf.attrs["repair"]
    raw = __import__("pyogrio").read_info(
        shared_data / "vallensbaek" / "groundwater_head_contours_2024.geojson"
    )["features"]
    assert report.n_empty_dropped == raw - len(gdf) > 0


def test_denmark_layers(shared_data: Path) -> None:
    muni = read_vector(
        shared_data / "denmark" / "municipalities_ballerup_hoejetaastrup_vallensbaek.gpkg"
    )
    assert len(muni) == 3 and muni.crs.to_epsg() == 25832
