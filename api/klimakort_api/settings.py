"""Service settings (environment variables with the ``KLIMAKORT_`` prefix)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
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
