"""Data of the setup tests: DHM-like terrain tiles of Vallensbæk and a jordstykke layer.

No terrain model of Vallensbæk is available offline, so :func:`vallensbaek_tiles` builds
one from the real terrain heights of the Jupiter boreholes (``terraen_ko``) and of the
wells with the national DTM height (``DTM_kote``), interpolated linearly (nearest beyond
their hull), with the sea of Køge Bugt (south-east of the GSHHG shoreline) at -0.5 m. It
is written as 1 km tiles named and georeferenced like DHM tiles, at a coarse 4 m cell so
the end-to-end test stays fast.
"""

from __future__ import annotations

import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio
import rasterio.features
import shapely
from rasterio.transform import from_origin
from scipy.interpolate import griddata
from shapely.ops import split

CELL = 4.0
TILE = 1000.0


def vallensbaek_boundary(shared: Path) -> shapely.Geometry:
    """Vallensbæk's municipal boundary (2-D)."""
    m = gpd.read_file(shared / "denmark" / "municipalities_ballerup_hoejetaastrup_vallensbaek.gpkg")
    return shapely.force_2d(m.loc[m["KOMNAVN"] == "Vallensbæk"].geometry.iloc[0])


def sea_polygon(shared: Path, box: shapely.Geometry) -> shapely.Geometry:
    """Køge Bugt within ``box``: the part of the box the shoreline cuts off holding no wells."""
    coast = gpd.read_file(shared / "denmark" / "coastline_copenhagen_koege_bugt.gpkg")
    wells = gpd.read_file(shared / "vallensbaek" / "boreholes.geojson")
    line = shapely.union_all([g for g in coast.geometry if g.intersects(box)])
    parts = list(split(box, line).geoms)
    counts = [int(wells.within(p).sum()) for p in parts]
    land = parts[int(np.argmax(counts))]
    return shapely.union_all([p for p in parts if p is not land])


def _heights(shared: Path) -> tuple[np.ndarray, np.ndarray]:
    v = shared / "vallensbaek"
    bores = gpd.read_file(v / "boreholes.geojson")
    wells = gpd.read_file(v / "groundwater_obs_with_dhm.geojson")
    z1 = pd.to_numeric(bores["terraen_ko"], errors="coerce")
    z2 = pd.to_numeric(wells["DTM_kote"], errors="coerce")
    xy = np.concatenate([shapely.get_coordinates(g.geometry)[:, :2] for g in (bores, wells)])
    z = np.concatenate([z1.to_numpy(float), z2.to_numpy(float)])
    ok = np.isfinite(z) & (z > -5) & (z < 60)
    return xy[ok], z[ok]


def write_dhm_tiles(shared: Path, out: Path, cell: float = CELL) -> list[Path]:
    """Write DTM_1km_{N}_{E}.tif tiles covering Vallensbæk (float32, nodata -9999)."""
    b = vallensbaek_boundary(shared).bounds
    e0, e1 = math.floor(b[0] / TILE), math.ceil(b[2] / TILE)
    n0, n1 = math.floor(b[1] / TILE), math.ceil(b[3] / TILE)
    box = shapely.box(e0 * TILE, n0 * TILE, e1 * TILE, n1 * TILE)
    sea = sea_polygon(shared, box.buffer(2000))
    xy, z = _heights(shared)
    nx, ny = round((e1 - e0) * TILE / cell), round((n1 - n0) * TILE / cell)
    xs = e0 * TILE + cell * (np.arange(nx) + 0.5)
    ys = n1 * TILE - cell * (np.arange(ny) + 0.5)
    gx, gy = np.meshgrid(xs, ys)
    dem = griddata(xy, z, (gx, gy), method="linear")
    near = griddata(xy, z, (gx, gy), method="nearest")
    dem = np.where(np.isfinite(dem), dem, near).astype(np.float32)
    transform = from_origin(e0 * TILE, n1 * TILE, cell, cell)
    at_sea = rasterio.features.geometry_mask([sea], (ny, nx), transform, invert=True)
    dem[at_sea] = -0.5
    out.mkdir(parents=True, exist_ok=True)
    per = round(TILE / cell)
    paths = []
    for n in range(n0, n1):
        for e in range(e0, e1):
            r0, c0 = (n1 - 1 - n) * per, (e - e0) * per
            block = dem[r0 : r0 + per, c0 : c0 + per]
            path = out / f"DTM_1km_{n}_{e}.tif"
            with rasterio.open(
                path, "w", driver="GTiff", width=per, height=per, count=1, dtype="float32",
                crs="EPSG:25832", transform=from_origin(e * TILE, (n + 1) * TILE, cell, cell),
                nodata=-9999.0, tiled=True, blockxsize=256, blockysize=256, compress="deflate",
            ) as dst:  # fmt: skip
                dst.write(block, 1)
            paths.append(path)
    return paths


def write_jordstykker(shared: Path, out: Path) -> Path:
    """A jordstykke GeoPackage in Datafordeler's MAT schema over part of Vallensbæk.

    A 100 m grid of parcels over the middle of the municipality, each with the fields a
    Datafordeler Matriklen (MAT) Jordstykke download carries (ejerlavskode,
    matrikelnummer, ejerlavsnavn, kommunekode, registreretAreal, ...), cut to the
    boundary. Ejerlav 2000651 "Vallensbæk By, Vallensbæk" is a real ejerlav code format.
    """
    boundary = vallensbaek_boundary(shared)
    cx, cy = boundary.centroid.x, boundary.centroid.y
    rows = []
    k = 0
    for i in range(-12, 12):
        for j in range(-10, 10):
            x0, y0 = cx + i * 100.0, cy + j * 100.0
            geom = shapely.box(x0, y0, x0 + 100.0, y0 + 100.0).intersection(boundary)
            if geom.is_empty or geom.area < 1.0:
                continue
            k += 1
            rows.append(
                {
                    "id_lokalId": f"{1_000_000 + k}",
                    "id_namespace": "https://data.gov.dk/matriklen/jordstykke",
                    "registreringFra": "2020-01-01T00:00:00+01:00",
                    "virkningFra": "2020-01-01T00:00:00+01:00",
                    "virkningsaktoer": "Geodatastyrelsen",
                    "forretningshaendelse": "Udstykning",
                    "forretningsproces": "Matrikulær forandring",
                    "status": "Gældende",
                    "matrikelnummer": f"{k}a",
                    "registreretAreal": round(geom.area),
                    "vejareal": 0,
                    "faelleslod": False,
                    "ejerlavLokalId": "2000651",
                    "ejerlavsnavn": "Vallensbæk By, Vallensbæk",
                    "ejerlavskode": 2000651,
                    "kommuneLokalId": "0187",
                    "kommunenavn": "Vallensbæk",
                    "kommunekode": "0187",
                    "samletFastEjendomLokalId": f"{5_000_000 + k}",
                    "geometry": geom,
                }
            )
    gdf = gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:25832")
    path = out / "MAT_jordstykke.gpkg"
    gdf.to_file(path, layer="Jordstykke", driver="GPKG")
    return path
