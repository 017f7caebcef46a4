"""The public open-data endpoint: national aggregates only, never an event or a pseudonym."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from panjereh.analytics import reports, selectors
from panjereh.analytics.cache import figures_of
from panjereh.analytics.mandates import available_years
from panjereh.core.deps import DbSession
from panjereh.core.schemas import MAX_JALALI_YEAR, MIN_JALALI_YEAR

router = APIRouter(tags=["open data"])


@router.get("/open-data", summary="National figures and mandate compliance (aggregates only)")
def open_data(
    request: Request,
    session: DbSession,
    year: Annotated[
        int | None,
        Query(ge=MIN_JALALI_YEAR, le=MAX_JALALI_YEAR, description="Only this fiscal year's mandates."),
    ] = None,
) -> dict[str, Any]:
    """Monthly users and visits, and each fiscal year's compliance per agency; licence CC BY 4.0."""
    figures = figures_of(request.app.state).current(session)
    overview = figures.overview(figures.default_month())
    header, rows = reports.series_rows(overview.series if overview else [])
    years = [year] if year is not None else available_years()
    return {
        "licence": "CC-BY-4.0",
        "note": "Aggregates only. Users: citizens (18+) who signed in at least once. Shares: fractions 0..1.",
        "months": [dict(zip(header, row, strict=True)) for row in rows],
        "mandates": [reports.mandate_json(selectors.mandate_report(session, y)) for y in years],
    }
