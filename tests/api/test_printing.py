"""``GET /print``: the PDF, the HTML print page and the errors."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from klimakort.service import Workspace


@pytest.fixture(scope="module")
def parcel_id(workspace: Workspace) -> str:
    parcels = workspace.features("parcels")
    return str(parcels["parcel_id"].iloc[len(parcels) // 2])


def test_pdf_of_a_parcel(client: TestClient, parcel_id: str) -> None:
    r = client.get("/print", params={"parcel": parcel_id, "scenario": "2050"})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/pdf"
    assert r.content[:5] == b"%PDF-"
    assert f'filename="klimakort-{parcel_id}-2050.pdf"' in r.headers["content-disposition"]


def test_html_print_page_links_its_pdf(client: TestClient, parcel_id: str) -> None:
    r = client.get("/print", params={"parcel": parcel_id, "f": "html", "lang": "en"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert 'id="kk-print-pdf"' in r.text and "f=pdf" in r.text and "lang=en" in r.text
    assert 'id="kk-print-sheet"' in r.text


def test_png_of_a_bbox(client: TestClient, workspace: Workspace) -> None:
    x0, y0, _, _ = workspace.bounds
    bbox = f"{x0 + 500},{y0 + 500},{x0 + 1500},{y0 + 1200}"
    r = client.get("/print", params={"bbox": bbox, "bbox-crs": "EPSG:25832", "f": "png",
                                     "layers": "groundwater_depth"})  # fmt: skip
    assert r.status_code == 200 and r.content[:4] == b"\x89PNG"


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"parcel": "nope-0"}, 404),
        ({"layers": "nope"}, 404),
        ({"bbox": "1,2,3"}, 422),
        ({"bbox": "a,b,c,d"}, 422),
        ({"parcel": "x", "plan": "y"}, 422),
        ({"scenario": "2200"}, 404),
        ({"f": "docx"}, 422),
    ],
)
def test_errors_are_problem_json(client: TestClient, params: dict[str, str], status: int) -> None:
    r = client.get("/print", params=params)
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
