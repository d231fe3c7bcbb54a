"""Fixtures of the API tests: the app and a client over the small sample workspace
(``small_area`` and ``workspace`` come from tests/conftest.py)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from klimakort.service import Workspace
from klimakort_api import Settings, create_app

#: the key the test apps accept for writes
API_KEY = "test-key"


@pytest.fixture(scope="session")
def app(workspace: Workspace) -> FastAPI:
    """The API over :func:`workspace` (no site store: planned sites are read-only)."""
    return create_app(Settings(area=None, api_key=API_KEY), workspace=workspace)


@pytest.fixture(scope="session")
def client(app: FastAPI) -> Iterator[TestClient]:
    """A test client of :func:`app`."""
    with TestClient(app) as c:
        yield c


@pytest.fixture
def area_copy(small_area: Path, tmp_path: Path) -> Path:
    """A private copy of the small area (for tests that write planned sites)."""
    dst = tmp_path / "area"
    shutil.copytree(small_area.parent, dst)
    return dst / small_area.name
