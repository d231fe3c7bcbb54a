"""Checks of an area's files: existence, CRS and overlap with the terrain model.

Reads only headers (rasterio dataset metadata, ``pyogrio.read_info``), so checking a
large area is quick.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pyogrio
import rasterio
from pyproj import CRS
from rasterio.errors import RasterioIOError

from klimakort.config.area import AreaConfig
from klimakort.errors import ConfigError

Bounds = tuple[float, float, float, float]


@dataclass(frozen=True)
class RasterInfo:
    """Header facts of a raster input."""

    key: str
    path: Path
    crs: CRS | None
    bounds: Bounds
    shape: tuple[int, int]
    res: tuple[float, float]
    dtype: str


@dataclass(frozen=True)
class LayerInfo:
    """Header facts of a vector input."""

    key: str
    path: Path
    crs: CRS | None
    bounds: Bounds | None
    features: int
    geometry_type: str | None


def _overlaps(a: Bounds, b: Bounds) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def raster_info(key: str, path: Path) -> RasterInfo:
    """Header of a raster input; ConfigError names ``key`` when it cannot be read."""
    if not path.is_file():
        raise ConfigError(f"{key}.path: file not found: {path}")
    try:
        with rasterio.open(path) as src:
            crs = CRS.from_user_input(src.crs) if src.crs else None
            return RasterInfo(key, path, crs, tuple(src.bounds), src.shape, src.res, src.dtypes[0])
    except RasterioIOError as exc:
        raise ConfigError(f"{key}.path: not a readable raster: {path} ({exc})") from None


def layer_info(key: str, path: Path, layer: str | None = None) -> LayerInfo:
    """Header of a vector input; ConfigError names ``key`` when it cannot be read."""
    if not path.is_file():
        raise ConfigError(f"{key}.path: file not found: {path}")
    try:
        info = pyogrio.read_info(path, layer=layer, force_total_bounds=True)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        raise ConfigError(f"{key}: cannot read layer {layer!r} of {path}: {exc}") from None
    crs = CRS.from_user_input(info["crs"]) if info.get("crs") else None
    bounds = info.get("total_bounds")
    bounds_t: Bounds | None = None
    if bounds is not None:
        bounds_t = (float(bounds[0]), float(bounds[1]), float(bounds[2]), float(bounds[3]))
    return LayerInfo(
        key, path, crs, bounds_t, int(info.get("features", -1)), info.get("geometry_type")
    )


def _transform_bounds(bounds: Bounds, src: CRS, dst: CRS) -> Bounds:
    from pyproj import Transformer

    t = Transformer.from_crs(src, dst, always_xy=True)
    out = t.transform_bounds(*bounds)
    return (float(out[0]), float(out[1]), float(out[2]), float(out[3]))


def check_area(cfg: AreaConfig) -> tuple[RasterInfo, list[RasterInfo], list[LayerInfo]]:
    """Check files, CRSs and overlaps of an area; raise ConfigError naming the key.

    Rasters must be in the area CRS (they are never reprojected silently); the
    groundwater and imperviousness rasters must overlap the terrain. Vector layers
    must have a CRS (they are reprojected to the area CRS on reading) and overlap the
    terrain model's bounds.

    Returns
    -------
    (terrain info, other raster infos, layer infos)
    """
    area_crs = CRS.from_user_input(cfg.crs)
    terrain = raster_info("terrain", cfg.terrain.path)
    if terrain.crs is None:
        raise ConfigError(f"terrain.path: {terrain.path} has no CRS; expected {cfg.crs}")
    if not terrain.crs.equals(area_crs):
        raise ConfigError(
            f"terrain.path: CRS mismatch: {terrain.path.name} is in {terrain.crs.to_string()} "
            f"but the area's crs is {cfg.crs}"
        )
    rasters: list[RasterInfo] = []
    extra: dict[str, Path | None] = {
        "imperviousness": cfg.imperviousness.path if cfg.imperviousness else None,
        "landcover": cfg.landcover.path if cfg.landcover else None,
    }
    if cfg.groundwater is not None and cfg.groundwater.kind == "raster":
        extra["groundwater"] = cfg.groundwater.path
    for key, raster_path in extra.items():
        if raster_path is None:
            continue
        info = raster_info(key, raster_path)
        if info.crs is None or not info.crs.equals(area_crs):
            got = info.crs.to_string() if info.crs else "no CRS"
            raise ConfigError(
                f"{key}.path: CRS mismatch: {info.path.name} has {got}, the area's crs is {cfg.crs}"
            )
        if not _overlaps(info.bounds, terrain.bounds):
            raise ConfigError(f"{key}.path: {info.path.name} does not overlap the terrain model")
        rasters.append(info)
    layers: list[LayerInfo] = []
    if cfg.groundwater is not None and cfg.groundwater.kind != "raster":
        layers.append(
            _check_layer(
                "groundwater", cfg.groundwater.path, cfg.groundwater.layer, area_crs, terrain
            )
        )
    for key, layer_ref in sorted(cfg.layers.items()):
        layers.append(
            _check_layer(f"layers.{key}", layer_ref.path, layer_ref.layer, area_crs, terrain)
        )
    return terrain, rasters, layers


def _check_layer(
    key: str, path: Path, layer: str | None, area_crs: CRS, terrain: RasterInfo
) -> LayerInfo:
    info = layer_info(key, path, layer)
    if info.crs is None:
        raise ConfigError(f"{key}.path: {path.name} has no CRS; klimakort never guesses one")
    if info.bounds is not None and info.features > 0:
        bounds = info.bounds
        if not info.crs.equals(area_crs):
            bounds = _transform_bounds(bounds, info.crs, area_crs)
        if not _overlaps(bounds, terrain.bounds):
            raise ConfigError(
                f"{key}.path: {path.name} (bounds {tuple(round(b) for b in bounds)}) does not "
                f"overlap the terrain model (bounds {tuple(round(b) for b in terrain.bounds)})"
            )
    return info
