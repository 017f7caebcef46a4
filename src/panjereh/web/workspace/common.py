"""What the workspace's pages share: rendering with an error, the header's link, role labels."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse

from panjereh.core.db import unit_of_work
from panjereh.core.errors import ProblemError
from panjereh.staff import selectors as staff_selectors
from panjereh.staff.constants import ROLE_LABELS_EN, ROLE_LABELS_FA, Role
from panjereh.staff.deps import agency_staff, operator
from panjereh.staff.service import StaffContext

AnyStaff = Annotated[StaffContext, Depends(agency_staff())]
Administrator = Annotated[StaffContext, Depends(agency_staff(Role.ADMINISTRATOR))]
AdministratorStepUp = Annotated[StaffContext, Depends(agency_staff(Role.ADMINISTRATOR, step_up=True))]
AuditReader = Annotated[StaffContext, Depends(agency_staff(Role.ADMINISTRATOR, Role.REVIEWER))]
Operator = Annotated[StaffContext, Depends(operator())]
OperatorStepUp = Annotated[StaffContext, Depends(operator(step_up=True))]


def render(
    request: Request,
    name: str,
    context: dict[str, Any],
    *,
    error: ProblemError | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    """A workspace page (never cached), with a refused form's problem shown above it."""
    fa = request.app.state.templates.locale_of(request) == "fa"
    context.setdefault("role_labels", ROLE_LABELS_FA if fa else ROLE_LABELS_EN)
    context["error"] = None
    if error is not None:
        context["error"] = {
            "title": error.title_fa if fa else error.title_en,
            "detail": (error.detail_fa if fa else error.detail_en) or "",
            "code": error.code,
        }
        status_code = error.status
    response: HTMLResponse = request.app.state.templates.render(
        request, name, context, status_code=status_code
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def workspace_link(request: Request) -> dict[str, Any]:
    """Template context processor: `workspace_link` is true for a signed-in person who holds a staff role."""
    cached = getattr(request.state, "workspace_link", None)
    if cached is not None:
        return {"workspace_link": cached}
    found = getattr(request.state, "identity", None)
    national_code = getattr(found[1], "national_code", None) if found else None
    shown = False
    if national_code:
        # A read-only session beside the request's own, as the current-user processor does.
        with unit_of_work(request.app.state.sessionmaker, writes=False) as db:
            shown = staff_selectors.is_staff(db, national_code)
    request.state.workspace_link = shown
    return {"workspace_link": shown}
