"""The agency's staff see the problem reports of their services and answer them; the citizen reads the reply
in the inbox. Every role boundary: signed out, a citizen, another agency's staff, a reader role, CSRF."""

from __future__ import annotations

import re
from collections.abc import Callable

import httpx
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from panjereh.catalog.models import ServiceCard
from panjereh.feedback import service
from panjereh.feedback.constants import ReportState
from panjereh.feedback.models import ProblemReport
from panjereh.staff import selectors as staff_selectors
from tests.feedback.conftest import ADMIN, BETA_ADMIN, CITIZEN, OFFICER, OTHER_CITIZEN, REVIEWER
from tests.support.browsers import csrf_token

Browser = Callable[..., TestClient]
PAGE = "/workspace/alpha/feedback"


def _reports(db: Session) -> dict[str, ProblemReport]:
    named = service.report_problem(
        db,
        national_code=CITIZEN,
        slug="alpha-permit",
        category="page_broken",
        text="دکمهٔ پرداخت <b>کار</b> نمی‌کند",
    )
    hidden = service.report_problem(
        db, national_code=OTHER_CITIZEN, slug="alpha-permit", category="other", text="پنهان", anonymous=True
    )
    beta = service.report_problem(db, national_code=CITIZEN, slug="beta-permit", category="other", text="بتا")
    db.commit()
    return {"named": named, "hidden": hidden, "beta": beta}


def _answer(
    browser: TestClient, report_id: str, state: str, reply: str, agency: str = "alpha"
) -> httpx.Response:
    token = csrf_token(browser, f"/workspace/{agency}/feedback")
    return browser.post(
        f"/workspace/{agency}/feedback/{report_id}",
        data={"csrf_token": token, "state": state, "reply": reply},
        follow_redirects=False,
    )


def test_staff_see_their_agencys_reports_and_anonymous_ones_without_a_name(
    db: Session, browser: Browser, cards: dict[str, ServiceCard]
) -> None:
    reports = _reports(db)
    page = browser(REVIEWER).get(PAGE)
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    assert reports["named"].id in page.text and reports["hidden"].id in page.text
    assert reports["beta"].id not in page.text and "بتا" not in page.text
    assert "&lt;b&gt;کار&lt;/b&gt;" in page.text  # escaped
    assert CITIZEN in re.sub(r"[۰-۹]", lambda m: str("۰۱۲۳۴۵۶۷۸۹".index(m.group())), page.text)
    assert OTHER_CITIZEN not in page.text and "۰۷۹۰۴۱۹۹۰۴" not in page.text  # the anonymous reporter
    # A reader role sees no answer form.
    assert f'action="/workspace/alpha/feedback/{reports["named"].id}"' not in page.text
    home = browser(REVIEWER).get("/workspace/alpha").text
    assert 'data-part="feedback"' in home


def test_an_officer_answers_and_the_citizen_reads_the_reply(
    db: Session, browser: Browser, cards: dict[str, ServiceCard]
) -> None:
    reports = _reports(db)
    officer = browser(OFFICER)
    done = _answer(officer, reports["named"].id, "acknowledged", "در حال بررسی است")
    assert done.status_code == 303
    done = _answer(officer, reports["named"].id, "resolved", "درست شد؛ دوباره امتحان کنید")
    assert done.status_code == 303
    db.expire_all()
    row = db.get(ProblemReport, reports["named"].id)
    assert row is not None and row.state is ReportState.RESOLVED and row.handled_by == OFFICER
    # Resolved is final: answering again is a conflict, shown on the page.
    again = _answer(officer, reports["named"].id, "acknowledged", "x")
    assert again.status_code == 409 and "feedback.report_closed" in again.text
    # The citizen reads the reply in the inbox and on their reports page.
    citizen = browser(CITIZEN)
    inbox = citizen.get("/account/inbox").text
    assert "درست شد؛ دوباره امتحان کنید" in inbox and "در حال بررسی است" in inbox
    mine = citizen.get("/account/feedback").text
    assert "درست شد؛ دوباره امتحان کنید" in mine and 'data-state="resolved"' in mine
    # The other reporter got nothing.
    assert "درست شد" not in browser(OTHER_CITIZEN).get("/account/inbox").text
    # The answer is in the agency's audit trail.
    actions = [entry.action for entry in staff_selectors.audit_trail(db, "alpha")]
    assert "feedback.resolved" in actions and "feedback.acknowledged" in actions


def test_the_role_boundaries(
    db: Session, browser: Browser, client: TestClient, cards: dict[str, ServiceCard]
) -> None:
    reports = _reports(db)
    target = f"{PAGE}/{reports['named'].id}"
    # Signed out: sent to login (or 401 for an API client); nothing changes.
    assert client.get(PAGE, headers={"accept": "application/json"}).status_code == 401
    assert client.post(
        target, data={"state": "resolved", "reply": "x"}, headers={"accept": "application/json"}
    ).status_code in (401, 403)
    # A citizen with no role, and another agency's administrator: 403.
    assert browser(CITIZEN).get(PAGE).status_code == 403
    beta = browser(BETA_ADMIN)
    assert beta.get(PAGE).status_code == 403
    token = csrf_token(beta, "/workspace/beta/feedback")
    assert beta.post(target, data={"csrf_token": token, "state": "resolved", "reply": "x"}).status_code == 403
    # Beta's administrator cannot reach alpha's report through beta's own path either.
    through_beta = beta.post(
        f"/workspace/beta/feedback/{reports['named'].id}",
        data={"csrf_token": token, "state": "resolved", "reply": "x"},
    )
    assert through_beta.status_code == 404
    # A reader role of the agency: 403 on answering.
    reviewer = browser(REVIEWER)
    token = csrf_token(reviewer, PAGE)
    assert (
        reviewer.post(target, data={"csrf_token": token, "state": "resolved", "reply": "x"}).status_code
        == 403
    )
    # The administrator without a CSRF token, or with a forged one: 403.
    admin = browser(ADMIN)
    admin.get(PAGE)
    assert admin.post(target, data={"state": "resolved", "reply": "x"}).status_code == 403
    assert (
        admin.post(target, data={"csrf_token": "a.b", "state": "resolved", "reply": "x"}).status_code == 403
    )
    # Malformed answers: an unknown state, an empty or huge reply, an unknown report id.
    token = csrf_token(admin, PAGE)
    for data in (
        {"state": "open", "reply": "x"},
        {"state": "nonsense", "reply": "x"},
        {"state": "resolved", "reply": " "},
        {"state": "resolved", "reply": "x" * 2001},
        {"reply": "x"},
    ):
        answer = admin.post(target, data={"csrf_token": token, **data}, follow_redirects=False)
        assert answer.status_code == 422, (data, answer.status_code)
    assert (
        admin.post(
            f"{PAGE}/{'f' * 32}", data={"csrf_token": token, "state": "resolved", "reply": "x"}
        ).status_code
        == 404
    )
    assert (
        admin.post(
            f"{PAGE}/{'f' * 5000}", data={"csrf_token": token, "state": "resolved", "reply": "x"}
        ).status_code
        == 404
    )
    db.expire_all()
    assert db.get(ProblemReport, reports["named"].id).state is ReportState.OPEN  # type: ignore[union-attr]
    # A level-1 administrator may answer (no step-up: a reply is not a security setting).
    assert _answer(browser(ADMIN, level=1), reports["named"].id, "acknowledged", "دیدیم").status_code == 303


def test_a_report_about_the_window_itself_goes_to_the_platform_agency(
    db: Session, browser: Browser, cards: dict[str, ServiceCard]
) -> None:
    from panjereh.staff.constants import Role
    from tests.support.factories import create_agency, create_staff

    create_agency(db, "ito")
    create_staff(db, ADMIN, "ito", Role.OFFICER)
    db.commit()
    citizen = browser(CITIZEN)
    page = citizen.get("/feedback?category=accessibility")
    assert page.status_code == 200 and '<option value="accessibility" selected>' in page.text
    assert 'action="/services' not in page.text  # no rating of the window itself
    token = csrf_token(citizen, "/feedback")
    done = citizen.post(
        "/feedback/problems",
        data={"csrf_token": token, "category": "accessibility", "text": "کنتراست دکمه‌ها کم است"},
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"].startswith("/feedback?feedback=reported")
    listed = browser(ADMIN).get("/workspace/ito/feedback").text
    assert "کنتراست دکمه‌ها کم است" in listed and "پنجرهٔ ملی خدمات" in listed
    assert "کنتراست" not in browser(ADMIN).get(PAGE).text
