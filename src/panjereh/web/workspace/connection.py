"""Workspace page of item 5: the agency's systems under the connection standard, their latest results with
the reasons, and a run of the standard on demand (administrator or developer, step-up, CSRF)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from panjereh.agencies import selectors as agency_selectors
from panjereh.conformance import selectors as conformance_selectors
from panjereh.conformance import service as conformance_service
from panjereh.conformance.checks import standard
from panjereh.conformance.constants import RunTrigger
from panjereh.conformance.tasks import RunSummary, run_checks
from panjereh.core.deps import AppSettings, DbSession
from panjereh.staff import service as staff_service
from panjereh.staff.constants import Role
from panjereh.staff.deps import agency_staff
from panjereh.staff.service import StaffContext
from panjereh.web.conformance import CHECK_BADGES, STATUS_BADGES
from panjereh.web.csrf import CsrfProtected
from panjereh.web.workspace.common import AnyStaff, render

router = APIRouter(include_in_schema=False)

RunnerStepUp = Annotated[
    StaffContext, Depends(agency_staff(Role.ADMINISTRATOR, Role.DEVELOPER, step_up=True))
]
RUNNERS = (Role.ADMINISTRATOR, Role.DEVELOPER)


def _page(request: Request, db: Session, ctx: StaffContext, *, ran: RunSummary | None = None) -> HTMLResponse:
    agency = agency_selectors.get_agency_by_code(db, ctx.agency_code)
    return render(
        request,
        "workspace/connection.html",
        {
            "ctx": ctx,
            "agency": agency,
            "systems": agency_selectors.list_systems(db, agency.id),
            "run": conformance_selectors.latest_run(db, agency.id),
            "history": conformance_selectors.status_history(db, agency.id, limit=5),
            "may_run": ctx.has(*RUNNERS),
            "ran": ran,
            "status_badges": STATUS_BADGES,
            "check_badges": CHECK_BADGES,
            "checks": standard,
        },
    )


@router.get("/workspace/{agency_code}/connection", response_class=HTMLResponse)
def connection(request: Request, db: DbSession, ctx: AnyStaff) -> HTMLResponse:
    """The agency's systems, the latest run of the connection standard with its reasons, the status."""
    return _page(request, db, ctx)


@router.post("/workspace/{agency_code}/connection/run", response_class=HTMLResponse)
def run_now(
    request: Request, db: DbSession, settings: AppSettings, ctx: RunnerStepUp, _: CsrfProtected
) -> HTMLResponse:
    """Run the connection standard now against the agency's systems and show what it found."""
    agency = agency_selectors.get_agency_by_code(db, ctx.agency_code)
    conformance_service.refuse_if_too_soon(db, agency, settings.conformance)
    # The runner reads its plan and records its run in units of work of its own, and probes the systems
    # with none open: nothing of this request's transaction may be held meanwhile.
    db.commit()
    [summary] = run_checks(
        request.app.state.sessionmaker, settings, [ctx.agency_code], trigger=RunTrigger.MANUAL
    )
    staff_service.audit(
        db,
        ctx,
        "connection.checked",
        summary.run_id,
        {"verdict": summary.verdict.value, "status": summary.status_after.value},
    )
    return _page(request, db, ctx, ran=summary)
