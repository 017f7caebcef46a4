"""Withdrawing a request («انصراف از درخواست»): who may, from which states, what the worker and the
officers then find; twice is once, and a withdrawal and a decision never both win. (The fee's side is
tests/payments/test_withdraw_fee.py.)"""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from panjereh.core.db import WRITE_INTENT
from panjereh.delivery import selectors
from panjereh.delivery import service as delivery_service
from panjereh.delivery.constants import RequestState
from panjereh.delivery.exceptions import CannotWithdraw
from panjereh.delivery.models import RequestEvent, ServiceRequest
from panjereh.documents import selectors as documents_selectors
from panjereh.jobs import Job
from panjereh.notify import selectors as notify_selectors
from panjereh.representation import service as representation_service
from tests.delivery.conftest import CONVICTED, DEMO, OFFICER, TAX_DEBTOR, run_jobs
from tests.delivery.test_acting import _apply as _apply_for
from tests.delivery.test_acting_live import _code, _refused, _set_state, _state
from tests.delivery.test_requests import asyncio_run_once, reset_circuits
from tests.support.browsers import csrf_token
from tests.support.factories import create_officer

SLUG = "tax-clearance"  # fee-free, decided by the engine alone (DEMO: approved; TAX_DEBTOR: refused)


def _apply(client, key: str = "w-1") -> str:
    response = client.post(
        f"/api/v1/services/{SLUG}/requests", json={"inputs": {}}, headers={"Idempotency-Key": key}
    )
    assert response.status_code == 201, response.text
    return str(response.json()["tracking_code"])


def _withdraw_on_portal(client, code: str):
    token = csrf_token(client, f"/account/requests/{code}/withdraw")
    return client.post(
        f"/account/requests/{code}/withdraw", data={"csrf_token": token}, follow_redirects=False
    )


def _kinds(db: Session, code: str) -> list[str]:
    db.rollback()
    request = db.scalars(select(ServiceRequest).where(ServiceRequest.tracking_code == code)).one()
    return list(
        db.scalars(
            select(RequestEvent.kind).where(RequestEvent.request_id == request.id).order_by(RequestEvent.seq)
        )
    )


def test_withdrawn_before_the_worker_runs_nothing_is_asked_or_decided(login, worker, seeded) -> None:
    client = login(DEMO)
    code = _apply(client)
    page = client.get(f"/account/requests/{code}").text
    assert f'href="/account/requests/{code}/withdraw"' in page and 'id="withdraw"' in page
    assert f'href="/account/requests/{code}/withdraw"' in client.get("/window").text  # «my window» row
    confirm = client.get(f"/account/requests/{code}/withdraw")
    assert confirm.status_code == 200 and 'id="withdraw-submit"' in confirm.text
    assert "برگشت‌پذیر نیست" in confirm.text
    assert _state(seeded, code) is RequestState.SUBMITTED  # the confirm page changes nothing
    done = _withdraw_on_portal(client, code)
    assert done.status_code == 303 and done.headers["location"] == f"/account/requests/{code}"
    shown = client.get(f"/account/requests/{code}").text
    assert 'data-state="withdrawn"' in shown and 'id="withdrawn"' in shown and 'id="withdraw"' not in shown
    assert _kinds(seeded, code) == ["submitted", "withdrawn"]
    assert any("انصراف" in m.body_fa for m in notify_selectors.inbox(seeded, DEMO, limit=10))
    # The worker then finds nothing to ask or decide: its job ends, the request stays withdrawn.
    run_jobs(worker)
    assert _state(seeded, code) is RequestState.WITHDRAWN
    assert _kinds(seeded, code) == ["submitted", "withdrawn"]
    assert documents_selectors.documents_of(seeded, DEMO, limit=5) == []
    job = seeded.scalars(select(Job).where(Job.kind == delivery_service.PROCESS_JOB)).one()
    assert job.status.value == "done"
    window = client.get("/window").text  # no longer «in progress»; counted among the finished
    assert code not in window
    body = client.get(f"/api/v1/requests/{code}").json()
    assert body["state"] == "withdrawn" and body["decided_at"] is None  # a withdrawal is no decision


def test_withdrawing_twice_answers_the_same_and_writes_once(login, seeded) -> None:
    client = login(DEMO)
    code = _apply(client)
    first = client.post(f"/api/v1/requests/{code}/withdraw")
    second = client.post(f"/api/v1/requests/{code}/withdraw")
    assert first.status_code == second.status_code == 200, first.text
    assert first.json() == second.json() == {"tracking_code": code, "state": "withdrawn", "payments": []}
    assert _withdraw_on_portal(client, code).status_code == 303  # and a third, on the portal
    assert client.get(f"/account/requests/{code}/withdraw", follow_redirects=False).status_code == 303
    assert _kinds(seeded, code).count("withdrawn") == 1
    notices = [m for m in notify_selectors.inbox(seeded, DEMO, limit=20) if "انصراف" in m.body_fa]
    assert len(notices) == 1


def test_a_decided_or_worked_on_request_cannot_be_withdrawn(login, worker, seeded) -> None:
    client = login(DEMO)
    code = _apply(client)
    run_jobs(worker)
    assert _state(seeded, code) is RequestState.APPROVED
    refused = client.post(f"/api/v1/requests/{code}/withdraw")
    assert refused.status_code == 409
    assert refused.headers["content-type"].startswith("application/problem+json")
    problem = refused.json()
    assert problem["code"] == "delivery.cannot_withdraw" and problem["title_fa"] and problem["title"]
    assert problem["state"] == "approved"
    assert 'id="withdraw"' not in client.get(f"/account/requests/{code}").text
    for state in (RequestState.IN_REVIEW, RequestState.PROCESSING, RequestState.REFUSED):
        _set_state(seeded, code, state)
        assert client.post(f"/api/v1/requests/{code}/withdraw").json()["code"] == "delivery.cannot_withdraw"
        on_portal = _withdraw_on_portal(client, code) if state is RequestState.IN_REVIEW else None
        if on_portal is not None:  # the request page again, saying why
            assert on_portal.status_code == 409 and 'data-code="delivery.cannot_withdraw"' in on_portal.text
        assert _state(seeded, code) is state
    assert "withdrawn" not in _kinds(seeded, code)


def test_another_citizen_or_an_officer_cannot_withdraw_my_request(login, seeded) -> None:
    mine = login(DEMO)
    code = _apply(mine)
    create_officer(seeded, OFFICER, "tax")
    seeded.commit()
    for other in (login(CONVICTED), login(OFFICER)):
        assert other.post(f"/api/v1/requests/{code}/withdraw").status_code == 404
        assert other.get(f"/account/requests/{code}/withdraw").status_code == 404
        token = csrf_token(other, "/account/requests")
        posted = other.post(f"/account/requests/{code}/withdraw", data={"csrf_token": token})
        assert posted.status_code == 404
    assert _state(seeded, code) is RequestState.SUBMITTED
    assert "withdrawn" not in _kinds(seeded, code)


def test_without_or_with_a_forged_csrf_token_or_signed_out_nothing_changes(login, client, seeded) -> None:
    browser = login(DEMO)
    code = _apply(browser)
    assert browser.post(f"/account/requests/{code}/withdraw", data={}).status_code == 403
    forged = browser.post(f"/account/requests/{code}/withdraw", data={"csrf_token": "x.y"})
    assert forged.status_code == 403
    signed_out = client.post(f"/account/requests/{code}/withdraw", data={}, follow_redirects=False)
    assert signed_out.status_code in (303, 401, 403)
    assert client.post(f"/api/v1/requests/{code}/withdraw").status_code == 401
    odd = browser.post(f"/api/v1/requests/{'۱' * 5000}/withdraw")  # huge, Persian digits: not found
    assert odd.status_code in (404, 422) and odd.headers["content-type"].startswith(
        "application/problem+json"
    )
    assert _state(seeded, code) is RequestState.SUBMITTED


def test_a_waiting_request_withdrawn_is_not_asked_again(login, worker, faults, seeded) -> None:
    client = login(TAX_DEBTOR)
    code = _apply(client)
    faults("tax", down=True)
    assert asyncio_run_once(worker) == 1
    assert _state(seeded, code) is RequestState.WAITING
    assert client.post(f"/api/v1/requests/{code}/withdraw").status_code == 200
    faults("tax", down=False)
    time.sleep(0.3)  # the back-off (base 0.05 s in tests) has passed
    reset_circuits(worker)
    run_jobs(worker)
    assert _state(seeded, code) is RequestState.WITHDRAWN
    kinds = _kinds(seeded, code)
    assert kinds[-1] == "withdrawn" and "refused" not in kinds


def test_an_officer_cannot_take_a_withdrawn_request_and_his_queue_no_longer_lists_it(login, seeded) -> None:
    client = login(DEMO)
    code = _apply(client)
    _set_state(seeded, code, RequestState.IN_QUEUE)
    create_officer(seeded, OFFICER, "tax")
    seeded.commit()
    officer = login(OFFICER)
    assert code in officer.get("/agency/queue").text
    assert client.post(f"/api/v1/requests/{code}/withdraw").status_code == 200
    assert code not in officer.get("/agency/queue").text
    assert code not in officer.get("/agency/queue?state=withdrawn").text
    token = csrf_token(officer, "/agency/queue")
    taken = officer.post(f"/agency/queue/{code}/take", data={"csrf_token": token})
    assert taken.status_code == 409 and taken.json()["code"] == "delivery.invalid_transition"
    assert _state(seeded, code) is RequestState.WITHDRAWN


def test_a_withdrawal_and_the_workers_decision_never_both_win(login, worker, seeded, session_factory) -> None:
    """The worker deciding and the citizen withdrawing at once, each in its own transaction: one wins,
    the other sees what it wrote (the conditional UPDATE and the row lock, not luck)."""
    client = login(DEMO)
    codes = [_apply(client, key=f"race-{n}") for n in range(3)]
    refused: list[str] = []
    errors: list[str] = []
    barrier = threading.Barrier(2)

    def withdraw_all() -> None:
        barrier.wait()
        for code in codes:
            session = session_factory(execution_options={WRITE_INTENT: True})
            try:
                request = selectors.request_of(session, DEMO, code)
                delivery_service.withdraw(session, seeded_settings, request, actor_code=DEMO)
                session.commit()
            except CannotWithdraw:
                session.rollback()
                refused.append(code)
            except Exception as exc:  # noqa: BLE001 — reported in the assertion
                session.rollback()
                errors.append(repr(exc))
            finally:
                session.close()

    def decide_all() -> None:
        barrier.wait()
        try:
            run_jobs(worker)
        except Exception as exc:  # noqa: BLE001 — reported in the assertion
            errors.append(repr(exc))

    seeded_settings = worker.services["settings"]
    threads = [threading.Thread(target=withdraw_all), threading.Thread(target=decide_all)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert errors == []
    for code in codes:
        state, kinds = _state(seeded, code), _kinds(seeded, code)
        if code in refused:  # decided first: the withdrawal found it decided
            assert state is RequestState.APPROVED and "withdrawn" not in kinds, kinds
        else:  # withdrawn first: the worker asked nothing more and decided nothing
            assert state is RequestState.WITHDRAWN and "approved" not in kinds, kinds
            assert kinds.count("withdrawn") == 1
    decided = [c for c in codes if c in refused]
    assert len(documents_selectors.documents_of(seeded, DEMO, limit=10)) == len(decided)


def test_who_applied_for_another_withdraws_only_while_his_right_holds(login, seeded) -> None:
    grant = representation_service.grant_delegation(
        seeded,
        grantor_code=TAX_DEBTOR,
        grantor_name="مریم احمدی",
        delegate_code=DEMO,
        slugs=[SLUG],
        known_slugs={SLUG},
        days=30,
    )
    representation_service.accept_delegation(seeded, grant.id, delegate_code=DEMO, delegate_name="علی رضایی")
    seeded.commit()
    delegate, grantor = login(DEMO), login(TAX_DEBTOR)
    first = _code(_apply_for(delegate, f"person:{TAX_DEBTOR}", slug=SLUG, key="d-1"))
    second = _code(_apply_for(delegate, f"person:{TAX_DEBTOR}", slug=SLUG, key="d-2"))
    # While the delegation holds, he withdraws on the portal (the API keeps changes to the subject's own).
    assert 'id="withdraw"' in delegate.get(f"/account/requests/{first}").text
    assert _withdraw_on_portal(delegate, first).status_code == 303
    assert _state(seeded, first) is RequestState.WITHDRAWN
    # The subject reads on her timeline who withdrew it.
    assert "علی رضایی از این درخواست انصراف داد" in grantor.get(f"/account/requests/{first}").text
    api = delegate.post(f"/api/v1/requests/{second}/withdraw")
    assert api.status_code == 403 and api.json()["code"] == "delivery.not_the_subject"
    representation_service.end_delegation(seeded, grant.id, by=TAX_DEBTOR)
    seeded.commit()
    assert 'id="withdraw"' not in delegate.get(f"/account/requests/{second}").text
    token = csrf_token(delegate, "/account/requests")
    _refused(delegate.post(f"/account/requests/{second}/withdraw", data={"csrf_token": token}))
    assert _state(seeded, second) is RequestState.SUBMITTED
    # The subject herself withdraws what was made for her.
    assert grantor.post(f"/api/v1/requests/{second}/withdraw").json()["state"] == "withdrawn"


def test_the_timeline_names_the_state_the_request_really_left(login, seeded, settings) -> None:
    """The request as last read said «awaiting payment», but a settlement had moved it on: the withdrawal's
    line says it left «submitted» (the UPDATE names the state it moves from, and tries again on a miss)."""
    client = login(DEMO)
    code = _apply(client, key="stale-read")
    seeded.rollback()  # a fresh transaction: an old read one cannot become a writer on SQLite
    request = selectors.request_of(seeded, DEMO, code)
    assert request.state is RequestState.SUBMITTED
    set_committed_value(
        request, "state", RequestState.AWAITING_PAYMENT
    )  # what a read before the settlement saw
    assert delivery_service.withdraw(seeded, settings, request, actor_code=DEMO) is True
    seeded.commit()
    line = seeded.scalars(
        select(RequestEvent).where(RequestEvent.request_id == request.id, RequestEvent.kind == "withdrawn")
    ).one()
    assert line.detail["from"] == "submitted" and request.state is RequestState.WITHDRAWN
    # A stale read of a request that was decided meanwhile: refused with the state it is really in.
    other_code = _apply(client, key="stale-decided")
    _set_state(seeded, other_code, RequestState.APPROVED)
    other = selectors.request_of(seeded, DEMO, other_code)
    set_committed_value(other, "state", RequestState.SUBMITTED)
    with pytest.raises(CannotWithdraw) as refused:
        delivery_service.withdraw(seeded, settings, other, actor_code=DEMO)
    assert "approved" in str(refused.value)
