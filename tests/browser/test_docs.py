"""The API documentation page (/docs) in a real browser with every non-local request blocked."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse


def test_swagger_ui_renders_offline(chromium: Any, live_server: str, artifacts: Any) -> None:
    context = chromium.new_context(viewport={"width": 1300, "height": 900})
    page = context.new_page()
    page.set_default_timeout(60_000)  # a 1.8 MB bundle on a busy machine
    host = urlparse(live_server).netloc
    outside: list[str] = []
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))

    def local_only(route: Any) -> None:
        url = urlparse(route.request.url)
        if url.scheme in ("data", "blob") or url.netloc == host:
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page.route("**/*", local_only)
    page.goto(f"{live_server}/docs", wait_until="load")
    try:
        page.locator(".swagger-ui .information-container .title").wait_for()
    except Exception as exc:
        page.screenshot(path=str(artifacts / "docs_failed.png"))
        raise AssertionError(
            f"Swagger UI did not render; blocked {outside}, errors {errors}"
        ) from exc
    assert "klimakort" in page.locator(".swagger-ui .title").first.inner_text()
    page.locator(".opblock-tag-section").first.wait_for()
    assert page.locator(".opblock").count() > 10  # the operations are listed
    page.screenshot(path=str(artifacts / "docs.png"))
    context.close()
    assert outside == [], outside
    assert errors == [], errors
