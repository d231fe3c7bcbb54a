"""klimakort's HTTP API (FastAPI). Domain logic lives in the ``klimakort`` package."""

from klimakort_api.app import create_app
from klimakort_api.settings import Settings

__all__ = ["Settings", "create_app"]
