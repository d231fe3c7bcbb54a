"""Input fingerprints: VRT sources, side-cars, content hashes and change descriptions."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin

from klimakort.errors import DataNotFoundError
from klimakort.hazards.fingerprint import (
    HASH_BYTES,
    describe_changes,
    digest,
    file_fingerprint,
    raster_files,
    vector_files,
)


def _tif(path: Path, value: float, x0: float = 700_000.0) -> Path:
    profile = {
        "driver": "GTiff",
        "width": 4,
        "height": 4,
        "count": 1,
        "dtype": "float32",
        "crs": "EPSG:25832",
        "transform": from_origin(x0, 6_170_000.0, 1.0, 1.0),
    }
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(np.full((1, 4, 4), value, dtype=np.float32))
    return path


def test_a_vrt_is_fingerprinted_with_every_source(tmp_path: Path) -> None:
    a, b = _tif(tmp_path / "a.tif", 1.0), _tif(tmp_path / "b.tif", 2.0, x0=700_004.0)
    vrt = tmp_path / "terrain.vrt"
    sources = "".join(
        f'<SimpleSource><SourceFilename relativeToVRT="1">{p.name}</SourceFilename>'
        f'<SourceBand>1</SourceBand><DstRect xOff="{4 * i}" yOff="0" xSize="4" ySize="4"/>'
        "</SimpleSource>"
        for i, p in enumerate((a, b))
    )
    vrt.write_text(
        '<VRTDataset rasterXSize="8" rasterYSize="4"><SRS>EPSG:25832</SRS>'
        "<GeoTransform>700000, 1, 0, 6170000, 0, -1</GeoTransform>"
        f'<VRTRasterBand dataType="Float32" band="1">{sources}</VRTRasterBand></VRTDataset>'
    )
    assert raster_files(vrt) == sorted(p.resolve() for p in (a, b, vrt))


def test_same_size_and_mtime_but_other_content_changes_the_fingerprint(tmp_path: Path) -> None:
    path = tmp_path / "big.bin"
    data = bytearray(os.urandom(3 * HASH_BYTES))
    path.write_bytes(data)
    before = file_fingerprint(path)
    st = path.stat()
    data[-10] ^= 0xFF  # in the last MiB
    path.write_bytes(data)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))  # as `cp -p` would leave it
    after = file_fingerprint(path)
    assert (after["size"], after["mtime_ns"]) == (before["size"], before["mtime_ns"])
    assert after["sha256_head_tail"] != before["sha256_head_tail"]
    assert digest(after) != digest(before)


def test_a_shapefile_comes_with_its_side_cars(tmp_path: Path) -> None:
    shp = tmp_path / "sea.shp"
    for suffix in (".shp", ".shx", ".dbf", ".prj"):
        shp.with_suffix(suffix).write_bytes(b"x")
    names = {p.name for p in vector_files(shp)}
    assert names == {"sea.shp", "sea.shx", "sea.dbf", "sea.prj"}


def test_a_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(DataNotFoundError, match=r"area\.toml"):
        file_fingerprint(tmp_path / "nope.tif")


def test_describe_changes_names_what_changed() -> None:
    terrain = {"config": {"path": "t.tif"}, "files": [{"path": "t.tif", "size": 1}]}
    old = {"inputs": {"crs": "EPSG:25832", "terrain": terrain, "sea": None}, "store_version": 1}
    new_terrain = {**terrain, "files": [{"path": "t.tif", "size": 2}]}
    sea = {"config": {"path": "s.gpkg"}, "files": []}
    new = {"inputs": {"crs": "EPSG:25832", "terrain": new_terrain, "sea": sea}, "store_version": 1}
    assert describe_changes(old, new) == ["sea added", "terrain changed"]
    assert describe_changes(old, old) == []
    assert describe_changes(old, {**old, "store_version": 2}) == [
        "klimakort's hazard algorithms changed (store version)"
    ]
