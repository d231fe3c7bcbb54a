"""Request dependencies: the workspace of the served area and the write key."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Depends, Header, Request

from klimakort.errors import DataNotFoundError, UnauthorizedError
from klimakort.service import Workspace
from klimakort_api.settings import Settings


def get_settings(request: Request) -> Settings:
    """The settings the app was built with."""
    settings: Settings = request.app.state.settings
    return settings


def get_workspace(request: Request) -> Workspace:
    """The workspace opened in the lifespan; 404 when the service serves no area."""
    ws: Workspace | None = getattr(request.app.state, "workspace", None)
    if ws is None:
        raise DataNotFoundError(
            "this service has no area: start it with `klimakort serve AREA.toml` "
            "or set KLIMAKORT_AREA"
        )
    return ws


def require_api_key(
    request: Request,
    x_api_key: Annotated[str | None, Header(description="API key for writes")] = None,
) -> None:
    """Refuse a write unless ``X-API-Key`` matches ``KLIMAKORT_API_KEY`` (compared in
    constant time); writes are refused altogether when no key is configured."""
    expected = get_settings(request).api_key
    if not expected:
        raise UnauthorizedError(
            "writes are disabled: the service has no API key (set KLIMAKORT_API_KEY)"
        )
    if x_api_key is None or not secrets.compare_digest(x_api_key, expected):
        raise UnauthorizedError("send the service's API key in the X-API-Key header")


WorkspaceDep = Annotated[Workspace, Depends(get_workspace)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
WriteKey = Depends(require_api_key)
