"""Tests for klimakort.core.bluespots: labelling and per-bluespot properties."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import rasterio
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy import ndimage

from klimakort.core.bluespots import BluespotProperties, bluespot_properties, label_bluespots
from klimakort.core.fill import fill_depressions
from klimakort.errors import GridMismatchError, InputError, ParameterError

EIGHT = np.ones((3, 3), dtype=bool)


def _read(path: Path) -> tuple[np.ndarray, float, float]:
    with rasterio.open(path) as src:
        return src.read(1), abs(src.transform.a), abs(src.transform.e)


@pytest.fixture(scope="module")
def oracle(malstroem_dir: Path) -> dict[str, object]:
    depth, dx, dy = _read(malstroem_dir / "depths.tif")
    filled, _, _ = _read(malstroem_dir / "filled.tif")
    labelled, _, _ = _read(malstroem_dir / "labelled.tif")
    with open(malstroem_dir / "pourpoints.json") as f:
        pp = {
            feat["properties"]["bspot_id"]: feat["properties"] for feat in json.load(f)["features"]
        }
    return {"depth": depth, "filled": filled, "labelled": labelled, "dx": dx, "dy": dy, "pp": pp}


# --------------------------------------------------------------------------- oracle


def test_labels_reproduce_malstroem_exactly(oracle: dict) -> None:
    dx, dy = oracle["dx"], oracle["dy"]
    assert dx == 16.0 and dy == pytest.approx(15.957, abs=1e-3)
    labels = label_bluespots(oracle["depth"], dx, dy, min_depth=0.05, min_cells=6, min_volume=255)
    assert labels.dtype == np.int32
    assert labels.max() == 104
    # same partition *and* same ids: malstrøm also numbers in raster order of the first cell
    np.testing.assert_array_equal(labels, oracle["labelled"])


def test_default_filters_keep_more_components(oracle: dict) -> None:
    strict = label_bluespots(oracle["depth"], oracle["dx"], oracle["dy"], min_cells=6)
    loose = label_bluespots(oracle["depth"], oracle["dx"], oracle["dy"])
    # every kept bluespot of a stricter filter is a bluespot of a looser one
    assert np.all(loose[strict > 0] > 0)
    assert loose.max() > strict.max() >= 104


def test_properties_match_pourpoints_json(oracle: dict) -> None:
    labels = oracle["labelled"]
    props = bluespot_properties(
        labels, oracle["depth"], oracle["filled"], oracle["dx"], oracle["dy"]
    )
    assert props.n == 104
    pp = oracle["pp"]
    ids = np.arange(1, 105)
    for key, got in (
        ("bspot_area", props.area),
        ("bspot_vol", props.volume),
        ("bspot_dmax", props.max_depth),
    ):
        want = np.array([pp[b][key] for b in ids])
        np.testing.assert_allclose(got[1:], want, rtol=1e-3, err_msg=key)
    # spill elevation is the flat filled level: every bluespot cell of filled.tif holds it
    for b in (1, 50, 104):
        assert np.all(oracle["filled"][labels == b] == props.spill_elevation[b])


def test_labels_end_to_end_from_dtm(oracle: dict, malstroem_dir: Path) -> None:
    dtm, dx, dy = _read(malstroem_dir / "dtm.tif")
    filled = fill_depressions(dtm, flats="flat")
    np.testing.assert_array_equal(filled, oracle["filled"])
    labels = label_bluespots(filled - dtm, dx, dy, min_depth=0.05, min_cells=6, min_volume=255)
    np.testing.assert_array_equal(labels, oracle["labelled"])


# --------------------------------------------------------------------------- hand cases


def test_eight_connectivity_and_scan_order_numbering() -> None:
    depth = np.zeros((6, 6))
    depth[4, 1] = 0.5  # first in scan order of its bluespot is row 3 below
    depth[3, 2] = 0.5  # diagonal neighbour of (4, 1): same bluespot
    depth[1, 4] = 0.5  # scanned first overall -> id 1
    depth[2, 5] = 0.5  # diagonal of (1, 4)
    labels = label_bluespots(depth, 1.0, 1.0)
    expected = np.zeros((6, 6), dtype=np.int32)
    expected[1, 4] = expected[2, 5] = 1
    expected[3, 2] = expected[4, 1] = 2
    np.testing.assert_array_equal(labels, expected)


def test_threshold_semantics() -> None:
    # three separate bluespots on a 1 m grid
    depth = np.zeros((5, 11))
    depth[1, 1:3] = 0.05  # max depth exactly min_depth: dropped (strict >)
    depth[1, 4:6] = 0.06  # 2 cells, volume 0.12
    depth[1, 8:10] = [0.5, 0.5]  # 2 cells, volume 1.0
    labels = label_bluespots(depth, 1.0, 1.0, min_depth=0.05, min_cells=2)
    assert labels[1, 1] == 0
    assert labels[1, 4] == 1 and labels[1, 8] == 2
    # min_cells is inclusive, min_volume strict
    assert label_bluespots(depth, 1.0, 1.0, min_depth=0.0, min_cells=3).max() == 0
    vol = label_bluespots(depth, 1.0, 1.0, min_depth=0.0, min_volume=0.5)
    assert vol.max() == 1 and vol[1, 4] == 0 and vol[1, 8] == 1
    assert label_bluespots(depth, 1.0, 1.0, min_depth=0.0, min_volume=1.0).max() == 0
    # volume scales with the cell size: on 2 x 3 m cells the small one holds 0.72 m³
    assert label_bluespots(depth, 2.0, 3.0, min_depth=0.0, min_volume=0.7).max() == 2


def test_nan_depth_is_never_a_bluespot() -> None:
    depth = np.array([[0.0, 0.3, np.nan, 0.3], [0.0, 0.0, 0.0, 0.0]])
    labels = label_bluespots(depth, 1.0, 1.0)
    np.testing.assert_array_equal(labels[0], [0, 1, 0, 2])


def test_properties_hand_case() -> None:
    labels = np.array([[0, 1, 1], [0, 0, 2]], dtype=np.int32)
    depth = np.array([[0.0, 0.5, 1.5], [0.0, 0.0, 0.25]], dtype=np.float32)
    filled = np.array([[3.0, 10.0, 10.0], [3.0, 3.0, 7.0]], dtype=np.float32)
    props = bluespot_properties(labels, depth, filled, 2.0, 3.0)
    assert isinstance(props, BluespotProperties)
    np.testing.assert_array_equal(props.cell_count, [0, 2, 1])
    np.testing.assert_allclose(props.area, [0.0, 12.0, 6.0])
    np.testing.assert_allclose(props.volume, [0.0, 12.0, 1.5])
    np.testing.assert_allclose(props.max_depth, [0.0, 1.5, 0.25])
    assert np.isnan(props.spill_elevation[0])
    np.testing.assert_allclose(props.spill_elevation[1:], [10.0, 7.0])


def test_properties_of_missing_id_are_empty() -> None:
    labels = np.array([[0, 2]], dtype=np.int32)
    props = bluespot_properties(labels, np.array([[0.0, 1.0]]), np.array([[0.0, 5.0]]), 1, 1)
    assert props.n == 2 and props.cell_count[1] == 0 and np.isnan(props.spill_elevation[1])


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("kwargs", "exc"),
    [
        ({"dx": 0.0}, ParameterError),
        ({"dy": float("nan")}, ParameterError),
        ({"min_depth": -0.1}, ParameterError),
        ({"min_cells": 0}, ParameterError),
        ({"min_cells": 2.5}, ParameterError),
        ({"min_volume": float("inf")}, ParameterError),
    ],
)
def test_label_parameter_errors(kwargs: dict, exc: type[Exception]) -> None:
    args = {"dx": 1.0, "dy": 1.0, **kwargs}
    dx, dy = args.pop("dx"), args.pop("dy")
    with pytest.raises(exc):
        label_bluespots(np.zeros((3, 3)), dx, dy, **args)


def test_label_input_errors() -> None:
    with pytest.raises(InputError, match="2-D"):
        label_bluespots(np.zeros((2, 2, 2)), 1.0, 1.0)
    with pytest.raises(InputError, match="negative"):
        label_bluespots(np.array([[0.0, -0.1]]), 1.0, 1.0)


def test_properties_grid_mismatch() -> None:
    with pytest.raises(GridMismatchError):
        bluespot_properties(np.zeros((2, 2), np.int32), np.zeros((2, 3)), np.zeros((2, 2)), 1, 1)
    with pytest.raises(InputError, match=">= 0"):
        bluespot_properties(-np.ones((2, 2), np.int32), np.zeros((2, 2)), np.zeros((2, 2)), 1, 1)


# --------------------------------------------------------------------------- invariants

depth_arrays = arrays(
    np.float64,
    st.tuples(st.integers(1, 9), st.integers(1, 9)),
    elements=st.sampled_from([0.0, 0.0, 0.0, 0.01, 0.04, 0.2, 1.0, np.nan]),
)


@settings(max_examples=60, deadline=None)
@given(
    depth=depth_arrays,
    min_depth=st.sampled_from([0.0, 0.03, 0.1]),
    min_cells=st.integers(1, 4),
    min_volume=st.sampled_from([0.0, 0.05, 0.5]),
)
def test_label_invariants(
    depth: np.ndarray, min_depth: float, min_cells: int, min_volume: float
) -> None:
    labels = label_bluespots(
        depth, 1.0, 2.0, min_depth=min_depth, min_cells=min_cells, min_volume=min_volume
    )
    wet = np.nan_to_num(depth) > 0
    assert labels.shape == depth.shape
    assert np.all(labels[~wet] == 0)  # labels only where depth > 0
    # independent oracle: scipy's 8-connected components, filtered by hand
    comp, n = ndimage.label(wet, structure=EIGHT)
    kept_first = []
    for k in range(1, n + 1):
        cells = comp == k
        d = depth[cells]
        keep = d.max() > min_depth and cells.sum() >= min_cells and d.sum() * 2.0 > min_volume
        ids = np.unique(labels[cells])
        assert ids.size == 1  # a component is labelled as a whole or not at all
        assert (ids[0] > 0) == keep
        if keep:
            kept_first.append((int(np.flatnonzero(cells.ravel())[0]), int(ids[0])))
    # ids are 1..m, increasing with the raster position of each bluespot's first cell
    kept_first.sort()
    assert [i for _, i in kept_first] == list(range(1, len(kept_first) + 1))
