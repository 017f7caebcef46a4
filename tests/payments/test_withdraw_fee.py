"""A withdrawn request's fee: an open token voided, money paid at the gateway given back (also when the
callback arrives after the withdrawal: verified, then reversed, never settled), a settled fee refunded at
once, and by the sweep when the gateway did not answer. No money is ever kept for a withdrawn request."""

from __future__ import annotations

import threading

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from panjereh.core.config import Settings
from panjereh.core.db import WRITE_INTENT
from panjereh.delivery import selectors as delivery_selectors
from panjereh.delivery.constants import RequestState
from panjereh.delivery.models import ServiceRequest
from panjereh.jobs import Job
from panjereh.notify import selectors as notify_selectors
from panjereh.payments import providers, service, tasks
from panjereh.payments.constants import PaymentState
from panjereh.payments.exceptions import CallbackReplayed
from panjereh.payments.models import Payment
from panjereh.payments.providers import Callback
from tests.delivery.conftest import DEMO, run_jobs
from tests.delivery.test_acting_live import _set_state
from tests.payments.conftest import FEE, GOOD_CARD, apply, at_gateway, fields_of, to_gateway
from tests.support.browsers import csrf_token

pytestmark = pytest.mark.usefixtures("fee_card")


def _payments(db: Session, code: str) -> list[Payment]:
    db.rollback()
    db.expire_all()
    return list(db.scalars(select(Payment).where(Payment.tracking_code == code).order_by(Payment.created_at)))


def _request(db: Session, code: str) -> ServiceRequest:
    db.rollback()
    db.expire_all()
    return db.scalars(select(ServiceRequest).where(ServiceRequest.tracking_code == code)).one()


def _at_gateway(gateway, settings: Settings, payment: Payment) -> str:
    answer = gateway(
        "GET", f"/transactions/{payment.token}", params={"merchant_id": settings.payment_merchant_id}
    )
    return str(answer.json()["state"])


def _refund_notices(db: Session) -> int:
    return sum(1 for m in notify_selectors.inbox(db, DEMO, limit=50) if m.kind == "payments.refund")


def test_an_open_token_is_voided_and_the_request_withdrawn(login, seeded, settings, gateway, worker) -> None:
    client = login(DEMO)
    code = apply(client)
    payment_url = to_gateway(client, code)
    page = client.get(f"/account/requests/{code}/withdraw").text
    assert 'id="withdraw-refund"' in page  # says the open payment is voided
    answer = client.post(f"/api/v1/requests/{code}/withdraw")
    assert answer.status_code == 200, answer.text
    assert answer.json()["state"] == "withdrawn"
    # Voided by its job once the withdrawal has committed (the gateway is never called before).
    assert [p["state"] for p in answer.json()["payments"]] == ["pending"]
    run_jobs(worker)
    (payment,) = _payments(seeded, code)
    assert payment.state is PaymentState.CANCELED and payment.failure == "withdrawn"
    assert _at_gateway(gateway, settings, payment) == "canceled"  # the token can no longer be paid
    assert httpx.post(payment_url, data={"action": "pay", "card": GOOD_CARD}, timeout=60).status_code == 409
    assert _request(seeded, code).state is RequestState.WITHDRAWN
    assert _refund_notices(seeded) == 0  # no money moved: nothing to give back
    shown = client.get(f"/account/requests/{code}").text
    assert 'id="pay"' not in shown and 'data-refund="in_progress"' not in shown


def test_paid_at_the_gateway_before_withdrawing_the_money_goes_back(
    login, seeded, settings, gateway, worker
) -> None:
    client = login(DEMO)
    code = apply(client)
    callback = at_gateway(to_gateway(client, code))  # paid; the browser has not come back yet
    assert client.post(f"/api/v1/requests/{code}/withdraw").status_code == 200
    run_jobs(worker)
    (payment,) = _payments(seeded, code)
    assert payment.state is PaymentState.REVERSED and payment.refund_reason == "request_withdrawn"
    assert _at_gateway(gateway, settings, payment) == "reversed"
    assert _refund_notices(seeded) == 1
    late = client.get(callback, headers={"accept": "application/json"})
    assert late.status_code == 409  # the late callback is a replay: it settles nothing
    assert _request(seeded, code).state is RequestState.WITHDRAWN
    assert _payments(seeded, code)[0].receipt_number is None


def test_a_callback_after_the_withdrawal_is_verified_then_reversed_never_settled(
    login, seeded, settings, gateway, faults, worker
) -> None:
    client = login(DEMO)
    code = apply(client)
    payment_url = to_gateway(client, code)
    faults("ipg", down=True)  # the gateway cannot void the token now: the withdrawal still stands
    assert client.post(f"/api/v1/requests/{code}/withdraw").status_code == 200
    run_jobs(worker)
    (payment,) = _payments(seeded, code)
    assert payment.state is PaymentState.PENDING
    faults("ipg", down=False)
    callback = at_gateway(payment_url)  # the citizen had the gateway's page open, and pays
    back = client.get(callback, follow_redirects=False)
    assert back.status_code == 303 and back.headers["location"] == f"/account/requests/{code}"
    (payment,) = _payments(seeded, code)
    assert payment.state is PaymentState.REVERSED and payment.refund_reason == "request_withdrawn"
    assert payment.settled_at is None and payment.receipt_number is None
    assert _at_gateway(gateway, settings, payment) == "reversed"
    assert _request(seeded, code).state is RequestState.WITHDRAWN
    assert seeded.scalar(select(func.count()).select_from(Job).where(Job.kind == "delivery.process")) == 0
    assert _refund_notices(seeded) == 1
    assert 'data-refund="done"' in client.get(f"/account/requests/{code}").text


def test_an_open_token_the_gateway_could_not_void_is_voided_by_the_next_sweep(
    login, seeded, settings, gateway, faults, session_factory, worker
) -> None:
    client = login(DEMO)
    code = apply(client)
    to_gateway(client, code)
    faults("ipg", down=True)
    assert client.post(f"/api/v1/requests/{code}/withdraw").status_code == 200
    run_jobs(worker)  # its job finds the gateway down and leaves the payment to the sweep
    faults("ipg", down=False)
    # Not overdue by age: the sweep takes it because its request was withdrawn.
    assert tasks.sweep(session_factory, settings, providers.from_settings(settings)) == 1
    (payment,) = _payments(seeded, code)
    assert payment.state is PaymentState.CANCELED and payment.failure == "withdrawn"
    assert _at_gateway(gateway, settings, payment) == "canceled"


def test_a_settled_fee_is_refunded_at_once_when_withdrawn_from_the_queue(
    login, seeded, settings, gateway, session_factory, worker
) -> None:
    client = login(DEMO)
    code = apply(client)
    client.get(at_gateway(to_gateway(client, code)))  # paid and settled; the request went on
    (payment,) = _payments(seeded, code)
    assert payment.state is PaymentState.SETTLED
    _set_state(seeded, code, RequestState.IN_QUEUE)
    page = client.get(f"/account/requests/{code}/withdraw").text
    assert 'id="withdraw-refund"' in page and "بی‌درنگ" in page
    token = csrf_token(client, f"/account/requests/{code}/withdraw")
    assert client.post(f"/account/requests/{code}/withdraw", data={"csrf_token": token}).status_code == 200
    run_jobs(worker)
    (payment,) = _payments(seeded, code)
    assert payment.state is PaymentState.REVERSED and payment.refund_reason == "request_withdrawn"
    assert payment.refund_checked_at is not None
    assert _at_gateway(gateway, settings, payment) == "reversed"
    assert _refund_notices(seeded) == 1
    request = _request(seeded, code)
    assert delivery_selectors.fee_refunded(seeded, request)
    assert tasks.sweep(session_factory, settings, providers.from_settings(settings)) == 0  # nothing twice
    assert _refund_notices(seeded) == 1


def test_a_refund_the_gateway_did_not_make_at_withdrawal_is_made_by_the_sweep(
    login, seeded, settings, faults, session_factory, worker
) -> None:
    client = login(DEMO)
    code = apply(client)
    client.get(at_gateway(to_gateway(client, code)))
    faults("ipg", down=True)
    assert client.post(f"/api/v1/requests/{code}/withdraw").json()["payments"][0]["state"] == "settled"
    run_jobs(worker)  # the refund's job finds the gateway down: left to the sweep
    assert 'data-refund="in_progress"' in client.get(f"/account/requests/{code}").text
    with session_factory() as session:
        assert service.refunds_due(session, settings) == [
            (_payments(seeded, code)[0].id, "request_withdrawn")
        ]
    provider = providers.from_settings(settings)
    assert tasks.sweep(session_factory, settings, provider) == 0  # still down: left for the next pass
    faults("ipg", down=False)
    assert tasks.sweep(session_factory, settings, provider) == 1
    (payment,) = _payments(seeded, code)
    assert payment.state is PaymentState.REVERSED and payment.refund_reason == "request_withdrawn"
    assert payment.amount_rials == FEE and _refund_notices(seeded) == 1
    assert 'data-refund="done"' in client.get(f"/account/requests/{code}").text
    assert tasks.sweep(session_factory, settings, provider) == 0


def test_a_callback_and_a_withdrawal_at_once_never_keep_the_money(
    login, seeded, settings: Settings, session_factory, gateway, worker
) -> None:
    """The gateway's callback and the citizen's withdrawal, each in its own transaction at once: whichever
    wins, the request ends withdrawn and the money back on the card (row locks in one order, not luck)."""
    client = login(DEMO)
    code = apply(client)
    fields = fields_of(at_gateway(to_gateway(client, code)))
    callback = Callback(
        **{
            name: fields.get(name, "")
            for name in ("token", "order_id", "status", "reference", "amount", "card", "signature")
        }
    )
    provider = providers.from_settings(settings)
    outcomes: list[str] = []
    barrier = threading.Barrier(2)

    def in_transaction(name: str, work) -> None:
        session = session_factory(execution_options={WRITE_INTENT: True})
        try:
            barrier.wait()
            work(session)
            session.commit()
            outcomes.append(name)
        except CallbackReplayed:
            session.rollback()
            outcomes.append("replay")
        except Exception as exc:  # noqa: BLE001 — reported in the assertion
            session.rollback()
            outcomes.append(f"error: {exc!r}")
        finally:
            session.close()

    def deliver(session: Session) -> None:
        service.handle_callback(session, settings, provider, callback)

    def withdraw(session: Session) -> None:
        request = delivery_selectors.request_of(session, DEMO, code)
        assert service.withdraw(session, settings, provider, request, actor_code=DEMO)

    threads = [
        threading.Thread(target=in_transaction, args=("callback", deliver)),
        threading.Thread(target=in_transaction, args=("withdrawn", withdraw)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    run_jobs(worker)  # the withdrawal's give-back job, if it won
    assert "withdrawn" in outcomes and not [o for o in outcomes if o.startswith("error")], outcomes
    assert _request(seeded, code).state is RequestState.WITHDRAWN
    (payment,) = _payments(seeded, code)
    assert payment.state is PaymentState.REVERSED and payment.refund_reason == "request_withdrawn"
    assert _at_gateway(gateway, settings, payment) == "reversed"
    assert _refund_notices(seeded) == 1


def test_a_withdrawal_rolled_back_gives_nothing_back_at_the_gateway(
    login, seeded, settings: Settings, session_factory, gateway, worker
) -> None:
    """The gateway is called only after the withdrawal commits: one whose transaction rolls back leaves the
    money where it was (paid at the gateway) and queues nothing for later."""
    client = login(DEMO)
    code = apply(client)
    at_gateway(to_gateway(client, code))  # paid at the gateway; the browser has not come back yet
    (payment,) = _payments(seeded, code)
    assert _at_gateway(gateway, settings, payment) == "paid"
    with session_factory(execution_options={WRITE_INTENT: True}) as session:
        request = delivery_selectors.request_of(session, DEMO, code)
        assert service.withdraw(
            session, settings, providers.from_settings(settings), request, actor_code=DEMO
        )
        session.rollback()  # e.g. the commit failed
    assert _at_gateway(gateway, settings, payment) == "paid"  # no reversal was asked for
    run_jobs(worker)
    assert _at_gateway(gateway, settings, payment) == "paid"
    assert seeded.scalar(select(func.count()).select_from(Job).where(Job.kind == "payments.give_back")) == 0
    assert _request(seeded, code).state is RequestState.AWAITING_PAYMENT
    assert _payments(seeded, code)[0].state is PaymentState.PENDING and _refund_notices(seeded) == 0
