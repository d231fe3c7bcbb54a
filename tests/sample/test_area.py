"""generate_sample: determinism across runs and processes, seeds and parameter checks."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from typing import cast

import numpy as np
import pytest
from geopandas.testing import assert_geodataframe_equal

from klimakort.errors import ParameterError
from klimakort.sample import LAYER_KEYS, SampleArea, generate_sample

# Digest of a whole sample area; run in this process and in a fresh one.
DIGEST_SRC = """
import hashlib
import shapely

def digest(area):
    h = hashlib.sha256()
    for da in (area.dem, area.groundwater_head, area.imperviousness):
        h.update(da.values.tobytes())
    for key in sorted(area.layers):
        gdf = area.layers[key]
        h.update(key.encode())
        h.update(gdf.drop(columns="geometry").to_csv().encode())
        for wkb in shapely.to_wkb(gdf.geometry.values, output_dimension=2):
            h.update(wkb)
    return h.hexdigest()
"""
_ns: dict[str, object] = {}
exec(DIGEST_SRC, _ns)
digest = cast(Callable[[SampleArea], str], _ns["digest"])


def _assert_same(a: SampleArea, b: SampleArea) -> None:
    for name in ("dem", "groundwater_head", "imperviousness"):
        va, vb = getattr(a, name).values, getattr(b, name).values
        assert va.tobytes() == vb.tobytes(), name
    assert list(a.layers) == list(b.layers) == list(LAYER_KEYS)
    for key in LAYER_KEYS:
        assert_geodataframe_equal(a.layers[key], b.layers[key], check_less_precise=False)


def test_two_runs_are_identical(coarse_area: SampleArea) -> None:
    again = generate_sample(cell=8.0)
    _assert_same(coarse_area, again)
    assert again.seed == 2050


def test_identical_in_a_fresh_process_with_other_hash_seed() -> None:
    script = (
        DIGEST_SRC
        + "\nfrom klimakort.sample import generate_sample\n"
        + "print(digest(generate_sample(cell=25.0)))\n"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == digest(generate_sample(cell=25.0))


def test_other_seed_gives_another_area(coarse_area: SampleArea) -> None:
    other = generate_sample(7, cell=8.0)
    assert other.seed == 7
    assert not np.array_equal(other.dem.values, coarse_area.dem.values)
    assert 2000 <= len(other.layers["parcels"]) <= 5000
    assert 25.0 <= float(other.dem.max()) <= 30.0


def test_progress_is_reported() -> None:
    messages: list[str] = []
    generate_sample(3, cell=25.0, progress=messages.append)
    assert len(messages) >= 4
    assert all(isinstance(m, str) and m for m in messages)


@pytest.mark.parametrize("cell", [0.0, -1.6, float("nan"), 100.0])
def test_bad_cell_size_is_refused(cell: float) -> None:
    with pytest.raises(ParameterError, match="cell size"):
        generate_sample(cell=cell)


@pytest.mark.parametrize("seed", [-1, 1.5, "2050", True])
def test_bad_seed_is_refused(seed: object) -> None:
    with pytest.raises(ParameterError, match="seed"):
        generate_sample(seed, cell=25.0)  # type: ignore[arg-type]
