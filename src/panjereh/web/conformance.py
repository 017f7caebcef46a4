"""Pages of the connection standard: the national list, and each agency's latest run, runs and history."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse

from panjereh.agencies import selectors as agency_selectors
from panjereh.agencies.constants import ConnectionStatus
from panjereh.conformance import selectors
from panjereh.conformance.checks import standard
from panjereh.conformance.constants import CheckStatus
from panjereh.conformance.exceptions import RunNotFound
from panjereh.core.deps import DbSession

router = APIRouter(prefix="/conformance", include_in_schema=False)

STATUS_BADGES = {
    ConnectionStatus.CONNECTED: "bg-success",
    ConnectionStatus.STANDARD_LOST: "bg-warning text-dark",
    ConnectionStatus.DISCONNECTED: "bg-danger",
    ConnectionStatus.NOT_CONNECTED: "bg-secondary",
}
CHECK_BADGES = {
    CheckStatus.PASS: "bg-success",
    CheckStatus.WARN: "bg-warning text-dark",
    CheckStatus.FAIL: "bg-danger",
    CheckStatus.NOT_APPLICABLE: "bg-light text-dark border",
    CheckStatus.SKIPPED: "bg-light text-dark border",
}


def _common() -> dict[str, Any]:
    return {"status_badges": STATUS_BADGES, "check_badges": CHECK_BADGES, "checks": standard}


@router.get("", response_class=HTMLResponse)
def national_list(request: Request, db: DbSession) -> HTMLResponse:
    """Every agency's connection status and its last run, the worst first."""
    rows = selectors.national_overview(db)
    counts = agency_selectors.status_counts(db)
    return request.app.state.templates.render(
        request, "conformance/list.html", {"rows": rows, "counts": counts, **_common()}
    )


@router.get("/{agency_code}", response_class=HTMLResponse)
def agency_page(agency_code: str, request: Request, db: DbSession) -> HTMLResponse:
    """One agency: its status, the latest run with reasons, earlier runs and the status history."""
    agency = agency_selectors.get_agency_by_code(db, agency_code)
    context = {
        "agency": agency,
        "systems": agency_selectors.list_systems(db, agency.id),
        "run": selectors.latest_run(db, agency.id),
        "runs": selectors.runs_of(db, agency.id),
        "history": selectors.status_history(db, agency.id),
        "state": selectors.state(db, agency.id),
        **_common(),
    }
    return request.app.state.templates.render(request, "conformance/agency.html", context)


@router.get("/{agency_code}/runs/{run_id}", response_class=HTMLResponse)
def run_page(agency_code: str, run_id: str, request: Request, db: DbSession) -> HTMLResponse:
    """One earlier run with every result and reason."""
    agency = agency_selectors.get_agency_by_code(db, agency_code)
    run = selectors.get_run(db, run_id)
    if run.agency_id != agency.id:  # another agency's run: answer as if it did not exist
        raise RunNotFound(f"No conformance run {run_id!r} of {agency_code!r}.", f"اجرای «{run_id}» پیدا نشد.")
    return request.app.state.templates.render(
        request, "conformance/run.html", {"agency": agency, "run": run, **_common()}
    )


def mount(app: FastAPI) -> None:
    """Attach the connection-standard pages."""
    app.include_router(router)
