"""Area configuration (``area.toml``): what an analysis area consists of.

An ``area.toml`` names the terrain model, the groundwater head, the vector layers
(parcels, buildings, district heating, planned sites, barriers, sea, ...) and
scenario overrides. Paths are relative to the TOML file. :func:`load_area` parses
and validates it; every error names the key and the problem.

Example
-------
.. code-block:: toml

    name = "Vallensbæk"
    crs = "EPSG:25832"

    [terrain]
    path = "rasters/dtm.tif"

    [groundwater]
    kind = "contours"
    path = "layers/head_contours.gpkg"
    field = "Vsp_2024"

    [layers.parcels]
    path = "layers/parcels.gpkg"
    id_field = "matrikel_id"

    [scenarios.2100]
    sea_level_rise_m = 0.6

    [basemap]                  # optional; OpenStreetMap (off by default) otherwise
    preset = "skaermkort_daempet"
    token_env = "KLIMAKORT_BASEMAP_TOKEN"

    [addresses]                # optional; DAWA adgangsadresser CSV or GeoJSON
    path = "layers/adresser.csv"
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pyproj import CRS

from klimakort.errors import ConfigError

#: vector layers an area may have, with what each is for
LAYER_KEYS: dict[str, str] = {
    "parcels": "cadastral parcels (matrikler)",
    "buildings": "building footprints",
    "roads": "road centre lines",
    "heating_zones": "district-heating zones",
    "heating_mains": "district-heating mains",
    "planned_sites": "planned tree and Miyawaki-forest sites",
    "barriers": "dikes, walls and beach ridges with crest heights",
    "sea": "sea polygon",
    "streams": "streams and culverts",
    "lakes": "lakes",
    "public_land": "public or otherwise available land, green areas",
    "institutions": "schools and kindergartens",
    "local_plans": "local plans (Plandata.dk schema)",
    "protected_nature": "protected nature (§3) and conservation areas",
    "contaminated_soil": "contaminated land (V1/V2)",
    "heat_plans": "heat-plan areas (Plandata.dk varmeplan)",
    "coastal_flood_risk": "coastal flood risk area (Kystdirektoratet)",
    "groundwater_depth_reference": "HIP depth-to-groundwater classes (reference, GEUS)",
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RasterRef(_Strict):
    """A raster input."""

    path: Path
    band: int = Field(1, ge=1)


class LayerRef(_Strict):
    """A vector layer input, with the fields that carry its meaning."""

    path: Path
    layer: str | None = None
    id_field: str | None = None
    crest_field: str | None = None
    kind_field: str | None = None
    zone_field: str | None = None
    measure_field: str | None = None
    name_field: str | None = None


class GroundwaterRef(_Strict):
    """Groundwater head: a raster, or contour lines / observation points with a field."""

    kind: Literal["raster", "contours", "points"]
    path: Path
    field: str | None = None
    layer: str | None = None


class BasemapRef(_Strict):
    """The base map of the area's map (see :mod:`klimakort.maps.basemap`).

    Either a ``preset`` (Dataforsyningen ``skaermkort``, ``skaermkort_daempet``,
    ``orto_foraar``, ``orto_foraar_webm``) or a ``kind`` with a ``url``; any key given
    next to a preset overrides the preset's value. Never write a token here: ``token_env``
    names the environment variable (or ``KLIMAKORT_BASEMAP_TOKEN``) that holds it.
    """

    preset: str | None = None
    kind: Literal["wmts", "xyz"] | None = None
    url: str | None = None
    layer: str | None = None
    matrix_set: str | None = None
    style: str | None = None
    format: str | None = None
    crs: Literal["EPSG:25832", "EPSG:3857"] | None = None
    title: str | None = None
    attribution: str | None = None
    token_env: str | None = None
    max_zoom: int | None = Field(None, ge=0, le=24)


class AddressesRef(_Strict):
    """A local address file (DAWA adgangsadresser CSV or GeoJSON export)."""

    path: Path
    crs: str | None = None


class AreaConfig(_Strict):
    """A validated area configuration with absolute paths."""

    name: str = Field(min_length=1)
    crs: str = "EPSG:25832"
    synthetic: bool = False
    seed: int | None = None
    description: str = ""
    terrain: RasterRef
    groundwater: GroundwaterRef | None = None
    imperviousness: RasterRef | None = None
    landcover: RasterRef | None = None
    layers: dict[str, LayerRef] = Field(default_factory=dict)
    scenarios: dict[str, dict[str, Any]] = Field(default_factory=dict)
    #: the input files an area was set up from (``klimakort area init``), kept as written
    sources: dict[str, dict[str, Any]] = Field(default_factory=dict)
    basemap: BasemapRef | None = None
    addresses: AddressesRef | None = None
    source: Path | None = None

    @field_validator("crs")
    @classmethod
    def _projected(cls, value: str) -> str:
        try:
            crs = CRS.from_user_input(value)
        except Exception as exc:  # pyproj raises CRSError subclasses of several kinds
            raise ValueError(f"unknown CRS {value!r}") from exc
        if crs.is_geographic:
            raise ValueError(f"{value} is geographic (degrees); use a projected CRS in metres")
        return value

    @field_validator("layers")
    @classmethod
    def _known_layers(cls, value: dict[str, LayerRef]) -> dict[str, LayerRef]:
        unknown = sorted(set(value) - set(LAYER_KEYS))
        if unknown:
            raise ValueError(f"unknown layer(s) {unknown}; known layers are {sorted(LAYER_KEYS)}")
        return value

    @property
    def base_dir(self) -> Path:
        """Folder of the area.toml (paths in it are relative to this)."""
        return self.source.parent if self.source else Path.cwd()

    def layer(self, key: str) -> LayerRef | None:
        """The layer reference for ``key`` or None if the area has no such layer."""
        if key not in LAYER_KEYS:
            raise ConfigError(f"unknown layer {key!r}; known layers are {sorted(LAYER_KEYS)}")
        return self.layers.get(key)


def _key_of(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(p) for p in loc) or "(top level)"


def _absolute(data: dict[str, Any], base: Path) -> dict[str, Any]:
    """Resolve every ``path`` entry relative to ``base``."""
    out = dict(data)
    for key in ("terrain", "groundwater", "imperviousness", "landcover", "addresses"):
        if isinstance(out.get(key), dict) and "path" in out[key]:
            out[key] = {**out[key], "path": base / str(out[key]["path"])}
    if isinstance(out.get("layers"), dict):
        out["layers"] = {
            k: ({**v, "path": base / str(v["path"])} if isinstance(v, dict) and "path" in v else v)
            for k, v in out["layers"].items()
        }
    return out


def parse_area(data: dict[str, Any], base_dir: Path, source: Path | None = None) -> AreaConfig:
    """Build an :class:`AreaConfig` from a parsed TOML mapping.

    Parameters
    ----------
    data : dict
        The TOML content.
    base_dir : Path
        Folder relative paths are resolved against.
    source : Path, optional
        The TOML file, for messages.

    Raises
    ------
    ConfigError
        Listing every problem as ``key: problem``.
    """
    where = str(source) if source else "area configuration"
    try:
        return AreaConfig.model_validate({**_absolute(data, base_dir), "source": source})
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            msg = err["msg"].removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                msg = "unknown key (check the spelling)"
            problems.append(f"{_key_of(err['loc'])}: {msg}")
        raise ConfigError(f"{where}: " + "; ".join(problems)) from None


def load_area(path: str | Path, *, check_files: bool = True) -> AreaConfig:
    """Read and validate an ``area.toml``.

    Parameters
    ----------
    path : path-like
        The TOML file.
    check_files : bool
        Also check that files exist, CRSs agree and layers overlap the terrain
        (see :func:`klimakort.config.validate.check_area`).

    Returns
    -------
    AreaConfig

    Raises
    ------
    ConfigError
        TOML syntax errors (with line), missing keys, wrong types, missing files, CRS
        mismatches, layers that do not overlap the terrain model.
    """
    path = Path(path).resolve()
    if not path.is_file():
        raise ConfigError(f"area configuration not found: {path}")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    cfg = parse_area(data, path.parent, source=path)
    if check_files:
        from klimakort.config.validate import check_area

        check_area(cfg)
    return cfg
