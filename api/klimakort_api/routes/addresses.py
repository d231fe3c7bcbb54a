"""Address search: ``GET /addresses/search?q=`` over the area's local address file."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from klimakort.service.addresses import MAX_QUERY, search_addresses
from klimakort_api.deps import WorkspaceDep

router = APIRouter(tags=["reports"])


@router.get(
    "/addresses/search",
    summary="Find addresses (DAWA adgangsadresser of the area, offline; æøå and typos folded)",
)
def addresses_search(
    ws: WorkspaceDep,
    q: Annotated[
        str,
        Query(description="Street and house number, e.g. 'Park Alle 380'", max_length=MAX_QUERY),
    ],
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
) -> list[dict[str, Any]]:
    return search_addresses(ws.cfg, q, limit)
