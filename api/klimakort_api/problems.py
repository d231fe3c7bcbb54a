"""Errors as RFC 9457 problem+json, with one mapping from klimakort errors to status.

Invalid requests answer **422** (FastAPI's request validation and every
:class:`~klimakort.errors.InputError`), except on the routes of OGC API - Features
(:class:`OGCRoute`): OGC API - Features Part 1 requires **400** for an invalid query
parameter (``/req/core/query-param-invalid``), so those routes answer 400 for the same
errors, still as problem+json. Every other status (404, 413, ...) is the error's own.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException

from klimakort.errors import InputError, KlimakortError, http_status_for

PROBLEM_JSON = "application/problem+json"

#: status of an invalid request outside the OGC routes
INVALID_STATUS = 422
#: status of an invalid request on an OGC API route (/req/core/query-param-invalid)
OGC_INVALID_STATUS = 400

_PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
    },
    "required": ["title", "status", "detail"],
}


def problem_response(description: str) -> dict[str, Any]:
    """An OpenAPI response object whose body is problem+json."""
    return {"description": description, "content": {PROBLEM_JSON: {"schema": _PROBLEM_SCHEMA}}}


#: the error responses every OGC route declares (``4XX`` also stops FastAPI adding 422)
OGC_RESPONSES: dict[int | str, dict[str, Any]] = {
    OGC_INVALID_STATUS: problem_response(
        "Invalid parameter (OGC API - Features /req/core/query-param-invalid)"
    ),
    404: problem_response("Unknown collection or feature"),
    "4XX": problem_response("Other client errors (e.g. 413: the request asks too much)"),
}


class OGCRoute(APIRoute):
    """A route of OGC API - Features: invalid requests answer 400, not 422."""

    invalid_status = OGC_INVALID_STATUS


def invalid_status(request: Request) -> int:
    """Status of an invalid request to the route ``request`` matched (400 or 422)."""
    return int(getattr(request.scope.get("route"), "invalid_status", INVALID_STATUS))


def problem(status: int, title: str, detail: str, instance: str, **extra: object) -> JSONResponse:
    """A problem+json response."""
    body = {
        "type": "about:blank",
        "title": title,
        "status": status,
        "detail": detail,
        "instance": instance,
        **extra,
    }
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON)


def install(app: FastAPI) -> None:
    """Register the exception handlers on ``app``."""

    @app.exception_handler(KlimakortError)
    async def _klimakort(request: Request, exc: KlimakortError) -> JSONResponse:
        status = http_status_for(exc)
        if isinstance(exc, InputError) and status == INVALID_STATUS:
            status = invalid_status(request)
        return problem(status, exc.title, str(exc), request.url.path)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"loc": [str(p) for p in e.get("loc", ())], "msg": str(e.get("msg", ""))}
            for e in exc.errors()
        ]
        detail = "; ".join(f"{'.'.join(e['loc'])}: {e['msg']}" for e in errors)
        return problem(
            invalid_status(request), "Invalid request", detail, request.url.path, errors=errors
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return problem(exc.status_code, str(exc.detail), str(exc.detail), request.url.path)
