"""``GET /addresses/search`` over the sample area with a DAWA-schema address file."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from klimakort.config.area import AddressesRef
from klimakort.service import Workspace
from klimakort_api import Settings, create_app

#: street names of the synthetic addresses (with æ, ø, å on purpose)
STREETS = ("Strandvejen", "Søndergade", "Ågade", "Æblehaven", "Kærvej", "Park Allé")


def sample_addresses(ws: Workspace, path: Path) -> Path:
    """A DAWA adgangsadresser CSV: one address per building of the sample area, streets
    in blocks of 60 buildings, house numbers 1, 2, ... (unique per street) at the buildings."""
    blds = ws.features("buildings").reset_index(drop=True)
    cent = blds.geometry.representative_point()
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "vejnavn", "husnr", "postnr", "postnrnavn",
                    "etrs89koordinat_øst", "etrs89koordinat_nord"])  # fmt: skip
        for i, pt in enumerate(cent):
            block = i // 60
            street = STREETS[block % len(STREETS)]
            husnr = (block // len(STREETS)) * 60 + i % 60 + 1
            w.writerow([f"id{i}", street, str(husnr), "2625", "Vallensbæk",
                        f"{pt.x:.2f}", f"{pt.y:.2f}"])  # fmt: skip
    return path


@pytest.fixture(scope="module")
def addr_ws(workspace: Workspace, tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    path = sample_addresses(workspace, tmp_path_factory.mktemp("addr") / "adresser.csv")
    cfg = workspace.cfg.model_copy(update={"addresses": AddressesRef(path=path)})
    return Workspace(cfg, workspace.hz)


@pytest.fixture(scope="module")
def addr_client(addr_ws: Workspace) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(area=None), workspace=addr_ws)) as c:
        yield c


def test_search_finds_the_address_at_its_building(
    addr_client: TestClient, addr_ws: Workspace
) -> None:
    r = addr_client.get("/addresses/search", params={"q": "Søndergade 7"})
    assert r.status_code == 200, r.text
    hits = r.json()
    assert hits[0]["label"] == "Søndergade 7, 2625 Vallensbæk"
    blds = addr_ws.features("buildings").reset_index(drop=True)
    i = STREETS.index("Søndergade") * 60 + 6
    pt = blds.geometry.iloc[i].representative_point()
    assert hits[0]["x"] == pytest.approx(pt.x, abs=0.01) and hits[0]["y"] == pytest.approx(
        pt.y, abs=0.01
    )
    w, s, e, n = hits[0]["bbox"]
    assert w < hits[0]["lon"] < e and s < hits[0]["lat"] < n


def test_folded_letters_and_limit(addr_client: TestClient) -> None:
    hits = addr_client.get("/addresses/search", params={"q": "aagade", "limit": 5}).json()
    assert [h["husnr"] for h in hits] == ["1", "2", "3", "4", "5"]
    assert {h["vejnavn"] for h in hits} == {"Ågade"}
    allee = addr_client.get("/addresses/search", params={"q": "park alle 3"}).json()
    assert allee[0]["label"].startswith("Park Allé 3,")


def test_bad_query_is_problem_json(addr_client: TestClient) -> None:
    r = addr_client.get("/addresses/search", params={"q": "  "})
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")
    assert addr_client.get("/addresses/search", params={"q": "a", "limit": 0}).status_code == 422


def test_area_without_address_file_is_404(client: TestClient) -> None:
    r = client.get("/addresses/search", params={"q": "Strandvejen 1"})
    assert r.status_code == 404
    assert "[addresses]" in r.json()["detail"]


def test_map_config_says_addresses_are_searchable(
    addr_client: TestClient, client: TestClient
) -> None:
    assert '"addresses":true' in addr_client.get("/map").text
    assert '"addresses":false' in client.get("/map").text
