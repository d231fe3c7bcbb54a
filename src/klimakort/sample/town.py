"""The sample town: road network, blocks, parcels (matrikler) and building footprints.

Roads follow a gently warped grid: a dense town grid on the low land between the coast
road and the ring road (``TOWN_TOP``), a coarse farmland grid on the moraine north of it.
Blocks are the quadrilaterals between road centre lines, inset by half the road width
plus a 2 m verge. Parcels subdivide each block *bilinearly* from one shared vertex grid,
so neighbouring parcels share their edges exactly: they tessellate the block with no gaps,
overlaps or slivers. All coordinates here are local metres (see ``grid.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import shapely

from klimakort.sample.grid import HEIGHT, WIDTH
from klimakort.sample.names import matrikelnummer, street_name
from klimakort.sample.plan import COAST_ROAD_OFFSET, CORRIDOR_HALF, TOWN_TOP, LandscapePlan

EDGE = 30.0  #: distance of the outermost roads from the area's edge (m)
VERGE = 2.0  #: verge between a road's edge and the parcels (m)
KOMMUNEKODE = 187  #: Vallensbæk
#: Ejerlav codes (cadastral districts): town west / town east / farmland west / east.
EJERLAV = (2000651, 2000652, 2000653, 2000654)


@dataclass(frozen=True)
class Road:
    """One road centre line (local coordinates)."""

    coords: np.ndarray
    name: str
    width_m: float
    embankment_m: float


@dataclass
class Block:
    """A block between roads and how it is divided."""

    corners: np.ndarray  # (4, 2) inset corners SW, SE, NE, NW
    kind: str  # residential | flats | commercial | park | school | field | nature
    zone_band: str  # "syd", "nord" or "farm" (used for district heating)
    ncols: int = 1
    nrows: int = 1
    ejerlav: int = EJERLAV[0]


@dataclass
class ParcelTable:
    """Parcels as parallel lists (local coordinates)."""

    quads: list[np.ndarray] = field(default_factory=list)  # (4, 2) each, SW SE NE NW
    block: list[int] = field(default_factory=list)
    kind: list[str] = field(default_factory=list)
    front_south: list[bool] = field(default_factory=list)
    ejerlav: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class TownLayout:
    """Roads, blocks and parcels of the sample area."""

    roads: list[Road]
    blocks: list[Block]
    parcels: ParcelTable
    motorway_row_y: float


def _spread(
    lo: float, hi: float, spacing: float, jitter: float, rng: np.random.Generator
) -> np.ndarray:
    """Evenly spaced interior lines between ``lo`` and ``hi`` (ends included), jittered."""
    n = max(1, round((hi - lo) / spacing))
    xs = np.linspace(lo, hi, n + 1)
    xs[1:-1] += rng.uniform(-jitter, jitter, size=n - 1)
    return xs


def _offset_line(
    p: np.ndarray, q: np.ndarray, dist: float, inside: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Line through p-q moved by ``dist`` towards ``inside``: (point, direction)."""
    d = q - p
    d = d / np.hypot(*d)
    n = np.array([-d[1], d[0]])
    if np.dot(inside - p, n) < 0:
        n = -n
    return p + n * dist, d


def _intersect(a: tuple[np.ndarray, np.ndarray], b: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    (p, d), (q, e) = a, b
    m = np.array([[d[0], -e[0]], [d[1], -e[1]]])
    t = np.linalg.solve(m, q - p)
    return p + t[0] * d


def inset_quad(corners: np.ndarray, widths: Sequence[float]) -> np.ndarray:
    """Inset a convex quad (SW, SE, NE, NW) edge by edge.

    ``widths`` are the inset distances of the south, east, north and west edges.
    """
    centre = corners.mean(axis=0)
    lines = [_offset_line(corners[k], corners[(k + 1) % 4], widths[k], centre) for k in range(4)]
    # corner k lies between edge k-1 and edge k
    return np.array([_intersect(lines[k - 1], lines[k]) for k in range(4)])


def subdivide(
    corners: np.ndarray, ncols: int, nrows: int, rng: np.random.Generator
) -> list[tuple[np.ndarray, int]]:
    """Split a quad into ``ncols`` x ``nrows`` quads through one shared vertex grid.

    Returns (quad, row) pairs, west to east within each row, south row first.
    """
    u = np.linspace(0.0, 1.0, ncols + 1)
    if ncols > 1:
        u[1:-1] += rng.uniform(-0.18, 0.18, size=ncols - 1) / ncols
    v = np.tile(np.linspace(0.0, 1.0, nrows + 1), (ncols + 1, 1))
    if nrows > 1:
        v[:, 1:-1] += rng.uniform(-0.06, 0.06, size=(ncols + 1, nrows - 1))
    c00, c10, c11, c01 = corners
    uu = u[:, None, None]
    vv = v[:, :, None]
    verts = (1 - uu) * (1 - vv) * c00 + uu * (1 - vv) * c10 + uu * vv * c11 + (1 - uu) * vv * c01
    verts = np.round(verts, 2)  # shared vertices are rounded once, so edges stay shared
    out = []
    for b in range(nrows):
        for a in range(ncols):
            quad = np.array([verts[a, b], verts[a + 1, b], verts[a + 1, b + 1], verts[a, b + 1]])
            out.append((quad, b))
    return out


def _town_lines(plan: LandscapePlan, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Vertex grid P[i, j] of the town roads: i = north-south line, j = east-west line."""
    cx = plan.corridor_x
    west = _spread(EDGE, cx - CORRIDOR_HALF, 240.0, 14.0, rng)
    east = _spread(cx + CORRIDOR_HALF, WIDTH - EDGE, 240.0, 14.0, rng)
    xs = np.concatenate([west, east])
    bottom = plan.coast_at(xs) + COAST_ROAD_OFFSET
    nrows = round((TOWN_TOP - float(bottom.mean())) / 118.0)
    t = np.linspace(0.0, 1.0, nrows + 1)
    t[1:-1] += rng.uniform(-0.12, 0.12, size=nrows - 1) / nrows
    ys = bottom[:, None] + (TOWN_TOP - bottom[:, None]) * t[None, :]
    ys[:, 1:-1] += rng.uniform(-6.0, 6.0, size=(len(xs), nrows - 1))
    xg = np.repeat(xs[:, None], nrows + 1, axis=1)
    inner = (np.arange(len(xs)) > 0) & (np.arange(len(xs)) < len(xs) - 1)
    corridor = np.isin(xs, [cx - CORRIDOR_HALF, cx + CORRIDOR_HALF])
    shift = rng.uniform(-8.0, 8.0, size=(len(xs), nrows + 1))
    shift[~inner | corridor] = 0.0
    xg = xg + shift
    return np.round(np.stack([xg, ys], axis=-1), 2), xs


def _farm_lines(plan: LandscapePlan, rng: np.random.Generator) -> np.ndarray:
    """Vertex grid Q[i, j] of the farmland roads north of the ring road."""
    lx = plan.lake_center[0]
    west = _spread(EDGE, lx - 180.0, 480.0, 30.0, rng)
    east = _spread(lx + 180.0, WIDTH - EDGE, 480.0, 30.0, rng)
    xs = np.concatenate([west, east])
    ys = np.array([TOWN_TOP, 2010.0, 2490.0, HEIGHT - EDGE])
    yg = np.repeat(ys[None, :], len(xs), axis=0)
    yg[:, 1:3] += rng.uniform(-10.0, 10.0, size=(len(xs), 2))
    xg = np.repeat(xs[:, None], len(ys), axis=1)
    return np.round(np.stack([xg, yg], axis=-1), 2)


def _block_kinds(
    ni: int, nj: int, corridor_col: int, motorway_row: int, rng: np.random.Generator
) -> np.ndarray:
    """Assign a land use to each town block (ni columns x nj rows)."""
    kinds = np.full((ni, nj), "residential", dtype=object)
    kinds[corridor_col, :] = "park"
    free = [(i, j) for i in range(ni) for j in range(nj) if kinds[i, j] == "residential"]
    order = rng.permutation(len(free))
    picks = [free[k] for k in order]
    # commercial blocks along the motorway
    along = [b for b in picks if b[1] in (motorway_row - 1, motorway_row)]
    for b in along[:8]:
        kinds[b] = "commercial"
    rest = [b for b in picks if kinds[b] == "residential"]
    # schools spread over the town: one per third of the rows
    thirds = [[b for b in rest if b[1] * 3 // nj == k] for k in range(3)]
    for group in thirds:
        if group:
            kinds[group[0]] = "school"
    rest = [b for b in rest if kinds[b] == "residential"]
    for b in rest[:4]:
        kinds[b] = "park"
    for b in rest[4:10]:
        kinds[b] = "flats"
    return kinds


_DIVISION = {"residential": 20.0, "flats": 55.0, "commercial": 70.0}


def _divide_town_block(blk: Block, rng: np.random.Generator) -> None:
    if blk.kind in ("park", "school"):
        return
    c = blk.corners
    length = 0.5 * (np.hypot(*(c[1] - c[0])) + np.hypot(*(c[2] - c[3])))
    depth = 0.5 * (np.hypot(*(c[3] - c[0])) + np.hypot(*(c[2] - c[1])))
    blk.ncols = max(1, round(length / (_DIVISION[blk.kind] * rng.uniform(0.9, 1.15))))
    blk.nrows = 2 if (blk.kind == "residential" and depth > 60.0) else 1


def _roads(
    P: np.ndarray,
    Q: np.ndarray,
    widths: tuple[np.ndarray, np.ndarray, np.ndarray],
    motorway_row: int,
    emb_col: int,
) -> list[Road]:
    """Road centre lines of the town grid ``P`` and the farmland grid ``Q``."""
    row_w, row_emb, col_w = widths
    ni, nj = P.shape[0] - 1, P.shape[1] - 1
    roads: list[Road] = []
    name_ix = 0
    for j in range(nj + 1):
        if j == 0:
            name = "Strandvejen"
        elif j == nj:
            name = "Ringvejen"
        elif j == motorway_row:
            name = "Køge Bugt Motorvejen"
        else:
            name, name_ix = street_name(name_ix), name_ix + 1
        roads.append(Road(P[:, j], name, float(row_w[j]), float(row_emb[j])))
    for i in range(ni + 1):
        name, name_ix = street_name(name_ix), name_ix + 1
        lower_emb = 0.4 if i == emb_col else 0.0
        roads.append(Road(P[i, : motorway_row + 1], name, float(col_w[i]), lower_emb))
        roads.append(Road(P[i, motorway_row:], name, float(col_w[i]), 0.0))
    nfi, nfj = Q.shape[0] - 1, Q.shape[1] - 1
    for j in range(1, nfj + 1):
        name, name_ix = street_name(name_ix), name_ix + 1
        roads.append(Road(Q[:, j], name, 6.0, 0.0))
    for i in range(nfi + 1):
        name, name_ix = street_name(name_ix), name_ix + 1
        roads.append(Road(Q[i, :], name, 6.0 if 0 < i < nfi else 8.0, 0.0))
    return roads


def build_town(plan: LandscapePlan, rng: np.random.Generator) -> TownLayout:
    """Lay out roads, blocks and parcels for ``plan``.

    Parameters
    ----------
    plan : LandscapePlan
        Coast, corridor and lake positions.
    rng : numpy.random.Generator
        The town's random stream.

    Returns
    -------
    TownLayout
    """
    P, xs = _town_lines(plan, rng)
    Q = _farm_lines(plan, rng)
    ni, nj = P.shape[0] - 1, P.shape[1] - 1
    corridor_col = int(np.flatnonzero(np.isclose(xs, plan.corridor_x - CORRIDOR_HALF))[0])
    motorway_row = max(2, round(nj * 0.4))

    row_w = np.full(nj + 1, 8.0)
    row_emb = np.zeros(nj + 1)
    row_w[0], row_w[nj] = 10.0, 14.0
    row_w[motorway_row], row_emb[motorway_row] = 26.0, 0.8
    row_emb[1] = 0.3
    col_w = np.full(ni + 1, 8.0)
    col_w[0] = col_w[ni] = 10.0
    emb_col = min(ni - 1, corridor_col + 3)

    roads = _roads(P, Q, (row_w, row_emb, col_w), motorway_row, emb_col)
    nfi, nfj = Q.shape[0] - 1, Q.shape[1] - 1

    kinds = _block_kinds(ni, nj, corridor_col, motorway_row, rng)
    blocks: list[Block] = []
    for j in range(nj):
        for i in range(ni):
            corners = np.array([P[i, j], P[i + 1, j], P[i + 1, j + 1], P[i, j + 1]])
            widths = (row_w[j], col_w[i + 1], row_w[j + 1], col_w[i])
            inset = inset_quad(corners, tuple(w / 2 + VERGE for w in widths))
            band = "syd" if j < motorway_row else "nord"
            ejer = EJERLAV[0] if i < corridor_col else EJERLAV[1]
            blk = Block(inset, str(kinds[i, j]), band, ejerlav=ejer)
            _divide_town_block(blk, rng)
            blocks.append(blk)
    lake_x, lake_y = plan.lake_center
    for j in range(nfj):
        for i in range(nfi):
            corners = np.array([Q[i, j], Q[i + 1, j], Q[i + 1, j + 1], Q[i, j + 1]])
            widths = (
                row_w[nj] if j == 0 else 6.0,
                6.0 if i + 1 < nfi else 8.0,
                6.0,
                6.0 if i > 0 else 8.0,
            )
            inset = inset_quad(corners, tuple(w / 2 + VERGE for w in widths))
            has_lake = bool(shapely.contains_xy(shapely.Polygon(inset), lake_x, lake_y))
            centre_x = float(inset[:, 0].mean())
            band = "nord" if centre_x < 2400.0 else "farm"
            ejer = EJERLAV[2] if centre_x < lake_x else EJERLAV[3]
            blk = Block(inset, "nature" if has_lake else "field", band, ejerlav=ejer)
            if not has_lake:
                blk.ncols = int(rng.integers(2, 6))
            blocks.append(blk)

    parcels = ParcelTable()
    for b, blk in enumerate(blocks):
        for quad, row in subdivide(blk.corners, blk.ncols, blk.nrows, rng):
            parcels.quads.append(quad)
            parcels.block.append(b)
            parcels.kind.append(blk.kind)
            parcels.front_south.append(row == 0)
            parcels.ejerlav.append(blk.ejerlav)
    motorway_y = float(P[:, motorway_row, 1].mean())
    return TownLayout(roads, blocks, parcels, motorway_y)


def matrikel_numbers(ejerlav: list[int], rng: np.random.Generator) -> list[str]:
    """Matrikel numbers per parcel: consecutive numbers per ejerlav, some split a, b, c..."""
    counters: dict[int, int] = {}
    out: list[str] = []
    k = 0
    n = len(ejerlav)
    while k < n:
        code = ejerlav[k]
        counters[code] = counters.get(code, 0) + int(rng.integers(1, 4))
        group = int(rng.choice([1, 1, 2, 2, 3, 4]))
        run = 1
        while run < group and k + run < n and ejerlav[k + run] == code:
            run += 1
        for m in range(run):
            out.append(matrikelnummer(counters[code], None if run == 1 else m))
        k += run
    return out


@dataclass(frozen=True)
class BuildingTable:
    """Building footprints (local coordinates) with their attributes."""

    polygons: np.ndarray  # shapely Polygons
    parcel_index: np.ndarray
    use: list[str]
    floors: np.ndarray
    has_basement: np.ndarray
    floor_level_m: np.ndarray


_SIZES = {  # (width along the front, depth, front setback) ranges in metres
    "residential": ((9.0, 15.0), (8.0, 11.0), (5.0, 8.0)),
    "flats": ((30.0, 45.0), (11.0, 14.0), (6.0, 10.0)),
    "commercial": ((25.0, 50.0), (18.0, 35.0), (8.0, 14.0)),
    "school": ((50.0, 80.0), (14.0, 20.0), (15.0, 25.0)),
    "kindergarten": ((14.0, 20.0), (9.0, 12.0), (5.0, 8.0)),
    "field": ((12.0, 18.0), (9.0, 12.0), (10.0, 20.0)),
}
_USE = {"school": "institution", "kindergarten": "institution", "commercial": "commercial"}


def _footprints(quads: np.ndarray, front_south: np.ndarray, wds: np.ndarray) -> np.ndarray:
    """Rectangles (N, 4, 2) of width, depth and front setback ``wds`` (N, 3) per parcel.

    Each rectangle is aligned with the parcel's front edge (south or north edge) and
    set back from it by the setback, on the parcel's side.
    """
    a = np.where(front_south[:, None], quads[:, 0], quads[:, 3])
    b = np.where(front_south[:, None], quads[:, 1], quads[:, 2])
    e = (b - a) / np.hypot(*(b - a).T)[:, None]
    n = np.column_stack([-e[:, 1], e[:, 0]])
    flip = np.einsum("ij,ij->i", quads.mean(axis=1) - a, n) < 0
    n[flip] *= -1
    w, d, s = (wds[:, k : k + 1] for k in range(3))
    c = 0.5 * (a + b) + n * (s + d / 2)
    corners = [c - e * w / 2 - n * d / 2, c + e * w / 2 - n * d / 2,
               c + e * w / 2 + n * d / 2, c - e * w / 2 + n * d / 2]  # fmt: skip
    return np.stack(corners, axis=1)


def build_buildings(
    parcels: ParcelTable,
    kinds: list[str],
    rng: np.random.Generator,
    terrain_at: Callable[[np.ndarray], np.ndarray],
    farm_share: float = 0.35,
) -> BuildingTable:
    """Place one rectangular footprint in each built parcel.

    Parameters
    ----------
    parcels : ParcelTable
        Parcel quads (local coordinates).
    kinds : list of str
        Land use of each parcel (parks and nature areas get no building).
    rng : numpy.random.Generator
        The buildings' random stream.
    terrain_at : callable
        Terrain height (m DVR90) at local points (N, 2).
    farm_share : float
        Share of field parcels with a farmhouse.

    Returns
    -------
    BuildingTable
        Footprints set back at least 2 m from every parcel edge.
    """
    cand = np.array([k for k, kind in enumerate(kinds) if kind in _SIZES], dtype=np.int64)
    ckind = [kinds[k] for k in cand]
    farm_draw = rng.random(len(cand))
    lo = np.array([[_SIZES[k][j][0] for j in range(3)] for k in ckind]).reshape(-1, 3)
    hi = np.array([[_SIZES[k][j][1] for j in range(3)] for k in ckind]).reshape(-1, 3)
    wds = lo + (hi - lo) * rng.random((len(cand), 3))
    keep = np.array([k != "field" for k in ckind], dtype=bool) | (farm_draw <= farm_share)
    cand, wds = cand[keep], wds[keep]
    quads = np.array(parcels.quads)[cand]
    front = np.array(parcels.front_south, dtype=bool)[cand]
    shrunk = shapely.buffer(np.asarray(shapely.polygons(quads), dtype=object), -2.0,
                            join_style="mitre")  # fmt: skip
    rects = np.empty(len(cand), dtype=object)
    placed = np.zeros(len(cand), dtype=bool)
    for _ in range(8):  # shrink footprints that do not fit, up to 8 times
        todo = np.flatnonzero(~placed)
        if len(todo) == 0:
            break
        corners = np.round(_footprints(quads[todo], front[todo], wds[todo]), 2)
        trial = np.asarray(shapely.polygons(corners), dtype=object)
        fits = shapely.contains(shrunk[todo], trial)
        rects[todo[fits]] = trial[fits]
        placed[todo[fits]] = True
        wds[todo] *= (0.85, 0.85, 0.8)
        wds[todo, 2] = np.maximum(wds[todo, 2], 2.0)
    polys = list(rects[placed])
    owners = [int(k) for k in cand[placed]]
    uses = [_USE.get(kinds[k], "residential") for k in owners]
    n = len(polys)
    use_arr = np.array(uses, dtype=object)
    floors = np.ones(n, dtype=np.int64)
    floors[use_arr == "residential"] = rng.choice(
        [1, 1, 1, 2, 2], size=int((use_arr == "residential").sum())
    )
    is_flat = np.array([kinds[o] == "flats" for o in owners], dtype=bool)
    floors[is_flat] = rng.integers(3, 6, size=int(is_flat.sum()))
    floors[use_arr == "commercial"] = rng.integers(1, 4, size=int((use_arr == "commercial").sum()))
    floors[use_arr == "institution"] = rng.integers(
        1, 3, size=int((use_arr == "institution").sum())
    )
    centres = shapely.get_coordinates(shapely.centroid(np.array(polys, dtype=object))).reshape(
        -1, 2
    )
    ground = terrain_at(centres)
    has_basement = rng.random(n) < np.where(ground > 2.5, 0.35, 0.12)
    floor_level = np.round(ground + rng.uniform(0.15, 0.6, size=n), 2)
    return BuildingTable(
        polygons=np.array(polys, dtype=object),
        parcel_index=np.array(owners, dtype=np.int64),
        use=uses,
        floors=floors,
        has_basement=has_basement,
        floor_level_m=floor_level,
    )
