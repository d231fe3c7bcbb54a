"""Service settings (environment variables with the ``KLIMAKORT_`` prefix)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Settings of the klimakort API.

    Attributes
    ----------
    area : Path or None
        The area.toml to serve (``KLIMAKORT_AREA``).
    api_key : str or None
        Key required for write requests (``KLIMAKORT_API_KEY``); writes are refused
        when unset.
    database_url : str or None
        PostgreSQL/PostGIS URL for planned sites (``KLIMAKORT_DATABASE_URL``).
    max_features : int
        Upper bound of ``limit`` on feature requests.
    scenarios : tuple of str
        Scenarios computed at start (``KLIMAKORT_SCENARIOS``, JSON list).
    max_bbox_km2 : float
        Largest bbox a feature request may ask for (km²).
    max_zoom : int
        Deepest WebMercatorQuad zoom served as tiles.
    tile_cache_mb : int
        Memory for rendered tiles (MB).
    basemap_preset, basemap_kind, basemap_url, basemap_layer, basemap_matrix_set, \
basemap_style, basemap_format, basemap_crs, basemap_title, basemap_attribution, \
basemap_max_zoom : optional
        Override the area's ``[basemap]`` (``KLIMAKORT_BASEMAP_URL``, ...; see
        :mod:`klimakort.maps.basemap`); ``KLIMAKORT_BASEMAP_PRESET=osm`` turns it off.
    basemap_token : str or None
        Token of the base-map service (``KLIMAKORT_BASEMAP_TOKEN``); never put it in
        area.toml.
    """

    model_config = SettingsConfigDict(env_prefix="KLIMAKORT_", extra="ignore")

    area: Path | None = None
    api_key: str | None = None
    database_url: str | None = None
    max_features: int = Field(10_000, ge=1, le=10_000)
    scenarios: tuple[str, ...] = ("present", "2050", "2100")
    max_bbox_km2: float = Field(2_500.0, gt=0)
    max_zoom: int = Field(22, ge=0, le=24)
    tile_cache_mb: int = Field(256, ge=0)
    basemap_preset: str | None = None
    basemap_kind: Literal["wmts", "xyz"] | None = None
    basemap_url: str | None = None
    basemap_layer: str | None = None
    basemap_matrix_set: str | None = None
    basemap_style: str | None = None
    basemap_format: str | None = None
    basemap_crs: Literal["EPSG:25832", "EPSG:3857"] | None = None
    basemap_title: str | None = None
    basemap_attribution: str | None = None
    basemap_max_zoom: int | None = Field(None, ge=0, le=24)
    basemap_token: SecretStr | None = None

    def basemap_overrides(self) -> dict[str, Any]:
        """The ``basemap_*`` settings that are set, keyed without the prefix."""
        out = {}
        for name, value in self.model_dump().items():
            if name.startswith("basemap_") and name != "basemap_token" and value is not None:
                out[name.removeprefix("basemap_")] = value
        return out
