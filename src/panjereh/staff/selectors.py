"""Reads of staff: a person's roles, an agency's staff, the operators, an agency's audit trail."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from panjereh.staff.constants import RegistrationKind, RegistrationState, Role
from panjereh.staff.models import Registration, StaffAuditEntry, StaffMembership

AUDIT_PAGE = 200


def roles_in(session: Session, national_code: str, agency_code: str) -> frozenset[Role]:
    """The roles this person holds now in this agency (empty when none)."""
    rows = session.scalars(
        select(StaffMembership.role).where(
            StaffMembership.national_code == national_code,
            StaffMembership.agency_code == agency_code,
            StaffMembership.revoked_at.is_(None),
        )
    )
    return frozenset(rows)


def is_operator(session: Session, national_code: str) -> bool:
    """Whether this person is a platform operator now."""
    found = session.scalar(
        select(StaffMembership.id).where(
            StaffMembership.national_code == national_code,
            StaffMembership.role == Role.OPERATOR,
            StaffMembership.agency_code.is_(None),
            StaffMembership.revoked_at.is_(None),
        )
    )
    return found is not None


def workplaces(session: Session, national_code: str) -> dict[str, frozenset[Role]]:
    """Every agency this person works for now, with their roles there, by agency code."""
    rows = session.execute(
        select(StaffMembership.agency_code, StaffMembership.role).where(
            StaffMembership.national_code == national_code,
            StaffMembership.agency_code.is_not(None),
            StaffMembership.revoked_at.is_(None),
        )
    )
    found: dict[str, set[Role]] = defaultdict(set)
    for agency_code, role in rows:
        if agency_code is not None:
            found[agency_code].add(role)
    return {code: frozenset(roles) for code, roles in sorted(found.items())}


def is_staff(session: Session, national_code: str) -> bool:
    """Whether this person holds any role now, in an agency or on the platform (the header's link)."""
    found = session.scalar(
        select(StaffMembership.id)
        .where(StaffMembership.national_code == national_code, StaffMembership.revoked_at.is_(None))
        .limit(1)
    )
    return found is not None


def members(session: Session, agency_code: str, role: Role | None = None) -> Sequence[StaffMembership]:
    """The agency's current memberships (of one role, if given), by person and role."""
    query = select(StaffMembership).where(
        StaffMembership.agency_code == agency_code, StaffMembership.revoked_at.is_(None)
    )
    if role is not None:
        query = query.where(StaffMembership.role == role)
    return session.scalars(query.order_by(StaffMembership.national_code, StaffMembership.role)).all()


def holders(session: Session, national_code: str, role: Role) -> Sequence[StaffMembership]:
    """This person's current memberships in one role (an officer's agencies, for instance)."""
    return session.scalars(
        select(StaffMembership)
        .where(
            StaffMembership.national_code == national_code,
            StaffMembership.role == role,
            StaffMembership.revoked_at.is_(None),
        )
        .order_by(StaffMembership.agency_code)
    ).all()


def operators(session: Session) -> Sequence[StaffMembership]:
    """The platform's current operators."""
    return session.scalars(
        select(StaffMembership)
        .where(
            StaffMembership.role == Role.OPERATOR,
            StaffMembership.agency_code.is_(None),
            StaffMembership.revoked_at.is_(None),
        )
        .order_by(StaffMembership.national_code)
    ).all()


def get_membership(session: Session, membership_id: str) -> StaffMembership | None:
    """One membership by id (current or revoked), or None."""
    return session.get(StaffMembership, membership_id)


def audit_trail(
    session: Session, agency_code: str | None, limit: int = AUDIT_PAGE
) -> Sequence[StaffAuditEntry]:
    """The agency's audit trail, newest first (`None`: the platform-wide operator actions)."""
    condition = (
        StaffAuditEntry.agency_code.is_(None)
        if agency_code is None
        else StaffAuditEntry.agency_code == agency_code
    )
    return session.scalars(
        select(StaffAuditEntry).where(condition).order_by(StaffAuditEntry.at.desc()).limit(limit)
    ).all()


def administrator_counts(session: Session) -> dict[str, int]:
    """How many administrators each agency has now, by agency code (agencies with none are left out)."""
    rows = session.execute(
        select(StaffMembership.agency_code, func.count())
        .where(StaffMembership.role == Role.ADMINISTRATOR, StaffMembership.revoked_at.is_(None))
        .group_by(StaffMembership.agency_code)
    )
    return {code: count for code, count in rows.all() if code is not None}


def registrations(
    session: Session, agency_code: str, kind: RegistrationKind | None = None
) -> Sequence[Registration]:
    """The agency's registrations (of one kind, if given), newest first."""
    query = select(Registration).where(Registration.agency_code == agency_code)
    if kind is not None:
        query = query.where(Registration.kind == kind)
    return session.scalars(query.order_by(Registration.requested_at.desc())).all()


def registration_of(session: Session, kind: RegistrationKind, reference: str) -> Registration | None:
    """The newest registration of this thing (a service code, a client id), or None."""
    return session.scalars(
        select(Registration)
        .where(Registration.kind == kind, Registration.reference == reference)
        .order_by(Registration.requested_at.desc())
        .limit(1)
    ).first()


def pending_registrations(session: Session) -> Sequence[Registration]:
    """Production registrations waiting for an operator, oldest first."""
    return session.scalars(
        select(Registration)
        .where(Registration.state == RegistrationState.PENDING)
        .order_by(Registration.requested_at)
    ).all()


def get_registration(session: Session, registration_id: str) -> Registration | None:
    return session.get(Registration, registration_id)
