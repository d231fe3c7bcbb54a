"""The standalone web map: overlays sit on the area, vectors carry tooltips."""

from __future__ import annotations

import re
from pathlib import Path

import geopandas as gpd
import numpy as np
from shapely.geometry import box

from klimakort.maps.webmap import RasterStyle, WebMap


def test_map_contains_layers_legend_and_title(tmp_path: Path, make_dem) -> None:
    dem = make_dem(np.add.outer(np.arange(50.0), np.arange(60.0)) / 10, cell=10.0)
    web = WebMap(dem.rio.bounds(), "EPSG:25832", "klimakort — Test", "synthetic sample")
    web.add_raster(dem, "Terrain", "Terrain", RasterStyle("terrain", 0, 11, "m DVR90"), show=True)
    parcels = gpd.GeoDataFrame(
        {"matrikel_id": ["2000651-1a", "2000651-2b"]},
        geometry=[
            box(700_010, 6_169_600, 700_100, 6_169_700),
            box(700_100, 6_169_600, 700_200, 6_169_700),
        ],
        crs="EPSG:25832",
    )
    web.add_vector(parcels, "Parcels", "Parcels", tooltip=("matrikel_id",))
    path = web.save(tmp_path / "map.html")
    text = path.read_text()
    assert "2000651-2b" in text and "synthetic sample" in text
    assert "Terrain (m DVR90)" in text  # legend caption
    assert "data:image/png;base64" in text
    # the overlay bounds are the raster's bounds in WGS84 (Vallensbæk is ~12.3 E, 55.6 N)
    m = re.search(r"\[\[(5[45]\.\d+), (1[12]\.\d+)\], \[(5[45]\.\d+), (1[12]\.\d+)\]\]", text)
    assert m is not None
    lat0, lon0, lat1, lon1 = map(float, m.groups())
    assert lat0 < lat1 and lon0 < lon1
    assert abs((lat1 - lat0) * 111_320 - 500) < 30  # 50 rows of 10 m
    assert [p.name for p in tmp_path.iterdir()] == ["map.html"]
