"""Payments API (under /api/v1): a signed-in citizen's payments of one of their requests, and withdrawing a
request (here because its fee follows: delivery sits below payments)."""

from __future__ import annotations

from fastapi import APIRouter, Request

from panjereh.core.deps import AppSettings, DbSession
from panjereh.delivery import selectors as delivery_selectors
from panjereh.delivery.exceptions import NotTheSubject
from panjereh.identity.deps import CurrentCitizen
from panjereh.payments import selectors, service
from panjereh.payments.providers import PaymentProvider
from panjereh.payments.schemas import PaymentOut, WithdrawalOut

router = APIRouter(tags=["payments"])


@router.get("/requests/{code}/payments", response_model=list[PaymentOut])
def request_payments(code: str, citizen: CurrentCitizen, db: DbSession) -> list[PaymentOut]:
    """The payments of one of my requests, newest first (someone else's request is not found). Paying
    itself happens in the browser: the gateway's page is the citizen's (docs/protocols/payments.md)."""
    request = delivery_selectors.request_of(db, citizen.national_code, code)
    return [PaymentOut.of(payment) for payment in selectors.payments_of_request(db, request.id)]


@router.post("/requests/{code}/withdraw", response_model=WithdrawalOut, tags=["delivery"])
def withdraw_request(
    code: str, citizen: CurrentCitizen, db: DbSession, settings: AppSettings, http_request: Request
) -> WithdrawalOut:
    """Withdraw one of my requests while nobody works on it (awaiting payment, submitted, waiting, in the
    queue, needing my answer): an open payment is voided, a settled fee refunded at once. Twice answers
    the same. 409 `delivery.cannot_withdraw` when the worker or an officer holds it or it was decided;
    someone else's request is 404; one made for another is withdrawn on the portal (his right checked
    live)."""
    request = delivery_selectors.request_of(db, citizen.national_code, code)
    if request.national_code != citizen.national_code:
        raise NotTheSubject()
    provider: PaymentProvider = http_request.app.state.payment_provider
    service.withdraw(db, settings, provider, request, actor_code=citizen.national_code)
    return WithdrawalOut(
        tracking_code=request.tracking_code,
        state=request.state.value,
        payments=[PaymentOut.of(payment) for payment in selectors.payments_of_request(db, request.id)],
    )
