"""Print sheets: the PDF renders (pdftoppm), holds the legend, the scenario, the scale bar
label, the date and the sources (pdftotext); screenshots go to build/artifacts/."""

from __future__ import annotations

import os
import shutil
import subprocess
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from klimakort.errors import DataNotFoundError, ParameterError
from klimakort.maps.printing import (
    PrintRequest,
    length_label,
    nice_length,
    print_html,
    print_sheet,
    write_print,
)
from klimakort.service import Workspace

ARTIFACTS = Path(__file__).resolve().parents[2] / "build" / "artifacts"


def _poppler() -> None:
    if shutil.which("pdftoppm") and shutil.which("pdftotext"):
        return
    if os.environ.get("CI") == "true":
        pytest.fail("poppler-utils (pdftoppm, pdftotext) missing (required when CI=true)")
    pytest.skip("poppler-utils (pdftoppm, pdftotext) not installed")


def pdf_text(pdf: Path) -> str:
    _poppler()
    out = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, check=True)
    return out.stdout.decode("utf-8")


def render(pdf: Path, png_stem: Path, dpi: int = 80) -> Image.Image:
    """The first page of ``pdf`` rendered by poppler (``png_stem``.png)."""
    _poppler()
    subprocess.run(
        ["pdftoppm", "-png", "-r", str(dpi), "-singlefile", str(pdf), str(png_stem)], check=True
    )
    return Image.open(png_stem.with_suffix(".png")).convert("RGB")


@pytest.fixture(scope="module")
def parcel_id(workspace: Workspace) -> str:
    parcels = workspace.features("parcels")
    return str(parcels["parcel_id"].iloc[len(parcels) // 3])


@pytest.fixture(scope="module")
def parcel_pdf(workspace: Workspace, parcel_id: str, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    req = PrintRequest(parcel=parcel_id, scenario="2100", today=date(2026, 12, 6))
    sheet = print_sheet(workspace, req)
    pdf = tmp_path_factory.mktemp("print") / "parcel.pdf"
    pdf.write_bytes(sheet.to_bytes("pdf"))
    return sheet, pdf


def test_pdf_renders_as_an_a4_landscape_page(parcel_pdf, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _, pdf = parcel_pdf
    assert pdf.read_bytes()[:5] == b"%PDF-"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    img = render(pdf, ARTIFACTS / "print_parcel", dpi=110)
    w, h = img.size
    assert abs(w / h - 297 / 210) < 0.01  # A4 landscape
    # the map frame is drawn (hillshade + hazards), not blank
    px = np.asarray(img, dtype=np.float64)
    frame = px[int(h * 0.15) : int(h * 0.85), int(w * 0.1) : int(w * 0.6)]
    assert frame.std() > 10
    # the hazard colours of the legend are on the map: the sample parcel's 2100 sea flood
    blue = (frame[..., 2] > frame[..., 0] + 30).mean()
    assert blue > 0.05, blue


def test_pdf_holds_legend_scenario_scale_and_sources(parcel_pdf, parcel_id: str) -> None:  # type: ignore[no-untyped-def]
    sheet, pdf = parcel_pdf
    text = pdf_text(pdf)
    assert "Signaturforklaring" in text
    assert "Scenarie: 2100" in text
    assert sheet.scale_label in text and sheet.scale_label.endswith(" m")
    assert f"1:{sheet.scale_denominator:,}".replace(",", ".") in text
    assert f"Matrikel {parcel_id}" in text
    assert "Dato: 2026-12-06" in text
    for title in sheet.legend_titles:
        assert title in text, title
    assert "Kilder" in text and "rasters/terrain.tif" in text and "layers/parcels.gpkg" in text
    assert "Klimarapport" in text and "Samlet vurdering" in text
    assert "SYNTETISKE DATA" in text  # the sample area says it is not real


def test_scale_bar_matches_the_printed_extent(parcel_pdf) -> None:  # type: ignore[no-untyped-def]
    sheet, _ = parcel_pdf
    from klimakort.maps.printing import MAP_FRAME, SHEET_IN

    width_m = sheet.bounds[2] - sheet.bounds[0]
    paper_m = MAP_FRAME[2] * SHEET_IN[0] * 0.0254
    assert sheet.scale_denominator == pytest.approx(width_m / paper_m, rel=0.05)
    # the map frame keeps the extent's aspect: metres per paper metre equal in x and y
    height_m = sheet.bounds[3] - sheet.bounds[1]
    paper_h = MAP_FRAME[3] * SHEET_IN[1] * 0.0254
    assert width_m / paper_m == pytest.approx(height_m / paper_h, rel=1e-6)


@given(st.floats(min_value=0.5, max_value=1e6))
def test_nice_length_is_a_round_number_not_above(max_m: float) -> None:
    n = nice_length(max_m)
    assert n <= max_m < n * 2.5 + 1e-9
    mantissa = n / 10 ** np.floor(np.log10(n))
    assert round(mantissa, 9) in (1.0, 2.0, 5.0)


def test_length_labels() -> None:
    assert length_label(20) == "20 m"
    assert length_label(500) == "500 m"
    assert length_label(2000) == "2 km"


def test_plan_sheet_in_english(workspace: Workspace, tmp_path: Path) -> None:
    plans = workspace.features("local_plans")
    plannr = str(plans["plannr"].iloc[0])
    req = PrintRequest(plan=plannr, scenario="2050", lang="en", layers=("cloudburst_depth",))
    out = write_print(workspace, req, tmp_path / "plan.pdf")
    text = pdf_text(out)
    assert "Legend" in text and "Scenario: 2050" in text and f"Local plan {plannr}" in text
    assert "Cloudburst flood depth" in text and "Sea flooding depth" not in text
    render(out, ARTIFACTS / "print_plan")


def test_bbox_in_lonlat_and_utm_print_the_same_extent(workspace: Workspace) -> None:
    from pyproj import Transformer

    x0, y0, x1, y1 = workspace.bounds
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    utm = (cx - 300, cy - 200, cx + 300, cy + 200)
    tr = Transformer.from_crs(25832, 4326, always_xy=True)
    lon0, lat0 = tr.transform(utm[0], utm[1])
    lon1, lat1 = tr.transform(utm[2], utm[3])
    a = print_sheet(workspace, PrintRequest(bbox=utm, bbox_crs="EPSG:25832"))
    b = print_sheet(workspace, PrintRequest(bbox=(lon0, lat0, lon1, lat1)))
    assert a.subject == "Udsnit" and a.report is None
    # the lon/lat box of the UTM box covers it (edges are not straight in UTM)
    assert b.bounds[0] <= a.bounds[0] + 5 and b.bounds[2] >= a.bounds[2] - 5
    assert np.allclose(
        [(a.bounds[0] + a.bounds[2]) / 2, (a.bounds[1] + a.bounds[3]) / 2], [cx, cy], atol=0.01
    )


def test_the_whole_area_when_nothing_is_chosen(workspace: Workspace, tmp_path: Path) -> None:
    sheet = print_sheet(workspace, PrintRequest(layers=("groundwater_classes",)))
    x0, y0, x1, y1 = workspace.bounds
    b = sheet.bounds
    assert b[0] <= x0 + 1e-6 and b[2] >= x1 - 1e-6 and b[1] <= y0 + 1e-6 and b[3] >= y1 - 1e-6
    png = sheet.to_bytes("png", dpi=60)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    ("req", "error", "match"),
    [
        (PrintRequest(parcel="x", plan="y"), ParameterError, "one of"),
        (PrintRequest(layers=("hillshade",)), ParameterError, "hillshade"),
        (PrintRequest(layers=("nope",)), DataNotFoundError, "nope"),
        (
            PrintRequest(
                layers=(
                    "terrain",
                    "sea_depth",
                    "accumulation",
                    "bluespot_depth",
                    "cloudburst_depth",
                )
            ),
            ParameterError,
            "at most",
        ),
        (PrintRequest(parcel="9999999-0zz"), DataNotFoundError, "parcel"),
        (PrintRequest(bbox=(10.0, 56.0, 10.01, 56.01)), DataNotFoundError, "outside"),
        (PrintRequest(bbox=(5.0, 50.0, 15.0, 58.0)), ParameterError, "km²"),
        (PrintRequest(bbox=(3.0, 2.0, 1.0, 4.0)), ParameterError, "xmin < xmax"),
        (PrintRequest(scenario="2200"), DataNotFoundError, "2200"),
    ],
)
def test_bad_requests_say_what_is_wrong(
    workspace: Workspace, req: PrintRequest, error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        print_sheet(workspace, req)


def test_html_page_links_the_pdf(parcel_pdf) -> None:  # type: ignore[no-untyped-def]
    sheet, _ = parcel_pdf
    page = print_html(sheet, "/print?parcel=a&f=pdf")
    assert 'href="/print?parcel=a&amp;f=pdf"' in page
    assert 'src="data:image/png;base64,' in page and "@page{size:A4 landscape" in page
    assert "rasters/terrain.tif" in page


def test_write_print_refuses_other_suffixes(workspace: Workspace, tmp_path: Path) -> None:
    with pytest.raises(ParameterError, match=r"\.pdf"):
        write_print(workspace, PrintRequest(), tmp_path / "x.txt")
    assert not (tmp_path / "x.txt").exists()
