"""``init_area`` on small synthetic downloads: area.toml, [sources], refusals, atomicity."""

from __future__ import annotations

import tomllib
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import rasterio
import shapely
from rasterio.transform import from_origin

from klimakort.cli import main
from klimakort.config.area import load_area
from klimakort.errors import ConfigError, InputError
from klimakort.setup.init import area_toml, init_area, load_boundary

E0, N0 = 724, 6170  # km


def _tiles(folder: Path, squares: list[tuple[int, int]]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for n, e in squares:
        data = np.full((50, 50), 2.0 + (n - N0) + 0.5 * (e - E0), dtype=np.float32)
        with rasterio.open(
            folder / f"DTM_1km_{n}_{e}.tif", "w", driver="GTiff", width=50, height=50, count=1,
            dtype="float32", crs="EPSG:25832", nodata=-9999.0,
            transform=from_origin(e * 1000.0, (n + 1) * 1000.0, 20.0, 20.0),
        ) as dst:  # fmt: skip
            dst.write(data, 1)
    return folder


def _boundary(path: Path) -> Path:
    kommuner = gpd.GeoDataFrame(
        {"navn": ["Ørby", "Naboby"], "kommunekode": ["0999", "0998"]},
        geometry=[
            shapely.Point((E0 + 1) * 1000.0, (N0 + 1) * 1000.0).buffer(800.0),
            shapely.box(0, 0, 10, 10),
        ],
        crs="EPSG:25832",
    )
    kommuner.to_file(path)
    return path


def _parcels_gml(path: Path) -> Path:
    cx, cy = (E0 + 1) * 1000.0, (N0 + 1) * 1000.0
    gdf = gpd.GeoDataFrame(
        {
            "ejerlavskode": [2000651, 2000651, 2000651],
            "matrikelnummer": ["1a", "2b", "3"],
            "ejerlavsnavn": ["Ørby By, Ørby"] * 3,
            "registreretAreal": [40000, 40000, 40000],
            "lokal_bemaerkning": ["x", "y", "z"],
        },
        geometry=[
            shapely.box(cx - 200, cy - 200, cx, cy),
            shapely.box(cx, cy, cx + 200, cy + 200),
            shapely.box(cx + 5000, cy, cx + 5200, cy + 200),  # far away: outside
        ],
        crs="EPSG:25832",
    )
    pyogrio.write_dataframe(gdf, path, driver="GML", layer="Jordstykke")
    return path


@pytest.fixture
def downloads(tmp_path: Path) -> dict[str, Path]:
    squares = [(n, e) for n in (N0, N0 + 1) for e in (E0, E0 + 1)]
    return {
        "tiles": _tiles(tmp_path / "dhm", squares),
        "boundary": _boundary(tmp_path / "kommuner.gpkg"),
        "parcels": _parcels_gml(tmp_path / "jordstykke.gml"),
    }


def test_init_writes_a_valid_area_from_gml_parcels(
    downloads: dict[str, Path], tmp_path: Path
) -> None:
    res = init_area(
        tmp_path / "area", terrain=downloads["tiles"], boundary=downloads["boundary"],
        municipality="0999", layers={"parcels": [downloads["parcels"]]},
    )  # fmt: skip
    cfg = load_area(res.toml)
    assert cfg.name == "Ørby" and not cfg.synthetic
    parcels = gpd.read_file(cfg.layers["parcels"].path)
    assert sorted(parcels["matrikel_id"]) == ["2000651-1a", "2000651-2b"]
    rep = res.layers[0]
    assert rep.fields_unknown == ["lokal_bemaerkning"] and "lokal_bemaerkning" in parcels
    assert (rep.features_read, rep.features_kept, rep.features_outside) == (3, 2, 1)
    assert res.terrain.cells_missing == 0 and res.missing_tiles == []
    assert (tmp_path / "area" / "rasters" / "terrain_tiles.vrt").is_file()
    doc = tomllib.loads(res.toml.read_text(encoding="utf-8"))
    assert doc["sources"]["parcels"]["files"][0]["bytes"] == downloads["parcels"].stat().st_size
    assert len(doc["sources"]["terrain"]["files"]) == 4
    assert any("heating_mains" in h for h in res.hints)


def test_missing_tiles_are_named(downloads: dict[str, Path], tmp_path: Path) -> None:
    (downloads["tiles"] / f"DTM_1km_{N0 + 1}_{E0 + 1}.tif").unlink()
    res = init_area(tmp_path / "a", terrain=downloads["tiles"], boundary=downloads["boundary"],
                    municipality="Ørby")  # fmt: skip
    assert res.missing_tiles == [f"DTM_1km_{N0 + 1}_{E0 + 1}.tif"]
    assert res.terrain.cells_missing == pytest.approx(res.terrain.cells_inside / 4, rel=0.05)


def test_bbox_instead_of_a_boundary(downloads: dict[str, Path], tmp_path: Path) -> None:
    bbox = (E0 * 1000.0 + 100, N0 * 1000.0 + 100, E0 * 1000.0 + 1500, N0 * 1000.0 + 1900)
    res = init_area(tmp_path / "a", terrain=downloads["tiles"], bbox=bbox, name="Test")
    assert res.terrain.bounds == bbox
    assert res.terrain.cells_valid == res.terrain.width * res.terrain.height
    assert load_area(res.toml).sources["boundary"]["read_as"] == "bounding box"


def test_refusals_leave_no_area_toml(downloads: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "a"
    with pytest.raises(InputError, match="--municipality"):
        init_area(out, terrain=downloads["tiles"], boundary=downloads["boundary"])
    with pytest.raises(InputError, match="either --boundary"):
        init_area(out, terrain=downloads["tiles"])
    with pytest.raises(ConfigError, match="unknown layer key"):
        init_area(out, terrain=downloads["tiles"], bbox=(0, 0, 1, 1), layers={"parcel": ["x"]})
    with pytest.raises(InputError, match="not in the boundary file"):
        load_boundary(downloads["boundary"], "Andeby")
    assert not (out / "area.toml").exists()
    init_area(out, terrain=downloads["tiles"], boundary=downloads["boundary"], municipality="Ørby")
    with pytest.raises(ConfigError, match="--force"):
        init_area(out, terrain=downloads["tiles"], boundary=downloads["boundary"],
                  municipality="Ørby")  # fmt: skip


def test_area_toml_text_round_trips() -> None:
    text = area_toml(
        'Ø "by"',
        {"parcels": {"path": "layers/parcels.gpkg", "id_field": "matrikel_id"}},
        {"kind": "contours", "path": "layers/h.gpkg", "field": "Vsp_2024"},
        {"terrain": {"read_as": "tiles", "files": [{"path": "/a b/æ.tif", "bytes": 3}]},
         "parcels": {"features_kept": 2, "cell": 0.4, "ok": True}},
    )  # fmt: skip
    doc = tomllib.loads(text)
    assert doc["name"] == 'Ø "by"'
    assert doc["sources"]["terrain"]["files"] == [{"path": "/a b/æ.tif", "bytes": 3}]
    assert doc["sources"]["parcels"] == {"features_kept": 2, "cell": 0.4, "ok": True}
    assert doc["layers"]["parcels"]["id_field"] == "matrikel_id"


def test_cli_area_init(
    downloads: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["area", "init", str(tmp_path / "a"), "--terrain", str(downloads["tiles"]),
            "--boundary", str(downloads["boundary"]), "--municipality", "Ørby",
            "--parcels", f"{downloads['parcels']}:Jordstykke"]  # fmt: skip
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code in (0, None)
    assert capsys.readouterr().out.strip().endswith("area.toml")
    with pytest.raises(SystemExit) as exc:
        main(["area", "init", "--help"])
    assert "DHM" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exc:
        main(["area", "init", str(tmp_path / "b"), "--terrain", str(tmp_path / "none")])
    assert exc.value.code == 2


def test_zipped_tiles_are_recorded_by_zip_and_member(
    downloads: dict[str, Path], tmp_path: Path
) -> None:
    import zipfile

    zpath = tmp_path / "DTM_617_72_TIF_UTM32-ETRS89.zip"
    with zipfile.ZipFile(zpath, "w") as z:
        for tif in sorted(downloads["tiles"].glob("*.tif")):
            z.write(tif, tif.name)
    res = init_area(tmp_path / "a", terrain=zpath, boundary=downloads["boundary"],
                    municipality="Ørby")  # fmt: skip
    files = tomllib.loads(res.toml.read_text(encoding="utf-8"))["sources"]["terrain"]["files"]
    assert {f["path"] for f in files} == {str(zpath.resolve())}
    assert sorted(f["member"] for f in files) == sorted(
        p.name for p in downloads["tiles"].glob("*.tif")
    )
    assert res.terrain.cells_missing == 0


def test_large_terrain_suggests_a_coarser_resolution(
    downloads: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import klimakort.setup.init as init_mod

    monkeypatch.setattr(init_mod, "LARGE_CELLS", 100)
    res = init_area(tmp_path / "a", terrain=downloads["tiles"], boundary=downloads["boundary"],
                    municipality="Ørby")  # fmt: skip
    assert any("--resolution" in h for h in res.hints)
    res2 = init_area(tmp_path / "b", terrain=downloads["tiles"], boundary=downloads["boundary"],
                     municipality="Ørby", resolution=40.0)  # fmt: skip
    assert res2.terrain.res == 40.0 and res2.terrain.width == res.terrain.width // 2
