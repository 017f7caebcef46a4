"""Payment pages: paying a request's fee (to the gateway and back), withdrawing a request (its fee follows:
an open payment voided, a settled one refunded), and the operators' payments and reconciliation page."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated

from fastapi import APIRouter, FastAPI, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from panjereh.core.config import Settings
from panjereh.core.db import utcnow
from panjereh.core.deps import AppSettings, DbSession
from panjereh.core.errors import ProblemError
from panjereh.core.i18n import N_
from panjereh.delivery import selectors as delivery_selectors
from panjereh.delivery import tracking
from panjereh.delivery.constants import WITHDRAWABLE_STATES
from panjereh.delivery.exceptions import CannotWithdraw
from panjereh.identity.deps import CurrentCitizen, ensure_level
from panjereh.payments import selectors, service
from panjereh.payments.constants import MismatchKind
from panjereh.payments.exceptions import CallbackRefused, CallbackReplayed, GatewayUnavailable, InvalidDay
from panjereh.payments.providers import Callback, PaymentProvider
from panjereh.staff import service as staff_service
from panjereh.web import representation as acting
from panjereh.web.csrf import CsrfProtected
from panjereh.web.delivery import PAYMENT_STATE_LABELS, STATE_LABELS, request_page
from panjereh.web.workspace.common import Operator, OperatorStepUp, render

router = APIRouter(include_in_schema=False)

MISMATCH_LABELS = {
    MismatchKind.UNKNOWN_HERE: N_("پرداخت در درگاه، ناشناخته در پنجره"),
    MismatchKind.UNSETTLED_HERE: N_("تسویه در درگاه، تسویه‌نشده در پنجره"),
    MismatchKind.AMOUNT_DIFFERS: N_("مبلغ متفاوت"),
    MismatchKind.MISSING_THERE: N_("تسویه در پنجره، نبود در گزارش درگاه"),
}
CALLBACK_FIELDS = ("token", "order_id", "status", "reference", "amount", "card", "signature")


def provider_of(request: Request) -> PaymentProvider:
    provider: PaymentProvider = request.app.state.payment_provider
    return provider


@router.post("/account/requests/{code}/pay", response_model=None)
def pay(
    code: str,
    request: Request,
    db: DbSession,
    settings: AppSettings,
    citizen: CurrentCitizen,
    _: CsrfProtected,
) -> RedirectResponse | HTMLResponse:
    """To the gateway with this request's payment (the same one again on a second click)."""
    item = delivery_selectors.request_of(db, citizen.national_code, code)
    acting.ensure_may_act_on(request, db, citizen, item)  # who applied for another pays only while he may act
    ensure_level(
        request, delivery_selectors.required_level(db, item.slug), return_to=f"/account/requests/{code}"
    )
    try:
        payment = service.start(
            db, settings, provider_of(request), national_code=citizen.national_code, tracking_code=code
        )
    except GatewayUnavailable as error:
        db.rollback()  # nothing is kept: the request still waits for its fee, and the citizen tries again
        return request_page(request, db, citizen, code, error=error, status_code=error.status)
    if payment is None:  # the fee was dropped meanwhile: the request went on without one
        return RedirectResponse(f"/account/requests/{item.tracking_code}", status_code=303)
    assert payment.token is not None
    return RedirectResponse(provider_of(request).payment_url(payment.token), status_code=303)


@router.get("/account/requests/{code}/withdraw", response_model=None)
def withdraw_page(
    code: str, request: Request, db: DbSession, citizen: CurrentCitizen
) -> HTMLResponse | RedirectResponse:
    """The confirmation step: what withdrawing does, and what becomes of a fee paid; then «انصراف»."""
    item = delivery_selectors.request_of(db, citizen.national_code, code)
    if item.state not in WITHDRAWABLE_STATES:  # withdrawn already, decided, or being worked on
        return RedirectResponse(f"/account/requests/{item.tracking_code}", status_code=303)
    acting.ensure_may_act_on(request, db, citizen, item)
    response: HTMLResponse = request.app.state.templates.render(
        request,
        "delivery/withdraw.html",
        {
            "item": item,
            "payments": selectors.payments_of_request(db, item.id),
            "state_labels": STATE_LABELS,
            "display_code": tracking.display,
        },
    )
    return response


@router.post("/account/requests/{code}/withdraw", response_model=None)
def withdraw(
    code: str,
    request: Request,
    db: DbSession,
    settings: AppSettings,
    citizen: CurrentCitizen,
    _: CsrfProtected,
) -> RedirectResponse | HTMLResponse:
    """Withdraw the request (the subject, or who applied for him while his right holds now); a second
    click lands on the same withdrawn request. Too late (decided, or being worked on): the request page
    says why."""
    item = delivery_selectors.request_of(db, citizen.national_code, code)
    acting.ensure_may_act_on(request, db, citizen, item)
    try:
        service.withdraw(db, settings, provider_of(request), item, actor_code=citizen.national_code)
    except CannotWithdraw as error:
        db.rollback()
        return request_page(request, db, citizen, code, error=error, status_code=error.status)
    return RedirectResponse(f"/account/requests/{item.tracking_code}", status_code=303)


@router.get("/payments/callback", response_model=None)
def callback_get(request: Request, db: DbSession, settings: AppSettings) -> RedirectResponse | HTMLResponse:
    """The gateway sends the citizen's browser back here (a 303 to a GET: see docs/protocols/payments.md)."""
    return _callback(request, db, settings, dict(request.query_params))


@router.post("/payments/callback", response_model=None)
async def callback_post(
    request: Request, db: DbSession, settings: AppSettings
) -> RedirectResponse | HTMLResponse:
    """The same, posted (as some gateways do). No CSRF token: the gateway's signature is what is trusted."""
    form: FormData = await request.form()
    fields = {key: str(value) for key, value in form.items() if isinstance(value, str)}
    return await run_in_threadpool(_callback, request, db, settings, fields)


def _callback(
    request: Request, db: Session, settings: Settings, fields: dict[str, str]
) -> RedirectResponse | HTMLResponse:
    sent = {name: fields.get(name, "")[:200] for name in CALLBACK_FIELDS}
    try:
        if not all(sent[name] for name in ("token", "order_id", "status", "amount", "signature")):
            raise CallbackRefused(
                "the payment result is incomplete", "نتیجهٔ پرداخت ناقص است", reason="malformed"
            )
        result = service.handle_callback(db, settings, provider_of(request), Callback(**sent))
    except CallbackReplayed as error:
        return _refused(request, error, error.extra.get("tracking_code"))
    except CallbackRefused as error:
        return _refused(request, error, None)
    return RedirectResponse(f"/account/requests/{result.tracking_code}", status_code=303)


def _refused(request: Request, error: ProblemError, tracking_code: str | None) -> HTMLResponse:
    if "text/html" not in request.headers.get("accept", ""):
        raise error  # a machine gets the problem document (the one error path)
    response: HTMLResponse = request.app.state.templates.render(
        request,
        "payments/refused.html",
        {"error": error, "tracking_code": tracking_code},
        status_code=error.status,
    )
    return response


# --- the operators' page ---------------------------------------------------------------------------------


def _operator_page(
    request: Request, db: Session, ctx: object, error: ProblemError | None = None
) -> HTMLResponse:
    return render(
        request,
        "payments/operator.html",
        {
            "ctx": ctx,
            "payments": selectors.recent_payments(db),
            "runs": selectors.reconciliation_runs(db),
            "payment_labels": PAYMENT_STATE_LABELS,
            "mismatch_labels": MISMATCH_LABELS,
            "yesterday": (utcnow() - timedelta(days=1)).date().isoformat(),
        },
        error=error,
    )


@router.get("/workspace/operator/payments", response_class=HTMLResponse)
def operator_payments(request: Request, db: DbSession, ctx: Operator) -> HTMLResponse:
    """The platform's latest payments and the reconciliation runs with their mismatches."""
    return _operator_page(request, db, ctx)


@router.post("/workspace/operator/payments/reconcile", response_model=None)
def operator_reconcile(
    request: Request,
    db: DbSession,
    settings: AppSettings,
    ctx: OperatorStepUp,
    _: CsrfProtected,
    day: Annotated[str, Form(max_length=10)] = "",
) -> HTMLResponse | RedirectResponse:
    """Reconcile one day now (the daily job's work, on demand)."""
    try:
        chosen = date.fromisoformat(day)
    except ValueError:
        return _operator_page(request, db, ctx, InvalidDay())
    if not date(2000, 1, 1) <= chosen <= utcnow().date():
        return _operator_page(request, db, ctx, InvalidDay())
    run = service.reconcile(db, settings, provider_of(request), chosen, trigger="manual")
    staff_service.audit(
        db, ctx, "payments.reconciled", chosen.isoformat(), {"mismatches": len(run.mismatches)}
    )
    return RedirectResponse("/workspace/operator/payments", status_code=303)


@router.post("/workspace/operator/payments/{payment_id}/refund", response_model=None)
def operator_refund(
    payment_id: str,
    request: Request,
    db: DbSession,
    settings: AppSettings,
    ctx: OperatorStepUp,
    _: CsrfProtected,
) -> HTMLResponse | RedirectResponse:
    """An operator gives a settled payment back (برگشت وجه); the citizen is told."""
    try:
        service.refund(db, settings, provider_of(request), payment_id[:32], reason="operator")
    except ProblemError as error:
        db.rollback()
        return _operator_page(request, db, ctx, error)
    staff_service.audit(db, ctx, "payments.refunded", payment_id[:32])
    return RedirectResponse("/workspace/operator/payments", status_code=303)


def mount(app: FastAPI) -> None:
    app.include_router(router)
