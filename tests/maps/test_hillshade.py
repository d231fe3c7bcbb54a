"""Hillshade and colour mapping."""

from __future__ import annotations

import numpy as np
import pytest

from klimakort.maps.hillshade import colorize, hillshade


def test_flat_terrain_is_lit_by_sun_altitude() -> None:
    shade = hillshade(np.zeros((5, 5)), 1.0, 1.0, altitude=30.0)
    np.testing.assert_allclose(shade, np.sin(np.deg2rad(30.0)))


def test_slope_facing_northwest_sun_is_brighter() -> None:
    ramp = np.tile(np.arange(10.0), (10, 1))  # rising to the east: faces west
    west = hillshade(ramp, 1.0, 1.0, azimuth=270.0)
    east = hillshade(ramp, 1.0, 1.0, azimuth=90.0)
    assert west[5, 5] > np.sin(np.deg2rad(45)) > east[5, 5]
    north_facing = np.tile(np.arange(10.0)[:, None], (1, 10))  # rises southwards
    assert hillshade(north_facing, 1.0, 1.0, azimuth=0.0)[5, 5] == pytest.approx(
        hillshade(ramp, 1.0, 1.0, azimuth=270.0)[5, 5]
    )


def test_colorize_nan_is_transparent_and_range_clips() -> None:
    rgba = colorize(np.array([[np.nan, 0.0, 1.0, 5.0]]), "viridis", 0.0, 1.0)
    assert rgba.dtype == np.uint8 and rgba.shape == (1, 4, 4)
    assert rgba[0, 0, 3] == 0 and (rgba[0, 1:, 3] == 255).all()
    assert (rgba[0, 2] == rgba[0, 3]).all()  # 5.0 clips to vmax
    assert (rgba[0, 1] != rgba[0, 2]).any()
