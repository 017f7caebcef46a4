"""Workspace pages of item 1: the workspace home, an agency's home, its staff and audit trail; the
operators' agencies and their administrators."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from panjereh.agencies import selectors as agency_selectors
from panjereh.agencies.constants import AgencyKind
from panjereh.analytics import duties
from panjereh.core.deps import DbSession
from panjereh.core.errors import ProblemError
from panjereh.identity import selectors as identity_selectors
from panjereh.identity.deps import CurrentCitizen
from panjereh.staff import selectors, service
from panjereh.staff.constants import AGENCY_ROLES, Role
from panjereh.staff.exceptions import MembershipNotFound
from panjereh.staff.service import StaffContext
from panjereh.web.csrf import CsrfProtected
from panjereh.web.workspace.common import (
    Administrator,
    AdministratorStepUp,
    AnyStaff,
    AuditReader,
    Operator,
    OperatorStepUp,
    render,
)

router = APIRouter(include_in_schema=False)
operator_router = APIRouter(include_in_schema=False)


def _names(db: Session, codes: set[str]) -> dict[str, str]:
    """The names of the people with these national codes who have logged in (others show their code)."""
    names = {}
    for code in codes:
        citizen = identity_selectors.get_citizen_by_national_code(db, code)
        if citizen is not None:
            names[code] = citizen.display_name
    return names


# --- the workspace home ---------------------------------------------------------------------------------


@router.get("/workspace", response_class=HTMLResponse)
def workspace_home(request: Request, db: DbSession, citizen: CurrentCitizen) -> HTMLResponse:
    """The agencies the signed-in person works for, and the operators' pages for an operator."""
    places = selectors.workplaces(db, citizen.national_code)
    agencies = agency_selectors.agencies_by_code(db, places.keys())
    return render(
        request,
        "workspace/home.html",
        {
            "places": [(agencies[code], roles) for code, roles in places.items() if code in agencies],
            "is_operator": selectors.is_operator(db, citizen.national_code),
        },
    )


# --- the operators' pages (registered before `/workspace/{agency_code}`) --------------------------------


@operator_router.get("/workspace/operator", response_class=HTMLResponse)
def operator_home(request: Request, ctx: Operator) -> Response:
    return RedirectResponse("/workspace/operator/agencies", status_code=303)


def _agencies_page(
    request: Request,
    db: Session,
    ctx: StaffContext,
    *,
    new: bool = False,
    form: dict[str, str] | None = None,
    error: ProblemError | None = None,
) -> HTMLResponse:
    agencies = agency_selectors.list_agencies(db)
    administrators = selectors.administrator_counts(db)
    return render(
        request,
        "workspace/operator_agencies.html",
        {
            "ctx": ctx,
            "agencies": agencies,
            "administrators": administrators,
            "new": new,
            "form": form or {},
            "kinds": list(AgencyKind),
        },
        error=error,
    )


@operator_router.get("/workspace/operator/agencies", response_class=HTMLResponse)
def operator_agencies(request: Request, db: DbSession, ctx: Operator) -> HTMLResponse:
    """Every agency with its number of administrators; the form that opens a new agency."""
    return _agencies_page(request, db, ctx)


@operator_router.get("/workspace/operator/agencies/new", response_class=HTMLResponse)
def operator_new_agency(request: Request, db: DbSession, ctx: Operator) -> HTMLResponse:
    return _agencies_page(request, db, ctx, new=True)


@operator_router.post("/workspace/operator/agencies/new", response_class=HTMLResponse)
def operator_create_agency(
    request: Request,
    db: DbSession,
    ctx: OperatorStepUp,
    _: CsrfProtected,
    code: Annotated[str, Form(max_length=60)] = "",
    name_fa: Annotated[str, Form(max_length=300)] = "",
    name_en: Annotated[str, Form(max_length=300)] = "",
    kind: Annotated[str, Form(max_length=20)] = AgencyKind.ORGANIZATION.value,
    administrator: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """Open an agency (and appoint its first administrator, when named)."""
    form = {
        "code": code,
        "name_fa": name_fa,
        "name_en": name_en,
        "kind": kind,
        "administrator": administrator,
    }
    try:
        agency_kind = AgencyKind(kind) if kind in set(AgencyKind) else AgencyKind.ORGANIZATION
        agency = service.open_agency(
            db,
            ctx,
            code=code,
            name_fa=name_fa,
            name_en=name_en,
            kind=agency_kind,
            administrator=administrator.strip() or None,
        )
    except ProblemError as error:
        db.rollback()
        return _agencies_page(request, db, ctx, new=True, form=form, error=error)
    return RedirectResponse(f"/workspace/operator/agencies/{agency.code}", status_code=303)


def _operator_agency_page(
    request: Request, db: Session, ctx: StaffContext, agency_code: str, error: ProblemError | None = None
) -> HTMLResponse:
    agency = agency_selectors.get_agency_by_code(db, agency_code)
    admins = selectors.members(db, agency.code, Role.ADMINISTRATOR)
    return render(
        request,
        "workspace/operator_agency.html",
        {
            "ctx": ctx,
            "agency": agency,
            "administrators": admins,
            "names": _names(db, {m.national_code for m in admins}),
            "trail": selectors.audit_trail(db, agency.code, limit=20),
        },
        error=error,
    )


@operator_router.get("/workspace/operator/agencies/{agency_code}", response_class=HTMLResponse)
def operator_agency(request: Request, agency_code: str, db: DbSession, ctx: Operator) -> HTMLResponse:
    """One agency's administrators: appoint and revoke."""
    return _operator_agency_page(request, db, ctx, agency_code)


@operator_router.post(
    "/workspace/operator/agencies/{agency_code}/administrators", response_class=HTMLResponse
)
def operator_appoint(
    request: Request,
    agency_code: str,
    db: DbSession,
    ctx: OperatorStepUp,
    _: CsrfProtected,
    national_code: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    agency = agency_selectors.get_agency_by_code(db, agency_code)
    try:
        service.appoint(
            db, ctx, national_code=national_code, role=Role.ADMINISTRATOR, agency_code=agency.code
        )
    except ProblemError as error:
        db.rollback()
        return _operator_agency_page(request, db, ctx, agency_code, error)
    return RedirectResponse(f"/workspace/operator/agencies/{agency.code}", status_code=303)


@operator_router.post(
    "/workspace/operator/agencies/{agency_code}/administrators/{membership_id}/revoke",
    response_class=HTMLResponse,
)
def operator_revoke(
    request: Request,
    agency_code: str,
    membership_id: str,
    db: DbSession,
    ctx: OperatorStepUp,
    _: CsrfProtected,
) -> Response:
    membership = selectors.get_membership(db, membership_id)
    try:
        if membership is None or membership.agency_code != agency_code:
            raise MembershipNotFound()
        service.revoke(db, ctx, membership_id)
    except ProblemError as error:
        db.rollback()
        return _operator_agency_page(request, db, ctx, agency_code, error)
    return RedirectResponse(f"/workspace/operator/agencies/{agency_code}", status_code=303)


@operator_router.get("/workspace/operator/audit", response_class=HTMLResponse)
def operator_audit(request: Request, db: DbSession, ctx: Operator) -> HTMLResponse:
    """The platform's own trail: operator actions that concern no one agency."""
    trail = selectors.audit_trail(db, None)
    return render(
        request,
        "workspace/audit.html",
        {"ctx": ctx, "agency": None, "trail": trail, "names": _names(db, {e.actor for e in trail})},
    )


# --- an agency's workspace ----------------------------------------------------------------------------


@router.get("/workspace/{agency_code}", response_class=HTMLResponse)
def agency_home(request: Request, agency_code: str, db: DbSession, ctx: AnyStaff) -> HTMLResponse:
    """The agency's home: the parts of its workspace this person's roles open."""
    agency = agency_selectors.get_agency_by_code(db, agency_code)
    todo = duties.todo(db, agency.code, duties.current_year())
    return render(request, "workspace/agency.html", {"ctx": ctx, "agency": agency, "todo": todo})


def _staff_page(
    request: Request,
    db: Session,
    ctx: StaffContext,
    error: ProblemError | None = None,
    form: dict[str, str] | None = None,
) -> HTMLResponse:
    agency = agency_selectors.get_agency_by_code(db, ctx.agency_code)
    members = selectors.members(db, agency.code)
    return render(
        request,
        "workspace/staff.html",
        {
            "ctx": ctx,
            "agency": agency,
            "members": members,
            "names": _names(db, {m.national_code for m in members}),
            "roles": AGENCY_ROLES,
            "form": form or {},
        },
        error=error,
    )


@router.get("/workspace/{agency_code}/staff", response_class=HTMLResponse)
def agency_staff_page(request: Request, db: DbSession, ctx: Administrator) -> HTMLResponse:
    """The agency's staff with their roles; appoint by national code, revoke."""
    return _staff_page(request, db, ctx)


@router.post("/workspace/{agency_code}/staff", response_class=HTMLResponse)
def agency_appoint(
    request: Request,
    db: DbSession,
    ctx: AdministratorStepUp,
    _: CsrfProtected,
    national_code: Annotated[str, Form(max_length=20)] = "",
    role: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    try:
        service.appoint(
            db, ctx, national_code=national_code, role=service.parse_role(role), agency_code=ctx.agency_code
        )
    except ProblemError as error:
        db.rollback()
        return _staff_page(request, db, ctx, error, {"national_code": national_code, "role": role})
    return RedirectResponse(f"/workspace/{ctx.agency_code}/staff", status_code=303)


@router.post("/workspace/{agency_code}/staff/{membership_id}/revoke", response_class=HTMLResponse)
def agency_revoke(
    request: Request, membership_id: str, db: DbSession, ctx: AdministratorStepUp, _: CsrfProtected
) -> Response:
    try:
        service.revoke(db, ctx, membership_id)
    except ProblemError as error:
        db.rollback()
        return _staff_page(request, db, ctx, error)
    return RedirectResponse(f"/workspace/{ctx.agency_code}/staff", status_code=303)


@router.get("/workspace/{agency_code}/audit", response_class=HTMLResponse)
def agency_audit(request: Request, db: DbSession, ctx: AuditReader) -> HTMLResponse:
    """The agency's audit trail: every staff action in its workspace, newest first."""
    agency = agency_selectors.get_agency_by_code(db, ctx.agency_code)
    trail = selectors.audit_trail(db, agency.code)
    return render(
        request,
        "workspace/audit.html",
        {"ctx": ctx, "agency": agency, "trail": trail, "names": _names(db, {e.actor for e in trail})},
    )
