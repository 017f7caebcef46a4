"""Paying a request's fee through the simulated gateway, on the real registries, worker and database:
the decision and the receipt after payment, and everything that must never charge twice."""

from __future__ import annotations

import json
import threading
from datetime import timedelta

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from panjereh.core.config import Settings
from panjereh.core.db import WRITE_INTENT, utcnow
from panjereh.delivery.constants import RequestState
from panjereh.delivery.models import ServiceRequest
from panjereh.documents import selectors as documents_selectors
from panjereh.jobs import Job
from panjereh.notify import selectors as notify_selectors
from panjereh.payments import metrics, providers, service, tasks
from panjereh.payments.constants import PaymentState
from panjereh.payments.exceptions import CallbackReplayed
from panjereh.payments.models import Payment
from panjereh.payments.providers import Callback
from tests.delivery.conftest import CONVICTED, DEMO, run_jobs
from tests.payments.conftest import (
    DECLINED_CARD,
    FEE,
    apply,
    at_gateway,
    fields_of,
    signed,
    start,
    to_gateway,
)
from tests.support.browsers import csrf_token
from tests.support.operations import METRICS_TOKEN

pytestmark = pytest.mark.usefixtures("fee_card")


def _payments(db: Session, code: str) -> list[Payment]:
    db.rollback()  # a new snapshot: what the app committed since
    db.expire_all()
    return list(db.scalars(select(Payment).where(Payment.tracking_code == code).order_by(Payment.created_at)))


def _state(client: TestClient, code: str) -> str:
    return str(client.get(f"/api/v1/requests/{code}").json()["state"])


def test_a_fee_bearing_request_waits_for_its_fee_and_nothing_is_asked(login, worker, seeded) -> None:
    client = login(DEMO)
    code = apply(client)
    assert _state(client, code) == "awaiting_payment"
    assert run_jobs(worker) == 0  # no processing job until the fee is paid
    page = client.get(f"/account/requests/{code}").text
    assert "۱٬۱۵۰٬۰۰۰ ریال (۱۱۵٬۰۰۰ تومان)" in page and 'id="pay"' in page
    assert "در انتظار پرداخت" in page
    english = client.get(f"/account/requests/{code}?lang=en").text
    assert "1,150,000 rials (115,000 tomans)" in english and "Awaiting payment" in english
    assert "۱٬۱۵۰٬۰۰۰" in client.get("/services/no-criminal-record/apply?lang=fa").text


def test_paid_at_the_gateway_the_request_is_decided_and_receipted(login, worker, seeded, settings) -> None:
    client = login(DEMO)
    code = apply(client)
    callback = at_gateway(to_gateway(client, code))
    landed = client.get(callback, follow_redirects=False)
    assert landed.status_code == 303 and landed.headers["location"] == f"/account/requests/{code}"
    assert _state(client, code) == "submitted"  # paid: its processing job is queued
    run_jobs(worker)
    body = client.get(f"/api/v1/requests/{code}").json()
    assert body["state"] == "approved" and body["decided_automatically"] and not body["human_touched"]
    assert [e["kind"] for e in body["timeline"]] == ["submitted", "paid", "processing", "approved"]
    (payment,) = _payments(seeded, code)
    assert payment.state is PaymentState.SETTLED and payment.amount_rials == FEE and payment.reference
    receipt = documents_selectors.get_document(seeded, payment.receipt_number or "")
    assert receipt.document_type == "payment-receipt" and receipt.subject_national_code == DEMO
    assert receipt.claims["amount_rials"] == FEE and receipt.claims["reference"] == payment.reference
    verified = client.post("/api/v1/documents/verify", json={"number": receipt.number}).json()
    assert verified["valid"] is True, verified
    page = client.get(f"/account/requests/{code}").text
    assert f'href="/documents/{payment.receipt_number}"' in page and 'data-payment-state="settled"' in page
    window = client.get("/window").text
    assert f'href="/documents/{payment.receipt_number}"' in window and "پرداختی ندارید" not in window


def test_a_fee_free_service_skips_the_payment(login, worker, seeded) -> None:
    client = login(DEMO)
    code = apply(client, slug="tax-clearance", key="free-1")
    assert _state(client, code) == "submitted"
    run_jobs(worker)
    assert _state(client, code) in ("approved", "refused")
    assert _payments(seeded, code) == []
    assert 'id="pay"' not in client.get(f"/account/requests/{code}").text


def test_pressing_pay_twice_is_one_payment_with_one_token(login, seeded) -> None:
    client = login(DEMO)
    code = apply(client)
    first, second = to_gateway(client, code), to_gateway(client, code)
    assert first == second
    assert len(_payments(seeded, code)) == 1


def test_cancelled_at_the_gateway_nothing_moves_and_the_citizen_can_pay_again(login, worker, seeded) -> None:
    client = login(DEMO)
    code = apply(client)
    landed = client.get(at_gateway(to_gateway(client, code), action="cancel"), follow_redirects=False)
    assert landed.status_code == 303
    assert _state(client, code) == "awaiting_payment"
    assert [p.state for p in _payments(seeded, code)] == [PaymentState.CANCELED]
    client.get(at_gateway(to_gateway(client, code)))  # a second attempt, a new token
    assert [p.state for p in _payments(seeded, code)] == [PaymentState.CANCELED, PaymentState.SETTLED]
    run_jobs(worker)
    assert _state(client, code) == "approved"


def test_a_declined_card_is_said_and_nothing_is_charged(login, seeded) -> None:
    client = login(DEMO)
    code = apply(client)
    client.get(at_gateway(to_gateway(client, code), card=DECLINED_CARD))
    (payment,) = _payments(seeded, code)
    assert payment.state is PaymentState.DECLINED and payment.reference is None
    page = client.get(f"/account/requests/{code}").text
    assert "کارت پذیرفته نشد" in page and 'id="pay"' in page


def test_a_replayed_callback_is_refused_and_settles_nothing_twice(login, worker, seeded) -> None:
    client = login(DEMO)
    code = apply(client)
    callback = at_gateway(to_gateway(client, code))
    before = metrics.snapshot().get("refused_replay", 0)
    client.get(callback)
    again = client.get(callback, headers={"accept": "text/html"})
    assert again.status_code == 409 and 'data-code="payments.callback_replayed"' in again.text
    assert f'href="/account/requests/{code}"' in again.text  # the page says where to look
    as_api = client.get(callback, headers={"accept": "application/json"})
    assert as_api.status_code == 409
    assert metrics.snapshot()["refused_replay"] == before + 2
    assert len(_payments(seeded, code)) == 1
    assert seeded.scalar(select(func.count()).select_from(Job).where(Job.kind == "delivery.process")) <= 1
    events = client.get(f"/api/v1/requests/{code}").json()["timeline"]
    assert [e["kind"] for e in events].count("paid") == 1


@pytest.mark.parametrize("forgery", ["signature", "amount", "other_token", "unknown_token", "incomplete"])
def test_a_forged_callback_is_refused_and_changes_nothing(login, seeded, forgery) -> None:
    client = login(DEMO)
    code, other = apply(client, key="f-1"), apply(client, key="f-2")
    # Each request goes to the gateway; the other one's token is paid but never brought back.
    fields = fields_of(at_gateway(to_gateway(client, code)))
    other_fields = fields_of(at_gateway(to_gateway(client, other)))
    if forgery == "signature":
        path = "/payments/callback?" + str(httpx.QueryParams({**fields, "signature": "0" * 64}))
    elif forgery == "amount":
        path = signed({**fields, "amount": "10"})  # even correctly signed, not the payment's amount
    elif forgery == "other_token":
        path = signed({**fields, "token": other_fields["token"]})
    elif forgery == "unknown_token":
        path = signed({**fields, "token": "never-issued"})
    else:
        path = "/payments/callback?token=" + fields["token"]
    refused = client.get(path, headers={"accept": "application/json"}, follow_redirects=False)
    assert refused.status_code == 403, refused.text
    assert refused.json()["code"] == "payments.callback_refused"
    assert {p.state for p in _payments(seeded, code)} == {PaymentState.PENDING}
    assert _state(client, code) == "awaiting_payment"
    # The genuine callback still works afterwards: the forgery spent nothing.
    assert client.get(signed(fields), follow_redirects=False).status_code == 303
    assert _state(client, code) == "submitted"


def test_huge_and_odd_callback_fields_are_refused_without_a_server_error(client, seeded) -> None:
    for query in ("token=" + "x" * 20_000, "token=%00&order_id=%FF&status=OK&amount=NaN&signature=z", ""):
        answer = client.get(f"/payments/callback?{query}", headers={"accept": "application/json"})
        assert answer.status_code in (400, 403, 414, 431), (query[:40], answer.status_code)
    posted = client.post("/payments/callback", data={"token": "a", "amount": "1e999"})
    assert posted.status_code == 403


def test_a_paid_payment_never_verified_in_time_is_reversed_by_the_sweep(
    login, seeded, settings: Settings, session_factory, gateway
) -> None:
    client = login(DEMO)
    code = apply(client)
    at_gateway(to_gateway(client, code))  # paid at the gateway; the citizen never comes back
    (payment,) = _payments(seeded, code)
    assert payment.state is PaymentState.PENDING
    provider = providers.from_settings(settings)
    assert tasks.sweep(session_factory, settings, provider) == 0  # not overdue yet
    later = utcnow() - timedelta(seconds=settings.payment_verify_timeout_seconds + 5)
    seeded.execute(update(Payment).where(Payment.id == payment.id).values(updated_at=later))
    seeded.commit()
    assert tasks.sweep(session_factory, settings, provider) == 1
    (payment,) = _payments(seeded, code)
    assert payment.state is PaymentState.REVERSED and payment.refund_reason == "not_verified"
    there = gateway(
        "GET", f"/transactions/{payment.token}", params={"merchant_id": settings.payment_merchant_id}
    )
    assert there.json()["state"] == "reversed"
    assert _state(client, code) == "awaiting_payment"  # may pay again
    assert any(m.kind == "payments.refund" for m in notify_selectors.inbox(seeded, DEMO))
    # The citizen's late return changes nothing.
    stale = client.get(
        signed({**fields_of_payment(payment), "status": "OK"}), headers={"accept": "application/json"}
    )
    assert stale.status_code == 409


def fields_of_payment(payment: Payment) -> dict[str, str]:
    return {
        "token": payment.token or "",
        "order_id": payment.order_id,
        "status": "OK",
        "reference": "000000000001",
        "amount": str(payment.amount_rials),
        "card": "",
    }


def test_a_token_never_paid_expires_without_a_refund(login, seeded, settings, session_factory) -> None:
    client = login(DEMO)
    code = apply(client)
    to_gateway(client, code)
    (payment,) = _payments(seeded, code)
    later = utcnow() - timedelta(seconds=settings.payment_verify_timeout_seconds + 5)
    seeded.execute(update(Payment).where(Payment.id == payment.id).values(updated_at=later))
    seeded.commit()
    assert tasks.sweep(session_factory, settings, providers.from_settings(settings)) == 1
    (payment,) = _payments(seeded, code)
    assert payment.state is PaymentState.EXPIRED and payment.reversed_at is None


def test_gateway_down_when_asking_a_token_is_said_and_nothing_is_lost(login, seeded, faults) -> None:
    client = login(DEMO)
    code = apply(client)
    faults("ipg", down=True)
    refused = start(client, code)
    assert refused.status_code == 503
    assert 'data-code="payments.gateway_unavailable"' in refused.text and "دوباره" in refused.text
    assert _payments(seeded, code) == [] and _state(client, code) == "awaiting_payment"
    faults("ipg", down=False)
    assert start(client, code).status_code == 303  # the retry works


def test_gateway_down_at_verify_leaves_the_payment_to_the_sweep(
    login, seeded, faults, settings, session_factory
) -> None:
    client = login(DEMO)
    code = apply(client)
    callback = at_gateway(to_gateway(client, code))
    faults("ipg", down=True)
    assert client.get(callback, follow_redirects=False).status_code == 303
    (payment,) = _payments(seeded, code)
    assert payment.state is PaymentState.PAID and _state(client, code) == "awaiting_payment"
    assert "در حال تأیید" in client.get(f"/account/requests/{code}").text
    faults("ipg", down=False)
    seeded.execute(
        update(Payment)
        .where(Payment.id == payment.id)
        .values(updated_at=utcnow() - timedelta(seconds=settings.payment_verify_timeout_seconds + 5))
    )
    seeded.commit()
    tasks.sweep(session_factory, settings, providers.from_settings(settings))
    assert _payments(seeded, code)[0].state is PaymentState.REVERSED


def test_refused_after_payment_the_fee_is_refunded_and_the_citizen_told(
    login, worker, seeded, settings, session_factory, gateway
) -> None:
    client = login(CONVICTED)
    code = apply(client)
    client.get(at_gateway(to_gateway(client, code)))
    run_jobs(worker)
    assert _state(client, code) == "refused"
    # Final once no review can be asked any more (test_refund_rules: what happens before).
    seeded.execute(
        update(ServiceRequest)
        .where(ServiceRequest.tracking_code == code)
        .values(decided_at=utcnow() - timedelta(days=settings.review_window_days, hours=1))
    )
    seeded.commit()
    assert tasks.sweep(session_factory, settings, providers.from_settings(settings)) == 1
    (payment,) = _payments(seeded, code)
    assert payment.state is PaymentState.REVERSED and payment.refund_reason == "request_refused"
    there = gateway(
        "GET", f"/transactions/{payment.token}", params={"merchant_id": settings.payment_merchant_id}
    )
    assert there.json()["state"] == "reversed"
    kinds = [e["kind"] for e in client.get(f"/api/v1/requests/{code}").json()["timeline"]]
    assert kinds[-1] == "payment_reversed"
    assert any(m.kind == "payments.refund" for m in notify_selectors.inbox(seeded, CONVICTED))
    assert "مبلغ به کارت برگشت داده شد" in client.get(f"/account/requests/{code}").text
    assert tasks.sweep(session_factory, settings, providers.from_settings(settings)) == 0  # once


def test_another_citizen_can_neither_pay_for_nor_see_my_payment(login, seeded) -> None:
    mine = login(DEMO)
    code = apply(mine)
    client = login(CONVICTED)
    own = apply(client, key="own-1", slug="tax-clearance")
    csrf = csrf_token(client, f"/account/requests/{own}")
    refused = client.post(f"/account/requests/{code}/pay", data={"csrf_token": csrf}, follow_redirects=False)
    assert refused.status_code == 404
    assert client.get(f"/account/requests/{code}").status_code == 404
    mine.get(at_gateway(to_gateway(mine, code)))
    (payment,) = _payments(seeded, code)
    assert payment.receipt_number not in client.get("/window").text
    assert client.get(f"/documents/{payment.receipt_number}").status_code == 404


def test_signed_out_and_without_csrf_the_pay_post_is_refused(login, client, seeded) -> None:
    browser = login(DEMO)
    code = apply(browser)
    signed_out = client.post(f"/account/requests/{code}/pay", data={}, follow_redirects=False)
    assert signed_out.status_code in (303, 401, 403)
    assert browser.post(f"/account/requests/{code}/pay", data={}).status_code == 403
    forged = browser.post(f"/account/requests/{code}/pay", data={"csrf_token": "x.y"})
    assert forged.status_code == 403
    assert _payments(seeded, code) == []


def test_racing_callbacks_settle_once(login, seeded, settings, session_factory) -> None:
    """Two deliveries of the same callback at once, each in its own transaction: one settles, one is a
    replay (the row lock and the conditional update, not luck)."""
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

    def deliver() -> None:
        session = session_factory(execution_options={WRITE_INTENT: True})  # as the request's own
        try:
            barrier.wait()
            service.handle_callback(session, settings, provider, callback)
            session.commit()
            outcomes.append("settled")
        except CallbackReplayed:
            session.rollback()
            outcomes.append("replay")
        except Exception as exc:  # noqa: BLE001 — reported in the assertion
            session.rollback()
            outcomes.append(f"error: {exc!r}")
        finally:
            session.close()

    threads = [threading.Thread(target=deliver) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(outcomes) == ["replay", "settled"], outcomes
    (payment,) = _payments(seeded, code)
    assert payment.state is PaymentState.SETTLED
    request = seeded.scalar(select(ServiceRequest).where(ServiceRequest.tracking_code == code))
    assert request is not None and request.state is RequestState.SUBMITTED
    assert seeded.scalar(select(func.count()).select_from(Job).where(Job.kind == "delivery.process")) == 1


def test_the_payments_metric_is_exported(login, app, seeded) -> None:
    client = login(DEMO)
    code = apply(client)
    client.get(at_gateway(to_gateway(client, code)))
    text = client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}).text
    assert 'panjereh_payments_total{outcome="settled"}' in text


def test_the_structured_log_names_a_refused_callback(login, seeded, capsys) -> None:
    client = login(DEMO)
    code = apply(client)
    fields = fields_of(at_gateway(to_gateway(client, code)))
    client.get(signed({**fields, "amount": "1"}))
    logged = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")]
    assert any(
        e.get("event") == "payment.callback_refused" and e.get("reason") == "amount_mismatch" for e in logged
    )


def test_a_level_one_session_is_sent_to_step_up_before_paying_for_a_level_two_service(
    login, seeded, app
) -> None:
    from panjereh.catalog import selectors as catalog_selectors
    from panjereh.core.cookies import SESSION_COOKIE
    from panjereh.identity import selectors as identity_selectors
    from panjereh.identity import sessions

    client = login(DEMO)  # a level-2 session applies
    code = apply(client)
    catalog_selectors.get_service_by_slug(seeded, "no-criminal-record").assurance_level = 2
    citizen = identity_selectors.get_citizen_by_national_code(seeded, DEMO)
    assert citizen is not None
    _, token = sessions.open_session(seeded, citizen, level=1, amr=["sms"])
    seeded.commit()
    with TestClient(app, base_url="http://testserver") as weaker:
        weaker.cookies.set(SESSION_COOKIE, token)
        csrf = csrf_token(weaker, f"/account/requests/{code}")
        answer = weaker.post(
            f"/account/requests/{code}/pay",
            data={"csrf_token": csrf},
            headers={"accept": "text/html"},
            follow_redirects=False,
        )
    assert answer.status_code == 303 and answer.headers["location"].startswith("/login/step-up")
    assert _payments(seeded, code) == []


def test_the_api_lists_my_requests_payments_and_no_one_elses(login, client, seeded) -> None:
    mine = login(DEMO)
    code = apply(mine)
    mine.get(at_gateway(to_gateway(mine, code)))
    (listed,) = mine.get(f"/api/v1/requests/{code}/payments").json()
    assert listed["state"] == "settled" and listed["amount_rials"] == FEE and listed["receipt_number"]
    other = login(CONVICTED).get(f"/api/v1/requests/{code}/payments")
    assert other.status_code == 404 and other.json()["code"] == "delivery.request_not_found"
    assert client.get(f"/api/v1/requests/{code}/payments").status_code == 401
