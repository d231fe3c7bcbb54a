"""``klimakort report``: ids checked before any hazard work, stored hazards reused."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from klimakort.cli import main
from klimakort.hazards import area as area_mod
from klimakort.hazards import store as store_mod
from klimakort.sample import write_sample


def run(argv: list[str]) -> int:
    try:
        main(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


@pytest.fixture(scope="module")
def area(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_sample(tmp_path_factory.mktemp("report_area"), cell=16.0)


def _no_hazard_work(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*_a: Any, **_k: Any) -> Any:
        raise AssertionError("hazards were computed")

    for mod in (store_mod, area_mod):
        monkeypatch.setattr(mod, "compute_hazards", fail)
    monkeypatch.setattr(store_mod, "compute_scenarios", fail)


def test_report_says_where_it_wrote_and_the_worst_verdict_then_reuses_the_hazards(
    area: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "rep.json"
    args = ["report", str(area), "--parcel", "2000651-12a", "--out", str(out)]
    assert run(args) == 0
    worst = json.loads(out.read_text())["worst_verdict"]
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[-1] == f"report written to {out} (worst verdict: {worst})"
    out.unlink()
    _no_hazard_work(monkeypatch)
    assert run(args) == 0
    captured = capsys.readouterr()
    assert out.is_file() and "hazards reused from" in captured.err


@pytest.mark.parametrize(
    ("option", "layer", "field"),
    [("--parcel", "parcels", "matrikel_id"), ("--plan", "local_plans", "plannr")],
)
def test_an_unknown_id_is_refused_before_any_hazard_work(
    area: Path,
    tmp_path: Path,
    option: str,
    layer: str,
    field: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import pyogrio

    ids = pyogrio.read_dataframe(area.parent / "layers" / f"{layer}.gpkg", read_geometry=False)
    close = str(ids[field].iloc[0])
    wanted = close + "x"  # a typo
    _no_hazard_work(monkeypatch)
    code = run(["report", str(area), option, wanted, "--out", str(tmp_path / "r.json")])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("error: ") and "Traceback" not in err
    assert repr(wanted) in err and close in err and option in err
    assert not (tmp_path / "r.json").exists()
