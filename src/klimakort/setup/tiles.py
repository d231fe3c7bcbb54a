"""DHM terrain tiles: discovery, name parsing, a VRT mosaic and a windowed clip to a boundary.

The Danish elevation model (DHM/Terræn, Dataforsyningen) is delivered as 1 km GeoTIFF tiles
named after the Danish square grid (Det Danske Kvadratnet): ``DTM_1km_6170_724.tif`` is the
square whose south-west corner is 6 170 km north, 724 km east in EPSG:25832 (ETRS89 / UTM
32N), heights in m DVR90, float32, nodata -9999, 0.4 m cells (2500 x 2500).

:func:`build_vrt` writes a GDAL VRT over the tiles (GDAL's ``gdalbuildvrt`` is not needed:
the VRT is plain XML), so the mosaic is lazy. :func:`clip_terrain` reads that mosaic in
bands of rows, masks everything outside the boundary and writes a Cloud Optimized GeoTIFF:
memory stays bounded by one band, not by the whole municipality.
"""

from __future__ import annotations

import glob
import math
import re
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import numpy as np
import rasterio
import rasterio.features
import rasterio.shutil
from pyproj import CRS
from rasterio.enums import Resampling
from rasterio.transform import Affine, from_origin
from rasterio.windows import Window
from shapely.geometry.base import BaseGeometry

from klimakort.errors import CRSError, DataNotFoundError, GridMismatchError, InputError, NoDataError
from klimakort.io.atomic import atomic_path
from klimakort.io.raster import READ_ENV, check_projected_crs

#: ``DTM_1km_6170_724.tif``: product, tile size (km), south edge (km N), west edge (km E)
TILE_NAME = re.compile(
    r"^(?P<product>DTM|DSM|DHM|DTK)_(?P<size>\d+)km_(?P<north>\d{4})_(?P<east>\d{3})\.tiff?$",
    re.IGNORECASE,
)
#: nodata written into the clipped terrain (the DHM's own value)
TERRAIN_NODATA = -9999.0
#: GDAL block cache (MB) while clipping: blocks are read once, so a large cache only
#: grows the memory (GDAL's default is 5 % of the RAM)
CACHE_MB = 64

Bounds = tuple[float, float, float, float]


@dataclass(frozen=True)
class TileName:
    """What a DHM tile name says: product, size and the south-west corner in km."""

    product: str
    size_km: int
    north_km: int
    east_km: int

    @property
    def bounds(self) -> Bounds:
        """(xmin, ymin, xmax, ymax) in metres, EPSG:25832."""
        x0, y0 = self.east_km * 1000.0, self.north_km * 1000.0
        s = self.size_km * 1000.0
        return (x0, y0, x0 + s, y0 + s)

    def filename(self) -> str:
        """The canonical file name, e.g. ``DTM_1km_6170_724.tif``."""
        return f"{self.product}_{self.size_km}km_{self.north_km}_{self.east_km}.tif"


def parse_tile_name(name: str) -> TileName | None:
    """Parse a DHM tile name (``DTM_1km_{N}_{E}.tif``); None when the name is not one.

    Examples
    --------
    >>> parse_tile_name("DTM_1km_6170_724.tif").bounds
    (724000.0, 6170000.0, 725000.0, 6171000.0)
    """
    m = TILE_NAME.match(Path(name).name)
    if m is None:
        return None
    return TileName(m["product"].upper(), int(m["size"]), int(m["north"]), int(m["east"]))


def tile_names_covering(bounds: Bounds, product: str = "DTM", size_km: int = 1) -> list[TileName]:
    """The DHM tile names whose squares overlap ``bounds`` (EPSG:25832 metres)."""
    s = size_km * 1000.0
    e0, e1 = math.floor(bounds[0] / s), math.ceil(bounds[2] / s)
    n0, n1 = math.floor(bounds[1] / s), math.ceil(bounds[3] / s)
    return [
        TileName(product, size_km, n * size_km, e * size_km)
        for n in range(n0, n1)
        for e in range(e0, e1)
    ]


@dataclass(frozen=True)
class Tile:
    """Header facts of one terrain tile."""

    path: Path
    name: TileName | None
    crs: CRS
    transform: Affine
    width: int
    height: int
    nodata: float | None
    dtype: str

    @property
    def res(self) -> float:
        """Cell size (m)."""
        return float(self.transform.a)

    @property
    def bounds(self) -> Bounds:
        """(xmin, ymin, xmax, ymax)."""
        t = self.transform
        return (t.c, t.f + t.e * self.height, t.c + t.a * self.width, t.f)


def _is_tif(name: str) -> bool:
    return name.lower().endswith((".tif", ".tiff"))


def zipped_tiles(zip_path: Path) -> list[Path]:
    """The GeoTIFFs inside a zip (Dataforsyningen delivers DHM tiles in 10 km zips) as
    GDAL ``/vsizip/`` paths, read in place without unpacking."""
    with zipfile.ZipFile(zip_path) as z:
        members = sorted(n for n in z.namelist() if _is_tif(n))
    return [Path(f"/vsizip/{{{zip_path.resolve()}}}/{m}") for m in members]


def split_vsizip(path: Path | str) -> tuple[Path, str] | None:
    """``/vsizip/{ZIP}/MEMBER`` -> (ZIP, MEMBER); None for a plain path."""
    m = re.fullmatch(r"/vsizip/\{(?P<zip>[^}]+)\}/(?P<member>.+)", str(path))
    return (Path(m["zip"]), m["member"]) if m else None


def _expand(path: Path) -> list[Path]:
    if path.suffix.lower() == ".zip":
        return zipped_tiles(path)
    return [path] if _is_tif(path.name) else []


def discover_tiles(spec: str | Path) -> list[Path]:
    """The GeoTIFFs of a folder (``*.tif``, ``*.tiff`` and the tiles inside ``*.zip``, not
    recursive), of a zip, or of a glob pattern.

    Raises
    ------
    DataNotFoundError
        Nothing matches.
    """
    path = Path(spec)
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.is_file())
    elif path.is_file():
        files = [path]
    else:
        files = sorted(Path(p) for p in glob.glob(str(spec)) if Path(p).is_file())
    found = [t for f in files for t in _expand(f)]
    if not found:
        raise DataNotFoundError(
            f"no terrain tiles found at {spec}: give a folder of DHM GeoTIFFs "
            "(DTM_1km_{N}_{E}.tif, or the zips they are delivered in) or a glob such as "
            "'dhm/DTM_1km_*.tif'"
        )
    return found


def read_tile(path: Path) -> Tile:
    """Read one tile's header and check it: projected CRS, north-up, one band, float."""
    with rasterio.Env(**READ_ENV), rasterio.open(path) as src:
        crs = check_projected_crs(src.crs, f"terrain tile {path.name}")
        t = src.transform
        if t.b != 0 or t.d != 0 or t.e >= 0:
            raise InputError(f"terrain tile {path.name} is rotated or not north-up")
        if abs(abs(t.e) - t.a) > 1e-9 * t.a:
            raise InputError(f"terrain tile {path.name} has non-square cells ({t.a} x {-t.e})")
        tile = Tile(
            path, parse_tile_name(path.name), CRS.from_user_input(crs), t,
            src.width, src.height, src.nodata, src.dtypes[0],
        )  # fmt: skip
    if not np.issubdtype(np.dtype(tile.dtype), np.floating):
        raise InputError(
            f"terrain tile {path.name} holds {tile.dtype}; a terrain model has float heights"
        )
    if tile.name is not None:
        expected = tile.name.bounds
        if not np.allclose(tile.bounds, expected, atol=tile.res / 2):
            raise InputError(
                f"terrain tile {path.name}: its name says bounds {expected} but it is "
                f"georeferenced at {tuple(round(b, 1) for b in tile.bounds)}; "
                "the file is misnamed or its georeference is wrong"
            )
    return tile


def check_tiles(tiles: list[Tile], area_crs: str = "EPSG:25832") -> None:
    """Check that tiles form one grid: same CRS (the area's), cell size and cell alignment.

    Raises
    ------
    CRSError
        A tile is not in the area CRS.
    GridMismatchError
        Cell sizes differ or tiles are offset by a fraction of a cell; duplicates.
    """
    want = CRS.from_user_input(area_crs)
    first = tiles[0]
    seen: dict[tuple[float, float], Path] = {}
    for t in tiles:
        if not t.crs.equals(want):
            raise CRSError(
                f"terrain tile {t.path.name} is in {t.crs.to_string()}, the area is {area_crs}; "
                "DHM tiles are EPSG:25832 (ETRS89 / UTM 32N)"
            )
        if not math.isclose(t.res, first.res, rel_tol=1e-9):
            raise GridMismatchError(
                f"terrain tiles have different cell sizes: {first.path.name} {first.res} m, "
                f"{t.path.name} {t.res} m; use tiles of one product"
            )
        for off in ((t.transform.c - first.transform.c), (t.transform.f - first.transform.f)):
            cells = off / first.res
            if abs(cells - round(cells)) > 1e-6:
                raise GridMismatchError(
                    f"terrain tile {t.path.name} is offset by a fraction of a cell from "
                    f"{first.path.name}; the tiles do not share one grid"
                )
        key = (round(t.transform.c, 3), round(t.transform.f, 3))
        if key in seen:
            raise GridMismatchError(
                f"terrain tiles {seen[key].name} and {t.path.name} cover the same square"
            )
        seen[key] = t.path


@dataclass(frozen=True)
class Mosaic:
    """The grid of a set of tiles: union bounds on the tiles' common grid."""

    tiles: tuple[Tile, ...]
    transform: Affine
    width: int
    height: int
    crs: CRS

    @property
    def bounds(self) -> Bounds:
        """(xmin, ymin, xmax, ymax)."""
        t = self.transform
        return (t.c, t.f + t.e * self.height, t.c + t.a * self.width, t.f)


def mosaic_of(tiles: list[Tile]) -> Mosaic:
    """The common grid of ``tiles`` (checked with :func:`check_tiles` first)."""
    res = tiles[0].res
    xmin = min(t.bounds[0] for t in tiles)
    ymax = max(t.bounds[3] for t in tiles)
    xmax = max(t.bounds[2] for t in tiles)
    ymin = min(t.bounds[1] for t in tiles)
    width, height = round((xmax - xmin) / res), round((ymax - ymin) / res)
    return Mosaic(tuple(tiles), from_origin(xmin, ymax, res, res), width, height, tiles[0].crs)


def _vrt_dtype(dtype: str) -> str:
    return {"float32": "Float32", "float64": "Float64"}[dtype]


def _source_name(path: Path) -> str:
    return str(path) if split_vsizip(path) else str(path.resolve())


def build_vrt(mosaic: Mosaic, dest: Path) -> Path:
    """Write a GDAL VRT over the mosaic's tiles (absolute paths), atomically.

    Each tile is a ``ComplexSource`` with its nodata, so a tile's nodata never covers a
    neighbour's heights where tiles overlap. Nothing is read but the headers.
    """
    dtype = _vrt_dtype(max((t.dtype for t in mosaic.tiles), key=lambda d: np.dtype(d).itemsize))
    nodata = next((t.nodata for t in mosaic.tiles if t.nodata is not None), TERRAIN_NODATA)
    t0 = mosaic.transform
    lines = [
        f'<VRTDataset rasterXSize="{mosaic.width}" rasterYSize="{mosaic.height}">',
        f'  <SRS dataAxisToSRSAxisMapping="1,2">{escape(mosaic.crs.to_wkt())}</SRS>',
        f"  <GeoTransform>{t0.c!r}, {t0.a!r}, 0.0, {t0.f!r}, 0.0, {t0.e!r}</GeoTransform>",
        f'  <VRTRasterBand dataType="{dtype}" band="1">',
        f"    <NoDataValue>{nodata!r}</NoDataValue>",
    ]
    for t in mosaic.tiles:
        xoff = round((t.transform.c - t0.c) / t0.a)
        yoff = round((t.transform.f - t0.f) / t0.e)
        src_nodata = t.nodata if t.nodata is not None else nodata
        lines += [
            "    <ComplexSource>",
            f'      <SourceFilename relativeToVRT="0">{escape(_source_name(t.path))}'
            "</SourceFilename>",
            "      <SourceBand>1</SourceBand>",
            f'      <SourceProperties RasterXSize="{t.width}" RasterYSize="{t.height}" '
            f'DataType="{_vrt_dtype(t.dtype)}"/>',
            f'      <SrcRect xOff="0" yOff="0" xSize="{t.width}" ySize="{t.height}"/>',
            f'      <DstRect xOff="{xoff}" yOff="{yoff}" xSize="{t.width}" ySize="{t.height}"/>',
            f"      <NODATA>{src_nodata!r}</NODATA>",
            "    </ComplexSource>",
        ]
    lines += ["  </VRTRasterBand>", "</VRTDataset>", ""]
    with atomic_path(dest) as tmp:
        tmp.write_text("\n".join(lines), encoding="utf-8")
    return dest


@dataclass(frozen=True)
class TerrainClip:
    """What :func:`clip_terrain` wrote."""

    path: Path
    bounds: Bounds
    width: int
    height: int
    res: float
    cells_inside: int
    cells_valid: int
    cells_missing: int
    height_min: float
    height_max: float


def _clip_grid(src_transform: Affine, src_bounds: Bounds, area: Bounds, res: float) -> Bounds:
    """``area`` snapped outward to a grid of ``res`` aligned with the source, within it."""
    x0, y_top = src_transform.c, src_transform.f
    xmin = x0 + math.floor((area[0] - x0) / res) * res
    xmax = x0 + math.ceil((area[2] - x0) / res) * res
    ymax = y_top - math.floor((y_top - area[3]) / res) * res
    ymin = y_top - math.ceil((y_top - area[1]) / res) * res
    out = (max(xmin, src_bounds[0]), max(ymin, src_bounds[1]))
    return (*out, min(xmax, src_bounds[2]), min(ymax, src_bounds[3]))


def clip_terrain(
    vrt: Path,
    boundary: BaseGeometry,
    dest: Path,
    *,
    resolution: float | None = None,
    rows_per_block: int = 1024,
) -> TerrainClip:
    """Clip the mosaic to ``boundary`` (cells outside get nodata) and write a COG.

    The mosaic is read one band of rows at a time (averaged when ``resolution`` is coarser
    than the tiles), masked with the boundary and written into an uncompressed tiled
    GeoTIFF beside ``dest``, which is then copied into a Cloud Optimized GeoTIFF (compressed
    once, with threads): memory is bounded by the band and a small GDAL cache.

    Parameters
    ----------
    vrt : Path
        The mosaic (:func:`build_vrt`).
    boundary : shapely geometry
        The area (EPSG:25832), possibly buffered by the caller.
    dest : Path
        The COG to write (atomically).
    resolution : float, optional
        Output cell size in metres (default: the tiles' own); a multiple of it is best.
    rows_per_block : int
        Output rows read and written at once.

    Raises
    ------
    NoDataError
        The tiles do not overlap the boundary, or hold no height inside it.
    """
    with rasterio.Env(**READ_ENV, GDAL_CACHEMAX=CACHE_MB), rasterio.open(vrt) as src:
        native = float(src.transform.a)
        res = float(resolution or native)
        if res < native:
            raise InputError(
                f"resolution {res} m is finer than the tiles' {native} m; klimakort does not "
                "invent detail (choose {native} m or coarser)"
            )
        bounds = _clip_grid(src.transform, tuple(src.bounds), boundary.bounds, res)
        if bounds[0] >= bounds[2] or bounds[1] >= bounds[3]:
            raise NoDataError(
                f"the terrain tiles (bounds {tuple(round(b) for b in src.bounds)}) do not "
                f"overlap the boundary (bounds {tuple(round(b) for b in boundary.bounds)})"
            )
        width = round((bounds[2] - bounds[0]) / res)
        height = round((bounds[3] - bounds[1]) / res)
        transform = from_origin(bounds[0], bounds[3], res, res)
        profile = {
            "driver": "GTiff", "width": width, "height": height, "count": 1,
            "dtype": "float32", "crs": src.crs, "transform": transform,
            "nodata": TERRAIN_NODATA, "tiled": True, "blockxsize": 512, "blockysize": 512,
            "BIGTIFF": "IF_SAFER",
        }  # fmt: skip
        stats = _copy_clipped(src, boundary, dest, profile, rows_per_block)
    inside, valid, lo, hi = stats
    if valid == 0:
        raise NoDataError(
            "the terrain tiles hold no heights inside the boundary (all nodata); check that "
            "the tiles cover the municipality"
        )
    return TerrainClip(dest, bounds, width, height, res, inside, valid, inside - valid, lo, hi)


def _copy_clipped(
    src: rasterio.io.DatasetReader,
    boundary: BaseGeometry,
    dest: Path,
    profile: dict[str, Any],
    rows_per_block: int,
) -> tuple[int, int, float, float]:
    width, height = int(profile["width"]), int(profile["height"])
    transform: Affine = profile["transform"]
    res = transform.a
    inside = valid = 0
    lo, hi = math.inf, -math.inf
    with tempfile.TemporaryDirectory(dir=dest.parent, prefix=f".{dest.stem}.work-") as tmpd:
        work = Path(tmpd) / "work.tif"
        with rasterio.open(work, "w", **profile) as dst:
            for row0 in range(0, height, rows_per_block):
                rows = min(rows_per_block, height - row0)
                block_t = transform * Affine.translation(0, row0)
                x0, y1 = block_t.c, block_t.f
                window = rasterio.windows.from_bounds(
                    x0, y1 - rows * res, x0 + width * res, y1, src.transform
                )
                data = src.read(
                    1, window=window, out_shape=(rows, width), resampling=Resampling.average,
                    masked=True,
                )  # fmt: skip
                heights = np.ma.filled(data.astype(np.float32), np.nan)
                mask = rasterio.features.geometry_mask(
                    [boundary], out_shape=(rows, width), transform=block_t, invert=True
                )
                ok = mask & np.isfinite(heights)
                inside += int(mask.sum())
                valid += int(ok.sum())
                if ok.any():
                    lo, hi = min(lo, float(heights[ok].min())), max(hi, float(heights[ok].max()))
                out = np.where(ok, heights, np.float32(TERRAIN_NODATA)).astype(np.float32)
                dst.write(out, 1, window=Window(0, row0, width, rows))
            dst.update_tags(
                units="m DVR90", source="DHM terrain tiles clipped to the area boundary",
                software="klimakort",
            )  # fmt: skip
            dst.set_band_description(1, "terrain")
        with atomic_path(dest) as tmp:
            rasterio.shutil.copy(
                work, tmp, driver="COG", compress="DEFLATE", predictor="3", blocksize=512,
                overviews="AUTO", resampling="AVERAGE", BIGTIFF="IF_SAFER",
                num_threads="ALL_CPUS",
            )  # fmt: skip
    return inside, valid, lo, hi
