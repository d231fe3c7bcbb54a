"""Atomic writes: a crash mid-write leaves the old file intact and no partial file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio

from klimakort.io import atomic_path, read_raster, write_cog


def test_success_replaces_file(tmp_path: Path) -> None:
    dest = tmp_path / "out.txt"
    dest.write_text("old")
    with atomic_path(dest) as tmp:
        assert tmp.parent == dest.parent and tmp != dest
        tmp.write_text("new")
    assert dest.read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.txt"]


def test_crash_keeps_old_file_and_leaves_nothing(tmp_path: Path) -> None:
    dest = tmp_path / "out.txt"
    dest.write_text("old")
    with pytest.raises(RuntimeError, match="simulated crash"), atomic_path(dest) as tmp:
        tmp.write_text("half")
        raise RuntimeError("simulated crash")
    assert dest.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.txt"]


def test_cog_crash_mid_write_keeps_previous_raster(
    tmp_path: Path, make_dem, monkeypatch: pytest.MonkeyPatch
) -> None:
    dest = tmp_path / "dem.tif"
    write_cog(make_dem(np.ones((64, 64))), dest, units="m", source="first")
    real_open = rasterio.open

    class Exploding:
        def __init__(self, ds):
            self.ds = ds

        def __enter__(self):
            return self

        def write(self, *_a, **_k):
            # write something real to the temp file, then die
            self.ds.write(np.zeros((64, 64), "float32"), 1)
            raise OSError("disk full (simulated)")

        def __exit__(self, *exc):
            self.ds.close()
            return False

    def fake_open(path, mode="r", **kw):
        ds = real_open(path, mode, **kw)
        return Exploding(ds) if mode == "w" else ds

    monkeypatch.setattr("klimakort.io.raster.rasterio.open", fake_open)
    with pytest.raises(OSError, match="disk full"):
        write_cog(make_dem(np.full((64, 64), 7.0)), dest, units="m", source="second")
    monkeypatch.undo()
    back = read_raster(dest)
    assert float(back.max()) == 1.0
    assert back.attrs["source"] == "first"
    assert [p.name for p in tmp_path.iterdir()] == ["dem.tif"]
