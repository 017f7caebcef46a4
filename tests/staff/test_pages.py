"""The workspace pages and their boundaries: signed out, another agency, the wrong role, a level-1 session
on an administrative action; the operator's agencies; the header's link."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import unquote

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from panjereh.agencies import selectors as agency_selectors
from panjereh.staff import selectors
from panjereh.staff.constants import Role
from tests.staff.conftest import ADMIN, DESIGNER, NOBODY, OFFICER, OPERATOR, OTHER_ADMIN
from tests.support.browsers import csrf_token
from tests.support.factories import create_card

Browser = Callable[..., TestClient]


def test_signed_out_is_401_for_api_callers_and_the_login_page_for_browsers(
    staffed: Session, client: TestClient
) -> None:
    for path in ("/workspace", "/workspace/alpha", "/workspace/alpha/staff", "/workspace/operator/agencies"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 401, path
        assert response.json()["code"] == "identity.login_required"
        page = client.get(path, headers={"accept": "text/html"}, follow_redirects=False)
        assert page.status_code == 303 and page.headers["location"].startswith("/login?next=")


def test_the_workspace_home_lists_the_agencies_a_person_works_for(staffed: Session, browser: Browser) -> None:
    page = browser(DESIGNER).get("/workspace")
    assert page.status_code == 200
    assert 'data-agency="alpha"' in page.text and 'data-agency="beta"' not in page.text
    assert 'id="operator-link"' not in page.text
    assert 'id="operator-link"' in browser(OPERATOR).get("/workspace").text
    assert 'id="no-workplace"' in browser(NOBODY).get("/workspace").text


def test_the_header_links_the_workspace_for_staff_only(staffed: Session, browser: Browser) -> None:
    assert 'id="workspace-link"' in browser(OFFICER, level=1).get("/services").text
    assert 'id="workspace-link"' not in browser(NOBODY).get("/services").text


def test_the_agency_home_shows_the_parts_the_roles_open(staffed: Session, browser: Browser) -> None:
    admin = browser(ADMIN).get("/workspace/alpha").text
    assert 'data-part="staff"' in admin and 'data-part="audit"' in admin
    designer = browser(DESIGNER).get("/workspace/alpha").text
    assert 'data-part="staff"' not in designer and 'data-part="audit"' in designer
    officer = browser(OFFICER, level=1).get("/workspace/alpha")
    assert officer.status_code == 200 and 'data-part="audit"' not in officer.text
    assert 'id="level-note"' in officer.text


def test_the_agency_home_lists_what_stands_between_it_and_the_years_duties(
    staffed: Session, browser: Browser
) -> None:
    create_card(staffed, "alpha", slug="alpha-copy", offered_through_window=False)
    staffed.commit()
    for person, level in ((ADMIN, 2), (OFFICER, 1)):
        page = browser(person, level=level).get("/workspace/alpha")
        assert 'data-todo="not_through_window" data-count="1"' in page.text, person
        assert 'data-todo="duty_through_window"' in page.text
        assert 'href="/services/alpha-copy"' in page.text
    # Nothing of alpha's list in beta's workspace.
    assert "alpha-copy" not in browser(OTHER_ADMIN).get("/workspace/beta").text


def test_another_agencys_staff_see_none_of_its_workspace(staffed: Session, browser: Browser) -> None:
    other = browser(OTHER_ADMIN)
    for path in ("/workspace/alpha", "/workspace/alpha/staff", "/workspace/alpha/audit"):
        response = other.get(path)
        assert response.status_code == 403, path
        assert "staff.forbidden" in response.text
    token = csrf_token(other, "/workspace/beta/staff")
    sent = other.post(
        "/workspace/alpha/staff", data={"csrf_token": token, "national_code": NOBODY, "role": "officer"}
    )
    assert sent.status_code == 403
    assert selectors.roles_in(staffed, NOBODY, "alpha") == frozenset()


def test_the_wrong_role_is_refused(staffed: Session, browser: Browser) -> None:
    designer, officer = browser(DESIGNER), browser(OFFICER)
    assert designer.get("/workspace/alpha/staff").status_code == 403
    assert designer.get("/workspace/alpha/audit").status_code == 200  # reviewers read the trail
    assert officer.get("/workspace/alpha/audit").status_code == 403
    assert browser(ADMIN).get("/workspace/operator/agencies").status_code == 403


def test_a_level_1_administrator_is_sent_to_step_up_and_nothing_changes(
    staffed: Session, browser: Browser
) -> None:
    admin = browser(ADMIN, level=1)
    assert admin.get("/workspace/alpha/staff").status_code == 200  # reading needs no step-up
    token = csrf_token(admin, "/workspace/alpha/staff")
    sent = admin.post(
        "/workspace/alpha/staff",
        data={"csrf_token": token, "national_code": NOBODY, "role": "designer"},
        headers={"referer": "http://testserver/workspace/alpha/staff"},
        follow_redirects=False,
    )
    assert sent.status_code == 303
    location = unquote(sent.headers["location"])
    assert location == "/login/step-up?next=/workspace/alpha/staff"
    assert selectors.roles_in(staffed, NOBODY, "alpha") == frozenset()
    assert selectors.audit_trail(staffed, "alpha") == []


def test_an_administrator_appoints_and_revokes_and_the_agency_reads_it(
    staffed: Session, browser: Browser
) -> None:
    admin = browser(ADMIN)
    token = csrf_token(admin, "/workspace/alpha/staff")
    sent = admin.post(
        "/workspace/alpha/staff",
        data={"csrf_token": token, "national_code": "۰۰۷۶۲۲۹۶۴۵", "role": "developer"},
        follow_redirects=False,
    )
    assert sent.status_code == 303 and sent.headers["location"] == "/workspace/alpha/staff"
    assert selectors.roles_in(staffed, NOBODY, "alpha") == {Role.DEVELOPER}
    page = admin.get("/workspace/alpha/staff").text
    assert f'data-member="{NOBODY}" data-role="developer"' in page
    [membership] = selectors.members(staffed, "alpha", Role.DEVELOPER)
    revoked = admin.post(f"/workspace/alpha/staff/{membership.id}/revoke", data={"csrf_token": token})
    assert revoked.status_code == 200 and f'data-member="{NOBODY}"' not in revoked.text
    trail = browser(DESIGNER).get("/workspace/alpha/audit").text
    assert 'data-action="staff.appointed"' in trail and 'data-action="staff.revoked"' in trail
    assert 'data-action="staff.appointed"' not in browser(OTHER_ADMIN).get("/workspace/beta/audit").text


def test_a_refused_appointment_is_shown_on_the_form(staffed: Session, browser: Browser) -> None:
    admin = browser(ADMIN)
    token = csrf_token(admin, "/workspace/alpha/staff")
    bad_code = admin.post(
        "/workspace/alpha/staff", data={"csrf_token": token, "national_code": "12345", "role": "officer"}
    )
    assert bad_code.status_code == 422 and 'data-code="staff.invalid_membership"' in bad_code.text
    bad_role = admin.post(
        "/workspace/alpha/staff", data={"csrf_token": token, "national_code": NOBODY, "role": "operator"}
    )
    assert bad_role.status_code == 422
    again = admin.post(
        "/workspace/alpha/staff", data={"csrf_token": token, "national_code": OFFICER, "role": "officer"}
    )
    assert again.status_code == 409
    no_csrf = admin.post("/workspace/alpha/staff", data={"national_code": NOBODY, "role": "officer"})
    assert no_csrf.status_code == 403
    assert selectors.roles_in(staffed, NOBODY, "alpha") == frozenset()


def test_revoking_another_agencys_membership_through_ones_own_is_not_found(
    staffed: Session, browser: Browser
) -> None:
    admin = browser(ADMIN)
    [beta_admin] = selectors.members(staffed, "beta")
    token = csrf_token(admin, "/workspace/alpha/staff")
    response = admin.post(f"/workspace/alpha/staff/{beta_admin.id}/revoke", data={"csrf_token": token})
    assert response.status_code == 404
    staffed.expire_all()
    assert selectors.roles_in(staffed, OTHER_ADMIN, "beta") == {Role.ADMINISTRATOR}


def test_an_operator_opens_an_agency_and_appoints_its_administrators(
    staffed: Session, browser: Browser
) -> None:
    operator = browser(OPERATOR)
    token = csrf_token(operator, "/workspace/operator/agencies/new")
    created = operator.post(
        "/workspace/operator/agencies/new",
        data={"csrf_token": token, "code": "gamma", "name_fa": "دستگاه گاما", "name_en": "Gamma",
              "kind": "company", "administrator": NOBODY},
        follow_redirects=False,
    )  # fmt: skip
    assert created.status_code == 303 and created.headers["location"] == "/workspace/operator/agencies/gamma"
    assert agency_selectors.get_agency_by_code(staffed, "gamma").kind.value == "company"
    assert 'data-agency="gamma"' in browser(NOBODY).get("/workspace").text
    page = operator.get("/workspace/operator/agencies/gamma").text
    assert f'data-member="{NOBODY}"' in page
    appointed = operator.post(
        "/workspace/operator/agencies/gamma/administrators",
        data={"csrf_token": token, "national_code": DESIGNER},
    )
    assert appointed.status_code == 200 and f'data-member="{DESIGNER}"' in appointed.text
    [first, _second] = sorted(selectors.members(staffed, "gamma"), key=lambda m: m.national_code != NOBODY)
    revoked = operator.post(
        f"/workspace/operator/agencies/gamma/administrators/{first.id}/revoke", data={"csrf_token": token}
    )
    assert revoked.status_code == 200 and f'data-member="{NOBODY}"' not in revoked.text
    assert browser(NOBODY).get("/workspace/gamma").status_code == 403
    duplicate = operator.post(
        "/workspace/operator/agencies/new",
        data={"csrf_token": token, "code": "gamma", "name_fa": "x", "name_en": "x"},
    )
    assert duplicate.status_code == 422 and 'data-code="agencies.invalid"' in duplicate.text


def test_a_level_1_operator_steps_up_before_opening_an_agency(staffed: Session, browser: Browser) -> None:
    operator = browser(OPERATOR, level=1)
    token = csrf_token(operator, "/workspace/operator/agencies/new")
    sent = operator.post(
        "/workspace/operator/agencies/new",
        data={"csrf_token": token, "code": "delta", "name_fa": "د", "name_en": "D"},
        follow_redirects=False,
    )
    assert sent.status_code == 303 and sent.headers["location"].startswith("/login/step-up?next=")
    assert unquote(sent.headers["location"]).endswith("next=/workspace/operator")
    assert agency_selectors.find_agency_by_code(staffed, "delta") is None


def test_only_operators_reach_the_operators_pages(staffed: Session, browser: Browser) -> None:
    for who in (ADMIN, NOBODY):
        client = browser(who)
        assert client.get("/workspace/operator/agencies").status_code == 403
        assert client.get("/workspace/operator/audit").status_code == 403
    assert browser(OPERATOR).get("/workspace/operator/audit").status_code == 200
