"""Fingerprints of the inputs that an area's hazards are computed from.

A stored hazard result (:mod:`klimakort.hazards.store`) is keyed by the SHA-256 of a
*manifest*: a JSON document listing every input file the hazards read, with the
configuration that says how it is read, plus the parameters and the scenario values.
When any of it changes, the key changes and the hazards are recomputed.

Each input file is fingerprinted by

* its absolute path,
* its size in bytes and its modification time (``st_mtime_ns``),
* the SHA-256 of its first and last MiB (:data:`HASH_BYTES`; the whole file when it is
  smaller than two MiB).

The partial content hash catches a file replaced by another one with the same size and
a preserved modification time (``cp -p``, ``rsync -t``) in the parts where raster
headers, tile indices and GeoPackage pages change; it keeps fingerprinting a
multi-gigabyte terrain model at milliseconds. A raster is fingerprinted with every file
GDAL reads for it (all sources of a VRT, ``.aux.xml`` side-cars), a Shapefile with its
side-car files, a GeoPackage with its ``-wal`` journal when present.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import rasterio

from klimakort.config.area import AreaConfig
from klimakort.errors import DataNotFoundError
from klimakort.io.raster import READ_ENV

__all__ = [
    "HASH_BYTES",
    "HAZARD_LAYERS",
    "area_inputs",
    "describe_changes",
    "digest",
    "file_fingerprint",
    "hazard_inputs",
    "raster_files",
    "vector_files",
]

#: bytes hashed at the start and at the end of each input file
HASH_BYTES = 1 << 20

#: vector layers the hazards read (burn-in, sea mask, barriers)
HAZARD_LAYERS: tuple[str, ...] = ("sea", "barriers", "buildings", "streams")

_SHAPEFILE_SIDECARS = (".shx", ".dbf", ".prj", ".cpg", ".qix", ".sbn", ".sbx")


def _content_hash(path: Path, size: int) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        if size <= 2 * HASH_BYTES:
            h.update(f.read())
        else:
            h.update(f.read(HASH_BYTES))
            f.seek(size - HASH_BYTES)
            h.update(f.read(HASH_BYTES))
    return h.hexdigest()


def file_fingerprint(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Path, size, modification time and partial content hash of one file.

    Parameters
    ----------
    path : path-like
        An existing file.

    Returns
    -------
    dict
        ``{"path", "size", "mtime_ns", "sha256_head_tail"}``.

    Raises
    ------
    DataNotFoundError
        The file does not exist.
    """
    p = Path(path).resolve()
    try:
        st = p.stat()
    except FileNotFoundError:
        raise DataNotFoundError(f"input file not found: {p}; check area.toml") from None
    return {
        "path": str(p),
        "size": st.st_size,
        "mtime_ns": st.st_mtime_ns,
        "sha256_head_tail": _content_hash(p, st.st_size),
    }


def raster_files(path: str | os.PathLike[str]) -> list[Path]:
    """Every file GDAL reads for a raster (the file, VRT sources, side-cars), sorted.

    Parameters
    ----------
    path : path-like
        A raster GDAL can open.
    """
    p = Path(path)
    if not p.exists():
        raise DataNotFoundError(f"raster not found: {p}; check area.toml")
    with rasterio.Env(**READ_ENV), rasterio.open(p) as src:
        files = {Path(f).resolve() for f in src.files}
    files.add(p.resolve())
    return sorted(f for f in files if f.is_file())


def vector_files(path: str | os.PathLike[str]) -> list[Path]:
    """The files of a vector layer: a Shapefile's side-cars, a GeoPackage's journal."""
    p = Path(path).resolve()
    if not p.exists():
        raise DataNotFoundError(f"layer file not found: {p}; check area.toml")
    out = [p]
    if p.suffix.lower() == ".shp":
        out += [q for s in _SHAPEFILE_SIDECARS if (q := p.with_suffix(s)).is_file()]
    for suffix in ("-wal",):
        q = p.with_name(p.name + suffix)
        if q.is_file():
            out.append(q)
    return out


def _fingerprints(files: Iterable[Path]) -> list[dict[str, Any]]:
    return [file_fingerprint(f) for f in files]


def hazard_inputs(cfg: AreaConfig) -> dict[str, Any]:
    """Every input of an area's hazards: its configuration entry and its files.

    Terrain, imperviousness and groundwater head, and the layers of
    :data:`HAZARD_LAYERS`; each maps to ``{"config": ..., "files": [fingerprint, ...]}``
    (absent inputs are ``None``, so adding one changes the manifest).

    Parameters
    ----------
    cfg : AreaConfig
        The area.

    Returns
    -------
    dict
    """
    out: dict[str, Any] = {"crs": cfg.crs}
    out["terrain"] = {
        "config": cfg.terrain.model_dump(mode="json"),
        "files": _fingerprints(raster_files(cfg.terrain.path)),
    }
    imp = cfg.imperviousness
    out["imperviousness"] = (
        None
        if imp is None
        else {"config": imp.model_dump(mode="json"), "files": _fingerprints(raster_files(imp.path))}
    )
    gw = cfg.groundwater
    if gw is None:
        out["groundwater"] = None
    else:
        files = raster_files(gw.path) if gw.kind == "raster" else vector_files(gw.path)
        out["groundwater"] = {"config": gw.model_dump(mode="json"), "files": _fingerprints(files)}
    for key in HAZARD_LAYERS:
        ref = cfg.layers.get(key)
        out[key] = (
            None
            if ref is None
            else {
                "config": ref.model_dump(mode="json"),
                "files": _fingerprints(vector_files(ref.path)),
            }
        )
    return out


def area_inputs(cfg: AreaConfig) -> dict[str, Any]:
    """Every input of an area (all rasters and layers), like :func:`hazard_inputs`.

    For results that read more than the hazards do (suitability reads parcels, public
    land, institutions, ...).
    """
    out = hazard_inputs(cfg)
    lc = cfg.landcover
    out["landcover"] = (
        None
        if lc is None
        else {"config": lc.model_dump(mode="json"), "files": _fingerprints(raster_files(lc.path))}
    )
    for key, ref in sorted(cfg.layers.items()):
        if key not in out:
            out[key] = {
                "config": ref.model_dump(mode="json"),
                "files": _fingerprints(vector_files(ref.path)),
            }
    return out


def canonical_json(doc: Any) -> str:
    """``doc`` as JSON with sorted keys and no whitespace (the hashed form)."""
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def digest(doc: Any) -> str:
    """SHA-256 (hex) of the canonical JSON of ``doc``."""
    return hashlib.sha256(canonical_json(doc).encode("utf-8")).hexdigest()


def _file_change(old: Any, new: Any) -> str | None:
    if old == new:
        return None
    if old is None:
        return "added"
    if new is None:
        return "removed"
    if old.get("config") != new.get("config"):
        return "configuration changed"
    return "changed"


def describe_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """Why two manifests differ, in words (``"terrain changed"``, ``"sea added"``, ...).

    Parameters
    ----------
    old, new : mapping
        Rain-flow manifests (``inputs``, ``rainflow_params``, ``burn``,
        ``store_version``, ``klimakort``).

    Returns
    -------
    list of str
        Empty when the two are equal in every part compared.
    """
    reasons: list[str] = []
    old_in, new_in = old.get("inputs", {}), new.get("inputs", {})
    for key in sorted(set(old_in) | set(new_in)):
        if key == "crs":
            if old_in.get(key) != new_in.get(key):
                reasons.append("area CRS changed")
            continue
        change = _file_change(old_in.get(key), new_in.get(key))
        if change:
            reasons.append(f"{key} {change}")
    for key, what in (
        ("rainflow_params", "rain-flow parameters changed"),
        ("burn", "burn-in settings changed"),
        ("store_version", "klimakort's hazard algorithms changed (store version)"),
        ("klimakort", "klimakort was upgraded"),
    ):
        if old.get(key) != new.get(key):
            reasons.append(what)
    return reasons
