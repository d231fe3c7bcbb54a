"""Fixtures of the setup tests (the data they build is described in vallensbaek_data.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from .vallensbaek_data import write_dhm_tiles


@pytest.fixture(scope="session")
def vallensbaek_tiles(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Folder of DHM-like 1 km tiles of Vallensbæk (4 m cells)."""
    out = tmp_path_factory.mktemp("dhm") / "DTM_1km"
    write_dhm_tiles(shared_data, out)
    return out
