"""A bounded schemathesis run against the OpenAPI spec: no request may cause a 5xx.

Every operation gets a few generated requests (valid and invalid by the schema); the
check is ``not_a_server_error`` plus problem+json for every 4xx. Writes go to a private
copy of the area so the shared workspace stays untouched.
"""

from __future__ import annotations

import os
import time
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings

from klimakort.service import Workspace
from klimakort_api import Settings, create_app


@pytest.fixture(scope="module")
def fuzz_app(workspace: Workspace, tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
    """The API with a site store on a private copy of the area (writes stay there)."""
    import shutil

    from klimakort.config.area import load_area
    from klimakort.sites import open_store

    src = workspace.cfg.source
    assert src is not None
    root = tmp_path_factory.mktemp("fuzz_area") / "area"
    shutil.copytree(src.parent, root)
    cfg = load_area(root / src.name)
    ws = Workspace(cfg, workspace.hz, sites=open_store(cfg, None))
    return create_app(Settings(area=None, api_key="test-key"), workspace=ws)


@pytest.fixture(scope="module")
def api_schema(fuzz_app: FastAPI) -> Any:
    return schemathesis.openapi.from_asgi("/openapi.json", fuzz_app)


def test_no_server_errors(api_schema: Any) -> None:
    ops = [result.ok() for result in api_schema.get_all_operations()]
    assert len(ops) >= 10
    failures = []
    for op in ops:
        t0 = time.perf_counter()
        try:
            _fuzz(op)
        except Exception as exc:  # collect every operation's failure, then fail once
            failures.append(f"{op.method.upper()} {op.path}: {str(exc)[:1500]}")
        if os.environ.get("KLIMAKORT_FUZZ_TIMES"):
            print(f"{op.method.upper()} {op.path}: {time.perf_counter() - t0:.1f} s")
    assert not failures, "\n\n".join(failures)


def _fuzz(op: Any) -> None:
    @settings(
        max_examples=8,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=op.as_strategy())
    def run(case: Any) -> None:
        case.headers = {**(case.headers or {}), "X-API-Key": "test-key"}
        response = case.call()
        where = f"{case.method} {case.formatted_path} {case.query} {str(case.body)[:200]}"
        assert response.status_code < 500, (
            f"{where} -> {response.status_code}: {response.text[:300]}"
        )
        if 400 <= response.status_code < 500 and response.status_code != 405:
            ctype = response.headers.get("content-type", [""])
            ctype = ctype[0] if isinstance(ctype, list) else ctype
            assert ctype.startswith("application/problem+json"), (where, response.status_code)

    run()
