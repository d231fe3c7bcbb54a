"""Servers started as subprocesses by ``benchmarks/tiles.py`` (one uvicorn worker each).

``python benchmarks/_serve.py klimakort AREA_TOML PORT COG_PATH`` opens the area
(computes its hazards), writes the 2100 cloudburst depth as a COG to ``COG_PATH`` (for
TiTiler) and serves klimakort's API. ``python benchmarks/_serve.py titiler COG PORT``
serves a stock ``titiler.core`` ``TilerFactory`` app.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT / "api")]


def serve_klimakort(area: str, port: int, cog: str) -> None:
    """Open the area, write the COG, serve the API."""
    import uvicorn

    from klimakort.io.raster import write_cog
    from klimakort.service import Workspace
    from klimakort_api import Settings, create_app

    ws = Workspace.open(area, ("2100",))
    da = ws.raster("cloudburst_depth", "2100")
    write_cog(da, cog, units="m", source="klimakort sample", scenario="2100")
    app = create_app(Settings(area=None), workspace=ws)
    uvicorn.run(app, host="127.0.0.1", port=port, workers=1, log_level="warning")


def serve_titiler(port: int) -> None:
    """A stock TiTiler app: ``TilerFactory`` routes under ``/cog``."""
    import uvicorn
    from fastapi import FastAPI
    from titiler.core.errors import DEFAULT_STATUS_CODES, add_exception_handlers
    from titiler.core.factory import TilerFactory

    app = FastAPI(title="titiler (stock)")
    app.include_router(TilerFactory().router, prefix="/cog")
    add_exception_handlers(app, DEFAULT_STATUS_CODES)
    uvicorn.run(app, host="127.0.0.1", port=port, workers=1, log_level="warning")


if __name__ == "__main__":
    kind = sys.argv[1]
    if kind == "klimakort":
        serve_klimakort(sys.argv[2], int(sys.argv[3]), sys.argv[4])
    elif kind == "titiler":
        serve_titiler(int(sys.argv[2]))
    else:
        raise SystemExit(f"unknown server {kind!r}")
