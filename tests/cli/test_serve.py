"""``klimakort serve``: a real server process over the small sample area."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str) -> tuple[int, bytes, str]:
    with urllib.request.urlopen(url, timeout=10) as r:
        return r.status, r.read(), r.headers.get("content-type", "")


def _centre_tile(area: Path, z: int) -> str:
    import morecantile
    import rasterio
    from pyproj import Transformer

    with rasterio.open(area.parent / "rasters" / "terrain.tif") as src:
        b = src.bounds
    lon, lat = Transformer.from_crs(25832, "OGC:CRS84", always_xy=True).transform(
        (b.left + b.right) / 2, (b.bottom + b.top) / 2
    )
    tile = morecantile.tms.get("WebMercatorQuad").tile(lon, lat, z)
    return f"{tile.z}/{tile.x}/{tile.y}"


def test_serve_answers_health_map_and_tiles(small_area: Path, tmp_path: Path) -> None:
    port = _free_port()
    env = {**os.environ, "KLIMAKORT_API_KEY": "k"}
    exe = Path(sys.executable).parent / "klimakort"
    cmd = [
        str(exe),
        "serve",
        str(small_area),
        "--port",
        str(port),
        "--scenario",
        "present",
        "--scenario",
        "2100",
    ]
    log = (tmp_path / "serve.log").open("wb")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                pytest.fail((tmp_path / "serve.log").read_text())
            try:
                status, body, _ = _get(f"{base}/healthz")
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail("the server did not come up in 120 s")
                time.sleep(0.3)
        assert status == 200 and b'"scenarios":["present","2100"]' in body
        status, body, ctype = _get(f"{base}/map")
        assert status == 200 and ctype.startswith("text/html") and b"Strandby" in body
        t = _centre_tile(small_area, 14)
        status, body, ctype = _get(f"{base}/rasters/terrain/tiles/WebMercatorQuad/{t}.png")
        assert status == 200 and ctype == "image/png" and body[:8] == b"\x89PNG\r\n\x1a\n"
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()
    assert "writes enabled" in (tmp_path / "serve.log").read_text()


def _serve_without_mains(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[Path, Any, list[object]]:
    """The coarse sample without heating mains, and a ``serve`` CLI that records its apps."""
    import typer
    import uvicorn

    from klimakort.cli import serve_cmds
    from klimakort.sample import write_sample

    toml = write_sample(tmp_path / "area", cell=16.0)
    text = toml.read_text()
    start = text.index("[layers.heating_mains]")
    toml.write_text(text[:start] + text[text.index("\n[", start + 1) + 1 :])
    served: list[object] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **_kw: served.append(app))
    app = typer.Typer()
    serve_cmds.register(app)
    app.command("noop")(lambda: None)
    return toml, app, served


@pytest.mark.slow
def test_serve_without_heating_mains_has_candidates_and_notes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    toml, app, served = _serve_without_mains(tmp_path, monkeypatch)
    res = CliRunner().invoke(app, ["serve", str(toml), "-s", "2100"])
    assert res.exit_code == 0, res.output + repr(res.exception)
    out = " ".join(res.output.split())
    assert "not served" not in out and len(served) == 1
    assert "heating-mains clearance not checked: the area has no heating_mains layer" in out


def test_a_restart_takes_candidates_and_their_notes_from_the_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from klimakort.suitability import workflow

    toml, app, _ = _serve_without_mains(tmp_path, monkeypatch)
    runs: list[str] = []
    real = workflow.run_suitability

    def counted(*args: object, **kwargs: object) -> object:
        runs.append(str(args[2]))
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(workflow, "run_suitability", counted)
    outputs = []
    for _ in range(2):
        res = CliRunner().invoke(app, ["serve", str(toml), "-s", "2100"])
        assert res.exit_code == 0, res.output + repr(res.exception)
        outputs.append(" ".join(res.output.split()))
    assert runs == ["miyawaki_forest"]  # the restart scored nothing again
    note = "heating-mains clearance not checked: the area has no heating_mains layer"
    assert note in outputs[0] and note in outputs[1]
