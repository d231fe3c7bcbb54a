"""Synthetic terrain (DTM, m DVR90) of the sample area.

Built in layers, each a plain numpy operation on float64 arrays in local metres:

1. regional trend: sea floor (-0.4 to -3 m) south of the shoreline, a sandy beach, low
   land 0.75-1.75 m behind the beach ridge, and moraine rising northwards to 27.5 m;
2. fractal relief (spectral synthesis), weak on the low land, stronger on the moraine;
3. the stream valley and channel, carved with a monotone non-increasing bed;
4. closed hollows of many sizes (a few m² to hectares);
5. the lake, flat at its water level (as in a lidar DTM), with a rim around it;
6. the beach ridge (crest 2.55-2.95 m) with one low gap at 1.7 m; the ridge stays intact
   where the stream passes under it (a culvert, flagged in the streams layer);
7. road embankments (0.3-1 m) across the low land, which dam the stream at culverts.

Values are finally quantised to 1 mm (see :func:`klimakort.sample.grid.quantise`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from rasterio.features import geometry_mask, rasterize
from rasterio.transform import Affine
from scipy import ndimage

from klimakort.sample.grid import SampleGrid, quantise
from klimakort.sample.kernels import compose_trend, ridge_and_sea
from klimakort.sample.noise import fractal_noise
from klimakort.sample.plan import RIDGE_CREST_HALF, RIDGE_OFFSET, RIDGE_SLOPE_RUN, LandscapePlan
from klimakort.sample.town import Road

MORAINE_TOP = 27.5  #: highest terrain of the sample (m DVR90)
CHANNEL_HALF = 2.0  #: half width of the stream bed (m)
N_HOLLOWS = 420
HOLLOW_FLOOR = 0.45  #: hollows are not dug below this level (m DVR90)


@dataclass(frozen=True)
class StreamProfile:
    """The stream bed: densified centre line (local) and bed level per vertex."""

    xy: np.ndarray
    bed: np.ndarray
    lake_level: float


@dataclass(frozen=True)
class Terrain:
    """Terrain and what was decided while building it."""

    dem: np.ndarray  # float32, quantised to 1 mm
    stream: StreamProfile
    lake: shapely.Polygon  # local coordinates
    stream_distance: np.ndarray  # float32 distance (m) to the stream centre line


def local_transform(grid: SampleGrid) -> Affine:
    """Affine transform of the grid in local metres."""
    return Affine(grid.cell, 0.0, 0.0, 0.0, -grid.cell, grid.height)


def _smooth(values: np.ndarray, grid: SampleGrid, window_m: float, passes: int = 2) -> np.ndarray:
    size = max(1, round(window_m / grid.cell) | 1)
    out = values
    for _ in range(passes):
        out = ndimage.uniform_filter(out, size=size, mode="nearest")
    return out


def _trend(grid: SampleGrid, plan: LandscapePlan, rng: np.random.Generator) -> np.ndarray:
    """Regional surface with fractal relief (ny, nx), float64."""
    # broad relief on a coarse grid (about 8 m), interpolated bilinearly
    f = max(1, int(8.0 // grid.cell))
    coarse = fractal_noise(
        rng,
        (-(-grid.ny // f) + 1, -(-grid.nx // f) + 1),
        grid.cell * f,
        beta=3.4,
        longest_m=1800.0,
        shortest_m=25.0,
    )
    big = ndimage.zoom(coarse, f, order=1, grid_mode=True, mode="nearest")[: grid.ny, : grid.nx]
    # micro-relief: one periodic tile (spectral synthesis is periodic), repeated
    tile = max(16, min(512, grid.ny, grid.nx))
    fine = fractal_noise(rng, (tile, tile), grid.cell, beta=2.2, longest_m=60.0, shortest_m=6.0)
    coast = plan.coast_at(grid.local_x())
    return compose_trend(
        coast, grid.local_y(), np.ascontiguousarray(big), fine, RIDGE_OFFSET, MORAINE_TOP
    )


def _stream_profile(
    plan: LandscapePlan, grid: SampleGrid, smooth: np.ndarray, lake: shapely.Polygon
) -> StreamProfile:
    """Densify the stream and give it a bed that never rises downstream."""
    line = shapely.segmentize(shapely.LineString(plan.stream_xy), grid.cell / 2)
    xy = shapely.get_coordinates(line)
    rows, cols = grid.cell_index(xy)
    raw = smooth[rows, cols] - 1.2
    inside = shapely.contains_xy(lake, xy[:, 0], xy[:, 1])
    first, last = int(np.argmax(inside)), len(inside) - 1 - int(np.argmax(inside[::-1]))
    lx, ly = plan.lake_center
    cr, cc = grid.cell_index(np.array([lx, ly]))
    level = float(np.round(smooth[cr, cc] - 0.6, 2))
    bed = np.empty_like(raw)
    bed[:first] = np.minimum.accumulate(np.maximum(raw[:first], level + 0.05))
    bed[first : last + 1] = level
    down = np.minimum.accumulate(np.minimum(raw[last + 1 :], level - 0.3))
    dy = xy[last + 1 :, 1] - plan.coast_at(xy[last + 1 :, 0])
    floor = np.where(dy > 20.0, 0.1 + 0.0003 * (dy - 20.0), -0.3 + 0.02 * dy)
    floor = np.minimum.accumulate(floor)
    bed[last + 1 :] = np.maximum(down, floor)
    return StreamProfile(xy=xy, bed=bed, lake_level=level)


def _carve_stream(z: np.ndarray, grid: SampleGrid, stream: StreamProfile) -> np.ndarray:
    """Carve bed, banks and valley; return the distance (m) to the stream centre line."""
    rows, cols = grid.cell_index(stream.xy)
    c0 = max(0, int(cols.min()) - int(450 / grid.cell))
    c1 = min(grid.nx, int(cols.max()) + int(450 / grid.cell) + 1)
    bed = np.full((grid.ny, c1 - c0), np.inf)
    np.minimum.at(bed, (rows, cols - c0), stream.bed)
    seeds = np.isfinite(bed)
    dist, (ir, ic) = ndimage.distance_transform_edt(~seeds, return_indices=True)
    dist = dist * grid.cell
    near = bed[ir, ic]
    bank = np.minimum(np.maximum(0.0, dist - CHANNEL_HALF) * 0.7, 0.8 + 0.035 * dist)
    window = z[:, c0:c1]
    np.minimum(window, near + bank, out=window)
    full = np.full(grid.shape, np.float32(1e6), dtype=np.float32)
    full[:, c0:c1] = dist
    return full


def _hollows(
    z: np.ndarray,
    grid: SampleGrid,
    plan: LandscapePlan,
    rng: np.random.Generator,
    stream_dist: np.ndarray,
    lake: shapely.Polygon,
) -> None:
    """Dig closed hollows (quartic bowls) of radius 2.5-90 m into the land."""
    xs = rng.uniform(40.0, 3960.0, N_HOLLOWS)
    low = rng.random(N_HOLLOWS) < 0.6
    coast = plan.coast_at(xs)
    ys = np.where(
        low,
        coast + rng.uniform(70.0, 1200.0, N_HOLLOWS),
        coast + rng.uniform(70.0, 2980.0 - coast, N_HOLLOWS),
    )
    radius = np.exp(rng.uniform(np.log(2.5), np.log(90.0), N_HOLLOWS))
    depth = np.clip(0.12 + rng.uniform(0.008, 0.016, N_HOLLOWS) * radius, 0.12, 1.3)
    rows, cols = grid.cell_index(np.column_stack([xs, ys]))
    far_from_lake = shapely.distance(lake, shapely.points(xs, ys)) > radius + 40.0
    ok = (stream_dist[rows, cols] > radius + 25.0) & far_from_lake
    gx, gy = grid.local_x(), grid.local_y()
    for x, y, r, dz in zip(xs[ok], ys[ok], radius[ok], depth[ok], strict=True):
        c0, c1 = np.searchsorted(gx, [x - r, x + r])
        r0, r1 = np.searchsorted(-gy, [-(y + r), -(y - r)])
        if c1 <= c0 or r1 <= r0:
            continue
        rr = np.hypot(gx[None, c0:c1] - x, gy[r0:r1, None] - y) / r
        bowl = dz * np.clip(1.0 - rr * rr, 0.0, None) ** 2
        win = z[r0:r1, c0:c1]
        win[...] = np.maximum(win - bowl, np.minimum(win, HOLLOW_FLOOR))


def _lake(
    z: np.ndarray,
    grid: SampleGrid,
    plan: LandscapePlan,
    lake: shapely.Polygon,
    level: float,
    stream_dist: np.ndarray,
) -> None:
    """Flatten the lake to its water level and raise a rim, open only along the stream."""
    mask = ~geometry_mask([lake], grid.shape, local_transform(grid))
    a, b = plan.lake_axes
    lx, ly = plan.lake_center
    x = grid.local_x()[None, :]
    y = grid.local_y()[:, None]
    ring = (np.hypot((x - lx) / a, (y - ly) / b) - 1.0) * min(a, b)
    rim = (ring > 0) & (ring < 40.0) & (stream_dist > 6.0)
    z[rim] = np.maximum(z[rim], level + 0.3 + 0.04 * ring[rim])
    z[mask] = level


def _embankments(z: np.ndarray, base: np.ndarray, grid: SampleGrid, roads: list[Road]) -> None:
    """Raise embanked roads above the smoothed natural ground (side slopes 1:2)."""
    raised = [r for r in roads if r.embankment_m > 0]
    if not raised:
        return
    label = rasterize(
        [(shapely.LineString(r.coords), k + 1) for k, r in enumerate(raised)],
        out_shape=grid.shape,
        transform=local_transform(grid),
        all_touched=True,
        fill=0,
        dtype="int32",
    )
    rows = np.flatnonzero(label.any(axis=1))
    margin = int(60 / grid.cell)
    r0, r1 = max(0, rows.min() - margin), min(grid.ny, rows.max() + margin + 1)
    lab = label[r0:r1]
    dist, (ir, ic) = ndimage.distance_transform_edt(lab == 0, return_indices=True)
    dist = dist * grid.cell
    k = lab[ir, ic] - 1
    width = np.array([r.width_m for r in raised])[k]
    emb = np.array([r.embankment_m for r in raised])[k]
    top = base[r0:r1][ir, ic] + emb
    surface = top - np.maximum(0.0, dist - width / 2) * 0.5
    inside = dist <= width / 2 + 2 * emb + grid.cell
    win = z[r0:r1]
    win[inside] = np.maximum(win[inside], surface[inside])


def lake_polygon(plan: LandscapePlan) -> shapely.Polygon:
    """Elliptic lake outline (64 vertices, local coordinates, rounded to 1 cm)."""
    t = np.linspace(0.0, 2 * np.pi, 64, endpoint=False)
    a, b = plan.lake_axes
    lx, ly = plan.lake_center
    ring = np.round(np.column_stack([lx + a * np.cos(t), ly + b * np.sin(t)]), 2)
    return shapely.Polygon(ring)


def build_terrain(
    grid: SampleGrid, plan: LandscapePlan, roads: list[Road], rng: np.random.Generator
) -> Terrain:
    """Build the DTM of the sample area.

    Parameters
    ----------
    grid : SampleGrid
        Output grid.
    plan : LandscapePlan
        Coast, ridge, stream and lake positions.
    roads : list of Road
        Road centre lines; those with ``embankment_m > 0`` are raised.
    rng : numpy.random.Generator
        The terrain's random stream.

    Returns
    -------
    Terrain
        DTM (float32, m DVR90, quantised to 1 mm) and the stream and lake used.
    """
    z = _trend(grid, plan, rng)
    smooth = _smooth(z, grid, 40.0)
    lake = lake_polygon(plan)
    stream = _stream_profile(plan, grid, smooth, lake)
    stream_dist = _carve_stream(z, grid, stream)
    _hollows(z, grid, plan, rng, stream_dist, lake)
    _lake(z, grid, plan, lake, stream.lake_level, stream_dist)
    x = grid.local_x()
    ridge_and_sea(
        z,
        plan.coast_at(x),
        grid.local_y(),
        plan.crest_at(x),
        RIDGE_OFFSET,
        RIDGE_CREST_HALF,
        RIDGE_SLOPE_RUN,
    )
    _embankments(z, smooth, grid, roads)
    return Terrain(dem=quantise(z, 0.001), stream=stream, lake=lake, stream_distance=stream_dist)
