"""Staff rules: who may appoint and revoke which role where, the audit trail, malformed input."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from panjereh.agencies import selectors as agency_selectors
from panjereh.agencies.exceptions import InvalidAgency
from panjereh.staff import selectors, service
from panjereh.staff.constants import Role
from panjereh.staff.exceptions import (
    InvalidMembership,
    LastAdministrator,
    MembershipExists,
    MembershipNotFound,
    NotStaff,
)
from tests.staff.conftest import ADMIN, DESIGNER, NOBODY, OPERATOR, OTHER_ADMIN


def _ctx(db: Session, national_code: str, agency_code: str) -> service.StaffContext:
    return service.context_for(
        db, national_code=national_code, name="x", agency_code=agency_code, level=2, roles=()
    )


def _operator(db: Session) -> service.StaffContext:
    return service.operator_context(db, national_code=OPERATOR, name="x", level=2)


def test_roles_are_per_agency(staffed: Session) -> None:
    assert selectors.roles_in(staffed, DESIGNER, "alpha") == {Role.DESIGNER, Role.REVIEWER}
    assert selectors.roles_in(staffed, DESIGNER, "beta") == frozenset()
    assert selectors.workplaces(staffed, DESIGNER) == {"alpha": frozenset({Role.DESIGNER, Role.REVIEWER})}
    with pytest.raises(NotStaff):
        _ctx(staffed, OTHER_ADMIN, "alpha")
    with pytest.raises(NotStaff):
        service.context_for(
            staffed,
            national_code=DESIGNER,
            name="x",
            agency_code="alpha",
            level=2,
            roles=(Role.ADMINISTRATOR,),
        )
    with pytest.raises(NotStaff):
        _ctx(staffed, ADMIN, "no-such-agency")


def test_an_operator_has_no_agency_and_other_roles_need_one(staffed: Session) -> None:
    assert selectors.is_operator(staffed, OPERATOR) and not selectors.is_operator(staffed, ADMIN)
    with pytest.raises(NotStaff):
        service.operator_context(staffed, national_code=ADMIN, name="x", level=2)
    with pytest.raises(InvalidMembership):
        service.grant(staffed, NOBODY, Role.OPERATOR, "alpha")
    with pytest.raises(InvalidMembership):
        service.grant(staffed, NOBODY, Role.DESIGNER, None)


def test_an_administrator_appoints_in_their_agency_and_it_is_audited(staffed: Session) -> None:
    admin = _ctx(staffed, ADMIN, "alpha")
    membership = service.appoint(
        staffed, admin, national_code=NOBODY, role=Role.DEVELOPER, agency_code="alpha"
    )
    assert membership.granted_by == ADMIN
    assert Role.DEVELOPER in selectors.roles_in(staffed, NOBODY, "alpha")
    [entry] = selectors.audit_trail(staffed, "alpha")
    assert (entry.actor, entry.action, entry.target) == (ADMIN, "staff.appointed", NOBODY)
    assert entry.detail["role"] == "developer"
    assert selectors.audit_trail(staffed, "beta") == []
    with pytest.raises(MembershipExists):
        service.appoint(staffed, admin, national_code=NOBODY, role=Role.DEVELOPER, agency_code="alpha")


def test_an_administrator_cannot_appoint_or_revoke_in_another_agency(staffed: Session) -> None:
    admin = _ctx(staffed, ADMIN, "alpha")
    with pytest.raises(NotStaff):
        service.appoint(staffed, admin, national_code=NOBODY, role=Role.DESIGNER, agency_code="beta")
    [beta_admin] = selectors.members(staffed, "beta")
    with pytest.raises(MembershipNotFound):
        service.revoke(staffed, admin, beta_admin.id)
    assert beta_admin.revoked_at is None


def test_a_designer_cannot_appoint(staffed: Session) -> None:
    designer = _ctx(staffed, DESIGNER, "alpha")
    with pytest.raises(NotStaff):
        service.appoint(staffed, designer, national_code=NOBODY, role=Role.DESIGNER, agency_code="alpha")


def test_malformed_national_code_and_role(staffed: Session) -> None:
    admin = _ctx(staffed, ADMIN, "alpha")
    for bad in ("", "123", "0499370898", "abcdefghij", "1111111111"):
        with pytest.raises(InvalidMembership):
            service.appoint(staffed, admin, national_code=bad, role=Role.OFFICER, agency_code="alpha")
    for bad in ("", "operator", "king", "x" * 100):
        with pytest.raises(InvalidMembership):
            service.parse_role(bad)
    assert service.parse_role("reviewer") is Role.REVIEWER


def test_the_last_administrator_stays_unless_an_operator_revokes(staffed: Session) -> None:
    admin = _ctx(staffed, ADMIN, "alpha")
    [own] = selectors.members(staffed, "alpha", Role.ADMINISTRATOR)
    with pytest.raises(LastAdministrator):
        service.revoke(staffed, admin, own.id)
    revoked = service.revoke(staffed, _operator(staffed), own.id)
    assert revoked.revoked_at is not None and revoked.revoked_by == OPERATOR
    assert selectors.roles_in(staffed, ADMIN, "alpha") == frozenset()
    assert [e.action for e in selectors.audit_trail(staffed, "alpha")] == ["staff.revoked"]


def test_an_operator_appoints_administrators_only(staffed: Session) -> None:
    operator = _operator(staffed)
    service.appoint(staffed, operator, national_code=NOBODY, role=Role.ADMINISTRATOR, agency_code="beta")
    assert selectors.roles_in(staffed, NOBODY, "beta") == {Role.ADMINISTRATOR}
    with pytest.raises(NotStaff):
        service.appoint(staffed, operator, national_code=NOBODY, role=Role.DESIGNER, agency_code="beta")


def test_an_operator_opens_an_agency_with_its_first_administrator(staffed: Session) -> None:
    operator = _operator(staffed)
    service.open_agency(
        staffed, operator, code="new-agency", name_fa="دستگاه نو", name_en="New agency", administrator=NOBODY
    )
    assert agency_selectors.get_agency_by_code(staffed, "new-agency").name_en == "New agency"
    assert selectors.roles_in(staffed, NOBODY, "new-agency") == {Role.ADMINISTRATOR}
    assert {e.action for e in selectors.audit_trail(staffed, "new-agency")} == {
        "staff.appointed",
        "agency.created",
    }
    for code in ("operator", "alpha", "A", "1abc", "has space", "x" * 41):
        with pytest.raises(InvalidAgency):
            service.open_agency(staffed, operator, code=code, name_fa="ن", name_en="n")
    with pytest.raises(InvalidAgency):
        service.open_agency(staffed, operator, code="nameless", name_fa=" ", name_en="n")
    with pytest.raises(NotStaff):
        service.open_agency(staffed, _ctx(staffed, ADMIN, "alpha"), code="mine", name_fa="ن", name_en="n")
