"""Fixtures of the planned-site tests: a tiny synthetic area with a planned-sites layer."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
import xarray as xr

# terrain of the tiny area: 100 x 80 cells of 10 m
X0, Y0, CELL, NX, NY = 700_000.0, 6_170_000.0, 10.0, 100, 80

AreaFactory = Callable[..., Path]


@pytest.fixture
def tiny_bounds() -> tuple[float, float, float, float]:
    """Terrain bounds of the tiny area (EPSG:25832)."""
    return (X0, Y0 - NY * CELL, X0 + NX * CELL, Y0)


@pytest.fixture
def seed_sites() -> gpd.GeoDataFrame:
    """Two sites as the area's GeoPackage holds them (one without year and name)."""
    return gpd.GeoDataFrame(
        {
            "site_id": ["PS-01", "PS-02"],
            "measure": ["miyawaki_forest", "tree_row"],
            "name": ["Skov ved skolen", None],
            "planned_year": pd.array([2027, None], dtype="Int64"),
        },
        geometry=[
            shapely.box(700_100, 6_169_500, 700_120, 6_169_513),
            shapely.box(700_300, 6_169_600, 700_360, 6_169_601.5),
        ],
        crs="EPSG:25832",
    )


@pytest.fixture
def make_area(make_dem: Callable[..., xr.DataArray], tmp_path: Path) -> AreaFactory:
    """Factory: write terrain, an optional planned-sites layer and area.toml; returns the toml.

    ``make_area(sites=gdf, name="tiny", id_field="site_id", measure_field=None)``
    """

    def _make(
        sites: gpd.GeoDataFrame | None,
        name: str = "tiny",
        id_field: str = "site_id",
        measure_field: str | None = None,
    ) -> Path:
        root = tmp_path / name
        (root / "layers").mkdir(parents=True, exist_ok=True)
        dem = make_dem(np.full((NY, NX), 5.0), cell=CELL, x0=X0, y0=Y0)
        dem.rio.to_raster(root / "dtm.tif")
        toml = ['name = "Tiny"', 'crs = "EPSG:25832"', "", "[terrain]", 'path = "dtm.tif"']
        if sites is not None:
            sites.to_file(root / "layers" / "sites.gpkg", layer="planned_sites", driver="GPKG")
            toml += [
                "",
                "[layers.planned_sites]",
                'path = "layers/sites.gpkg"',
                f'id_field = "{id_field}"',
            ]
            if measure_field:
                toml.append(f'measure_field = "{measure_field}"')
        (root / "area.toml").write_text("\n".join(toml) + "\n", encoding="utf-8")
        return root / "area.toml"

    return _make


@pytest.fixture
def tiny_area(make_area: AreaFactory, seed_sites: gpd.GeoDataFrame) -> Path:
    """area.toml of a tiny area whose planned-sites GeoPackage holds :func:`seed_sites`."""
    return make_area(seed_sites)
