"""A fresh municipality from real files: ``area init``, then hazards, report, suitability, serve.

Vallensbæk's real layers (../shared/data) and its municipal boundary, with DHM-like
terrain tiles built from the real terrain heights of its boreholes (see conftest.py) and a
jordstykke layer in Datafordeler's schema. Everything is asserted against the input files,
not against stored outputs.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import tomllib
import urllib.request
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
import shapely

from klimakort.cli import main

from .vallensbaek_data import sea_polygon, vallensbaek_boundary, write_jordstykker

pytestmark = pytest.mark.shared

REPO_ROOT = Path(__file__).resolve().parents[2]
MUNICIPALITIES = "municipalities_ballerup_hoejetaastrup_vallensbaek.gpkg"
HIP = [f"hip_depth_summer_{r}m.geojson" for r in ("0-1", "1-2", "2-3", "3-7")]
PUBLIC_USES = ("Område til offentlige formål", "Rekreativt område")


def run(argv: list[str]) -> int:
    try:
        main(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


def _overlapping(path: Path, boundary: shapely.Geometry) -> gpd.GeoDataFrame:
    """The features of ``path`` whose area overlaps the boundary (computed independently)."""
    gdf = gpd.read_file(path)
    return gdf.loc[gdf.geometry.intersection(boundary).area > 0]


@pytest.fixture(scope="module")
def inputs(
    shared_data: Path, vallensbaek_tiles: Path, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Path]:
    """The downloaded files of the planner (the real ones plus the fixtures)."""
    d = tmp_path_factory.mktemp("downloads")
    v = shared_data / "vallensbaek"
    boundary = vallensbaek_boundary(shared_data)
    sea = sea_polygon(shared_data, shapely.box(*boundary.bounds).buffer(3000))
    gpd.GeoDataFrame({"navn": ["Køge Bugt"]}, geometry=[sea], crs=25832).to_file(d / "sea.gpkg")
    plans = gpd.read_file(v / "local_plans.geojson")
    public = plans.loc[plans["anvendelsegenerel"].isin(PUBLIC_USES)]
    public[["plannr", "plannavn", "anvendelsegenerel", "geometry"]].to_file(d / "public.gpkg")
    return {
        "tiles": vallensbaek_tiles,
        "boundary": shared_data / "denmark" / MUNICIPALITIES,
        "parcels": write_jordstykker(shared_data, d),
        "buildings": v / "buildings_with_basement.geojson",
        "plans": v / "local_plans.geojson",
        "coast": v / "coastal_flood_risk_kdi.geojson",
        "head": v / "groundwater_head_contours_2024.geojson",
        "sea": d / "sea.gpkg",
        "public": d / "public.gpkg",
        "lakes": v / "lakes.geojson",
        **{f"hip{i}": v / name for i, name in enumerate(HIP)},
    }


@pytest.fixture(scope="module")
def area(inputs: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``klimakort area init`` of Vallensbæk; returns the area.toml."""
    out = tmp_path_factory.mktemp("vallensbaek") / "area"
    hip = [a for i in range(len(HIP)) for a in ("--hip", str(inputs[f"hip{i}"]))]
    argv = [
        "area", "init", str(out),
        "--boundary", str(inputs["boundary"]), "--municipality", "Vallensbæk",
        "--terrain", str(inputs["tiles"]),
        "--parcels", f"{inputs['parcels']}:Jordstykke",
        "--buildings", str(inputs["buildings"]),
        "--institutions", str(inputs["buildings"]),
        "--local-plans", str(inputs["plans"]),
        "--coastal-flood-risk", str(inputs["coast"]),
        *hip,
        "--groundwater", str(inputs["head"]),
        "--layer", f"sea={inputs['sea']}",
        "--layer", f"public_land={inputs['public']}",
        "--layer", f"lakes={inputs['lakes']}",
    ]  # fmt: skip
    assert run(argv) == 0
    return out / "area.toml"


def test_area_toml_records_every_source(area: Path, inputs: dict[str, Path]) -> None:
    doc = tomllib.loads(area.read_text(encoding="utf-8"))
    assert doc["name"] == "Vallensbæk" and doc["crs"] == "EPSG:25832"
    sources = doc["sources"]
    tiles = sorted(inputs["tiles"].glob("DTM_1km_*.tif"))
    assert len(tiles) >= 4
    assert sorted(Path(f["path"]) for f in sources["terrain"]["files"]) == tiles
    assert all(f["bytes"] == Path(f["path"]).stat().st_size for f in sources["terrain"]["files"])
    assert sources["parcels"]["files"][0]["layer"] == "Jordstykke"
    assert sources["boundary"]["path"] == str(inputs["boundary"])
    assert len(sources["groundwater_depth_reference"]["files"]) == len(HIP)
    for key in ("parcels", "buildings", "local_plans", "coastal_flood_risk", "groundwater"):
        assert sources[key]["read_as"]
    assert doc["groundwater"] == {
        "kind": "contours", "path": "layers/groundwater_head.gpkg", "field": "Vsp_2024",
    }  # fmt: skip


def test_terrain_is_the_tiles_clipped_to_the_boundary(area: Path, shared_data: Path) -> None:
    boundary = vallensbaek_boundary(shared_data)
    with rasterio.open(area.parent / "rasters" / "terrain.tif") as src:
        assert src.crs.to_epsg() == 25832 and src.dtypes[0] == "float32"
        assert src.nodata == -9999.0 and src.overviews(1)
        data, b, res = src.read(1), src.bounds, src.res[0]
    assert b.left >= boundary.bounds[0] - res and b.right <= boundary.bounds[2] + res
    assert b.bottom >= boundary.bounds[1] - res and b.top <= boundary.bounds[3] + res
    rows, cols = np.nonzero(data != -9999.0)
    xs, ys = b.left + (cols + 0.5) * res, b.top - (rows + 0.5) * res
    assert shapely.contains_xy(boundary, xs, ys).all()
    # the tiles cover the municipality: every cell inside it has a height
    assert len(xs) == pytest.approx(boundary.area / res**2, rel=0.01)
    bores = gpd.read_file(shared_data / "vallensbaek" / "boreholes.geojson")
    z = pd.to_numeric(bores["terraen_ko"], errors="coerce")
    assert data[data != -9999.0].max() <= z.max() + 1e-3


def test_layers_equal_the_clipped_inputs(
    area: Path, inputs: dict[str, Path], shared_data: Path
) -> None:
    boundary = vallensbaek_boundary(shared_data)
    layers = area.parent / "layers"
    report = json.loads((area.parent / "setup_report.json").read_text(encoding="utf-8"))["layers"]
    expect = {
        "buildings": len(_overlapping(inputs["buildings"], boundary)),
        "local_plans": len(_overlapping(inputs["plans"], boundary)),
        "coastal_flood_risk": len(_overlapping(inputs["coast"], boundary)),
        "groundwater_depth_reference": sum(
            len(_overlapping(inputs[f"hip{i}"], boundary)) for i in range(len(HIP))
        ),
        "parcels": len(gpd.read_file(inputs["parcels"])),
    }
    for key, n in expect.items():
        written = gpd.read_file(layers / f"{key}.gpkg", layer=key)
        assert written.crs.to_epsg() == 25832, key
        assert len(written) == n == report[key]["features_kept"], key
    # the cut layers lie inside the boundary; the selected ones overlap it
    coast = gpd.read_file(layers / "coastal_flood_risk.gpkg")
    assert coast.geometry.iloc[0].difference(boundary.buffer(0.01)).area < 1.0
    plans = gpd.read_file(layers / "local_plans.gpkg")
    assert set(plans["plannr"]) == set(_overlapping(inputs["plans"], boundary)["plannr"])
    parcels = gpd.read_file(layers / "parcels.gpkg")
    src = gpd.read_file(inputs["parcels"])
    assert (
        parcels["matrikel_id"] == src["ejerlavskode"].astype(str) + "-" + src["matrikelnummer"]
    ).all()
    # institutions: the schools (421) and kindergartens (441) of BBR
    bbr = _overlapping(inputs["buildings"], boundary)
    codes = bbr["byg021BygningensAnvendelse"].astype(int)
    inst = gpd.read_file(layers / "institutions.gpkg")
    assert sorted(inst["kind"]) == sorted(
        ["school"] * int((codes == 421).sum()) + ["kindergarten"] * int((codes == 441).sum())
    )
    # unknown fields are listed and kept; known ones are not listed as unknown
    b = report["buildings"]
    assert "Sum_damage_cost" in b["fields_unknown"] and "AutoUID" not in b["fields_unknown"]
    assert b["fields_used"]["building_id"] == "AutoUID"
    assert "Sum_damage_cost" in gpd.read_file(layers / "buildings.gpkg").columns
    assert report["local_plans"]["fields_unknown"] == []
    assert report["buildings"]["flattened_3d"] == len(gpd.read_file(inputs["buildings"]))


def _plan_covered_by_parcels(inputs: dict[str, Path], boundary: shapely.Geometry) -> pd.Series:
    plans = _overlapping(inputs["plans"], boundary)
    cover = shapely.union_all(gpd.read_file(inputs["parcels"]).geometry.to_numpy())
    inside = plans.loc[plans.geometry.within(cover.buffer(0.5))]
    return inside.loc[inside.area.idxmax()]


def test_hazards_report_and_suitability_run(
    area: Path, inputs: dict[str, Path], shared_data: Path, tmp_path: Path
) -> None:
    out = tmp_path / "hazards"
    assert run(["hazards", str(area), "--scenario", "2100", "--out", str(out)]) == 0
    for name in ("cloudburst/flood_depth.tif", "sea_inundation_depth.tif", "groundwater_depth.tif"):
        with rasterio.open(out / "2100" / name) as src:
            assert src.crs.to_epsg() == 25832 and src.tags()["scenario"] == "2100"
    with (
        rasterio.open(out / "2100" / "groundwater_depth.tif") as src,
        rasterio.open(area.parent / "rasters" / "terrain.tif") as dem,
    ):
        # the head contours kept around the boundary give a depth on (nearly) all land
        land = int((dem.read(1) != dem.nodata).sum())
        assert src.read(1, masked=True).count() >= 0.9 * land

    plan = _plan_covered_by_parcels(inputs, vallensbaek_boundary(shared_data))
    rep_path = tmp_path / "plan.json"
    argv = ["report", str(area), "--plan", str(plan["plannr"]), "--scenario", "2100",
            "--format", "json", "--out", str(rep_path)]  # fmt: skip
    assert run(argv) == 0
    report = json.loads(rep_path.read_text(encoding="utf-8"))
    assert report["kind"] == "plan" and report["id"] == str(plan["plannr"])
    assert report["name"] == plan["plannavn"] and report["area"]["name"] == "Vallensbæk"
    assert report["parcels"], "the plan lies on the jordstykker: its parcels are reported"

    profiles = tmp_path / "profiles.toml"
    profiles.write_text(_without_heating_mains_clearance(), encoding="utf-8")
    suit = tmp_path / "suit"
    argv = ["suitability", str(area), "--measure", "miyawaki_forest", "--scenario", "2100",
            "--profiles", str(profiles), "--choose", "2", "--min-spacing", "100",
            "--samples", "20", "--out", str(suit)]  # fmt: skip
    assert run(argv) == 0
    cands = gpd.read_file(suit / "candidates.gpkg")
    assert len(cands) > 0 and cands.crs.to_epsg() == 25832
    public = shapely.union_all(gpd.read_file(inputs["public"]).geometry.to_numpy())
    assert cands.geometry.representative_point().within(public.buffer(5.0)).all()


def _without_heating_mains_clearance() -> str:
    """The built-in profiles with the Miyawaki heating-mains clearance off (no mains data)."""
    text = (REPO_ROOT / "src/klimakort/suitability/measures_default.toml").read_text("utf-8")
    head, sep, tail = text.partition("[profiles.miyawaki_forest.constraints]")
    tail, n = re.subn(r"heating_mains_clearance_m = [0-9.]+", "heating_mains_clearance_m = 0.0",
                      tail, count=1)  # fmt: skip
    assert sep and n == 1
    return head + sep + tail


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str) -> tuple[int, bytes, str]:
    with urllib.request.urlopen(url, timeout=30) as r:
        return r.status, r.read(), r.headers.get("content-type", "")


def _wait(proc: subprocess.Popen[bytes], url: str, log: Path) -> Any:
    deadline = time.monotonic() + 300
    while True:
        if proc.poll() is not None:
            pytest.fail(log.read_text(errors="replace"))
        try:
            return json.loads(_get(url)[1])
        except OSError:
            if time.monotonic() > deadline:
                pytest.fail("the server did not come up in 300 s:\n" + log.read_text())
            time.sleep(0.5)


def test_serve_offers_the_real_layers(area: Path, shared_data: Path, tmp_path: Path) -> None:
    import morecantile
    from pyproj import Transformer

    port = _free_port()
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO_ROOT / "src"), str(REPO_ROOT / "api")]),
    }
    cmd = [sys.executable, "-c", "from klimakort.cli import main; main()",
           "serve", str(area), "--port", str(port), "--scenario", "2100"]  # fmt: skip
    log_path = tmp_path / "serve.log"
    base = f"http://127.0.0.1:{port}"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
        try:
            health = _wait(proc, f"{base}/healthz", log_path)
            assert health["area"] == "Vallensbæk" and health["scenarios"] == ["2100"]
            _, body, _ = _get(f"{base}/collections")
            ids = {c["id"] for c in json.loads(body)["collections"]}
            assert {"parcels", "local_plans", "coastal_flood_risk",
                    "groundwater_depth_reference"} <= ids  # fmt: skip
            _, body, _ = _get(f"{base}/collections/groundwater_depth_reference/items?limit=2")
            feats = json.loads(body)["features"]
            assert {f["properties"]["season"] for f in feats} == {"summer"}
            c = vallensbaek_boundary(shared_data).representative_point()
            lon, lat = Transformer.from_crs(25832, "OGC:CRS84", always_xy=True).transform(c.x, c.y)
            t = morecantile.tms.get("WebMercatorQuad").tile(lon, lat, 14)
            status, png, ctype = _get(
                f"{base}/rasters/terrain/tiles/WebMercatorQuad/{t.z}/{t.x}/{t.y}.png"
            )
            assert status == 200 and ctype == "image/png" and png[:8] == b"\x89PNG\r\n\x1a\n"
        finally:
            proc.terminate()
            proc.wait(timeout=30)
