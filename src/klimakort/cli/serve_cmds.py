"""``klimakort serve``: the HTTP API and the interactive map for one area."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from klimakort.cli.hazards_area_cmds import NoCache, Recompute, StoreDir
from klimakort.cli.progress import console, steps


def serve(
    area: Annotated[Path, typer.Argument(help="area.toml of the area to serve")],
    host: Annotated[str, typer.Option(help="Interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port")] = 8000,
    scenario: Annotated[
        list[str] | None, typer.Option("--scenario", "-s", help="Scenarios (repeat)")
    ] = None,
    no_cache: NoCache = False,
    recompute: Recompute = False,
    store: StoreDir = None,
) -> None:
    """Load (or compute) the area's hazards, then serve the API and the map (/map, /docs).

    Hazards and candidate sites computed before from the same inputs are taken from the
    hazard store, so a restart takes seconds.

    Settings such as KLIMAKORT_API_KEY (writes) and KLIMAKORT_DATABASE_URL (PostGIS for
    planned sites) are read from the environment.
    """
    import uvicorn

    from klimakort.errors import DataNotFoundError
    from klimakort.hazards.store import HazardStore
    from klimakort.service import Workspace
    from klimakort.sites import open_store
    from klimakort_api import Settings, create_app

    settings = Settings(area=area, scenarios=tuple(scenario or ("present", "2050", "2100")))
    with steps(f"opening {area}") as say:
        ws = Workspace.open(
            area,
            settings.scenarios,
            progress=say,
            store=None if store is None else HazardStore(store),
            cache=not no_cache,
            recompute=recompute,
        )
        say("candidate sites (Miyawaki suitability)")
        try:
            cands = ws.features("candidate_sites")
        except DataNotFoundError as exc:  # missing layers are skipped; this is a real failure
            ws.unavailable["candidate_sites"] = str(exc)
            console.print(f"[yellow]candidate sites are not served[/]: {exc}")
        else:  # the notes travel in every explanation: no second suitability run
            for note in candidate_notes(cands):
                console.print(f"[yellow]candidate sites[/]: {note}")
        say("planned-site store")
        ws.sites = open_store(ws.cfg, settings.database_url)
    writes = "enabled (X-API-Key)" if settings.api_key else "disabled (no KLIMAKORT_API_KEY)"
    console.print(
        f"[bold]klimakort[/] serves {ws.name!r} on http://{host}:{port}/map "
        f"(API docs /docs; writes {writes})"
    )
    try:
        uvicorn.run(create_app(settings, workspace=ws), host=host, port=port, log_level="info")
    finally:
        close = getattr(ws.sites, "close", None)
        if close is not None:
            close()


def register(app: typer.Typer) -> None:
    """Add the command to the CLI."""
    app.command("serve")(serve)


def candidate_notes(cands: Any) -> list[str]:
    """The suitability notes of served candidate sites (kept in each explanation)."""
    import json

    if not len(cands) or "explanation" not in cands.columns:
        return []
    return [str(n) for n in json.loads(cands["explanation"].iloc[0]).get("notes", [])]
