"""Reconciliation («مغایرت‌گیری») against the gateway's daily report: each kind of mismatch found and
stored, the operators' page and command, refunds by an operator."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from panjereh.core.config import Settings
from panjereh.core.db import utcnow
from panjereh.notify import selectors as notify_selectors
from panjereh.payments import providers, tasks
from panjereh.payments.constants import MismatchKind, PaymentState
from panjereh.payments.models import Payment, ReconciliationRun
from panjereh.staff import service as staff_service
from panjereh.staff.constants import Role
from tests.delivery.conftest import DEMO
from tests.payments.conftest import GOOD_CARD, apply, at_gateway, fields_of, to_gateway
from tests.support.browsers import csrf_token

pytestmark = pytest.mark.usefixtures("fee_card")

OPERATOR = "0790419904"


def _paid(client: TestClient, key: str) -> tuple[str, dict[str, str]]:
    """A request paid at the gateway; the callback not yet brought back."""
    code = apply(client, key=key)
    return code, fields_of(at_gateway(to_gateway(client, code)))


def _payment(db: Session, code: str) -> Payment:
    db.rollback()
    db.expire_all()
    found = db.scalar(select(Payment).where(Payment.tracking_code == code))
    assert found is not None
    return found


def test_each_kind_of_mismatch_is_found_and_stored(
    login, seeded, settings: Settings, session_factory, gateway: Callable[..., httpx.Response], registries_url
) -> None:
    client = login(DEMO)
    merchant = {"merchant_id": settings.payment_merchant_id}
    # Matched: paid, brought back, settled on both sides.
    matched, fields = _paid(client, "r-1")
    client.get(f"/payments/callback?{httpx.QueryParams(fields)}")
    # Settled at the gateway, never here (the callback never came back; someone settled it there).
    unsettled, fields = _paid(client, "r-2")
    gateway("POST", "/verify", json={**merchant, "token": fields["token"], "reference": fields["reference"]})
    gateway("POST", "/settle", json={**merchant, "token": fields["token"]})
    # The amount differs: settled on both sides, but the platform's record says otherwise.
    differs, fields = _paid(client, "r-3")
    client.get(f"/payments/callback?{httpx.QueryParams(fields)}")
    seeded.execute(update(Payment).where(Payment.tracking_code == differs).values(amount_rials=999))
    seeded.commit()
    # Settled here, reversed there behind the platform's back.
    missing, fields = _paid(client, "r-4")
    client.get(f"/payments/callback?{httpx.QueryParams(fields)}")
    gateway("POST", "/reverse", json={**merchant, "token": fields["token"]})
    # Paid at the gateway for an order the platform never made.
    stranger = f"stranger-{uuid.uuid4().hex[:8]}"
    token = gateway(
        "POST",
        "/tokens",
        json={**merchant, "order_id": stranger, "amount": 50_000, "callback_url": "http://127.0.0.1:1/cb"},
    ).json()["token"]
    httpx.post(f"{registries_url}/ipg/pay/{token}", data={"action": "pay", "card": GOOD_CARD}, timeout=60)

    run = tasks.reconcile_day(session_factory, settings, providers.from_settings(settings), utcnow().date())
    assert run.error is None
    ours = {matched, unsettled, differs, missing}
    # The session's gateway also holds other tests' transactions: look at this test's orders.
    found = {
        (item.order_id or "").rsplit("-", 1)[0] if item.order_id != stranger else stranger: item.kind
        for item in run.mismatches
        if item.order_id == stranger or (item.order_id or "").rsplit("-", 1)[0] in ours
    }
    assert found == {
        unsettled: MismatchKind.UNSETTLED_HERE,
        differs: MismatchKind.AMOUNT_DIFFERS,
        missing: MismatchKind.MISSING_THERE,
        stranger: MismatchKind.UNKNOWN_HERE,
    }
    assert matched not in found
    stored = seeded.scalar(select(ReconciliationRun).where(ReconciliationRun.id == run.id))
    assert stored is not None and len(stored.mismatches) == len(run.mismatches)


def test_a_report_the_gateway_cannot_give_is_a_run_with_its_error(
    seeded, settings, session_factory, faults
) -> None:
    faults("ipg", down=True)
    run = tasks.reconcile_day(session_factory, settings, providers.from_settings(settings), utcnow().date())
    assert run.error and run.mismatches == []


def _operator(login: Callable[[str], TestClient], db: Session) -> TestClient:
    browser = login(OPERATOR)
    staff_service.grant(db, OPERATOR, Role.OPERATOR, None)
    db.commit()
    return browser


def test_the_operators_page_reconciles_on_demand_and_refunds(login, seeded, settings) -> None:
    citizen = login(DEMO)
    code, fields = _paid(citizen, "op-1")
    citizen.get(f"/payments/callback?{httpx.QueryParams(fields)}")
    assert citizen.get("/workspace/operator/payments").status_code == 403  # a citizen is no operator
    operator = _operator(login, seeded)
    page = operator.get("/workspace/operator/payments?lang=fa")
    assert page.status_code == 200 and "مغایرت‌گیری" in page.text and "۱٬۱۵۰٬۰۰۰ ریال" in page.text
    token = csrf_token(operator, "/workspace/operator/payments")
    assert (
        operator.post(
            "/workspace/operator/payments/reconcile", data={"day": "2999-01-01", "csrf_token": token}
        ).status_code
        == 422
    )
    assert (
        operator.post(
            "/workspace/operator/payments/reconcile", data={"day": "x", "csrf_token": token}
        ).status_code
        == 422
    )
    assert (
        operator.post(
            "/workspace/operator/payments/reconcile", data={"day": utcnow().date().isoformat()}
        ).status_code
        == 403
    )
    done = operator.post(
        "/workspace/operator/payments/reconcile",
        data={"day": utcnow().date().isoformat(), "csrf_token": token},
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert 'id="runs"' in operator.get("/workspace/operator/payments").text
    payment = _payment(seeded, code)
    refunded = operator.post(
        f"/workspace/operator/payments/{payment.id}/refund",
        data={"csrf_token": token},
        follow_redirects=False,
    )
    assert refunded.status_code == 303
    payment = _payment(seeded, code)
    assert payment.state is PaymentState.REVERSED and payment.refund_reason == "operator"
    assert any(m.kind == "payments.refund" for m in notify_selectors.inbox(seeded, DEMO))
    again = operator.post(f"/workspace/operator/payments/{payment.id}/refund", data={"csrf_token": token})
    assert again.status_code == 409 and 'data-code="payments.not_refundable"' in again.text


def test_the_reconcile_command(seeded, settings: Settings, registries_url) -> None:
    from panjereh.cli import app as cli_app

    runner = CliRunner()
    env = {
        "PANJEREH_ENV": "test",
        "PANJEREH_SECRET_KEY": settings.secret_key,
        "PANJEREH_PUBLIC_URL": settings.base_url,
        "PANJEREH_HOME": str(settings.home),
        "PANJEREH_REGISTRIES_URL": registries_url,
        "PANJEREH_REGISTRY_TOKEN": settings.registry_token,
        "PANJEREH_PAYMENT_GATEWAY_TIMEOUT_SECONDS": "60",
        "PANJEREH_DATABASE_URL": str(seeded.get_bind().engine.url.render_as_string(hide_password=False)),
    }
    result = runner.invoke(cli_app, ["payments", "reconcile", "--day", "2000-01-01"], env=env)
    assert result.exit_code == 0, result.output
    assert re.search(r"2000-01-01: 0 at the gateway, 0 here, 0 matched, 0 mismatches", result.output)
    bad = runner.invoke(cli_app, ["payments", "reconcile", "--day", "nonsense"], env=env)
    assert bad.exit_code != 0
