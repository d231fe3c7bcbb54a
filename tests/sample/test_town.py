"""The sample town: parcels, buildings, roads and the thematic layers built on them."""

from __future__ import annotations

import re

import numpy as np
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from klimakort.sample import SampleArea
from klimakort.sample.town import inset_quad, subdivide

MATRIKEL = re.compile(r"^(\d{7})-(\d+[a-zæø]?)$")


def test_parcels_tessellate_without_overlap(sample_area: SampleArea) -> None:
    parcels = sample_area.layers["parcels"]
    assert 2000 <= len(parcels) <= 5000
    geoms = parcels.geometry.values
    assert shapely.is_valid(geoms).all()
    assert (parcels.geom_type == "Polygon").all()
    union = shapely.union_all(geoms)
    total = float(shapely.area(geoms).sum())
    assert abs(total - union.area) / union.area < 1e-6
    np.testing.assert_allclose(parcels.area_m2, shapely.area(geoms), atol=0.01)
    # no slivers: every parcel is reasonably compact and not tiny
    compact = 4 * np.pi * shapely.area(geoms) / shapely.length(geoms) ** 2
    assert compact.min() > 0.3
    assert shapely.area(geoms).min() > 200.0


def test_parcel_ids_are_matrikel_style(sample_area: SampleArea) -> None:
    parcels = sample_area.layers["parcels"]
    assert parcels.matrikel_id.is_unique
    for mid, code, nr in zip(
        parcels.matrikel_id, parcels.ejerlavskode, parcels.matrikelnummer, strict=True
    ):
        m = MATRIKEL.match(mid)
        assert m is not None, mid
        assert int(m.group(1)) == code and m.group(2) == nr
    assert parcels.ejerlavskode.between(1_000_000, 9_999_999).all()
    assert 2 <= parcels.ejerlavskode.nunique() <= 6
    assert (parcels.kommunekode == 187).all()
    assert parcels.public.any() and not parcels.public.all()


def test_buildings_sit_inside_their_parcels(sample_area: SampleArea) -> None:
    buildings = sample_area.layers["buildings"]
    parcels = sample_area.layers["parcels"].set_index("matrikel_id")
    assert 1000 <= len(buildings) <= 6000
    assert buildings.building_id.is_unique
    owner = parcels.geometry.loc[buildings.parcel_id].values
    setback = shapely.buffer(owner, -1.9, join_style="mitre")
    assert shapely.contains(setback, buildings.geometry.values).all()
    # rectangles (corners rounded to 1 cm): the footprint fills its minimum rotated rectangle
    rect = shapely.oriented_envelope(buildings.geometry.values)
    assert (shapely.get_num_coordinates(buildings.geometry.values) == 5).all()
    np.testing.assert_allclose(shapely.area(rect), buildings.area, rtol=3e-3)
    assert set(buildings.use) == {"residential", "commercial", "institution"}
    assert (buildings.floors >= 1).all() and (buildings.floors <= 6).all()
    assert 0.05 < buildings.has_basement.mean() < 0.5


def test_floor_levels_a_little_above_terrain(sample_area: SampleArea) -> None:
    buildings = sample_area.layers["buildings"]
    dem = sample_area.dem
    c = shapely.get_coordinates(buildings.geometry.centroid.values)
    t = dem.rio.transform()
    z = dem.values[((c[:, 1] - t.f) / t.e).astype(int), ((c[:, 0] - t.c) / t.a).astype(int)]
    above = buildings.floor_level_m.to_numpy() - z
    assert above.min() >= 0.1
    assert above.max() <= 0.7


def test_roads_and_embankments(sample_area: SampleArea) -> None:
    roads = sample_area.layers["roads"]
    assert (roads.geom_type == "LineString").all()
    assert roads.road_id.is_unique
    assert (roads.width_m > 0).all()
    assert roads.embankment_m.between(0.0, 1.0).all()
    # parcels never reach into the road surface
    surface = shapely.union_all(roads.geometry.buffer(roads.width_m / 2, cap_style="flat").values)
    assert (
        shapely.area(shapely.intersection(surface, sample_area.layers["parcels"].union_all())) < 1.0
    )


def test_heating_zones_cover_most_parcels(sample_area: SampleArea) -> None:
    zones = sample_area.layers["heating_zones"]
    assert sorted(zones.zone) == ["Nord", "Syd"]
    assert zones.is_valid.all()
    assert zones.geometry.iloc[0].intersection(zones.geometry.iloc[1]).area < 1.0
    centroids = sample_area.layers["parcels"].geometry.centroid.values
    inside = np.zeros(len(centroids), dtype=bool)
    for geom in zones.geometry:
        inside |= shapely.contains(geom, centroids)
    assert 0.9 <= inside.mean() < 1.0
    mains = sample_area.layers["heating_mains"]
    assert len(mains) > 50 and mains.main_id.is_unique
    for zone, geom in zip(zones.zone, zones.geometry, strict=True):
        mine = mains[mains.zone == zone]
        assert len(mine) > 10
        mids = shapely.line_interpolate_point(mine.geometry.values, 0.5, normalized=True)
        assert shapely.contains(geom, mids).all()
    roads = sample_area.layers["roads"].union_all()
    assert shapely.distance(mains.geometry.values, roads).max() < 5.0


def test_public_land_and_institutions(sample_area: SampleArea) -> None:
    public = sample_area.layers["public_land"]
    assert {"park", "school_ground"} <= set(public.kind)
    assert public.name.is_unique and public.is_valid.all()
    inst = sample_area.layers["institutions"]
    assert set(inst.kind) == {"school", "kindergarten"}
    assert (inst.geom_type == "Point").all()
    assert inst.children.between(1, 2000).all()
    parcels = sample_area.layers["parcels"].set_index("matrikel_id")
    assert parcels.public.loc[inst.parcel_id].all()
    host = parcels.geometry.loc[inst.parcel_id].values
    assert shapely.contains(host, inst.geometry.values).all()


def test_planned_sites(sample_area: SampleArea) -> None:
    sites = sample_area.layers["planned_sites"]
    assert 8 <= len(sites) <= 12
    assert sites.site_id.is_unique
    assert set(sites.measure) == {"miyawaki_forest", "tree_row"}
    forests = sites[sites.measure == "miyawaki_forest"]
    assert forests.area.between(240.0, 280.0).all()
    parks = sample_area.layers["public_land"]
    green = parks[parks.kind == "park"].union_all()
    assert shapely.contains(green, forests.geometry.values).all()
    rows = sites[sites.measure == "tree_row"]
    assert (rows.length > 2 * 50.0).all()
    assert not shapely.intersects(
        sample_area.layers["buildings"].union_all(), rows.geometry.values
    ).any()
    assert sites.planned_year.between(2025, 2035).all()


def test_water_layers(sample_area: SampleArea) -> None:
    streams = sample_area.layers["streams"]
    assert streams.stream_id.is_unique
    assert streams.culvert.any() and not streams.culvert.all()
    barriers = sample_area.layers["barriers"].union_all()
    under_ridge = streams[shapely.intersects(streams.geometry.values, barriers)]
    assert len(under_ridge) == 1 and bool(under_ridge.culvert.iloc[0])
    sea = sample_area.layers["sea"].geometry.iloc[0]
    assert shapely.intersects(streams.geometry.values, sea).any(), "the stream reaches the sea"
    lake = sample_area.layers["lakes"]
    assert len(lake) == 1 and lake.area.iloc[0] > 10_000.0
    assert set(sample_area.layers["barriers"].kind) <= {"beach_ridge", "dike"}


def test_every_layer_is_labelled_synthetic(sample_area: SampleArea) -> None:
    for key, gdf in sample_area.layers.items():
        assert gdf.crs.to_epsg() == 25832, key
        assert gdf["synthetic"].all(), key
        assert gdf.is_valid.all(), key


@st.composite
def convex_quads(draw: st.DrawFn) -> np.ndarray:
    w = draw(st.floats(60.0, 400.0))
    h = draw(st.floats(60.0, 200.0))
    jit = st.floats(-12.0, 12.0)
    return np.array(
        [
            [draw(jit), draw(jit)],
            [w + draw(jit), draw(jit)],
            [w + draw(jit), h + draw(jit)],
            [draw(jit), h + draw(jit)],
        ]
    )


@settings(max_examples=60, deadline=None)
@given(convex_quads(), st.integers(1, 14), st.integers(1, 3), st.integers(0, 2**32 - 1))
def test_subdivide_tessellates_any_block(
    quad: np.ndarray, ncols: int, nrows: int, seed: int
) -> None:
    block = shapely.Polygon(inset_quad(quad, (5.0, 6.0, 7.0, 8.0)))
    rng = np.random.default_rng(seed)
    quads = subdivide(np.asarray(block.exterior.coords)[:4], ncols, nrows, rng)
    parts = np.asarray(shapely.polygons(np.array([q for q, _ in quads])), dtype=object)
    assert len(parts) == ncols * nrows
    assert shapely.is_valid(parts).all()
    union = shapely.union_all(parts)
    total = shapely.area(parts).sum()
    assert abs(total - union.area) <= 1e-6 * union.area  # no overlaps
    assert abs(union.area - block.area) <= 1e-3 * block.area  # no gaps (1 cm rounding)


def test_inset_quad_moves_each_edge_by_its_width() -> None:
    quad = np.array([[0.0, 0.0], [100.0, 0.0], [100.0, 50.0], [0.0, 50.0]])
    inset = inset_quad(quad, (1.0, 2.0, 3.0, 4.0))
    np.testing.assert_allclose(inset, [[4.0, 1.0], [98.0, 1.0], [98.0, 47.0], [4.0, 47.0]])
