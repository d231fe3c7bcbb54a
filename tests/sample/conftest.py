"""Fixtures of the sample-area tests: the full-resolution area, generated once per session."""

from __future__ import annotations

import pytest

from klimakort.sample import SampleArea, generate_sample


@pytest.fixture(scope="session")
def sample_area() -> SampleArea:
    """The default sample area (seed 2050, 1.6 m cells)."""
    return generate_sample()


@pytest.fixture(scope="session")
def coarse_area() -> SampleArea:
    """The default sample on 8 m cells (fast; for determinism and writing tests)."""
    return generate_sample(cell=8.0)
