"""Loaders for Danish layers: cadastre, Plandata.dk, heating zones, BBR buildings, sites."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import geopandas as gpd
import pytest
import shapely

from klimakort.constraints.loaders import (
    LOCAL_PLAN_FIELDS,
    load_buildings,
    load_heating_zones,
    load_local_plans,
    load_parcels,
    load_planned_sites,
)
from klimakort.errors import GeometryError, InputError

FIX = Path(__file__).parent / "fixtures"


def _write(tmp_path: Path, name: str, data: dict, geoms: list, crs: str = "EPSG:25832") -> Path:
    path = tmp_path / name
    gpd.GeoDataFrame(data, geometry=geoms, crs=crs).to_file(path, driver="GeoJSON")
    return path


def _boxes(n: int) -> list:
    return [shapely.box(712000 + 10 * i, 6170000, 712010 + 10 * i, 6170010) for i in range(n)]


# ------------------------------------------------------------------------- parcels


def test_parcels_from_matriklen_schema() -> None:
    gdf = load_parcels(FIX / "parcels_matriklen.geojson")
    assert gdf.parcel_id.tolist() == ["170651-1a", "170651-1b", "170652-1a"]
    # original fields are kept
    assert {"ejerlavskode", "matrikelnummer", "kommunekode", "ejerlavsnavn"} <= set(gdf.columns)
    assert gdf.crs.to_epsg() == 25832


def test_parcels_accept_alternative_spellings(tmp_path: Path) -> None:
    path = _write(
        tmp_path, "p.geojson", {"ejerlavsKode": [7, 7], "matrikelnr": ["3c", " 4 "]}, _boxes(2)
    )
    assert load_parcels(path).parcel_id.tolist() == ["7-3c", "7-4"]


def test_parcels_accept_sample_matrikel_id(tmp_path: Path) -> None:
    path = _write(tmp_path, "p.geojson", {"matrikel_id": ["9-1a", "9-1b"]}, _boxes(2))
    assert load_parcels(path).parcel_id.tolist() == ["9-1a", "9-1b"]


def test_parcels_duplicates_are_named(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "p.geojson",
        {"ejerlavskode": [7, 7, 8], "matrikelnummer": ["1a", "1a", "1a"]},
        _boxes(3),
    )
    with pytest.raises(InputError, match="7-1a"):
        load_parcels(path)


def test_parcels_missing_fields(tmp_path: Path) -> None:
    path = _write(tmp_path, "p.geojson", {"nr": ["1a"]}, _boxes(1))
    with pytest.raises(InputError, match="ejerlavskode"):
        load_parcels(path)


def test_parcels_must_be_polygons(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "p.geojson",
        {"ejerlavskode": [1], "matrikelnummer": ["1"]},
        [shapely.Point(712000, 6170000)],
    )
    with pytest.raises(GeometryError, match="polygons"):
        load_parcels(path)


# ------------------------------------------------------------------------- local plans


def test_local_plans_fixture() -> None:
    gdf = load_local_plans(FIX / "local_plans_plandata.geojson")
    assert list(gdf.columns) == ["plan_id", *LOCAL_PLAN_FIELDS, "geometry"]
    assert gdf.plan_id.tolist() == ["502A", "322", "600"]
    assert gdf.datovedt.tolist() == [dt.date(2014, 12, 10), dt.date(2000, 10, 11), None]
    assert gdf.status.tolist() == ["V", "V", "F"]


def test_local_plans_duplicate_plannr(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "lp.geojson",
        {"planid": [1, 2], "plannr": ["12", "12"], "plannavn": ["a", "b"]},
        _boxes(2),
    )
    with pytest.raises(InputError, match="12"):
        load_local_plans(path)


def test_local_plans_bad_date_and_missing_name(tmp_path: Path) -> None:
    bad = _write(
        tmp_path,
        "lp.geojson",
        {"planid": [1], "plannr": ["1"], "plannavn": ["a"], "datovedt": ["sidste år"]},
        _boxes(1),
    )
    with pytest.raises(InputError, match="datovedt"):
        load_local_plans(bad)
    nameless = _write(tmp_path, "lp2.geojson", {"planid": [1], "plannr": ["1"]}, _boxes(1))
    with pytest.raises(InputError, match="plannavn"):
        load_local_plans(nameless)


def test_real_vallensbaek_local_plans(shared_data: Path) -> None:
    gdf = load_local_plans(shared_data / "vallensbaek" / "local_plans.geojson")
    assert len(gdf) == 92
    assert gdf.plan_id.is_unique
    assert all(isinstance(d, dt.date) for d in gdf.datovedt)
    assert all(1900 < d.year < 2030 for d in gdf.datovedt)
    assert gdf.geom_type.isin(["Polygon", "MultiPolygon"]).all()
    first = gdf.set_index("plan_id").loc["502A"]
    assert first.planid == 2952914
    assert first.datovedt == dt.date(2014, 12, 10)
    assert str(first.doklink).startswith("https://dokument.plandata.dk/")


# ------------------------------------------------------------------------- zones, buildings


def test_heating_zones() -> None:
    gdf = load_heating_zones(FIX / "heating_zones.geojson", "omraade")
    assert gdf.zone.tolist() == ["Vallensbæk Nord", "Vallensbæk Strand"]
    with pytest.raises(InputError, match="zone_navn"):
        load_heating_zones(FIX / "heating_zones.geojson", "zone_navn")


def test_buildings_fixture_flattened() -> None:
    gdf = load_buildings(FIX / "buildings_bbr.geojson", "AutoUID")
    assert gdf.building_id.tolist() == ["40801", "40835"]
    assert not shapely.has_z(gdf.geometry.to_numpy()).any()
    assert "Kaelder_j/n" in gdf.columns


def test_real_vallensbaek_buildings(shared_data: Path) -> None:
    path = shared_data / "vallensbaek" / "buildings_with_basement.geojson"
    gdf = load_buildings(path, "AutoUID")
    assert len(gdf) == 436 and gdf.building_id.is_unique
    assert (gdf["Kaelder_j/n"] == 1).all()
    # several footprints share one BBR uuid: not usable as a building id
    with pytest.raises(InputError, match="bbruuid"):
        load_buildings(path, "bbruuid")


def test_buildings_empty_id(tmp_path: Path) -> None:
    path = _write(tmp_path, "b.geojson", {"bid": ["a", None]}, _boxes(2))
    with pytest.raises(InputError, match="empty"):
        load_buildings(path, "bid")


# ------------------------------------------------------------------------- planned sites


def test_planned_sites_mixed_geometries() -> None:
    gdf = load_planned_sites(FIX / "planned_sites.geojson", "measure", id_field="site_id")
    assert gdf.site_id.tolist() == ["S1", "S2"]
    assert gdf.measure.tolist() == ["miyawaki_forest", "tree_row"]
    rows = load_planned_sites(FIX / "planned_sites.geojson", "measure")
    assert rows.site_id.tolist() == ["0", "1"]
    with pytest.raises(InputError, match="tiltag"):
        load_planned_sites(FIX / "planned_sites.geojson", "tiltag")
