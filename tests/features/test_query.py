"""bbox/CRS/paging parameters, the per-collection index and paging invariants."""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import CRS, Transformer

from klimakort.errors import DataNotFoundError, ParameterError, RequestTooLargeError
from klimakort.features import query
from klimakort.features.query import CRS84, FeatureIndex, ItemsQuery
from klimakort.io import crs_uri

UTM = "http://www.opengis.net/def/crs/EPSG/0/25832"
AREA = CRS.from_epsg(25832)


def grid_frame(n: int = 20, cell: float = 50.0) -> gpd.GeoDataFrame:
    """n x n square parcels of ``cell`` m near Copenhagen, ids p0..p{n*n-1}."""
    x0, y0 = 712_000.0, 6_168_000.0
    boxes, ids, vals = [], [], []
    for i in range(n):
        for j in range(n):
            boxes.append(
                shapely.box(x0 + j * cell, y0 + i * cell, x0 + (j + 1) * cell, y0 + (i + 1) * cell)
            )
            ids.append(f"p{i * n + j}")
            vals.append(float((i * 7 + j * 3) % 11))
    return gpd.GeoDataFrame({"value": vals, "fid": ids}, geometry=boxes, crs=AREA)


class FakeWorkspace:
    """The workspace surface :func:`query.feature_index` uses."""

    crs = AREA

    def __init__(self, frame: gpd.GeoDataFrame) -> None:
        self.frame = frame
        self.rev = 0
        self.reads = 0

    def collection(self, cid: str) -> object:
        if cid != "parcels":
            raise DataNotFoundError(f"unknown collection {cid!r}")
        return object()

    def revision(self, cid: str) -> int:
        return self.rev

    def features(self, cid: str) -> gpd.GeoDataFrame:
        self.reads += 1
        return self.frame


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1,2,3,4", (1.0, 2.0, 3.0, 4.0)),
        (" 1.5 , -2 ,3e0, 4 ", (1.5, -2.0, 3.0, 4.0)),
        ("1,2,0,3,4,10", (1.0, 2.0, 3.0, 4.0)),
        ("5,5,5,5", (5.0, 5.0, 5.0, 5.0)),
    ],
)
def test_parse_bbox(text: str, expected: tuple[float, ...]) -> None:
    assert query.parse_bbox(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1,2,3", "4 comma-separated numbers"),
        ("1,2,3,4,5", "4 comma-separated numbers"),
        ("a,b,c,d", "4 comma-separated numbers"),
        ("1,2,nan,4", "4 comma-separated numbers"),
        ("1,2,inf,4", "4 comma-separated numbers"),
        ("3,2,1,4", "minimum is above the maximum"),
        ("1,4,3,2", "minimum is above the maximum"),
    ],
)
def test_parse_bbox_errors(text: str, message: str) -> None:
    with pytest.raises(ParameterError, match=message):
        query.parse_bbox(text)


def test_resolve_crs_aliases_and_errors() -> None:
    supported = crs_uri.supported_crs(AREA)
    assert supported == [CRS84, UTM]
    assert crs_uri.resolve_crs(None, supported) == CRS84
    for alias in ("EPSG:25832", "[EPSG:25832]", UTM, "<" + UTM + ">", UTM.replace("http", "https")):
        assert crs_uri.resolve_crs(alias, supported) == UTM
    for alias in ("CRS84", "OGC:CRS84", CRS84, "[OGC:CRS84]"):
        assert crs_uri.resolve_crs(alias, supported) == CRS84
    with pytest.raises(ParameterError, match=r"use one of: .*CRS84.*25832") as info:
        crs_uri.resolve_crs("EPSG:4326", supported, "bbox-crs")
    assert "bbox-crs='EPSG:4326'" in str(info.value)


def test_check_bbox_range_and_size() -> None:
    query.check_bbox((12.3, 55.6, 12.4, 55.7), CRS84, AREA, 2500.0)
    query.check_bbox((712_000, 6_168_000, 716_000, 6_171_000), UTM, AREA, 2500.0)
    with pytest.raises(ParameterError, match="outside the range"):
        query.check_bbox((12.3, 55.6, 190.0, 55.7), CRS84, AREA, 1e12)
    with pytest.raises(ParameterError, match="axis order"):
        query.check_bbox((55.6, 12.3, 55.7, 100.0), CRS84, AREA, 1e12)
    with pytest.raises(ParameterError, match="outside the range"):
        query.check_bbox((712_000, 6_168_000, 716_000, 6.1e7), UTM, AREA, 1e12)
    # 10 km x 10 km = 100 km2: allowed at 100, refused below
    box = (700_000.0, 6_100_000.0, 710_000.0, 6_110_000.0)
    query.check_bbox(box, UTM, AREA, 100.0)
    with pytest.raises(RequestTooLargeError, match="100 km²"):
        query.check_bbox(box, UTM, AREA, 99.0)
    with pytest.raises(RequestTooLargeError):  # the whole world, far outside UTM 32
        query.check_bbox((-180.0, -90.0, 180.0, 90.0), CRS84, AREA, 1e6)
    # a lon/lat box is measured in the storage CRS (1 degree x 1 degree ~ 7,000 km2 here)
    with pytest.raises(RequestTooLargeError):
        query.check_bbox((12.0, 55.0, 13.0, 56.0), CRS84, AREA, 5000.0)


@pytest.mark.parametrize(
    ("limit", "offset", "message"),
    [(0, 0, "between 1 and 50"), (51, 0, "between 1 and 50"), (10, -1, "0 or more")],
)
def test_check_paging(limit: int, offset: int, message: str) -> None:
    query.check_paging(50, 10**6, 50)
    with pytest.raises(ParameterError, match=message):
        query.check_paging(limit, offset, 50)


def test_index_bbox_rows_match_brute_force() -> None:
    frame = grid_frame()
    idx = FeatureIndex("parcels", 0, frame, UTM)
    box = (712_120.0, 6_168_260.0, 712_400.0, 6_168_480.0)
    rows = idx.bbox_rows(box, UTM)
    brute = np.flatnonzero(frame.intersects(shapely.box(*box)).to_numpy())
    assert rows.tolist() == brute.tolist()
    # the same region asked in CRS84 (the lon/lat envelope of the box contains it)
    tr = Transformer.from_crs(AREA, "OGC:CRS84", always_xy=True)
    env84 = tr.transform_bounds(*box, densify_pts=21)
    rows84 = idx.bbox_rows(env84, CRS84)
    assert set(rows.tolist()) <= set(rows84.tolist())
    # ... and the whole area gives every feature in both CRSs
    whole = idx.extent(CRS84)
    assert whole is not None
    x0, y0, x1, y1 = whole
    assert len(idx.bbox_rows((x0, y0, x1, y1), CRS84)) == len(frame)


def test_crs84_output_matches_pyproj() -> None:
    frame = grid_frame(5)
    idx = FeatureIndex("parcels", 0, frame, UTM)
    out = idx.in_crs(CRS84)
    tr = Transformer.from_crs(AREA, "OGC:CRS84", always_xy=True)
    src = shapely.get_coordinates(np.asarray(frame.geometry.array))
    lon, lat = tr.transform(src[:, 0], src[:, 1])
    got = shapely.get_coordinates(np.asarray(out.geometry.array))
    np.testing.assert_allclose(got[:, 0], lon, atol=5.1e-8, rtol=0)
    np.testing.assert_allclose(got[:, 1], lat, atol=5.1e-8, rtol=0)
    assert np.array_equal(got, np.round(got, 7))
    assert out.crs.equals(CRS.from_user_input("OGC:CRS84"))
    assert idx.in_crs(UTM)["fid"].tolist() == frame["fid"].tolist()


def test_extent_contains_features_in_both_crs() -> None:
    frame = grid_frame(4)
    idx = FeatureIndex("parcels", 0, frame, UTM)
    assert idx.extent(UTM) == [712_000.0, 6_168_000.0, 712_200.0, 6_168_200.0]
    e84 = idx.extent(CRS84)
    assert e84 is not None
    b = idx.in_crs(CRS84).total_bounds
    assert e84[0] <= b[0] and e84[1] <= b[1] and e84[2] >= b[2] and e84[3] >= b[3]
    empty = FeatureIndex("parcels", 0, frame.iloc[:0], UTM)
    assert empty.extent(CRS84) is None


def test_feature_index_is_cached_per_revision() -> None:
    fake = FakeWorkspace(grid_frame(3))
    ws: Any = fake  # duck-typed stand-in for a Workspace
    a = query.feature_index(ws, "parcels")
    assert query.feature_index(ws, "parcels") is a
    assert fake.reads == 1
    fake.rev = 1
    b = query.feature_index(ws, "parcels")
    assert b is not a and b.revision == 1 and fake.reads == 2
    with pytest.raises(DataNotFoundError):
        query.feature_index(ws, "nope")


def test_position_lookup() -> None:
    idx = FeatureIndex("parcels", 0, grid_frame(3), UTM)
    assert idx.position("p4") == 4
    assert idx.position("nope") is None


def test_filter_properties_are_checked_even_without_rows() -> None:
    idx = FeatureIndex("parcels", 0, grid_frame(3), UTM)
    far = (700_000.0, 6_100_000.0, 700_001.0, 6_100_001.0)
    with pytest.raises(ParameterError, match="queryables are: value"):
        query.run_query(idx, ItemsQuery(bbox=far, bbox_crs=UTM, filter="fid = 'p1'"))
    res = query.run_query(idx, ItemsQuery(bbox=far, bbox_crs=UTM, filter="value > 1"))
    assert res.number_matched == 0 and len(res.features) == 0


FRAME = grid_frame(12)
INDEX = FeatureIndex("parcels", 0, FRAME, UTM)


@settings(max_examples=25, deadline=None)
@given(
    limit=st.integers(7, 60),
    threshold=st.integers(0, 11),
    use_bbox=st.booleans(),
    crs=st.sampled_from([CRS84, UTM]),
)
def test_pages_concatenate_to_the_whole_result(
    limit: int, threshold: int, use_bbox: bool, crs: str
) -> None:
    box = (712_100.0, 6_168_100.0, 712_450.0, 6_168_520.0) if use_bbox else None
    base = ItemsQuery(bbox=box, bbox_crs=UTM, crs=crs, filter=f"value >= {threshold}", limit=10_000)
    whole = query.run_query(INDEX, base)
    expected = FRAME["value"] >= threshold
    if box is not None:
        expected &= FRAME.intersects(shapely.box(*box))
    assert whole.features["fid"].tolist() == FRAME["fid"][expected].tolist()
    ids: list[str] = []
    offset = 0
    while True:
        q = ItemsQuery(box, UTM, crs, limit, offset, base.filter)
        page = query.run_query(INDEX, q)
        assert page.number_matched == whole.number_matched
        assert len(page.features) <= limit
        ids += page.features["fid"].tolist()
        offset += limit
        if offset >= page.number_matched:
            break
    assert ids == whole.features["fid"].tolist()
    past = query.run_query(INDEX, ItemsQuery(box, UTM, crs, limit, offset + 5, base.filter))
    assert len(past.features) == 0 and past.number_matched == whole.number_matched
