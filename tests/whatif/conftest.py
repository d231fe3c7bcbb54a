"""Fixtures of the what-if tests: a small synthetic grid, and the sample area's base run
(``small_area`` and ``workspace`` come from tests/conftest.py)."""

from __future__ import annotations

from typing import Any

import pytest

from klimakort.config.area import AreaConfig, load_area

# a 100 x 80 grid of 10 m cells (EPSG:25832)
X0, Y0, CELL, NX, NY = 700_000.0, 6_170_000.0, 10.0, 100, 80
BOUNDS = (X0, Y0 - NY * CELL, X0 + NX * CELL, Y0)
AREA_CRS = "EPSG:25832"


@pytest.fixture(scope="session")
def sample_cfg(small_area: Any) -> AreaConfig:
    """The small sample area's configuration."""
    return load_area(small_area)
