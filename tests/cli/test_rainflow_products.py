"""``klimakort rainflow --products/--no-vectors/--timings``."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from klimakort.cli import main
from klimakort.io import write_cog


def run(argv: list[str]) -> int:
    try:
        main(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


def test_products_no_vectors_and_timings(tmp_path: Path, make_dem) -> None:
    rng = np.random.default_rng(1)
    dem = make_dem(rng.uniform(0, 5, (40, 50)), cell=2.0)
    write_cog(dem, tmp_path / "dem.tif", units="m DVR90", source="test")
    args = ["rainflow", "--dem", str(tmp_path / "dem.tif"), "--out", str(tmp_path / "rf")]
    chosen = ["--products", "filled,accumulation.tif,flowpaths", "--no-vectors"]
    code = run([*args, *chosen, "--timings", str(tmp_path / "t.json")])
    assert code == 0
    assert sorted(p.name for p in (tmp_path / "rf").iterdir()) == [
        "accumulation.tif",
        "filled.tif",
    ]
    record = json.loads((tmp_path / "t.json").read_text())
    assert record["cells"] == 40 * 50
    stages = [s["stage"] for s in record["stages"]]
    assert stages[0] == "reading terrain" and "writing filled.tif" in stages
    assert "flow-path vectorisation" not in stages
    assert all(s["seconds"] >= 0 and s["peak_rss_bytes"] > 0 for s in record["stages"])
    assert run([*args, "--products", "nonsense"]) != 0
