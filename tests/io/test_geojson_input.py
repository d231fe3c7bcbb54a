"""GeoJSON input geometries: parsing, CRS84 <-> area CRS, wrong-CRS detection."""

from __future__ import annotations

import pytest
import shapely
from pyproj import Transformer

from klimakort.errors import CRSError, GeometryError
from klimakort.io.geojson_input import (
    check_coordinates,
    geometry_from_geojson,
    to_area_crs,
    to_crs84,
    transformer,
)


def test_round_trip_matches_pyproj() -> None:
    lonlat = shapely.box(12.38, 55.63, 12.39, 55.64)
    utm = to_area_crs(lonlat, "EPSG:25832")
    ref = Transformer.from_crs("OGC:CRS84", 25832, always_xy=True)
    src = shapely.get_coordinates(lonlat)
    x, y = ref.transform(src[:, 0], src[:, 1])
    got = shapely.get_coordinates(utm)
    assert got[:, 0] == pytest.approx(x, abs=1e-6) and got[:, 1] == pytest.approx(y, abs=1e-6)
    back = to_crs84(utm, "EPSG:25832")
    assert shapely.equals_exact(back, lonlat, tolerance=1e-9)
    assert transformer("OGC:CRS84", "EPSG:25832") is transformer("OGC:CRS84", "EPSG:25832")


def test_parse_and_wrong_crs() -> None:
    geom = geometry_from_geojson({"type": "Point", "coordinates": [12.4, 55.6, 3.0]})
    assert not shapely.has_z(geom)
    with pytest.raises(GeometryError, match="no geometry"):
        geometry_from_geojson(None)
    metres = shapely.box(712_000, 6_170_000, 712_100, 6_170_100)
    with pytest.raises(CRSError, match="with crs=X"):
        check_coordinates(metres, "OGC:CRS84", "EPSG:25832", None, declare="crs=X")
    degrees = shapely.box(12.38, 55.63, 12.39, 55.64)
    with pytest.raises(CRSError, match="without crs=X"):
        check_coordinates(degrees, "EPSG:25832", "EPSG:25832", None, declare="crs=X")
    check_coordinates(degrees, "OGC:CRS84", "EPSG:25832", None, declare="crs=X")  # fine
