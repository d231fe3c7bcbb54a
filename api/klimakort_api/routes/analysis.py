"""Site suitability and portfolios (POST: they compute, they change nothing stored)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from klimakort.service.analysis import measures, portfolio, suitability_candidates
from klimakort_api.deps import WorkspaceDep

router = APIRouter(tags=["suitability"])


class Overrides(BaseModel):
    """Weight and constraint overrides of a measure profile."""

    model_config = ConfigDict(extra="forbid")

    scenario: str | None = Field(None, max_length=32, description="present, 2050 or 2100")
    weights: dict[str, float] | None = Field(
        None, description="criterion -> weight (> 0, normalised); see GET /measures"
    )
    constraints: dict[str, Any] | None = Field(
        None, description="constraint -> value, e.g. {'max_bluespot_depth_m': 0.2}"
    )


class SuitabilityRequest(Overrides):
    """A suitability request."""

    top: int = Field(50, ge=1, le=500, description="How many of the best candidates")


class PortfolioRequest(Overrides):
    """A portfolio request: choose ``n`` sites at least ``min_spacing_m`` apart."""

    measure: str = Field("miyawaki_forest", max_length=64)
    n: int = Field(10, ge=1, le=200, description="Number of sites")
    min_spacing_m: float = Field(500.0, ge=0, le=10_000)


Crs = Annotated[str | None, Query(description="Output CRS: CRS84 (default) or EPSG:25832")]


@router.get("/measures", summary="Measure profiles with default weights and constraints")
def list_measures() -> dict[str, dict[str, Any]]:
    return measures()


@router.post(
    "/suitability/{measure}",
    summary="Ranked candidate sites of a measure, with explanations (GeoJSON)",
)
def suitability(
    ws: WorkspaceDep, measure: str, body: SuitabilityRequest | None = None, crs: Crs = None
) -> dict[str, Any]:
    req = body or SuitabilityRequest()
    return suitability_candidates(
        ws,
        measure,
        req.scenario,
        weights=req.weights,
        constraints=req.constraints,
        top=req.top,
        crs=crs,
    )


@router.post("/portfolio", summary="Choose n sites with the best total score (MILP, HiGHS)")
def choose(
    ws: WorkspaceDep, body: PortfolioRequest | None = None, crs: Crs = None
) -> dict[str, Any]:
    req = body or PortfolioRequest()
    return portfolio(
        ws,
        req.measure,
        req.n,
        req.scenario,
        min_spacing_m=req.min_spacing_m,
        weights=req.weights,
        constraints=req.constraints,
        crs=crs,
    )
