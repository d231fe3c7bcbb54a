"""Thematic vector layers and the imperviousness raster of the sample area.

Builds, in local coordinates (see ``grid.py``): district-heating zones and mains, public
land, institutions, planned nature measures, the beach ridge as barrier lines, the sea,
the stream (with culvert pieces) and the lake. :func:`imperviousness` rasterises land use.
Every function returns plain columns (dicts of lists/arrays) plus shapely geometries;
``sample.area`` turns them into GeoDataFrames in EPSG:25832.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import shapely
from rasterio.features import rasterize
from shapely import ops

from klimakort.sample.grid import WIDTH, SampleGrid, quantise
from klimakort.sample.plan import COAST_ROAD_OFFSET, GAP_HALF, GAP_RAMP, RIDGE_OFFSET, LandscapePlan
from klimakort.sample.terrain import local_transform
from klimakort.sample.town import VERGE, Block, BuildingTable, Road

Columns = dict[str, Any]  # column name -> list/array, plus "geometry"

PARK_NAMES = ("Egeparken", "Lindeparken", "Mølleparken", "Bakkeparken", "Engparken", "Pileparken")
SCHOOL_NAMES = ("Strandby Skole", "Engskolen", "Nordskolen")
KINDERGARTEN_NAMES = (
    "Børnehuset Måsen",
    "Vuggestuen Ålen",
    "Børnehaven Tangen",
    "Børnehuset Klitten",
    "Børnehaven Engen",
)
STREAM_NAME = "Strandby Å"
LAKE_NAME = "Strandby Sø"
SEA_NAME = "Køge Bugt"


def heating_zones(blocks: list[Block]) -> Columns:
    """Zones "Syd" (town south of the motorway) and "Nord" (north town + western farmland)."""
    grown = {
        band: shapely.union_all(
            shapely.buffer(
                shapely.polygons(np.array([b.corners for b in blocks if b.zone_band == band])),
                12.0,
                join_style="mitre",
            )
        )
        for band in ("syd", "nord")
    }
    syd = grown["syd"]
    nord = shapely.difference(grown["nord"], syd)
    geoms = [shapely.set_precision(g, 0.01) for g in (nord, syd)]
    return {"zone": ["Nord", "Syd"], "geometry": geoms}


def heating_mains(roads: list[Road], zones: Columns) -> Columns:
    """Mains 3 m beside every road segment whose midpoint lies in a heating zone."""
    segs = []
    for r in roads:
        for a, b in itertools.pairwise(r.coords):
            segs.append(shapely.LineString(np.array([a, b])))
    lines = shapely.offset_curve(np.array(segs, dtype=object), 3.0)
    mids = shapely.line_interpolate_point(lines, 0.5, normalized=True)
    zone_of = np.full(len(lines), "", dtype=object)
    for name, geom in zip(zones["zone"], zones["geometry"], strict=True):
        # well inside the zone: mains on a zone's boundary road are left out
        inner = shapely.buffer(geom, -1.0)
        zone_of[(zone_of == "") & shapely.contains(inner, mids)] = name
    keep = zone_of != ""
    out_lines = [shapely.set_precision(g, 0.01) for g in lines[keep]]
    return {
        "main_id": [f"FV-{k + 1:04d}" for k in range(len(out_lines))],
        "zone": list(zone_of[keep]),
        "geometry": out_lines,
    }


def strandpark(plan: LandscapePlan) -> shapely.Polygon:
    """The public beach park: from the beach up to the coast road's verge."""
    x = plan.coast_x
    south = np.column_stack([x, plan.coast_y + 12.0])
    north = np.column_stack([x, plan.coast_y + COAST_ROAD_OFFSET - 5.0 - VERGE])[::-1]
    return shapely.Polygon(np.round(np.vstack([south, north]), 2))


def public_land(parcel_geoms: np.ndarray, kinds: list[str], plan: LandscapePlan) -> Columns:
    """Parks, school grounds, the lake's nature area and the beach park."""
    names, kind_out, geoms = [], [], []
    n_park = n_school = 0
    for geom, kind in zip(parcel_geoms, kinds, strict=True):
        if kind == "park":
            names.append(
                PARK_NAMES[n_park]
                if n_park < len(PARK_NAMES)
                else f"Åparken {n_park - len(PARK_NAMES) + 1}"
            )
            kind_out.append("park")
            n_park += 1
        elif kind == "school":
            names.append(f"{SCHOOL_NAMES[n_school % len(SCHOOL_NAMES)]} (skolegård)")
            kind_out.append("school_ground")
            n_school += 1
        elif kind == "nature":
            names.append("Søengen")
            kind_out.append("nature")
        else:
            continue
        geoms.append(geom)
    names.append("Strandparken")
    kind_out.append("park")
    geoms.append(strandpark(plan))
    return {"name": names, "kind": kind_out, "geometry": geoms}


def institutions(
    parcel_geoms: np.ndarray, kinds: list[str], buildings: BuildingTable, rng: np.random.Generator
) -> Columns:
    """Schools and kindergartens as points at their main building (or parcel centre)."""
    centre_of = {
        int(p): shapely.centroid(g)
        for p, g in zip(buildings.parcel_index, buildings.polygons, strict=True)
    }
    names, kind_out, children, pts, parcel_ix = [], [], [], [], []
    n_school = n_kg = 0
    for k, kind in enumerate(kinds):
        if kind == "school":
            names.append(SCHOOL_NAMES[n_school % len(SCHOOL_NAMES)])
            kind_out.append("school")
            children.append(int(rng.integers(350, 751)))
            n_school += 1
        elif kind == "kindergarten":
            names.append(KINDERGARTEN_NAMES[n_kg % len(KINDERGARTEN_NAMES)])
            kind_out.append("kindergarten")
            children.append(int(rng.integers(40, 121)))
            n_kg += 1
        else:
            continue
        pts.append(centre_of.get(k, shapely.centroid(parcel_geoms[k])))
        parcel_ix.append(k)
    pts = [shapely.set_precision(p, 0.01) for p in pts]
    return {
        "name": names,
        "kind": kind_out,
        "children": children,
        "parcel_index": parcel_ix,
        "geometry": pts,
    }


def _random_point_in(poly: shapely.Geometry, rng: np.random.Generator) -> np.ndarray | None:
    x0, y0, x1, y1 = shapely.bounds(poly)
    for _ in range(200):
        p = np.array([rng.uniform(x0, x1), rng.uniform(y0, y1)])
        if shapely.contains_xy(poly, p[0], p[1]):
            return p
    return None


def planned_sites(
    parks: Columns, roads: list[Road], rng: np.random.Generator, n_forest: int = 6, n_rows: int = 4
) -> Columns:
    """Planned Miyawaki forests (about 260 m²) in parks and tree rows along streets."""
    ids, measures, names, years, geoms = [], [], [], [], []
    park_geoms = [g for g, k in zip(parks["geometry"], parks["kind"], strict=True) if k == "park"]
    park_names = [n for n, k in zip(parks["name"], parks["kind"], strict=True) if k == "park"]
    order = rng.permutation(len(park_geoms))
    placed: list[shapely.Geometry] = []
    for k in order:
        if len(placed) >= n_forest:
            break
        area = rng.uniform(250.0, 270.0)
        ratio = rng.uniform(1.0, 1.6)
        w, h = np.sqrt(area * ratio), np.sqrt(area / ratio)
        inner = shapely.buffer(park_geoms[k], -(max(w, h) / 2 + 4.0))
        if shapely.is_empty(inner):
            continue
        c = _random_point_in(inner, rng)
        if c is None:
            continue
        rect = shapely.box(c[0] - w / 2, c[1] - h / 2, c[0] + w / 2, c[1] + h / 2)
        rect = shapely.set_precision(rect, 0.01)
        placed.append(rect)
        measures.append("miyawaki_forest")
        names.append(f"Miyawaki-skov i {park_names[k]}")
    streets = [
        r for r in roads if r.embankment_m == 0 and 7.0 <= r.width_m <= 10.0 and len(r.coords) > 4
    ]
    pick = rng.choice(len(streets), size=n_rows, replace=False)
    for k in pick:
        road = streets[int(k)]
        s = int(rng.integers(1, len(road.coords) - 2))
        seg = shapely.LineString(road.coords[s : s + 2])
        part = ops.substring(seg, 0.15, 0.85, normalized=True)
        line = shapely.offset_curve(part, road.width_m / 2 + 1.0)
        row = shapely.buffer(line, 0.75, cap_style="flat")
        placed.append(shapely.set_precision(row, 0.01))
        measures.append("tree_row")
        names.append(f"Trærække langs {road.name}")
    for k in range(len(placed)):
        ids.append(f"PS-{k + 1:02d}")
        years.append(int(rng.integers(2026, 2031)))
    geoms = placed
    return {
        "site_id": ids,
        "measure": measures,
        "name": names,
        "planned_year": years,
        "geometry": geoms,
    }


def barriers(plan: LandscapePlan, piece_m: float = 500.0) -> Columns:
    """The beach ridge crest line in pieces, each with its lowest crest level (crest_m)."""
    half = GAP_HALF + GAP_RAMP
    cuts = [0.0, plan.gap_x - half, plan.gap_x + half, WIDTH]
    ids, kinds, crests, geoms = [], [], [], []
    for a, b in itertools.pairwise(cuts):
        n = max(1, round((b - a) / piece_m))
        edges = np.linspace(a, b, n + 1)
        for lo, hi in itertools.pairwise(edges):
            x = np.linspace(lo, hi, max(2, int(np.ceil((hi - lo) / 5.0)) + 1))
            y = plan.coast_at(x) + RIDGE_OFFSET
            geoms.append(shapely.LineString(np.round(np.column_stack([x, y]), 2)))
            crests.append(float(np.floor(plan.crest_at(x).min() * 100) / 100))
            kinds.append("beach_ridge" if 0.5 * (lo + hi) < 2000.0 else "dike")
    ids = [f"BR-{k + 1:02d}" for k in range(len(geoms))]
    return {"barrier_id": ids, "kind": kinds, "crest_m": crests, "geometry": geoms}


def sea(plan: LandscapePlan) -> Columns:
    """The sea south of the shoreline, to the southern edge of the area."""
    ring = np.vstack([np.column_stack([plan.coast_x, plan.coast_y]), [[WIDTH, 0.0], [0.0, 0.0]]])
    return {"name": [SEA_NAME], "geometry": [shapely.Polygon(ring)]}


def streams(
    plan: LandscapePlan,
    lake: shapely.Polygon,
    roads: list[Road],
    barrier_lines: list[shapely.Geometry],
) -> Columns:
    """The stream in reaches; culvert pieces where it passes under embankments and the ridge."""
    line = shapely.LineString(plan.stream_xy)
    reaches = [g for g in shapely.get_parts(shapely.difference(line, lake))]
    reaches.sort(key=lambda g: -shapely.get_coordinates(g)[0, 1])  # upstream (north) first
    crossings: list[tuple[shapely.Geometry, float]] = []
    for r in roads:
        if r.embankment_m > 0:
            crossings.append(
                (shapely.LineString(r.coords), r.width_m / 2 + 2 * r.embankment_m + 3.0)
            )
    crossings += [(b, 16.0) for b in barrier_lines]
    ids, culvert, geoms = [], [], []
    for reach in reaches:
        cuts: list[tuple[float, float]] = []
        for other, half in crossings:
            hit = shapely.intersection(reach, other)
            for p in shapely.get_parts(hit):
                if p.geom_type == "Point":
                    s = float(shapely.line_locate_point(reach, p))
                    cuts.append((max(0.0, s - half), min(reach.length, s + half)))
        cuts.sort()
        pos = 0.0
        for lo, hi in cuts:
            if lo > pos:
                geoms.append(ops.substring(reach, pos, lo))
                culvert.append(False)
            geoms.append(ops.substring(reach, lo, hi))
            culvert.append(True)
            pos = hi
        if pos < reach.length:
            geoms.append(ops.substring(reach, pos, reach.length))
            culvert.append(False)
    geoms = [shapely.set_precision(g, 0.01) for g in geoms]
    ids = [f"S-{k + 1:02d}" for k in range(len(geoms))]
    return {
        "stream_id": ids,
        "name": [STREAM_NAME] * len(geoms),
        "culvert": culvert,
        "geometry": geoms,
    }


def imperviousness(
    grid: SampleGrid,
    parcel_geoms: np.ndarray,
    kinds: list[str],
    roads: list[Road],
    buildings: BuildingTable,
    water: list[shapely.Geometry],
    rng: np.random.Generator,
) -> np.ndarray:
    """Impervious fraction 0-1 per cell (float32, steps of 0.01)."""
    base = {
        "field": (0.02, 0.05),
        "nature": (0.01, 0.02),
        "park": (0.03, 0.06),
        "school": (0.3, 0.4),
        "kindergarten": (0.3, 0.4),
        "residential": (0.18, 0.32),
        "flats": (0.3, 0.4),
        "commercial": (0.55, 0.7),
    }
    shapes: list[tuple[shapely.Geometry, float]] = []
    for geom, kind in zip(parcel_geoms, kinds, strict=True):
        lo, hi = base[kind]
        shapes.append((geom, float(rng.uniform(lo, hi))))
    for r in roads:
        shapes.append((shapely.LineString(r.coords).buffer(r.width_m / 2, cap_style="flat"), 0.95))
    shapes += [(g, 1.0) for g in buildings.polygons]
    shapes += [(g, 0.0) for g in water]
    out = rasterize(
        shapes, out_shape=grid.shape, transform=local_transform(grid), fill=0.05, dtype="float64"
    )
    return quantise(out, 0.01)
