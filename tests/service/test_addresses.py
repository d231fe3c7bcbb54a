"""Address search over a DAWA-schema address file: the real Vallensbæk addresses (from the
BBR buildings of the shared data) and small synthetic files."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import numpy as np
import pytest
import shapely

from klimakort.config.area import AddressesRef, parse_area
from klimakort.errors import ConfigError, DataNotFoundError, ParameterError
from klimakort.service.addresses import (
    AddressIndex,
    area_addresses,
    fold,
    read_addresses,
    word_match,
)

DAWA_COLUMNS = [
    "id",
    "vejnavn",
    "husnr",
    "postnr",
    "postnrnavn",
    "etrs89koordinat_øst",
    "etrs89koordinat_nord",
]
_ADRESSE = re.compile(r"^(.+?) (\d+[A-Z]?), (\d{4}) (.+)$")


def vallensbaek_rows(shared_data: Path) -> list[dict[str, str]]:
    """DAWA adgangsadresser rows built from the BBR buildings' ``Adresse`` and centroids."""
    fc = json.loads((shared_data / "vallensbaek" / "buildings_with_basement.geojson").read_text())
    rows: dict[str, dict[str, str]] = {}
    for feat in fc["features"]:
        m = _ADRESSE.match(str(feat["properties"].get("Adresse") or ""))
        if not m:
            continue
        c = shapely.geometry.shape(feat["geometry"]).centroid
        rows.setdefault(
            m.group(0),
            {
                "id": f"a{len(rows):05d}",
                "vejnavn": m.group(1),
                "husnr": m.group(2),
                "postnr": m.group(3),
                "postnrnavn": m.group(4),
                "etrs89koordinat_øst": f"{c.x:.2f}",
                "etrs89koordinat_nord": f"{c.y:.2f}",
            },
        )
    return list(rows.values())


def write_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=DAWA_COLUMNS)
        w.writeheader()
        w.writerows(rows)
    return path


@pytest.fixture(scope="module")
def real_rows(shared_data: Path) -> list[dict[str, str]]:
    rows = vallensbaek_rows(shared_data)
    assert len(rows) > 200
    return rows


@pytest.fixture(scope="module")
def real_index(
    real_rows: list[dict[str, str]], tmp_path_factory: pytest.TempPathFactory
) -> AddressIndex:
    path = write_csv(tmp_path_factory.mktemp("dawa") / "adresser.csv", real_rows)
    return read_addresses(path)


def test_fold_spells_out_danish_letters() -> None:
    assert fold("Vallensbæk") == fold("VALLENSBAEK") == "vallensbaek"
    assert fold("  Ærø-Søndergård ") == "aeroe soendergaard"
    assert fold("Park Allé 12A") == "park alle 12a"


def test_word_match_prefix_joined_and_fuzzy() -> None:
    assert word_match("park", ("park", "alle")) == 0
    assert word_match("parkal", ("park", "alle")) == 0  # spans two words
    assert word_match("parc", ("park", "alle")) == 1  # one edit
    assert word_match("vallensbek", ("vallensbaek",)) == 1
    assert word_match("xyz", ("park", "alle")) is None
    assert word_match("pa", ("po",)) is None  # short words must match exactly


@pytest.mark.shared
def test_every_real_address_finds_itself_first(
    real_index: AddressIndex, real_rows: list[dict[str, str]]
) -> None:
    for row in real_rows[::7]:
        label = f"{row['vejnavn']} {row['husnr']}, {row['postnr']} {row['postnrnavn']}"
        hits = real_index.search(label, limit=3)
        assert hits and hits[0]["label"] == label, (label, hits[:1])
        assert hits[0]["x"] == pytest.approx(float(row["etrs89koordinat_øst"]), abs=0.01)
        assert hits[0]["y"] == pytest.approx(float(row["etrs89koordinat_nord"]), abs=0.01)
        assert not hits[0]["fuzzy"]


@pytest.mark.shared
def test_prefix_search_lists_a_street_in_house_number_order(
    real_index: AddressIndex, real_rows: list[dict[str, str]]
) -> None:
    street = max(
        {r["vejnavn"] for r in real_rows},
        key=lambda s: sum(r["vejnavn"] == s for r in real_rows),
    )
    query = street[: max(4, len(street) - 2)].upper()
    hits = real_index.search(query, limit=100)
    on_street = [h for h in hits if h["vejnavn"] == street]
    expected = sum(r["vejnavn"] == street for r in real_rows)
    assert len(on_street) == min(expected, 100)
    numbers = [int(re.match(r"\d+", h["husnr"]).group()) for h in on_street]  # type: ignore[union-attr]
    assert numbers == sorted(numbers)
    flags = [h["fuzzy"] for h in hits]
    assert flags == sorted(flags)  # exact matches first
    for h in hits:
        tokens = fold(h["vejnavn"] + " " + h["postnrnavn"]).split()
        scores = [word_match(w, tokens) for w in fold(query).split()]
        assert None not in scores and max(s or 0 for s in scores) == int(h["fuzzy"])


@pytest.mark.shared
def test_danish_letters_and_typos(
    real_index: AddressIndex, real_rows: list[dict[str, str]]
) -> None:
    row = next(r for r in real_rows if len(r["vejnavn"]) >= 6 and " " not in r["vejnavn"])
    name = row["vejnavn"]
    typo = name[:2] + ("x" if name[2].lower() != "x" else "y") + name[3:]
    hits = real_index.search(f"{typo} {row['husnr']}")
    assert hits and hits[0]["vejnavn"] == name and hits[0]["husnr"] == row["husnr"]
    assert hits[0]["fuzzy"] is True
    # the post town typed without æ still matches
    town = real_index.search(f"{name} {row['husnr']} vallensbaek")
    assert town and town[0]["postnrnavn"] == row["postnrnavn"]


@pytest.mark.shared
def test_numbers_filter_house_number_and_postcode(real_index: AddressIndex) -> None:
    hits = real_index.search("2625", limit=50)
    assert len(hits) == 50 and all(h["postnr"] == "2625" for h in hits)
    assert real_index.search("2625 9999x") == []


@pytest.mark.shared
def test_bbox_is_lonlat_around_the_address(real_index: AddressIndex) -> None:
    hit = real_index.search("2625", limit=1)[0]
    w, s, e, n = hit["bbox"]
    assert w < hit["lon"] < e and s < hit["lat"] < n
    assert 12.2 < hit["lon"] < 12.5 and 55.5 < hit["lat"] < 55.7  # Vallensbæk


def test_bad_queries_are_refused(tmp_path: Path) -> None:
    idx = read_addresses(write_csv(tmp_path / "a.csv", [_row("Strandvejen", "1")]))
    for q in ("", "   ", "—", "x" * 201):
        with pytest.raises(ParameterError):
            idx.search(q)
    with pytest.raises(ParameterError):
        idx.search("strand", limit=0)


def _row(vej: str, nr: str, x: float = 712000.0, y: float = 6170000.0) -> dict[str, str]:
    return {
        "id": f"{vej}{nr}",
        "vejnavn": vej,
        "husnr": nr,
        "postnr": "2625",
        "postnrnavn": "Vallensbæk",
        "etrs89koordinat_øst": str(x),
        "etrs89koordinat_nord": str(y),
    }


def test_house_number_with_letter(tmp_path: Path) -> None:
    rows = [_row("Ågade", n) for n in ("10", "2", "2A", "1", "12B")]
    idx = read_addresses(write_csv(tmp_path / "a.csv", rows))
    assert [h["husnr"] for h in idx.search("aagade", limit=10)] == ["1", "2", "2A", "10", "12B"]
    assert [h["husnr"] for h in idx.search("Ågade 2 a")] == ["2A"]
    assert [h["husnr"] for h in idx.search("ågade 12")] == ["12B"]


def test_geojson_in_lonlat_and_text_addresses(tmp_path: Path) -> None:
    fc = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"adresse": "Søndre Strandvej 7B, 2625 Vallensbæk"},
                "geometry": {"type": "Point", "coordinates": [12.38, 55.62]},
            }
        ],
    }
    path = tmp_path / "a.geojson"
    path.write_text(json.dumps(fc), encoding="utf-8")
    idx = read_addresses(path)
    (hit,) = idx.search("sondre strandvej 7")  # ø typed as o: one edit
    assert (hit["vejnavn"], hit["husnr"], hit["postnr"]) == ("Søndre Strandvej", "7B", "2625")
    assert hit["lon"] == pytest.approx(12.38) and hit["lat"] == pytest.approx(55.62)
    assert 600_000 < hit["x"] < 800_000 and hit["crs"] == "EPSG:25832"


def test_wgs84_columns_and_unknown_schema(tmp_path: Path) -> None:
    path = tmp_path / "w.csv"
    path.write_text(
        "vejnavn,husnr,postnr,postnrnavn,wgs84koordinat_længde,wgs84koordinat_bredde\n"
        "Strandvejen,3,2625,Vallensbæk,12.38,55.62\n",
        encoding="utf-8",
    )
    (hit,) = read_addresses(path).search("strandvejen 3")
    assert hit["lon"] == pytest.approx(12.38, abs=1e-7)
    bad = tmp_path / "bad.csv"
    bad.write_text("street,number\nA,1\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="vejnavn"):
        read_addresses(bad)
    nocoords = tmp_path / "nc.csv"
    nocoords.write_text("vejnavn,husnr\nA,1\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="coordinates"):
        read_addresses(nocoords)
    with pytest.raises(DataNotFoundError):
        read_addresses(tmp_path / "missing.csv")


def test_area_without_addresses_says_how_to_add_them(tmp_path: Path) -> None:
    cfg = parse_area({"name": "x", "terrain": {"path": "dtm.tif"}}, tmp_path)
    with pytest.raises(DataNotFoundError, match=r"\[addresses\]"):
        area_addresses(cfg)
    write_csv(tmp_path / "a.csv", [_row("Strandvejen", "1")])
    cfg2 = cfg.model_copy(update={"addresses": AddressesRef(path=tmp_path / "a.csv")})
    first = area_addresses(cfg2)
    assert area_addresses(cfg2) is first and len(first) == 1  # read once
    assert np.isfinite(first.x).all()
