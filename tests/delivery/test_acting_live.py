"""Acting for others is checked at each act, live (docs/protocols/representation.md): who made a request for
another keeps reading it (the record of his own act), but paying, answering or asking for review needs his
right to hold now; a parent reads every request of his minor child, whichever parent made it."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from panjereh.delivery.constants import RequestState
from panjereh.delivery.models import ServiceRequest
from panjereh.documents import selectors as documents_selectors
from panjereh.registries.events import eighteenth_birthday
from panjereh.representation import service
from panjereh.representation.models import RepresentationAct
from tests.delivery.conftest import CONVICTED, DEMO, TAX_DEBTOR, run_jobs
from tests.delivery.test_acting import MINOR, RETIREE, UNINSURED, _apply, _link, _minors
from tests.support.browsers import csrf_token


def _code(answer) -> str:
    assert answer.status_code == 303, answer.text
    return str(answer.headers["location"]).rsplit("/", 1)[-1]


def _set_state(db: Session, code: str, state: RequestState) -> None:
    db.rollback()  # a fresh transaction: an old read one cannot become a writer on SQLite
    db.execute(update(ServiceRequest).where(ServiceRequest.tracking_code == code).values(state=state))
    db.commit()


def _state(db: Session, code: str) -> RequestState:
    db.rollback()
    return db.scalars(select(ServiceRequest.state).where(ServiceRequest.tracking_code == code)).one()


def _answer(client, code: str):
    token = csrf_token(client, "/account/acting")
    form = {"csrf_token": token, "answer": "پاسخ"}
    return client.post(f"/account/requests/{code}/answer", data=form, follow_redirects=False)


def _pay(client, code: str):
    token = csrf_token(client, "/account/acting")
    return client.post(f"/account/requests/{code}/pay", data={"csrf_token": token}, follow_redirects=False)


def _review(client, code: str):
    token = csrf_token(client, "/account/acting")
    return client.post(f"/account/requests/{code}/review", data={"csrf_token": token}, follow_redirects=False)


def _refused(answer) -> None:
    assert answer.status_code == 403, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert answer.json()["code"] == "representation.not_allowed"


def test_a_revoked_delegate_still_reads_his_request_but_cannot_act_on_it(login, seeded: Session) -> None:
    grant = service.grant_delegation(
        seeded,
        grantor_code=TAX_DEBTOR,
        grantor_name="مریم احمدی",
        delegate_code=DEMO,
        slugs=["tax-clearance"],
        known_slugs={"tax-clearance"},
        days=30,
    )
    service.accept_delegation(seeded, grant.id, delegate_code=DEMO, delegate_name="علی رضایی")
    seeded.commit()
    delegate, grantor = login(DEMO), login(TAX_DEBTOR)
    code = _code(_apply(delegate, f"person:{TAX_DEBTOR}", slug="tax-clearance"))
    _set_state(seeded, code, RequestState.NEEDS_INFO)
    live = delegate.get(f"/account/requests/{code}").text
    assert f"/account/requests/{code}/answer" in live and 'id="read-only"' not in live  # while it holds
    service.end_delegation(seeded, grant.id, by=TAX_DEBTOR)
    seeded.commit()
    # He still reads what he did (the record of his own act), without the actions.
    page = delegate.get(f"/account/requests/{code}")
    assert page.status_code == 200 and 'id="read-only"' in page.text
    assert f"/account/requests/{code}/answer" not in page.text
    assert code in delegate.get("/account/requests").text
    # Acting on it needs a live right: the answer, the payment and the review are refused and logged.
    _refused(_answer(delegate, code))
    assert _state(seeded, code) is RequestState.NEEDS_INFO
    _set_state(seeded, code, RequestState.AWAITING_PAYMENT)
    assert f"/account/requests/{code}/pay" not in delegate.get(f"/account/requests/{code}").text
    _refused(_pay(delegate, code))
    _set_state(seeded, code, RequestState.REFUSED)
    _refused(_review(delegate, code))
    assert _state(seeded, code) is RequestState.REFUSED
    seeded.rollback()
    refusals = seeded.scalars(
        select(RepresentationAct).where(
            RepresentationAct.actor_code == DEMO, RepresentationAct.action == "refused"
        )
    ).all()
    assert len(refusals) == 3 and {r.subject_code for r in refusals} == {TAX_DEBTOR}
    # The subject herself acts on her request as ever; the API refuses a change by who applied for her.
    _set_state(seeded, code, RequestState.AWAITING_PAYMENT)
    assert f"/account/requests/{code}/pay" in grantor.get(f"/account/requests/{code}").text
    api = delegate.post(f"/api/v1/requests/{code}/review")
    assert api.status_code == 403 and api.json()["code"] == "delivery.not_the_subject", api.text


def test_a_father_reads_but_no_longer_acts_once_his_daughter_turns_18(
    login, worker, seeded: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    parent = login(DEMO)
    code = _code(_apply(parent, f"person:{MINOR}", key="live-18"))
    seeded.rollback()
    run_jobs(worker)
    document = documents_selectors.documents_of(seeded, MINOR, limit=5)[0]
    assert parent.get(f"/documents/{document.number}").status_code == 200  # while he is her guardian
    birthday = eighteenth_birthday(date(2012, 9, 23))
    after = datetime(birthday.year, birthday.month, birthday.day, 8, 30, tzinfo=UTC) + timedelta(days=1)
    monkeypatch.setattr(service, "utcnow", lambda: after)
    page = parent.get(f"/account/requests/{code}")
    assert page.status_code == 200 and 'id="read-only"' in page.text  # his own act, still his to read
    assert f"/documents/{document.number}" not in page.text
    # Her certificate is hers, not a record of his act: once she is of age he no longer opens it.
    assert parent.get(f"/documents/{document.number}").status_code == 404
    assert parent.get(f"/documents/{document.number}.pdf").status_code == 404
    _set_state(seeded, code, RequestState.NEEDS_INFO)
    _refused(_answer(parent, code))
    _set_state(seeded, code, RequestState.AWAITING_PAYMENT)
    _refused(_pay(parent, code))
    assert _state(seeded, code) is RequestState.AWAITING_PAYMENT
    seeded.rollback()
    reasons = [
        r.detail["reason"]
        for r in seeded.scalars(
            select(RepresentationAct).where(
                RepresentationAct.actor_code == DEMO, RepresentationAct.action == "refused"
            )
        )
    ]
    assert reasons == ["the child is 18 or older"] * 2


def test_both_parents_read_their_childs_requests_and_no_one_else_does(
    login, registries_url, seeded: Session
) -> None:
    child, ended = _minors(6)[4:6]
    yesterday = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()
    _link(registries_url, child, RETIREE, relation="father")
    _link(registries_url, child, UNINSURED, relation="mother")
    _link(registries_url, ended, RETIREE)
    _link(registries_url, ended, UNINSURED, ended_on=yesterday)
    father, mother = login(RETIREE), login(UNINSURED)
    code = _code(_apply(father, f"person:{child}", key="two-parents-1"))
    other = _code(_apply(father, f"person:{ended}", key="two-parents-2"))
    # The mother chose the child on the switch: the list links the father's request, and it opens for her.
    token = csrf_token(mother, "/account/acting")
    mother.post("/account/acting", data={"csrf_token": token, "on_behalf_of": f"person:{child}"})
    switch = mother.get("/account/acting")
    assert f"/account/requests/{code}" in switch.text
    assert switch.headers["cache-control"] == "private, no-store"  # web/templating.render_private
    page = mother.get(f"/account/requests/{code}")
    assert page.status_code == 200, page.text
    assert 'id="read-only"' in page.text and f"/account/requests/{code}/answer" not in page.text
    assert mother.get(f"/account/requests/{code}?lang=en").status_code == 200
    # Reading is not acting: a change goes through her own act (the page offers none here).
    _set_state(seeded, code, RequestState.NEEDS_INFO)
    assert _answer(mother, code).status_code == 404
    # A stranger, a parent whose guardianship ended, and a malformed code are all simply not found.
    assert login(CONVICTED).get(f"/account/requests/{code}").status_code == 404
    assert mother.get(f"/account/requests/{other}").status_code == 404
    assert login(DEMO).get(f"/account/requests/{code}").status_code == 404
    assert mother.get("/account/requests/" + "9" * 300).status_code in (404, 422)


def test_a_parents_request_page_remembers_his_right_a_minute_but_his_acts_ask_live(
    login, registries_url, seeded: Session
) -> None:
    """Viewing his request again does not ask the registry each time (web/representation.ViewingRights);
    the act does, and a refused act makes the page read-only at once."""
    child = _minors(8)[7]
    _link(registries_url, child, RETIREE, relation="father")
    father = login(RETIREE)
    code = _code(_apply(father, f"person:{child}", key="viewing-1"))
    _set_state(seeded, code, RequestState.NEEDS_INFO)
    rights = father.app.state.viewing_rights
    key = (RETIREE, "person", child, "student-enrollment")
    assert not rights.holds(key)
    assert f"/account/requests/{code}/answer" in father.get(f"/account/requests/{code}").text
    assert rights.holds(key)  # asked live once, remembered for the page
    yesterday = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()
    _link(registries_url, child, RETIREE, relation="father", ended_on=yesterday)  # a court ends it
    assert f"/account/requests/{code}/answer" in father.get(f"/account/requests/{code}").text  # remembered
    _refused(_answer(father, code))  # the act asks live
    assert not rights.holds(key)
    page = father.get(f"/account/requests/{code}").text
    assert 'id="read-only"' in page and f"/account/requests/{code}/answer" not in page
    assert _state(seeded, code) is RequestState.NEEDS_INFO


def test_viewing_rights_expire_and_stay_bounded() -> None:
    from panjereh.web.representation import ViewingRights

    never = ViewingRights(seconds=0)
    never.remember(("a", "person", "b", "s"))
    assert not never.holds(("a", "person", "b", "s"))
    small = ViewingRights(seconds=600, entries=2)
    for actor in ("a", "b", "c"):
        small.remember((actor, "person", "x", "s"))
    assert small.holds(("c", "person", "x", "s")) and len(small._until) <= 2
