"""Fixtures of the browser tests: the small sample area served by uvicorn on loopback, and
headless Chromium (the system's /usr/bin/chromium; playwright downloads no browser).

The module is skipped when Chromium or playwright is missing, unless ``CI=true``.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from klimakort.service import Workspace

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
#: screenshots for people to look at (build/ is gitignored)
ARTIFACTS = Path(__file__).resolve().parents[2] / "build" / "artifacts"


def _need(ok: bool, why: str) -> None:
    if ok:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"{why} (required when CI=true)")
    pytest.skip(why)


@pytest.fixture(scope="session")
def browser_area(workspace: Workspace) -> Workspace:
    """The shared small sample workspace (tests/conftest.py)."""
    return workspace


@pytest.fixture(scope="session")
def live_server(browser_area: Workspace) -> Iterator[str]:
    """Base URL of the API over :func:`browser_area`, served by uvicorn in a thread."""
    import uvicorn

    from klimakort_api import Settings, create_app

    app = create_app(Settings(area=None, api_key="test-key"), workspace=browser_area)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app, log_level="warning", ws="none", http="h11", lifespan="on", access_log=False
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    """A headless Chromium browser (playwright, system executable)."""
    _need(Path(CHROMIUM).exists(), f"{CHROMIUM} is missing")
    _need(shutil.which("chromium") is not None or Path(CHROMIUM).exists(), "no chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - depends on the environment
        _need(False, "the playwright package is not installed")
        raise
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Folder for screenshots (created)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
