"""Plausibility of the synthetic terrain, groundwater and imperviousness rasters."""

from __future__ import annotations

import numpy as np
import shapely
import xarray as xr
from rasterio.features import geometry_mask
from scipy import ndimage
from skimage.morphology import reconstruction

from klimakort.sample import SampleArea


def _mask(da: xr.DataArray, geoms: list[shapely.Geometry]) -> np.ndarray:
    """Cells whose centre lies inside ``geoms``."""
    return ~geometry_mask(geoms, da.shape, da.rio.transform())


def _xy(da: xr.DataArray) -> tuple[np.ndarray, np.ndarray]:
    return np.meshgrid(da.x.values, da.y.values)


def _sample(da: xr.DataArray, xy: np.ndarray) -> np.ndarray:
    t = da.rio.transform()
    col = np.floor((xy[:, 0] - t.c) / t.a).astype(int)
    row = np.floor((xy[:, 1] - t.f) / t.e).astype(int)
    return np.asarray(da.values)[row, col]


def test_grid_and_metadata(sample_area: SampleArea) -> None:
    dem = sample_area.dem
    assert dem.shape == (1875, 2500)
    assert dem.dtype == np.float32
    assert dem.rio.crs.to_epsg() == 25832
    t = dem.rio.transform()
    assert (t.a, t.e, t.c, t.f) == (1.6, -1.6, 712000.0, 6171000.0)
    assert np.isnan(dem.rio.nodata)
    assert dem.attrs["units"] == "m DVR90"
    assert "synthetic" in dem.attrs["source"]
    assert not np.isnan(dem.values).any(), "the sea is terrain, not nodata"
    for other in (sample_area.groundwater_head, sample_area.imperviousness):
        assert other.shape == dem.shape
        assert other.rio.transform() == t
        assert "synthetic" in other.attrs["source"]


def test_sea_is_below_zero_and_not_nodata(sample_area: SampleArea) -> None:
    dem = sample_area.dem
    sea = _mask(dem, list(sample_area.layers["sea"].geometry))
    assert sea.mean() > 0.08
    values = dem.values[sea]
    assert values.max() < 0.0
    assert -3.2 <= values.min() <= -2.5
    assert sea[-1].all() and not sea[0].any(), "sea along the southern edge only"


def _crest_profile(area: SampleArea) -> tuple[np.ndarray, np.ndarray]:
    """Highest terrain within 5 m of the ridge crest line, per DEM column."""
    dem = area.dem
    coords = np.vstack([shapely.get_coordinates(g) for g in area.layers["barriers"].geometry])
    coords = coords[np.argsort(coords[:, 0], kind="stable")]
    x = dem.x.values
    crest_y = np.interp(x, coords[:, 0], coords[:, 1])
    near = np.abs(dem.y.values[:, None] - crest_y[None, :]) <= 5.0
    profile = np.where(near, dem.values, -np.inf).max(axis=0)
    return x, profile


def test_beach_ridge_has_crest_and_one_low_gap(sample_area: SampleArea) -> None:
    x, profile = _crest_profile(sample_area)
    barriers = sample_area.layers["barriers"]
    gap = barriers.loc[barriers.crest_m.idxmin()]
    gx0, _, gx1, _ = gap.geometry.bounds
    outside = (x < gx0 - 5) | (x > gx1 + 5)
    assert profile[outside].min() >= 2.5
    assert profile[outside].max() <= 3.0
    low = profile < 2.5
    _, n_runs = ndimage.label(low)
    assert n_runs == 1, "exactly one gap lower than the crest"
    width = low.sum() * 1.6
    assert 30.0 <= width <= 110.0
    assert 1.6 <= profile.min() <= 1.8
    assert gx0 <= x[np.argmin(profile)] <= gx1
    # the barrier attribute never claims more than the terrain holds
    others = barriers.drop(index=gap.name)
    assert (others.crest_m >= 2.5).all() and (others.crest_m <= 3.0).all()
    assert gap.crest_m < others.crest_m.min()
    for _, row in barriers.iterrows():
        inside = (x >= row.geometry.bounds[0]) & (x <= row.geometry.bounds[2])
        assert profile[inside].min() >= row.crest_m - 0.01


def test_low_land_behind_ridge(sample_area: SampleArea) -> None:
    dem = sample_area.dem
    coords = shapely.get_coordinates(sample_area.layers["sea"].geometry.iloc[0])
    shore = coords[coords[:, 1] > dem.y.values.min() + 1]  # drop the southern corners
    shore = shore[np.argsort(shore[:, 0], kind="stable")]
    xx, yy = _xy(dem)
    dist = yy - np.interp(xx, shore[:, 0], shore[:, 1])
    band = (dist > 60.0) & (dist < 700.0)
    z = dem.values[band]
    assert ((z >= 0.5) & (z <= 2.0)).mean() > 0.8
    assert (z < 1.0).mean() > 0.05, "some land below 1 m"


def test_moraine_rises_to_25_30_m_in_the_north(sample_area: SampleArea) -> None:
    z = sample_area.dem.values
    assert 25.0 <= z.max() <= 30.0
    row = np.unravel_index(np.argmax(z), z.shape)[0]
    assert row < z.shape[0] / 3
    assert np.median(z[: z.shape[0] // 6]) > 15.0


def test_closed_depressions_of_many_sizes(sample_area: SampleArea) -> None:
    # a low-land window (the window edge drains, so hollows crossing it are not counted)
    z = sample_area.dem.values[900:1500, :1250].astype(np.float64)
    seed = z.copy()
    seed[1:-1, 1:-1] = z.max()
    filled = reconstruction(seed, z, method="erosion")
    labels, n = ndimage.label(filled - z > 0.05, structure=np.ones((3, 3)))
    areas = np.bincount(labels.ravel())[1:] * 1.6**2
    assert n >= 50
    assert (areas < 20.0).sum() >= 5, "small hollows of a few m²"
    assert (areas > 10_000.0).sum() >= 1, "hollows of hectares"


def test_lake_is_flat_at_its_water_level(sample_area: SampleArea) -> None:
    lake = sample_area.layers["lakes"].iloc[0]
    inside = _mask(sample_area.dem, [lake.geometry])
    assert inside.sum() * 1.6**2 > 10_000.0
    np.testing.assert_allclose(sample_area.dem.values[inside], lake.water_level_m, atol=1e-3)
    rim = _mask(sample_area.dem, [lake.geometry.buffer(12.0).difference(lake.geometry.buffer(4.0))])
    assert (sample_area.dem.values[rim] > lake.water_level_m).mean() > 0.95


def test_stream_bed_descends_outside_culverts(sample_area: SampleArea) -> None:
    streams = sample_area.layers["streams"]
    lake = sample_area.layers["lakes"].geometry.iloc[0]
    below_lake = streams[~streams.culvert & (streams.geometry.bounds.maxy < lake.bounds[1])]
    assert len(below_lake) >= 2
    for geom in below_lake.geometry:
        pts = shapely.get_coordinates(shapely.segmentize(geom, 1.0))
        z = _sample(sample_area.dem, pts).astype(np.float64)
        # bed cells may differ by rounding where the line wiggles inside one cell
        assert np.max(np.diff(z)) <= 0.02
    # at culverts the ridge or an embankment stands above the bed upstream of it
    culverts = streams[streams.culvert]
    assert len(culverts) >= 2
    for geom in culverts.geometry:
        pts = shapely.get_coordinates(shapely.segmentize(geom, 1.0))
        z = _sample(sample_area.dem, pts)
        assert z.max() - z[0] > 0.2


def test_road_embankments_raise_the_road(sample_area: SampleArea) -> None:
    roads = sample_area.layers["roads"]
    raised = roads[roads.embankment_m > 0]
    assert len(raised) >= 2
    assert ((raised.embankment_m >= 0.3) & (raised.embankment_m <= 1.0)).all()
    for _, road in raised.iterrows():
        on = _sample(sample_area.dem, shapely.get_coordinates(shapely.segmentize(road.geometry, 5)))
        side = road.geometry.offset_curve(road.width_m / 2 + 2 * road.embankment_m + 10.0)
        off = _sample(sample_area.dem, shapely.get_coordinates(shapely.segmentize(side, 5)))
        assert np.median(on) - np.median(off) > 0.6 * road.embankment_m


def test_groundwater_depth_and_shape(sample_area: SampleArea) -> None:
    dem = sample_area.dem.values.astype(np.float64)
    head = sample_area.groundwater_head.values.astype(np.float64)
    sea = _mask(sample_area.dem, list(sample_area.layers["sea"].geometry))
    assert np.isnan(head[sea]).all()
    land = ~sea
    assert not np.isnan(head[land]).any()
    depth = dem[land] - head[land]
    assert depth.min() >= 0.3 - 1e-4
    assert depth.max() <= 5.0 + 1e-4
    depth_grid = np.where(land, dem - head, np.nan)
    coast_rows = np.nanmedian(depth_grid[1500:1560])
    north_rows = np.nanmedian(depth_grid[:200])
    assert coast_rows < north_rows, "shallower near the coast"
    # smooth: most neighbouring cells differ by centimetres only
    assert np.nanpercentile(np.abs(np.diff(head[:1400], axis=1)), 95) < 0.05


def test_imperviousness_follows_land_use(sample_area: SampleArea) -> None:
    imp = sample_area.imperviousness
    v = imp.values
    assert v.min() >= 0.0 and v.max() <= 1.0
    layers = sample_area.layers
    assert np.mean(v[_mask(imp, list(layers["buildings"].geometry))]) > 0.95
    assert np.mean(v[_mask(imp, list(layers["sea"].geometry))]) == 0.0
    parks = layers["public_land"]
    green = np.mean(v[_mask(imp, list(parks.geometry[parks.kind == "park"]))])
    parcels = layers["parcels"]
    commercial = np.mean(v[_mask(imp, list(parcels.geometry[parcels.land_use == "commercial"]))])
    assert green < 0.2 < commercial
