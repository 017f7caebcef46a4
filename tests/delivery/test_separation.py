"""Separation of duties: an officer never takes, asks about or decides a request they applied for or
are the subject of, and the queue does not offer it to them (issue 13, item 4)."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from panjereh.core.config import Settings
from panjereh.delivery import selectors, service, workbench
from panjereh.delivery.constants import RequestState
from panjereh.delivery.definitions import Evidence
from panjereh.delivery.exceptions import OwnRequest
from panjereh.delivery.models import ServiceRequest
from panjereh.delivery.service import Officer
from tests.delivery.conftest import OFFICER, run_jobs
from tests.support.browsers import csrf_token
from tests.support.factories import create_officer

COLLEAGUE = "4032152314"  # another officer of the same agency


def _farmer_card(client) -> str:
    response = client.post(
        "/api/v1/services/farmer-card/requests",
        json={"inputs": {"crop": "گندم", "area_hectares": "3"}},
        headers={"Idempotency-Key": "own-1"},
    )
    assert response.status_code == 201, response.text
    return str(response.json()["tracking_code"])


@pytest.fixture
def officers(seeded: Session) -> tuple[Officer, Officer]:
    mine = create_officer(seeded, OFFICER, "agriculture")
    colleague = create_officer(seeded, COLLEAGUE, "agriculture")
    seeded.commit()
    return mine, colleague


def _request(seeded: Session, code: str) -> ServiceRequest:
    seeded.expire_all()
    return selectors.request_by_tracking_code(seeded, code)


def test_an_officer_cannot_take_their_own_application_and_the_queue_does_not_offer_it(
    login, worker, officers, seeded
) -> None:
    staff = login(OFFICER)  # the officer applies for a farmer card, as the issue found
    code = _farmer_card(staff)
    run_jobs(worker)
    assert _request(seeded, code).state == RequestState.IN_QUEUE
    page = staff.get("/agency/queue")
    assert page.status_code == 200 and code[:4] not in page.text.replace("-", "")
    assert staff.get(f"/agency/queue/{code}").json()["code"] == "delivery.own_request"
    csrf = csrf_token(staff, "/services/tax-clearance/apply")
    refused = staff.post(f"/agency/queue/{code}/take", data={"csrf_token": csrf}, follow_redirects=False)
    assert refused.status_code == 403 and refused.json()["code"] == "delivery.own_request"
    assert _request(seeded, code).state == RequestState.IN_QUEUE
    colleague = login(COLLEAGUE)  # a colleague sees it and may work it
    assert code[:4] in colleague.get("/agency/queue").text.replace("-", "")


def test_an_officer_cannot_ask_about_or_decide_their_own_application(
    login, worker, officers, seeded, settings: Settings
) -> None:
    mine, colleague = officers
    code = _farmer_card(login(OFFICER))
    run_jobs(worker)
    request = _request(seeded, code)
    with pytest.raises(OwnRequest):
        service.take(seeded, settings, mine, request)
    seeded.rollback()
    request = _request(seeded, code)
    service.take(seeded, settings, colleague, request)
    seeded.commit()
    request = _request(seeded, code)
    with pytest.raises(OwnRequest):
        service.ask_for_info(seeded, settings, mine, request, "سند زمین را بفرستید")
    seeded.rollback()
    request = _request(seeded, code)
    # Even holding it (as if taken before the rule), the applicant cannot decide it.
    request.officer_national_code = mine.national_code
    with pytest.raises(OwnRequest):
        service.decide(seeded, settings, mine, request, approve=True, reason_fa="تأیید")
    seeded.rollback()
    request = _request(seeded, code)
    service.decide(seeded, settings, colleague, request, approve=True, reason_fa="زمین و محصول تأیید شد")
    seeded.commit()
    assert _request(seeded, code).state == RequestState.APPROVED


def test_a_person_the_inputs_name_for_an_inquiry_is_the_requests_subject(officers) -> None:
    mine, _colleague = officers
    child = Evidence.model_validate(
        {
            "key": "child",
            "source": "inquiry",
            "service": "civil-registry.person",
            "path_params": {"national_code": "{inputs.child_national_code}"},
            "label": {"fa": "فرزند", "en": "Child"},
            "why_fa": "برای آزمون",
        }
    )
    address = child.model_copy(update={"path_params": {"postal_code": "{inputs.postal_code}"}})
    inputs = {"child_national_code": mine.national_code, "postal_code": "1193653471"}
    assert workbench.people_named("0499370899", inputs, [child, address]) == {
        "0499370899",
        mine.national_code,
    }
