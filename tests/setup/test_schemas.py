"""Known Danish schemas and the derivation of klimakort's fields."""

from __future__ import annotations

import geopandas as gpd
import pytest
import shapely

from klimakort.errors import InputError
from klimakort.setup.schemas import SCHEMAS, derive, head_field, season_of


def _gdf(rows: list[dict[str, object]], source: str = "x.geojson") -> gpd.GeoDataFrame:
    geoms = [shapely.box(i * 10, 0, i * 10 + 10, 10) for i in range(len(rows))]
    gdf = gpd.GeoDataFrame(rows, geometry=geoms, crs="EPSG:25832")
    gdf.attrs["source_path"] = source
    return gdf


@pytest.mark.parametrize(
    ("ejerlav", "matrnr"),
    [("ejerlavskode", "matrikelnummer"), ("ejerlavsKode", "matrikelnr"),
     ("landsejerlavskode", "matrikelnummer")],
)  # fmt: skip
def test_parcel_id_from_each_cadastre_spelling(ejerlav: str, matrnr: str) -> None:
    gdf = _gdf([{ejerlav: 2000651, matrnr: "12a "}, {ejerlav: 2000651.0, matrnr: "7"}])
    out, used = derive(SCHEMAS["matrikel_jordstykke"], gdf)
    assert out["matrikel_id"].tolist() == ["2000651-12a", "2000651-7"]
    assert used.used["matrikel_id"] == f"{ejerlav}-{matrnr}"
    assert set(gdf.columns) <= set(out.columns)  # nothing dropped


def test_parcels_with_only_ejerlav_lokal_id_say_what_to_do() -> None:
    gdf = _gdf([{"ejerlavLokalId": "x1", "matrikelnummer": "1a"}])
    with pytest.raises(InputError, match="ejerlavskode"):
        derive(SCHEMAS["matrikel_jordstykke"], gdf)


def test_duplicate_parcels_are_refused() -> None:
    gdf = _gdf([{"ejerlavskode": 1, "matrikelnummer": "1a"}] * 2)
    with pytest.raises(InputError, match="historic versions"):
        derive(SCHEMAS["matrikel_jordstykke"], gdf)


def test_building_id_takes_the_first_unique_field() -> None:
    gdf = _gdf([{"bbruuid": "a", "AutoUID": 1}, {"bbruuid": "a", "AutoUID": 2}])
    out, d = derive(SCHEMAS["buildings"], gdf)
    assert out["building_id"].tolist() == ["1", "2"]
    assert d.used["building_id"] == "AutoUID"
    assert any("bbruuid" in n for n in d.notes)


def test_institutions_from_bbr_use_codes() -> None:
    gdf = _gdf(
        [
            {"byg021BygningensAnvendelse": 421, "Adresse": "Skolevej 1"},
            {"byg021BygningensAnvendelse": 120, "Adresse": "Husvej 2"},
            {"byg021BygningensAnvendelse": 441, "Adresse": "Børnehavevej 3"},
        ]
    )
    out, d = derive(SCHEMAS["bbr_institutions"], gdf)
    assert out["kind"].tolist() == ["school", "kindergarten"]
    assert out["name"].tolist() == ["Skolevej 1", "Børnehavevej 3"]
    assert d.dropped == 1 and "dropped" in d.notes[0]


def test_local_plans_prefer_the_adopted_plan_over_a_proposal() -> None:
    rows = [
        {"planid": 1, "plannr": "12", "plannavn": "A", "status": "V"},
        {"planid": 2, "plannr": "12", "plannavn": "A (forslag)", "status": "F"},
        {"planid": 3, "plannr": 13.0, "plannavn": "B", "status": "V"},
    ]
    out, d = derive(SCHEMAS["plandata_lokalplan"], _gdf(rows))
    assert out["plannr"].tolist() == ["12", "13"]
    assert d.dropped == 1


def test_local_plans_without_plannr_are_named() -> None:
    with pytest.raises(InputError, match="plannr"):
        derive(SCHEMAS["plandata_lokalplan"], _gdf([{"planid": 1, "plannavn": "A"}]))


def test_hip_classes_from_range_and_file_name() -> None:
    gdf = _gdf([{"class": 2, "class_range": "0-1"}, {"class": 2, "class_range": "3-7"}],
               source="hip_depth_winter_0-1m.geojson")  # fmt: skip
    out, _ = derive(SCHEMAS["hip_depth_classes"], gdf)
    assert out["depth_min_m"].tolist() == [0.0, 3.0]
    assert out["depth_max_m"].tolist() == [1.0, 7.0]
    assert out["season"].tolist() == ["winter", "winter"]
    assert out["depth_class"].tolist() == ["0-1 m", "3-7 m"]
    assert season_of("Terraennaert_grundvand_sommer") == "summer"


def test_coastal_risk_keeps_dn() -> None:
    out, d = derive(SCHEMAS["kdi_coastal_flood_risk"], _gdf([{"DN": 1}]))
    assert out["risk"].tolist() == [1] and d.used == {"risk": "DN"}


def test_known_fields_and_numbered_families() -> None:
    plans = SCHEMAS["plandata_lokalplan"]
    assert plans.is_known("plannavn") and plans.is_known("bygpct10") and plans.is_known("fid")
    assert not plans.is_known("my_own_note")
    assert SCHEMAS["buildings"].is_known("byg404Koordinat")


def test_head_field_is_guessed_or_named() -> None:
    gdf = gpd.GeoDataFrame(
        {"Vsp_2024": [1.0], "label_size": [3]},
        geometry=[shapely.LineString([(0, 0), (1, 1)])],
        crs="EPSG:25832",
    )
    assert head_field(gdf) == "Vsp_2024"
    assert head_field(gdf, "label_size") == "label_size"
    with pytest.raises(InputError, match="not found"):
        head_field(gdf, "nope")
    two = gdf.assign(Vsp_2023=[2.0])
    with pytest.raises(InputError, match="--groundwater-field"):
        head_field(two)


def test_heat_plans_keep_their_fields() -> None:
    gdf = _gdf([{"planid": 7, "plannavn": "Varmeplan Nord", "varmeforsyning": "fjernvarme"}])
    out, _ = derive(SCHEMAS["plandata_varmeplan"], gdf)
    assert out["plan_id"].tolist() == ["7"] and out["varmeforsyning"].tolist() == ["fjernvarme"]
    assert SCHEMAS["plandata_varmeplan"].is_known("varmeforsyning")
