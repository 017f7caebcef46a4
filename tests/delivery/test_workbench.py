"""The officer's workbench (issue 16, item 6): age and deadline from the service's time objective,
filters, assignment, the applicant's name, the inputs under their labels, the evidence fetched, the
uploads asked for, one decision form with reasons in Persian and English."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from panjereh.core.db import utcnow
from panjereh.delivery import selectors
from panjereh.delivery.constants import RequestState
from panjereh.delivery.models import ServiceRequest
from panjereh.delivery.service import Officer
from panjereh.identity import selectors as identity_selectors
from tests.delivery.conftest import DEMO, OFFICER, run_jobs
from tests.support.browsers import csrf_token
from tests.support.factories import create_officer

COLLEAGUE = "4032152314"
CSRF_PAGE = "/services/tax-clearance/apply"


@pytest.fixture
def officers(seeded: Session) -> tuple[Officer, Officer]:
    mine = create_officer(seeded, OFFICER, "agriculture")
    colleague = create_officer(seeded, COLLEAGUE, "agriculture")
    seeded.commit()
    return mine, colleague


def _name(session: Session, national_code: str) -> str:
    """An officer is shown by the name their citizen record has (made at their first login)."""
    citizen = identity_selectors.get_citizen_by_national_code(session, national_code)
    assert citizen is not None
    return citizen.display_name


def _farmer_card(client, key: str = "w-1", area: str = "12") -> str:
    response = client.post(
        "/api/v1/services/farmer-card/requests",
        json={"inputs": {"crop": "گندم", "area_hectares": area}},
        headers={"Idempotency-Key": key},
    )
    assert response.status_code == 201, response.text
    return str(response.json()["tracking_code"])


def _queued(login, worker, seeded: Session, count: int = 1) -> list[str]:
    citizen = login(DEMO)
    codes = [_farmer_card(citizen, key=f"w-{i}", area=str(12 + i)) for i in range(count)]
    run_jobs(worker)
    seeded.expire_all()
    assert all(selectors.request_by_tracking_code(seeded, c).state == RequestState.IN_QUEUE for c in codes)
    return codes


def _codes(page: str, codes: list[str]) -> list[str]:
    return [code for code in codes if f'data-code="{code}"' in page]


def test_the_list_shows_applicant_age_and_deadline_and_flags_the_overdue(
    login, worker, officers, seeded
) -> None:
    old, new = _queued(login, worker, seeded, 2)
    # The farmer card's time objective is 14 days: the old request was submitted 15 days ago.
    seeded.execute(
        update(ServiceRequest)
        .where(ServiceRequest.tracking_code == old)
        .values(created_at=utcnow() - timedelta(days=15, hours=3))
    )
    seeded.commit()
    staff = login(OFFICER)
    page = staff.get("/agency/queue").text
    assert _codes(page, [old, new]) == [old, new]  # oldest first
    assert "علی رضایی" in page  # the applicant's name
    assert (
        f'data-code="{old}" data-overdue="true"' in page and f'data-code="{new}" data-overdue="false"' in page
    )
    assert "۱۵ روز و ۳ ساعت" in page  # the age, in Persian digits
    overdue = staff.get("/agency/queue?overdue=true").text
    assert _codes(overdue, [old, new]) == [old]
    english = staff.get("/agency/queue?lang=en").text
    assert "15 d 3 h" in english and "Overdue" in english


def test_filters_by_state_service_and_assignment(login, worker, officers, seeded) -> None:
    first, second = _queued(login, worker, seeded, 2)
    staff, colleague = login(OFFICER), login(COLLEAGUE)
    csrf = csrf_token(staff, CSRF_PAGE)
    assert staff.post(f"/agency/queue/{first}/take", data={"csrf_token": csrf}).status_code == 200
    taken = staff.get("/agency/queue?state=in_review").text
    assert _codes(taken, [first, second]) == [first]
    queued = staff.get("/agency/queue?state=in_queue").text
    assert _codes(queued, [first, second]) == [second]
    assert _codes(staff.get("/agency/queue?service=farmer-card").text, [first, second]) == [first, second]
    assert _codes(staff.get("/agency/queue?service=business-licence").text, [first, second]) == []
    # Assigned: the officer gives the second to a colleague, whose «mine» then lists it.
    given = staff.post(
        f"/agency/queue/{second}/assign",
        data={"csrf_token": csrf, "officer": COLLEAGUE},
        follow_redirects=False,
    )
    assert given.status_code == 303
    assert _codes(colleague.get("/agency/queue?mine=true").text, [first, second]) == [second]
    assert _codes(staff.get("/agency/queue?mine=true").text, [first, second]) == [first]
    assert _name(seeded, COLLEAGUE) in staff.get("/agency/queue").text
    timeline = [e.kind for e in selectors.request_by_tracking_code(seeded, second).events]
    assert timeline[-1] == "assigned"


def test_nobody_is_assigned_a_request_about_them_and_only_officers_are_assigned(
    login, worker, officers, seeded
) -> None:
    staff = login(OFFICER)
    code = _farmer_card(staff)  # the officer's own application
    run_jobs(worker)
    colleague = login(COLLEAGUE)
    csrf = csrf_token(colleague, CSRF_PAGE)
    own = colleague.post(f"/agency/queue/{code}/assign", data={"csrf_token": csrf, "officer": OFFICER})
    assert own.status_code == 403 and own.json()["code"] == "delivery.own_request"
    stranger = colleague.post(
        f"/agency/queue/{code}/assign", data={"csrf_token": csrf, "officer": "0084575948"}
    )
    assert stranger.status_code == 403 and stranger.json()["code"] == "delivery.not_an_officer"
    assert f'value="{OFFICER}"' not in colleague.get(f"/agency/queue/{code}").text  # not offered


def test_the_case_page_shows_inputs_evidence_uploads_and_one_decision_form(
    login, worker, officers, seeded
) -> None:
    [code] = _queued(login, worker, seeded)
    staff = login(OFFICER)
    page = staff.get(f"/agency/queue/{code}").text
    assert 'id="applicant">علی رضایی<' in page
    assert (
        "مساحت زیر کشت (هکتار)" in page and 'data-input="area_hectares">۱۲<' in page
    )  # label, Persian digits
    assert 'data-evidence="person"' in page and 'data-evidence="properties"' in page  # fetched online
    assert "تصویر شناسنامه" in page and "پرونده‌ای بارگذاری نشده است" in page  # the upload it asks for
    assert 'id="deadline"' in page
    csrf = csrf_token(staff, f"/agency/queue/{code}")
    staff.post(f"/agency/queue/{code}/take", data={"csrf_token": csrf})
    page = staff.get(f"/agency/queue/{code}").text
    assert page.count('id="decision-form"') == 1 and 'name="text_en"' in page
    decided = staff.post(
        f"/agency/queue/{code}/decide",
        data={
            "csrf_token": csrf,
            "decision": "approve",
            "text": "زمین و محصول تأیید شد",
            "text_en": "Land checked",
        },
        follow_redirects=False,
    )
    assert decided.status_code == 303
    seeded.expire_all()
    request = selectors.request_by_tracking_code(seeded, code)
    assert request.state == RequestState.APPROVED and request.document_number
    assert request.decision is not None and request.decision["officer_reason_en"] == "Land checked"
    assert request.events[-1].message_en.endswith("Land checked")
    english = staff.get(f"/agency/queue/{code}?lang=en").text
    assert "Cultivated area (ha)" in english and 'data-input="area_hectares">12<' in english


def test_a_decision_without_reasons_is_refused(login, worker, officers, seeded) -> None:
    [code] = _queued(login, worker, seeded)
    staff = login(OFFICER)
    csrf = csrf_token(staff, f"/agency/queue/{code}")
    staff.post(f"/agency/queue/{code}/take", data={"csrf_token": csrf})
    empty = staff.post(
        f"/agency/queue/{code}/decide", data={"csrf_token": csrf, "decision": "refuse", "text": " "}
    )
    assert empty.status_code == 422
    unknown = staff.post(
        f"/agency/queue/{code}/decide", data={"csrf_token": csrf, "decision": "x", "text": "a"}
    )
    assert unknown.status_code == 422
    seeded.expire_all()
    assert selectors.request_by_tracking_code(seeded, code).state == RequestState.IN_REVIEW
