"""The standalone offline map: value grids, inline GeoJSON and the written file."""

from __future__ import annotations

import base64
import json
import re
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from pyproj import Transformer

from klimakort.maps.standalone import (
    GRID_STEP,
    collection_geojson,
    encode_grid,
    value_grids,
    write_standalone_map,
)
from klimakort.service import Workspace

_CONFIG = re.compile(r"window\.KLIMAKORT_CONFIG = (?P<json>.*?);</script>", re.S)


def decode_grid(spec: dict[str, Any], shape: tuple[int, int]) -> np.ndarray:
    """What app.js does: inflate, undo the delta-shuffle, then scale (u16, 65535 = no
    data) or read float32."""
    raw = zlib.decompress(base64.b64decode(spec["data"]))
    if spec["dtype"] == "f32":
        return np.frombuffer(raw, dtype="<f4").reshape(shape).astype(np.float64)
    assert spec["filter"] == "delta-shuffle"
    b = np.frombuffer(raw, dtype=np.uint8)
    n = b.size // 2
    deltas = (b[:n].astype(np.uint32) | (b[n:].astype(np.uint32) << 8)).reshape(shape)
    ints = (np.cumsum(deltas, axis=1) % 65536).astype(np.uint16)
    out = spec["offset"] + spec["scale"] * ints.astype(np.float64)
    return np.where(ints == 65535, np.nan, out)


@settings(max_examples=40, deadline=None)
@given(
    arrays(
        np.float64,
        st.tuples(st.integers(1, 12), st.integers(1, 12)),
        elements=st.one_of(st.floats(-50, 400, allow_nan=False), st.just(np.nan)),
    )
)
def test_grid_roundtrip_within_half_a_step(values: np.ndarray) -> None:
    spec = encode_grid(values)
    assert spec["dtype"] == "u16"
    back = decode_grid(spec, values.shape)
    assert np.array_equal(np.isnan(back), np.isnan(values))
    ok = ~np.isnan(values)
    assert np.all(np.abs(back[ok] - values[ok]) <= GRID_STEP / 2 + 1e-9)


def test_grid_with_large_range_is_float32() -> None:
    values = np.array([[1.0, 2.5e6], [np.nan, 123.456]])
    spec = encode_grid(values)
    assert spec["dtype"] == "f32"
    back = decode_grid(spec, values.shape)
    assert np.isnan(back[1, 0])
    np.testing.assert_allclose(back[~np.isnan(back)], values[~np.isnan(values)], rtol=1e-6)


def test_value_grids_sample_the_layers(workspace: Workspace) -> None:
    grids = value_grids(workspace, max_cells=200)
    rows, cols = grids["shape"]
    assert max(rows, cols) <= 200 and grids["skipped"] == []
    x0, dx, y0, dy = grids["transform"]
    assert "hillshade" not in grids["layers"]
    assert set(grids["layers"]["cloudburst_depth"]) == set(workspace.scenarios)
    rng = np.random.default_rng(7)
    for layer, scenario in (("terrain", "_"), ("cloudburst_depth", "2100"), ("sea_depth", "2100")):
        grid = decode_grid(grids["layers"][layer][scenario], (rows, cols))
        da = workspace.raster(layer, None if scenario == "_" else scenario)
        tr = da.rio.transform()
        step = round(dx / tr.a)
        assert step == round(dy / tr.e) and (x0, y0) == (tr.c, tr.f)
        values = da.values
        for r, c in zip(rng.integers(0, rows, 30), rng.integers(0, cols, 30), strict=True):
            # a coarse cell holds the value of one of the full cells it covers
            block = values[r * step : (r + 1) * step, c * step : (c + 1) * step].ravel()
            if np.isnan(grid[r, c]):
                assert np.isnan(block).any()
            else:
                assert np.nanmin(np.abs(block - grid[r, c])) <= GRID_STEP / 2 + 1e-6


def test_collection_geojson_is_small_crs84_and_close(workspace: Workspace) -> None:
    fc = collection_geojson(workspace, "parcels")
    gdf = workspace.features("parcels")
    assert len(fc["features"]) == len(gdf)
    assert [f["id"] for f in fc["features"]] == list(gdf["fid"])
    first = fc["features"][0]
    assert set(first["properties"]) <= {
        "parcel_id",
        "matrikelnummer",
        "ejerlavskode",
        "area_m2",
        "land_use",
        "public",
    }
    assert "parcel_id" in first["properties"]
    lon, lat = first["geometry"]["coordinates"][0][0]
    assert 8 < lon < 16 and 54 < lat < 58  # Denmark, lon/lat order
    assert all(len(repr(v).split(".")[1]) <= 6 for v in (lon, lat))
    to_utm = Transformer.from_crs(4326, workspace.crs, always_xy=True)
    for f, src in list(zip(fc["features"], gdf.geometry, strict=True))[:: max(1, len(gdf) // 50)]:
        geom = shapely.geometry.shape(f["geometry"])
        back = shapely.transform(geom, lambda xy: np.column_stack(to_utm.transform(*xy.T)))
        assert shapely.hausdorff_distance(back, src) < 0.5 + 0.2  # simplify + rounding


def test_write_standalone_map(workspace: Workspace, tmp_path: Path) -> None:
    messages: list[str] = []
    path = write_standalone_map(
        workspace, tmp_path / "map.html", progress=messages.append, image_max_px=300
    )
    assert path == tmp_path / "map.html" and path.is_file()
    assert [p.name for p in tmp_path.iterdir()] == ["map.html"]  # no temp file left
    page = path.read_text(encoding="utf-8")
    assert not re.search(r"<script[^>]*\bsrc=", page)
    assert not re.search(r"""url\(\s*['"]?https?:""", page)
    match = _CONFIG.search(page)
    assert match is not None
    cfg = json.loads(match.group("json"))
    assert cfg["mode"] == "standalone"
    for r in cfg["rasters"]:
        keys = set(workspace.scenarios) if r["scenario_dependent"] else {"_"}
        assert set(r["images"]) == keys, r["id"]
        for img in r["images"].values():
            assert img["url"].startswith("data:image/png;base64,iVBORw0KGgo")
            west, south, east, north = img["bounds"]
            assert west < east and south < north
        assert set(r["legends"]) == {"da", "en"}
    ids = {c["id"] for c in cfg["collections"]}
    # the offline panel lists every collection the server lists (buildings too)
    assert ids == set(workspace.collections)
    buildings = next(c for c in cfg["collections"] if c["id"] == "buildings")["data"]
    assert len(buildings["features"]) == len(workspace.features("buildings"))
    flooded = next(c for c in cfg["collections"] if c["id"] == "flooded_areas")
    scenarios = {f["properties"]["scenario"] for f in flooded["data"]["features"]}
    assert scenarios == set(workspace.scenarios)
    assert messages[-1].startswith("map written") and any("map image" in m for m in messages)


class _GridArea:
    """The parts of a Workspace that value_grids and Workspace.point_values read, on a
    terrain model as wide as the demo's 1.6 m sample (2500 cells)."""

    def __init__(self, shape: tuple[int, int] = (400, 2500), cell: float = 1.6) -> None:
        import rioxarray  # noqa: F401  (registers .rio)
        import xarray as xr
        from affine import Affine

        from klimakort.service.catalog import RASTER_LAYERS

        rng = np.random.default_rng(3)
        rows, cols = shape
        x0, y0 = 700_000.0, 6_170_000.0
        tr = Affine(cell, 0.0, x0, 0.0, -cell, y0)
        xs = x0 + cell * (np.arange(cols) + 0.5)
        ys = y0 - cell * (np.arange(rows) + 0.5)

        def grid(values: np.ndarray) -> xr.DataArray:
            da = xr.DataArray(values.astype(np.float32), dims=("y", "x"), coords={"y": ys, "x": xs})
            return da.rio.write_crs("EPSG:25832").rio.write_transform(tr).rio.write_nodata(np.nan)

        terrain = np.cumsum(rng.normal(0, 0.05, shape), axis=1) + 3.0
        flow = 2.56 * np.ceil(rng.pareto(1.2, shape) + 1)  # upstream area: cells x 2.56 m2
        depth = np.where(rng.random(shape) < 0.2, rng.random(shape), 0.0)
        self._rasters = {"terrain": grid(terrain), "accumulation": grid(flow)}
        self._scenario_rasters = {
            sc: grid(depth * k) for k, sc in enumerate(("present", "2100"), start=1)
        }
        self.raster_layers = {
            k: RASTER_LAYERS[k] for k in ("terrain", "accumulation", "cloudburst_depth")
        }
        self.scenarios = ["present", "2100"]
        self.hz = type("Hz", (), {"terrain": self._rasters["terrain"]})()

    def scenario(self, scenario: str | None) -> str:
        return scenario or "2100"

    def raster(self, layer: str, scenario: str | None = None) -> Any:
        if layer == "cloudburst_depth":
            return self._scenario_rasters[self.scenario(scenario)]
        return self._rasters[layer]


def test_click_values_equal_point_values_at_demo_resolution() -> None:
    """At the demo's resolution the embedded grids hold the terrain's own cells: the
    offline map shows at a point what ``/point`` (Workspace.point_values) shows."""
    area = _GridArea()
    grids = value_grids(area)  # type: ignore[arg-type]  # the defaults of the demo map
    assert grids["step"] == 1 and grids["shape"] == [400, 2500]
    x0, dx, y0, dy = grids["transform"]
    shape = (grids["shape"][0], grids["shape"][1])
    decoded = {
        (layer, sc): (decode_grid(spec, shape), spec["dtype"])
        for layer, by_scenario in grids["layers"].items()
        for sc, spec in by_scenario.items()
    }
    rng = np.random.default_rng(11)
    for _ in range(25):
        # any point inside the area, as app.js finds its cell
        x = x0 + rng.uniform(0, grids["shape"][1]) * dx
        y = y0 + rng.uniform(0, grids["shape"][0]) * dy
        col, row = int(np.floor((x - x0) / dx)), int(np.floor((y - y0) / dy))
        for scenario in area.scenarios:
            truth = Workspace.point_values(area, x, y, scenario)  # type: ignore[arg-type]
            for layer in grids["layers"]:
                grid, dtype = decoded.get((layer, scenario)) or decoded[(layer, "_")]
                shown = grid[row, col]
                tol = 1e-6 * abs(truth[layer]) if dtype == "f32" else GRID_STEP / 2 + 1e-6
                assert abs(shown - truth[layer]) <= tol, (layer, scenario, x, y, shown, truth)
