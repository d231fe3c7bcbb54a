"""Warping a source onto a tile grid (:mod:`klimakort.tiles.warp`)."""

from __future__ import annotations

import threading

import numpy as np
from affine import Affine
from rasterio.crs import CRS
from rasterio.warp import Resampling

from klimakort.tiles.warp import Source, warp

SRC_T = Affine(6.4, 0, 712000, 0, -6.4, 6171000)
DST_T = Affine(9.55, 0, 1376592.66, 0, -9.55, 7486796.72)


def test_concurrent_warps_stay_georeferenced() -> None:
    """The tile server warps levels from several threads at once. Unserialised, rasterio
    sometimes builds an in-memory dataset without its geotransform (a
    NotGeoreferencedWarning, an error under this suite's filters, an HTTP 500 in the map),
    seen about once in 120 warps of 4 threads; every warp must equal the serial one."""
    rng = np.random.default_rng(1)
    src = Source(rng.random((469, 625), dtype=np.float32), SRC_T, CRS.from_epsg(25832))
    dst_crs = CRS.from_epsg(3857)
    want = warp(src, DST_T, dst_crs, (592, 767), Resampling.bilinear)
    assert np.isfinite(want).any()
    failures: list[str] = []

    def run() -> None:
        for _ in range(60):
            try:
                got = warp(src, DST_T, dst_crs, (592, 767), Resampling.bilinear)
            except Exception as exc:  # collected, asserted below
                failures.append(repr(exc))
                continue
            if not np.array_equal(got, want, equal_nan=True):
                failures.append("a concurrent warp differs from the serial one")

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
