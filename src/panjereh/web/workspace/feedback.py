"""Workspace page of issue 14 item 8: the problem reports citizens sent about the agency's services, and
the staff's answer (acknowledged or resolved, with a reply that reaches the citizen's inbox).

Any staff member of the agency reads them; administrators and officers answer. A report sent anonymously
shows no name, national code or tracking code here (the platform keeps them, for the reply and abuse).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.orm import Session

from panjereh.agencies import selectors as agency_selectors
from panjereh.catalog import selectors as catalog_selectors
from panjereh.core.deps import AppSettings, DbSession
from panjereh.core.errors import ProblemError
from panjereh.feedback import selectors as feedback_selectors
from panjereh.feedback import service as feedback_service
from panjereh.feedback.constants import CATEGORY_LABELS, REPLY_MAX, STATE_LABELS, ReportState
from panjereh.feedback.exceptions import InvalidFeedback, ReportClosed
from panjereh.identity import selectors as identity_selectors
from panjereh.staff import service as staff_service
from panjereh.staff.constants import Role
from panjereh.staff.deps import agency_staff
from panjereh.staff.service import StaffContext
from panjereh.web.csrf import CsrfProtected
from panjereh.web.workspace.common import AnyStaff, render

router = APIRouter(include_in_schema=False)

ANSWERERS = (Role.ADMINISTRATOR, Role.OFFICER)
Answerer = Annotated[StaffContext, Depends(agency_staff(*ANSWERERS))]


def _page(
    request: Request,
    db: Session,
    ctx: StaffContext,
    *,
    state: str = "",
    error: ProblemError | None = None,
    drafts: dict[str, str] | None = None,
) -> HTMLResponse:
    chosen = ReportState(state) if state in {s.value for s in ReportState} else None
    reports = feedback_selectors.reports_of_agency(db, ctx.agency_code, chosen)
    names = {}
    for code in {r.reporter for r in reports if r.reporter}:
        citizen = identity_selectors.get_citizen_by_national_code(db, code)
        if citizen is not None:
            names[code] = citizen.display_name
    return render(
        request,
        "workspace/feedback.html",
        {
            "ctx": ctx,
            "agency": agency_selectors.get_agency_by_code(db, ctx.agency_code),
            "reports": reports,
            "names": names,
            "cards": catalog_selectors.cards_by_slug(db, [r.service_slug for r in reports]),
            "may_answer": ctx.has(*ANSWERERS),
            "state": chosen.value if chosen else "",
            "states": list(ReportState),
            "category_labels": CATEGORY_LABELS,
            "state_labels": STATE_LABELS,
            "reply_max": REPLY_MAX,
            "drafts": drafts or {},
        },
        error=error,
    )


@router.get("/workspace/{agency_code}/feedback", response_class=HTMLResponse)
def feedback(request: Request, db: DbSession, ctx: AnyStaff, state: str = "") -> HTMLResponse:
    """The problem reports about the agency's services, unanswered first."""
    return _page(request, db, ctx, state=state[:20])


@router.post("/workspace/{agency_code}/feedback/{report_id}", response_model=None)
def answer(
    report_id: str,
    request: Request,
    db: DbSession,
    settings: AppSettings,
    ctx: Answerer,
    _: CsrfProtected,
    state: Annotated[str | None, Form()] = None,
    reply: Annotated[str | None, Form()] = None,
) -> RedirectResponse | HTMLResponse:
    """Mark a report acknowledged or resolved, with a reply the citizen gets in their inbox."""
    try:
        report = feedback_service.answer_report(
            db,
            settings,
            agency_code=ctx.agency_code,
            staff_code=ctx.national_code,
            report_id=report_id,
            state=state,
            reply=reply,
        )
    except (InvalidFeedback, ReportClosed) as error:
        return _page(request, db, ctx, error=error, drafts={report_id[:32]: reply or ""})
    staff_service.audit(
        db, ctx, f"feedback.{report.state.value}", report.id, {"service": report.service_slug}
    )
    return RedirectResponse(f"/workspace/{ctx.agency_code}/feedback#report-{report.id}", status_code=303)
