"""The service tests share the small sample workspace of the API tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from klimakort.service import Workspace


@pytest.fixture(scope="session")
def small_area(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """area.toml of the sample area at 6.4 m cells, written once."""
    from klimakort.sample import write_sample

    return write_sample(tmp_path_factory.mktemp("small_area"), cell=6.4)


@pytest.fixture(scope="session")
def workspace(small_area: Path) -> Workspace:
    """The small area with hazards for present, 2050 and 2100."""
    return Workspace.open(small_area)
