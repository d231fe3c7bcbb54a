"""OGC API - Features tried with clients nobody here wrote, against a real ``klimakort serve``.

GDAL's OAPIF driver (``ogr2ogr``), OWSLib's ``ogcapi.features`` and QGIS's OAPIF provider
read the sample area's parcels through the HTTP API; every count and feature id must
equal what the API itself reports (``numberMatched`` and the ids of its pages).

The clients come from ``.ci/system-deps.sh`` (Debian's gdal-bin, qgis, python3-qgis) and
the ``dev`` extra (OWSLib). Without them the tests skip on a developer machine and fail
under ``CI=true``.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

#: Debian's system python (python3-qgis is installed for it, not for the venv)
SYSTEM_PYTHON = Path("/usr/bin/python3")
#: a bbox (CRS84) over the middle of the sample area
BBOX = (12.38, 55.62, 12.40, 55.63)


def _require(ok: bool, what: str) -> None:
    """Skip without ``what`` on a developer machine; fail under ``CI=true``."""
    if ok:
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{what} is missing (CI=true): .ci/system-deps.sh / the dev extra install it")
    pytest.skip(f"{what} is not installed")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=30) as r:
        return json.loads(r.read())


@pytest.fixture(scope="session")
def server(small_area: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL of a ``klimakort serve`` subprocess over the small sample area."""
    port = _free_port()
    log_path = tmp_path_factory.mktemp("ogc_serve") / "serve.log"
    exe = Path(sys.executable).parent / "klimakort"
    cmd = [str(exe), "serve", str(small_area), "--port", str(port), "--scenario", "present"]
    base = f"http://127.0.0.1:{port}"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 300
            while True:
                if proc.poll() is not None:
                    pytest.fail(log_path.read_text())
                try:
                    _get_json(f"{base}/healthz")
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        pytest.fail("the server did not come up in 300 s")
                    time.sleep(0.5)
            yield base
        finally:
            proc.terminate()
            proc.wait(timeout=30)


def api_ids(base: str, cid: str, **params: Any) -> tuple[int, list[str]]:
    """``numberMatched`` and every feature id, read page by page through ``next`` links."""
    url = f"{base}/collections/{cid}/items?" + urllib.parse.urlencode({"limit": 1000, **params})
    ids: list[str] = []
    matched = -1
    while url:
        page = _get_json(url)
        matched = page["numberMatched"]
        ids += [f["id"] for f in page["features"]]
        url = next((lk["href"] for lk in page["links"] if lk["rel"] == "next"), "")
    return matched, ids


def number_matched(base: str, cid: str, **params: Any) -> int:
    """``numberMatched`` of a query (one request)."""
    query = urllib.parse.urlencode({"limit": 1, **params})
    return int(_get_json(f"{base}/collections/{cid}/items?{query}")["numberMatched"])


# ------------------------------------------------------------------------ GDAL


def _ogr2ogr(base: str, out: Path, *args: str) -> str:
    """Copy the parcels collection through ``OAPIF:`` into a GeoPackage; the debug log."""
    _require(shutil.which("ogr2ogr") is not None, "GDAL's ogr2ogr (Debian gdal-bin)")
    cmd = ["ogr2ogr", "-f", "GPKG", str(out), f"OAPIF:{base}/collections/parcels", *args]
    run = subprocess.run(
        [*cmd, "--debug", "on"], capture_output=True, text=True, timeout=300, check=False
    )
    assert run.returncode == 0, run.stderr[-3000:]
    return run.stderr


def _gpkg_ids(path: Path) -> list[str]:
    import pyogrio

    frame = pyogrio.read_dataframe(path, read_geometry=False)
    return [str(v) for v in frame["id"]]


def test_ogr2ogr_copies_every_parcel_page_by_page(server: str, tmp_path: Path) -> None:
    out = tmp_path / "parcels.gpkg"
    log = _ogr2ogr(server, out, "-oo", "PAGE_SIZE=500")
    matched, ids = api_ids(server, "parcels")
    copied = _gpkg_ids(out)
    pages = [line for line in log.splitlines() if "Fetch(" in line and "/items" in line]
    assert len(pages) >= -(-matched // 500), "ogr2ogr did not page through the collection"
    assert len(copied) == matched == len(ids) > 1000
    assert sorted(copied) == sorted(ids)


def test_ogr2ogr_spatial_filter_equals_bbox_query(server: str, tmp_path: Path) -> None:
    out = tmp_path / "part.gpkg"
    log = _ogr2ogr(server, out, "-oo", "PAGE_SIZE=100", "-spat", *map(str, BBOX))
    assert "bbox=" in log, "ogr2ogr did not send the spatial filter as bbox"
    matched, ids = api_ids(server, "parcels", bbox=",".join(map(str, BBOX)))
    copied = _gpkg_ids(out)
    assert 100 < matched < number_matched(server, "parcels")
    assert len(copied) == matched and sorted(copied) == sorted(ids)


@pytest.mark.parametrize(
    "where",
    [
        "area_m2 > 1000 AND land_use = 'residential'",
        "(area_m2 BETWEEN 200 AND 900 OR public = 1) AND NOT land_use IN ('residential')",
        "matrikelnummer LIKE '1%'",
    ],
)
def test_ogr2ogr_where_equals_cql2_filter(server: str, tmp_path: Path, where: str) -> None:
    """GDAL evaluates ``-where`` itself (OGR SQL): an independent check of the CQL2 filter."""
    out = tmp_path / "where.gpkg"
    _ogr2ogr(server, out, "-oo", "PAGE_SIZE=1000", "-where", where)
    cql2 = where.replace("public = 1", "public = true")
    matched, ids = api_ids(server, "parcels", filter=cql2)
    copied = _gpkg_ids(out)
    assert 0 < len(copied) == matched < number_matched(server, "parcels")
    assert sorted(copied) == sorted(ids)


# ------------------------------------------------------------------------ OWSLib


def _owslib() -> Any:
    try:
        from owslib.ogcapi.features import Features
    except ImportError:  # pragma: no cover - depends on the environment
        _require(False, "OWSLib (the dev extra)")
    return Features


def test_owslib_reads_documents_pages_and_filters(server: str) -> None:
    api = _owslib()(server)
    assert (
        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core"
        in (api.conformance()["conformsTo"])
    )
    listed = [c["id"] for c in api.collections()["collections"]]
    assert "parcels" in listed and api.collection("parcels")["id"] == "parcels"
    matched, ids = api_ids(server, "parcels")
    got: list[str] = []
    offset = 0
    while True:
        page = api.collection_items("parcels", limit=700, offset=offset)
        assert page["numberMatched"] == matched
        got += [f["id"] for f in page["features"]]
        offset += 700
        if offset >= matched:
            break
    assert got == ids
    part = api.collection_items("parcels", bbox=list(BBOX), limit=1000)
    assert (
        part["numberMatched"]
        == len(part["features"])
        == api_ids(server, "parcels", bbox=",".join(map(str, BBOX)))[0]
    )
    text = "area_m2 > 1000 AND public = false"
    filtered = api.collection_items("parcels", filter=text, limit=5000)
    m, fids = api_ids(server, "parcels", filter=text)
    assert 0 < filtered["numberMatched"] == m < matched
    assert [f["id"] for f in filtered["features"]] == fids
    assert all(f["properties"]["area_m2"] > 1000 for f in filtered["features"])
    queryables = api.collection_queryables("parcels")["properties"]
    assert {"geometry", "area_m2", "public"} <= set(queryables)
    # a CQL2 spatial filter through OWSLib selects what bbox= selects
    spatial = f"S_INTERSECTS(geometry, BBOX({', '.join(map(str, BBOX))}))"
    hits = api.collection_items("parcels", filter=spatial, limit=5000)
    assert [f["id"] for f in hits["features"]] == api_ids(server, "parcels", filter=spatial)[1]
    assert hits["numberMatched"] == part["numberMatched"]


# ------------------------------------------------------------------------ QGIS

_QGIS_SCRIPT = r"""
import json, sys
from qgis.core import QgsApplication, QgsFeatureRequest, QgsRectangle, QgsVectorLayer
QgsApplication.setPrefixPath("/usr", True)
app = QgsApplication([], False)
app.initQgis()
base, x0, y0, x1, y1 = sys.argv[1], *map(float, sys.argv[2:6])
layer = QgsVectorLayer(f"url='{base}' typename='parcels' pageSize='500'", "p", "OAPIF")
out = {"valid": layer.isValid()}
if layer.isValid():
    out["count"] = layer.featureCount()
    out["ids"] = [f["id"] for f in layer.getFeatures()]
    req = QgsFeatureRequest().setFilterRect(QgsRectangle(x0, y0, x1, y1))
    req.setFlags(QgsFeatureRequest.ExactIntersect)
    out["bbox_ids"] = [f["id"] for f in layer.getFeatures(req)]
    del req
print(json.dumps(out), flush=True)
del layer  # before exitQgis, or QGIS 3.22 crashes on exit
app.exitQgis()
"""


def test_qgis_oapif_provider_loads_every_parcel(server: str, tmp_path: Path) -> None:
    has_qgis = SYSTEM_PYTHON.exists() and (
        subprocess.run(
            [str(SYSTEM_PYTHON), "-c", "import qgis.core"], capture_output=True, check=False
        ).returncode
        == 0
    )
    _require(has_qgis, "QGIS's python bindings (Debian qgis, python3-qgis)")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env |= {"QT_QPA_PLATFORM": "offscreen", "XDG_RUNTIME_DIR": str(tmp_path), "HOME": str(tmp_path)}
    run = subprocess.run(
        [str(SYSTEM_PYTHON), "-c", _QGIS_SCRIPT, server, *map(str, BBOX)],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    out = json.loads(run.stdout.strip().splitlines()[-1])
    assert out["valid"], run.stderr[-3000:]
    matched, ids = api_ids(server, "parcels")
    assert out["count"] == matched and sorted(out["ids"]) == sorted(ids)
    bbox_matched, bbox_ids = api_ids(server, "parcels", bbox=",".join(map(str, BBOX)))
    assert len(out["bbox_ids"]) == bbox_matched and sorted(out["bbox_ids"]) == sorted(bbox_ids)
