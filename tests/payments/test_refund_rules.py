"""When a paid fee is refunded: only once the refusal is final (an officer's, or an automatic one past the
review window), every such payment however many are settled, once; and a review asked after a refund."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from panjereh.catalog.models import ServiceCard
from panjereh.core.config import Settings
from panjereh.core.db import utcnow
from panjereh.delivery import service as delivery_service
from panjereh.delivery.constants import RequestState
from panjereh.delivery.models import ServiceRequest
from panjereh.documents import selectors as documents_selectors
from panjereh.notify import selectors as notify_selectors
from panjereh.payments import providers, service, tasks
from panjereh.payments.constants import PaymentState
from panjereh.payments.exceptions import GatewayUnavailable
from panjereh.payments.models import Payment
from tests.delivery.conftest import CONVICTED, DEMO, OFFICER, run_jobs
from tests.payments.conftest import apply, at_gateway, fields_of, start, to_gateway
from tests.support.browsers import csrf_token
from tests.support.factories import create_officer

pytestmark = pytest.mark.usefixtures("fee_card")


def _payment(db: Session, code: str) -> Payment:
    db.rollback()
    db.expire_all()
    (payment,) = db.scalars(select(Payment).where(Payment.tracking_code == code))
    return payment


def _request(db: Session, code: str) -> ServiceRequest:
    db.rollback()
    db.expire_all()
    return db.scalars(select(ServiceRequest).where(ServiceRequest.tracking_code == code)).one()


def _paid_and_refused(login, worker) -> tuple[TestClient, str]:
    client = login(CONVICTED)
    code = apply(client)
    client.get(at_gateway(to_gateway(client, code)))
    run_jobs(worker)
    assert client.get(f"/api/v1/requests/{code}").json()["state"] == "refused"
    return client, code


def _age_decision(db: Session, code: str, settings: Settings) -> None:
    """The automatic refusal as if decided before the review window."""
    db.rollback()
    db.execute(
        update(ServiceRequest)
        .where(ServiceRequest.tracking_code == code)
        .values(decided_at=utcnow() - timedelta(days=settings.review_window_days, hours=1))
    )
    db.commit()


def test_an_automatic_refusal_still_reviewable_keeps_its_fee_and_an_approval_stays_paid(
    login, worker, seeded, settings: Settings, session_factory
) -> None:
    client, code = _paid_and_refused(login, worker)
    provider = providers.from_settings(settings)
    assert tasks.sweep(session_factory, settings, provider) == 0  # not final: a review may still be asked
    assert _payment(seeded, code).state is PaymentState.SETTLED
    csrf = csrf_token(client, f"/account/requests/{code}")
    assert 'action="/account/requests/' + code + '/review"' in client.get(f"/account/requests/{code}").text
    asked = client.post(f"/account/requests/{code}/review", data={"csrf_token": csrf}, follow_redirects=False)
    assert asked.status_code == 303
    _age_decision(seeded, code, settings)  # the window passes while it waits in the queue
    assert tasks.sweep(session_factory, settings, provider) == 0  # in the queue: not refused at all
    officer = create_officer(seeded, OFFICER, "judiciary")
    seeded.commit()
    request = _request(seeded, code)
    delivery_service.take(seeded, settings, officer, request)
    delivery_service.decide(
        seeded, settings, officer, request, approve=True, reason_fa="سابقه مشمول مرور زمان است"
    )
    seeded.commit()
    assert _request(seeded, code).state is RequestState.APPROVED
    assert tasks.sweep(session_factory, settings, provider) == 0
    assert _payment(seeded, code).state is PaymentState.SETTLED  # approved and paid: nothing given back


def test_a_reviewed_refusal_is_final_and_refunded_at_once(
    login, worker, seeded, settings: Settings, session_factory
) -> None:
    client, code = _paid_and_refused(login, worker)
    assert client.post(f"/api/v1/requests/{code}/review").status_code == 200
    officer = create_officer(seeded, OFFICER, "judiciary")
    seeded.commit()
    request = _request(seeded, code)
    delivery_service.take(seeded, settings, officer, request)
    delivery_service.decide(seeded, settings, officer, request, approve=False, reason_fa="محکومیت قطعی")
    seeded.commit()
    assert tasks.sweep(session_factory, settings, providers.from_settings(settings)) == 1
    payment = _payment(seeded, code)
    assert payment.state is PaymentState.REVERSED and payment.refund_reason == "request_refused"


def test_past_the_review_window_the_fee_is_refunded_and_a_review_is_then_refused(
    login, worker, seeded, settings: Settings, session_factory
) -> None:
    client, code = _paid_and_refused(login, worker)
    _age_decision(seeded, code, settings)
    page = client.get(f"/account/requests/{code}").text
    assert f'action="/account/requests/{code}/review"' not in page  # the window closed: no button
    assert tasks.sweep(session_factory, settings, providers.from_settings(settings)) == 1
    assert _payment(seeded, code).state is PaymentState.REVERSED
    late = client.post(f"/api/v1/requests/{code}/review")
    assert late.status_code == 409 and late.json()["code"] == "delivery.review_not_open"
    assert _request(seeded, code).state is RequestState.REFUSED


def test_a_review_after_an_operators_refund_is_refused_in_both_languages(
    login, worker, seeded, settings: Settings, session_factory
) -> None:
    client, code = _paid_and_refused(login, worker)  # automatic, still in the review window
    with session_factory() as session:
        service.refund(
            session, settings, providers.from_settings(settings), _payment(seeded, code).id, reason="operator"
        )
        session.commit()
    assert f'action="/account/requests/{code}/review"' not in client.get(f"/account/requests/{code}").text
    refused = client.post(f"/api/v1/requests/{code}/review")
    assert refused.status_code == 409 and refused.json()["code"] == "delivery.review_not_open"
    assert "refunded" in refused.json()["detail"]
    persian = client.post(
        f"/account/requests/{code}/review",
        data={"csrf_token": csrf_token(client, f"/account/requests/{code}")},
        headers={"accept": "text/html"},
    )
    assert persian.status_code == 409 and "برگشت داده شده" in persian.text
    assert _request(seeded, code).state is RequestState.REFUSED  # not sent to an officer for free


def test_the_sweep_finds_refused_payments_past_any_number_of_settled_ones(
    login, worker, seeded, settings: Settings, session_factory, monkeypatch
) -> None:
    demo = login(DEMO)
    approved = []
    for n in range(3):  # settled, approved: never refunded, and more than a page of them
        code = apply(demo, key=f"ok-{n}")
        demo.get(at_gateway(to_gateway(demo, code)))
        approved.append(code)
    run_jobs(worker)
    _, refused = _paid_and_refused(login, worker)
    _age_decision(seeded, refused, settings)
    monkeypatch.setattr(service, "REFUND_PAGE", 1)
    with session_factory() as session:  # chosen in SQL: the refused one is the first page
        assert service.refunds_due(session, settings) == [(_payment(seeded, refused).id, "request_refused")]
    assert tasks.sweep(session_factory, settings, providers.from_settings(settings)) == 1
    assert _payment(seeded, refused).state is PaymentState.REVERSED
    assert all(_payment(seeded, code).state is PaymentState.SETTLED for code in approved)
    # Each decided once: the approved ones kept (marked), the refused one refunded; nothing open is left.
    assert all(_payment(seeded, code).refund_checked_at is not None for code in approved)
    assert _payment(seeded, refused).refund_checked_at is not None
    with session_factory() as session:
        assert service.refunds_due(session, settings) == []
        assert service.keep_approved(session) == 0


def test_a_refused_refund_does_not_hide_the_next_page(
    login, worker, seeded, settings: Settings, session_factory, monkeypatch
) -> None:
    codes = []
    client = login(CONVICTED)
    for n in range(3):
        code = apply(client, key=f"no-{n}")
        client.get(at_gateway(to_gateway(client, code)))
        codes.append(code)
    run_jobs(worker)
    for code in codes:
        _age_decision(seeded, code, settings)
    ids = sorted(_payment(seeded, code).id for code in codes)
    provider = providers.from_settings(settings)
    real_reverse = provider.reverse

    def reverse(token: str):  # the gateway will not give back the first one (by id)
        if token == seeded.get(Payment, ids[0]).token:
            return providers.GatewayAnswer(ok=False, state="settled", amount=None, reference=None, code="-51")
        return real_reverse(token)

    monkeypatch.setattr(provider, "reverse", reverse)
    monkeypatch.setattr(service, "REFUND_PAGE", 1)
    assert tasks.sweep(session_factory, settings, provider) == 2
    states = {code: _payment(seeded, code).state for code in codes}
    assert sorted(states.values()) == sorted(
        [PaymentState.SETTLED, PaymentState.REVERSED, PaymentState.REVERSED]
    )


def test_a_refund_raced_by_another_is_told_once(
    login, worker, seeded, settings: Settings, session_factory, monkeypatch
) -> None:
    _, code = _paid_and_refused(login, worker)
    payment_id = _payment(seeded, code).id
    provider = providers.from_settings(settings)
    real_reverse = provider.reverse
    with session_factory() as session:

        def reverse(token: str) -> providers.GatewayAnswer:
            answer = real_reverse(token)
            # Meanwhile the sweep refunded it (SQLite has no row lock to make this one wait).
            session.execute(
                update(Payment)
                .where(Payment.id == payment_id)
                .values(state=PaymentState.REVERSED, refund_reason="request_refused")
            )
            return answer

        monkeypatch.setattr(provider, "reverse", reverse)
        payment = service.refund(session, settings, provider, payment_id, reason="operator")
        session.commit()
    assert payment.refund_reason == "request_refused"  # the winner's, not overwritten
    told = [m for m in notify_selectors.inbox(seeded, CONVICTED) if m.kind == "payments.refund"]
    assert told == []  # the loser tells nobody (the winner did, once)
    kinds = [e.kind for e in _request(seeded, code).events]
    assert "payment_reversed" not in kinds


def test_a_stale_token_the_gateway_will_not_void_is_not_handed_out_again(
    login, seeded, settings: Settings, session_factory, monkeypatch
) -> None:
    client = login(DEMO)
    code = apply(client, key="stale-1")
    to_gateway(client, code)
    stale = _payment(seeded, code)
    seeded.execute(
        update(Payment)
        .where(Payment.id == stale.id)
        .values(created_at=utcnow() - timedelta(seconds=settings.payment_verify_timeout_seconds + 5))
    )
    seeded.commit()
    provider = providers.from_settings(settings)
    refused = providers.GatewayAnswer(ok=False, state="issued", amount=None, reference=None, code="-54")
    monkeypatch.setattr(provider, "reverse", lambda token: refused)
    with session_factory() as session, pytest.raises(GatewayUnavailable):
        service.start(session, settings, provider, national_code=DEMO, tracking_code=code)
    assert _payment(seeded, code).state is PaymentState.PENDING  # nothing new, nothing handed out


def test_a_card_field_altered_in_the_callback_never_reaches_the_signed_receipt(login, seeded) -> None:
    client = login(DEMO)
    code = apply(client, key="card-1")
    callback = at_gateway(to_gateway(client, code))
    fields = fields_of(callback)
    assert fields["card"] == "603799******0001"
    # `card` is outside the signature: the citizen edits it and the callback still verifies.
    tampered = callback.replace("card=603799%2A%2A%2A%2A%2A%2A0001", "card=PAID+BY+THE+MINISTER")
    assert tampered != callback
    assert client.get(tampered, follow_redirects=False).status_code == 303
    payment = _payment(seeded, code)
    assert payment.state is PaymentState.SETTLED
    assert payment.card_mask == "603799******0001"  # the gateway's word, server to server
    receipt = documents_selectors.get_document(seeded, payment.receipt_number or "")
    assert receipt.claims["card"] == "603799******0001"


def test_a_fee_dropped_after_submission_lets_the_request_go_on_without_payment(
    login, worker, seeded, settings: Settings
) -> None:
    client = login(DEMO)
    code = apply(client, key="waived-1")
    assert client.get(f"/api/v1/requests/{code}").json()["state"] == "awaiting_payment"
    seeded.rollback()
    seeded.execute(update(ServiceCard).where(ServiceCard.slug == "no-criminal-record").values(cost_rials=0))
    seeded.commit()
    pressed = start(client, code)  # «pay» on a request whose service is now free
    assert pressed.status_code == 303 and pressed.headers["location"] == f"/account/requests/{code}"
    assert client.get(f"/api/v1/requests/{code}").json()["state"] == "submitted"
    run_jobs(worker)
    body = client.get(f"/api/v1/requests/{code}").json()
    assert body["state"] == "approved" and "fee_waived" in [e["kind"] for e in body["timeline"]]
    seeded.rollback()
    assert seeded.scalars(select(Payment).where(Payment.tracking_code == code)).all() == []
