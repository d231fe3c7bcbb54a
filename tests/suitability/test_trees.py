"""Tree potential per parcel: known counts, obstacles, spacing invariants."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import LineString, box

from klimakort.errors import CRSError, GeometryError, ParameterError
from klimakort.suitability.trees import lattice_points, tree_potential

X0, Y0 = 700_000.0, 6_170_000.0
CRS = "EPSG:25832"


def _gdf(geoms: list[shapely.Geometry]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"name": [f"g{i}" for i in range(len(geoms))]}, geometry=geoms, crs=CRS)


def _parcel(w: float, h: float, dx: float = 0.0) -> shapely.Geometry:
    return box(X0 + dx, Y0, X0 + dx + w, Y0 + h)


def test_empty_24m_parcel_known_counts() -> None:
    parcels = _gdf([_parcel(24, 24)])
    # square lattice: trunks at 4, 12, 20 m on both axes
    sq = tree_potential(parcels, grid="square", spacing_m=8.0)
    assert sq.total == 9
    # hex lattice: rows at 4, 10.93, 17.86 m with 3, 2, 3 trees
    hx = tree_potential(parcels, grid="hex", spacing_m=8.0)
    assert hx.total == 8
    xy = shapely.get_coordinates(sq.trees.geometry.to_numpy()) - [X0, Y0]
    assert sorted(set(np.round(xy[:, 0], 3))) == [4.0, 12.0, 20.0]
    # trunks on the edge allowed: 0, 8, 16, 24 on both axes
    assert tree_potential(parcels, grid="square", edge_clearance_m=0).total == 16
    assert sq.parcels["plantable_m2"].iloc[0] == pytest.approx(576.0)


def test_building_removes_trees() -> None:
    parcels = _gdf([_parcel(24, 24)])
    # 2 x 2 m shed in the middle; buffered by 3 m it covers 8..16 -> the centre tree goes
    shed = _gdf([box(X0 + 11, Y0 + 11, X0 + 13, Y0 + 13)])
    res = tree_potential(parcels, buildings=shed, grid="square")
    assert res.total < 9
    centre = shapely.Point(X0 + 12, Y0 + 12)
    assert shapely.distance(res.trees.geometry.to_numpy(), centre).min() > 4.0
    assert res.parcels["plantable_m2"].iloc[0] < 576.0
    # a building elsewhere changes nothing
    far = _gdf([box(X0 + 500, Y0, X0 + 510, Y0 + 10)])
    assert tree_potential(parcels, buildings=far, grid="square").total == 9


def test_mains_clearance() -> None:
    parcels = _gdf([_parcel(48, 24)])
    base = tree_potential(parcels, grid="square").total
    # a main along x = 24 m: 2.5 m clearance + 4 m crown removes the middle column (x=20, 28)
    main = _gdf([LineString([(X0 + 24, Y0 - 10), (X0 + 24, Y0 + 40)])])
    res = tree_potential(parcels, heating_mains=main, grid="square")
    assert res.total < base
    main_geom = main.geometry.iloc[0]
    assert shapely.distance(res.trees.geometry.to_numpy(), main_geom).min() >= 2.5 + 4.0 - 1e-6
    # zero clearance and zero crown: only trunks exactly on the line go
    none = tree_potential(
        parcels, heating_mains=main, grid="square", mains_clearance_m=0.0, edge_clearance_m=0.0
    )
    assert none.total == tree_potential(parcels, grid="square", edge_clearance_m=0.0).total


def test_roads_and_totals_against_target() -> None:
    parcels = _gdf([_parcel(24, 24), _parcel(24, 24, dx=100)])
    road = _gdf([LineString([(X0 - 10, Y0 + 12), (X0 + 30, Y0 + 12)])])
    res = tree_potential(parcels, roads=road, grid="square", target=18)
    assert res.parcels["n_trees"].tolist()[1] == 9
    assert res.parcels["n_trees"].tolist()[0] < 9
    assert res.total == int(res.parcels["n_trees"].sum()) == len(res.trees)
    assert res.share_of_target == pytest.approx(res.total / 18)
    assert res.summary()["total_trees"] == res.total
    assert set(res.trees["parcel"]) <= set(parcels.index)


@settings(max_examples=20, deadline=None)
@given(
    w=st.floats(1.0, 120.0),
    h=st.floats(1.0, 120.0),
    spacing=st.floats(3.0, 15.0),
    grid=st.sampled_from(["hex", "square"]),
)
def test_trees_keep_spacing_and_stay_inside(w: float, h: float, spacing: float, grid: str) -> None:
    parcels = _gdf([_parcel(w, h), _parcel(w, h, dx=w)])  # two touching parcels
    res = tree_potential(parcels, spacing_m=spacing, grid=grid)  # type: ignore[arg-type]
    pts = res.trees.geometry.to_numpy()
    if len(pts) > 1:
        d = shapely.distance(pts[:, None], pts[None, :])
        np.fill_diagonal(d, np.inf)
        assert d.min() >= spacing - 1e-6  # also across the shared parcel edge
    for label, geom in zip(parcels.index, parcels.geometry, strict=True):
        mine = res.trees.geometry[res.trees["parcel"] == label].to_numpy()
        # each crown lies inside its parcel
        assert shapely.covers(geom.buffer(1e-5), shapely.buffer(mine, spacing / 2 - 1e-4)).all()
    # crown discs do not overlap, so their area bounds the count
    assert res.total * np.pi * (spacing / 2) ** 2 <= 2 * w * h + 1e-6


def test_lattice_points_hex_rows() -> None:
    x, y = lattice_points((0.0, 0.0, 16.0, 16.0), 8.0, "hex")
    assert len(x) == 8
    assert sorted({round(v, 6) for v in y}) == [
        0.0,
        round(8 * np.sqrt(3) / 2, 6),
        round(8 * np.sqrt(3), 6),
    ]


def test_errors() -> None:
    parcels = _gdf([_parcel(24, 24)])
    with pytest.raises(ParameterError):
        tree_potential(parcels, spacing_m=0)
    with pytest.raises(ParameterError):
        tree_potential(parcels, grid="triangle")  # type: ignore[arg-type]
    with pytest.raises(CRSError):
        tree_potential(parcels.to_crs("EPSG:4326"))
    with pytest.raises(CRSError, match="reproject"):
        tree_potential(parcels, buildings=_gdf([_parcel(2, 2)]).to_crs("EPSG:3857"))
    with pytest.raises(GeometryError):
        tree_potential(_gdf([shapely.Point(X0, Y0)]))
