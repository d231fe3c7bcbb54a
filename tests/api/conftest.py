"""Fixtures of the API tests: a small sample area (6.4 m cells), opened once per worker."""

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
def small_area(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """area.toml of the sample area at 6.4 m cells (625 x 469), written once."""
    from klimakort.sample import write_sample

    return write_sample(tmp_path_factory.mktemp("small_area"), cell=6.4)


@pytest.fixture(scope="session")
def workspace(small_area: Path) -> Workspace:
    """The small area with hazards for present, 2050 and 2100 (read-only in tests)."""
    return Workspace.open(small_area)


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
