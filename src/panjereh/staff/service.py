"""Writes of staff: appoint, revoke, open an agency, the audit trail (services flush; the caller commits).

Who may do what: an operator opens agencies and appoints or revokes their administrators; an agency's
administrator appoints or revokes any role in that agency. Operators themselves are granted from the
command line (`panjereh staff grant`) or the demo seed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from panjereh.agencies import service as agency_service
from panjereh.agencies.constants import AgencyKind
from panjereh.core.db import utcnow
from panjereh.core.identifiers import InvalidIdentifier, normalize_national_code
from panjereh.staff import selectors
from panjereh.staff.constants import (
    AGENCY_ROLES,
    OPERATOR_SCOPE,
    Environment,
    RegistrationKind,
    RegistrationState,
    Role,
)
from panjereh.staff.exceptions import (
    InvalidMembership,
    LastAdministrator,
    MembershipExists,
    MembershipNotFound,
    NotStaff,
    RegistrationNotFound,
)
from panjereh.staff.models import Registration, StaffAuditEntry, StaffMembership

if TYPE_CHECKING:
    from panjereh.agencies.models import Agency

SYSTEM = "system"


@dataclass(frozen=True)
class StaffContext:
    """Who acts in a workspace: the person, the agency (empty for an operator), their roles, the session's
    assurance level."""

    national_code: str
    name: str
    agency_code: str
    roles: frozenset[Role]
    level: int

    def has(self, *roles: Role) -> bool:
        """Whether this person holds one of these roles here."""
        return not self.roles.isdisjoint(roles)

    @property
    def is_operator(self) -> bool:
        return Role.OPERATOR in self.roles


def context_for(
    session: Session, *, national_code: str, name: str, agency_code: str, level: int, roles: tuple[Role, ...]
) -> StaffContext:
    """The staff context in this agency when the person holds one of `roles` there (all roles when
    empty), else NotStaff. An agency that does not exist has no staff, so it is refused the same way."""
    held = selectors.roles_in(session, national_code, agency_code)
    if not held or (roles and held.isdisjoint(roles)):
        raise NotStaff(
            f"No role {_names(roles) or 'at all'} in agency {agency_code!r}.",
            f"نقش لازم ({_names(roles) or 'هیچ نقشی'}) در دستگاه «{agency_code}» به شما داده نشده است.",
        )
    return StaffContext(national_code, name, agency_code, held, level)


def operator_context(session: Session, *, national_code: str, name: str, level: int) -> StaffContext:
    """The operator's context, else NotStaff."""
    if not selectors.is_operator(session, national_code):
        raise NotStaff("Only the platform's operators may do this.", "این کار فقط از راهبران پنجره برمی‌آید.")
    return StaffContext(national_code, name, "", frozenset({Role.OPERATOR}), level)


def _names(roles: tuple[Role, ...]) -> str:
    return ", ".join(role.value for role in roles)


def audit(
    session: Session,
    ctx: StaffContext,
    action: str,
    target: str = "",
    detail: dict[str, Any] | None = None,
    *,
    agency_code: str | None = None,
) -> StaffAuditEntry:
    """Record a staff action in the trail of the agency it concerns (`agency_code`, else the context's;
    an operator's action on no agency goes to the platform's trail)."""
    entry = StaffAuditEntry(
        agency_code=agency_code or ctx.agency_code or None,
        actor=ctx.national_code,
        action=action,
        target=target[:2000],
        detail=detail or {},
        at=utcnow(),
    )
    session.add(entry)
    session.flush()
    return entry


def _national_code(raw: str) -> str:
    try:
        return normalize_national_code(raw)
    except InvalidIdentifier as error:
        raise InvalidMembership(
            f"The national code {raw[:20]!r} is not valid ({error.reason}).",
            f"کد ملی «{raw[:20]}» معتبر نیست.",
        ) from error


def grant(
    session: Session, national_code: str, role: Role, agency_code: str | None, *, granted_by: str = SYSTEM
) -> StaffMembership:
    """Give a role (idempotent: a role held already is returned as it is). No rights are checked: the
    callers are `appoint` (which checks them), the seed and the command line."""
    national_code = _national_code(national_code)
    if (role is Role.OPERATOR) != (agency_code is None):
        raise InvalidMembership(
            "An operator has no agency; every other role has one.",
            "راهبر پنجره به دستگاهی وابسته نیست و هر نقش دیگری به یک دستگاه.",
        )
    for held in selectors.holders(session, national_code, role):
        if held.agency_code == agency_code:
            return held
    membership = StaffMembership(
        national_code=national_code,
        agency_code=agency_code,
        role=role,
        granted_by=granted_by,
        created_at=utcnow(),
    )
    session.add(membership)
    session.flush()
    return membership


def _may_manage(ctx: StaffContext, agency_code: str, role: Role) -> None:
    if ctx.is_operator and role is Role.ADMINISTRATOR:
        return
    if ctx.agency_code == agency_code and Role.ADMINISTRATOR in ctx.roles and role in AGENCY_ROLES:
        return
    raise NotStaff(
        f"You may not appoint or revoke the role {role.value} in agency {agency_code!r}.",
        f"شما نمی‌توانید نقش «{role.value}» را در دستگاه «{agency_code}» بدهید یا پس بگیرید.",
    )


def parse_role(raw: str) -> Role:
    """An agency role named in a form, else InvalidMembership."""
    try:
        role = Role(raw)
    except ValueError:
        role = None
    if role is None or role not in AGENCY_ROLES:
        raise InvalidMembership(
            f"No agency role {raw[:40]!r}.", f"نقش «{raw[:40]}» در دستگاه تعریف نشده است."
        )
    return role


def appoint(
    session: Session, ctx: StaffContext, *, national_code: str, role: Role, agency_code: str
) -> StaffMembership:
    """Appoint a person to a role in an agency (administrators: any role there; operators: administrators)."""
    _may_manage(ctx, agency_code, role)
    national_code = _national_code(national_code)
    if role in selectors.roles_in(session, national_code, agency_code):
        raise MembershipExists(f"{national_code} is already {role.value} in {agency_code}.")
    membership = grant(session, national_code, role, agency_code, granted_by=ctx.national_code)
    audit(
        session,
        ctx,
        "staff.appointed",
        national_code,
        {"role": role.value, "membership": membership.id},
        agency_code=agency_code,
    )
    return membership


def revoke(session: Session, ctx: StaffContext, membership_id: str) -> StaffMembership:
    """Revoke a membership; another agency's membership is 'not found'. The last administrator stays
    unless an operator revokes them."""
    membership = selectors.get_membership(session, membership_id)
    if membership is None or membership.revoked_at is not None or membership.agency_code is None:
        raise MembershipNotFound()
    if not ctx.is_operator and membership.agency_code != ctx.agency_code:
        raise MembershipNotFound()
    _may_manage(ctx, membership.agency_code, membership.role)
    if (
        membership.role is Role.ADMINISTRATOR
        and not ctx.is_operator
        and len(selectors.members(session, membership.agency_code, Role.ADMINISTRATOR)) <= 1
    ):
        raise LastAdministrator()
    membership.revoked_at = utcnow()
    membership.revoked_by = ctx.national_code
    session.flush()
    audit(
        session,
        ctx,
        "staff.revoked",
        membership.national_code,
        {"role": membership.role.value, "membership": membership.id},
        agency_code=membership.agency_code,
    )
    return membership


def open_agency(
    session: Session,
    ctx: StaffContext,
    *,
    code: str,
    name_fa: str,
    name_en: str,
    kind: AgencyKind = AgencyKind.ORGANIZATION,
    administrator: str | None = None,
) -> Agency:
    """An operator opens a new agency, and appoints its first administrator when one is named."""
    if not ctx.is_operator:
        raise NotStaff(
            "Only the platform's operators open agencies.", "فقط راهبران پنجره دستگاه تازه می‌سازند."
        )
    agency = agency_service.create_agency(
        session, code=code, name_fa=name_fa, name_en=name_en, kind=kind, reserved={OPERATOR_SCOPE}
    )
    audit(session, ctx, "agency.created", agency.code, {"name_fa": agency.name_fa}, agency_code=agency.code)
    if administrator:
        appoint(session, ctx, national_code=administrator, role=Role.ADMINISTRATOR, agency_code=agency.code)
    return agency


def parse_environment(raw: str) -> Environment:
    """The environment named in a form (anything else is the sandbox: the safe default)."""
    return Environment.PRODUCTION if raw == Environment.PRODUCTION.value else Environment.SANDBOX


def register(
    session: Session,
    ctx: StaffContext,
    kind: RegistrationKind,
    reference: str,
    environment: Environment,
    *,
    name: str = "",
) -> Registration:
    """Record a registration: the sandbox's is in effect at once, production's waits for an operator."""
    state = RegistrationState.ACTIVE if environment is Environment.SANDBOX else RegistrationState.PENDING
    registration = Registration(
        agency_code=ctx.agency_code,
        kind=kind,
        reference=reference,
        name=name[:200],
        environment=environment,
        state=state,
        requested_by=ctx.national_code,
        requested_at=utcnow(),
    )
    session.add(registration)
    session.flush()
    audit(
        session,
        ctx,
        f"{kind.value}.registered",
        reference,
        {"environment": environment.value, "state": state.value},
    )
    return registration


def decide_registration(
    session: Session, ctx: StaffContext, registration_id: str, *, approve: bool, note: str = ""
) -> Registration:
    """An operator approves or refuses a production registration (recorded in the agency's trail)."""
    if not ctx.is_operator:
        raise NotStaff(
            "Only the platform's operators decide registrations.", "فقط راهبران پنجره تصمیم می‌گیرند."
        )
    registration = selectors.get_registration(session, registration_id)
    if registration is None or registration.state is not RegistrationState.PENDING:
        raise RegistrationNotFound()
    registration.state = RegistrationState.ACTIVE if approve else RegistrationState.REFUSED
    registration.decided_by = ctx.national_code
    registration.decided_at = utcnow()
    registration.note = note.strip()[:2000]
    session.flush()
    audit(
        session,
        ctx,
        f"{registration.kind.value}.{'approved' if approve else 'refused'}",
        registration.reference,
        {"note": registration.note} if registration.note else {},
        agency_code=registration.agency_code,
    )
    return registration
