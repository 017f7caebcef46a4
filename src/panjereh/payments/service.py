"""Payments: a request's fee taken through the provider, never twice; verified, settled, receipted,
reversed when it must be; reconciled against the gateway's daily report.

The edge owns the transaction: these functions flush, never commit. Each change of a payment's state is a
conditional UPDATE from the state it expects (`_move`), after the row is locked, so two callbacks that race
settle once whatever the timing (the second finds the payment no longer pending and is a replay).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from panjereh import jobs
from panjereh.core.config import Settings
from panjereh.core.db import utcnow
from panjereh.core.logging import get_logger
from panjereh.delivery import selectors as delivery_selectors
from panjereh.delivery import service as delivery_service
from panjereh.delivery.constants import RequestState
from panjereh.documents import service as documents_service
from panjereh.identity import selectors as identity_selectors
from panjereh.notify import service as notify_service
from panjereh.payments import metrics
from panjereh.payments.constants import GIVE_BACK_JOB, LIVE_STATES, MismatchKind, PaymentState
from panjereh.payments.exceptions import (
    CallbackRefused,
    CallbackReplayed,
    GatewayUnavailable,
    NotRefundable,
    PaymentNotNeeded,
)
from panjereh.payments.models import Mismatch, Payment, ReconciliationRun
from panjereh.payments.providers import Callback, PaymentProvider, ReportRow

log = get_logger(__name__)

P = PaymentState
CALLBACK_PATH = "/payments/callback"
RECEIPT_TYPE = "payment-receipt"


# --- asking for a token ----------------------------------------------------------------------------------


def start(
    session: Session, settings: Settings, provider: PaymentProvider, *, national_code: str, tracking_code: str
) -> Payment | None:
    """The payment the citizen takes to the gateway for one of their requests waiting for its fee; None
    when the service has no fee any more (the request went on to be processed without one).

    Idempotent per request: a pending payment still in time is given again (the same token), so a double
    click or a back button never makes a second charge possible. Someone else's request is not found.
    A gateway that cannot be reached raises `GatewayUnavailable` and writes nothing: the request still
    waits for its fee and the citizen tries again."""
    # Lock order (everywhere in payments): the request's live payments, by id, then the request — the
    # order a callback (`handle_callback` → `confirm`) and a withdrawal take them in, so «pay», a callback
    # and a withdrawal wait for each other, never deadlock. Found unlocked first for its id; locked after
    # its payments, so a withdrawal committed meanwhile is seen (no token is asked for a withdrawn request).
    request = delivery_selectors.request_of(session, national_code, tracking_code)
    locked = _lock_live_payments(session, request.id)
    session.refresh(request, with_for_update=True)
    if request.state is not RequestState.AWAITING_PAYMENT:
        raise PaymentNotNeeded()
    # One live payment per request (a unique index); one created meanwhile by a concurrent click is new,
    # so it is given again below and never voided out of the lock order.
    live = next(iter(locked), None) or live_payment(session, request.id)
    if live is not None:
        if live.state is not P.PENDING:
            raise PaymentNotNeeded(
                "a payment of this request is being confirmed", "پرداخت این درخواست در حال تأیید است"
            )
        if live.created_at > utcnow() - timedelta(seconds=settings.payment_verify_timeout_seconds):
            return live
        # Too old to pay: void it, then a new one. A gateway that will not void it leaves it live (the
        # database allows one live payment per request): the citizen is told to try again, not handed the
        # dead token.
        if not expire_or_reverse(session, settings, provider, live):
            raise GatewayUnavailable(
                "the gateway did not void the previous payment", "درگاه پرداخت پیشین را باطل نکرد"
            )
    amount = delivery_selectors.fee_of(session, request.slug)
    if amount <= 0:
        # The fee was dropped after the request was submitted: it goes on as a fee-free one rather than
        # waiting forever for a payment nobody can make.
        delivery_service.fee_no_longer_due(session, settings, request)
        log.info("payment.fee_no_longer_due", tracking_code=request.tracking_code)
        return None
    attempt = session.scalar(
        select(func.count()).select_from(Payment).where(Payment.request_id == request.id)
    )
    # The same request's same attempt is the same order at the gateway (which answers it with the same token).
    order_id = f"{request.tracking_code}-{(attempt or 0) + 1}"
    token = provider.request_token(
        order_id=order_id, amount_rials=amount, callback_url=f"{settings.base_url}{CALLBACK_PATH}"
    )
    payment = Payment(
        request_id=request.id,
        tracking_code=request.tracking_code,
        # The payer: the signed-in citizen, who for a child, a company or a delegator is the one acting for
        # them (not the request's subject); the receipt, the refund notice and "my window" are the payer's.
        national_code=national_code,
        agency_code=request.agency_code,
        slug=request.slug,
        amount_rials=amount,
        provider=provider.name,
        order_id=order_id,
        token=token,
        state=P.PENDING,
    )
    try:
        with session.begin_nested():
            session.add(payment)
            session.flush()
    except IntegrityError:
        # A concurrent click won (same order, same token): both continue with its payment.
        winner = live_payment(session, request.id)
        if winner is None:
            raise
        return winner
    metrics.count("started")
    log.info("payment.started", payment=payment.id, tracking_code=payment.tracking_code, amount=amount)
    return payment


def _lock_live_payments(session: Session, request_id: str) -> list[Payment]:
    """The request's live payments, locked in id order (the first step of the lock order), read afresh."""
    return list(
        session.scalars(
            select(Payment)
            .where(Payment.request_id == request_id, Payment.state.in_(LIVE_STATES))
            .order_by(Payment.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    )


def live_payment(session: Session, request_id: str) -> Payment | None:
    return session.scalar(
        select(Payment).where(Payment.request_id == request_id, Payment.state.in_(LIVE_STATES))
    )


# --- withdrawing a request, and its fee --------------------------------------------------------------------


def withdraw(
    session: Session, settings: Settings, provider: PaymentProvider, request: Any, *, actor_code: str
) -> bool:
    """The citizen withdraws one of his requests (`delivery.service.withdraw`) and its fee follows at once:
    a token still open is voided at the gateway (or, if he had paid it, the money goes back), a settled fee
    is refunded (a withdrawal is final when made: no review window to wait for). True if withdrawn now
    (False: it already was; nothing is done twice). The caller found the request among the actor's
    (`delivery.selectors.request_of`) and checked that he may act for its subject.

    The gateway is called only after the withdrawal commits: here each live payment gets a job
    (`give_back_withdrawn`, handed to this process's worker at commit), so a withdrawal rolled back never
    gave money back for a request that still waits. A gateway that does not answer never stops the
    withdrawal: the payment stays as it is and the sweep voids or refunds it on its next pass (withdrawn
    requests' payments are in its selection, whatever age)."""
    # The lock order (see `start`): the request's live payments, by id, before the request, so a withdrawal,
    # a callback and «pay» wait for each other (the later one sees what the first wrote), never deadlock.
    live = _lock_live_payments(session, request.id)
    if not delivery_service.withdraw(session, settings, request, actor_code=actor_code):
        return False
    for payment in live:
        jobs.enqueue(
            session, GIVE_BACK_JOB, {"payment_id": payment.id}, dedupe_key=f"{GIVE_BACK_JOB}:{payment.id}"
        )
    log.info("request.withdrawn", tracking_code=request.tracking_code, payments=len(live))
    return True


def give_back_withdrawn(
    session: Session, settings: Settings, provider: PaymentProvider, payment_id: str
) -> bool:
    """One payment of a withdrawn request given back at the gateway (the job `withdraw` queued): a settled
    fee refunded, a paid one reversed, an open token voided. Idempotent: each step locks the payment and
    moves it only from the state it finds, so a second run (or the sweep first) does nothing. True if it
    moved; a gateway that does not answer leaves it to the sweep."""
    state = session.scalar(select(Payment.state).where(Payment.id == payment_id))
    try:
        if state is P.SETTLED:
            refund(session, settings, provider, payment_id, reason="request_withdrawn")
            return True
        return reverse_overdue(session, settings, provider, payment_id)
    except (GatewayUnavailable, NotRefundable) as exc:
        log.warning("payment.withdrawal_left_to_sweep", payment=payment_id, detail=str(exc))
        return False


# --- the callback ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CallbackResult:
    """What the callback did, for the page the citizen lands on."""

    tracking_code: str
    state: PaymentState


def handle_callback(
    session: Session, settings: Settings, provider: PaymentProvider, callback: Callback
) -> CallbackResult:
    """The gateway's answer, brought back by the citizen's browser: checked, then verified and settled
    server to server. A forged or altered callback raises `CallbackRefused`, a second one for the same
    payment `CallbackReplayed`; both are logged and counted, and change nothing."""
    if not provider.callback_is_authentic(callback):
        _refuse("bad_signature", callback)
    payment = session.scalars(
        select(Payment).where(Payment.token == callback.token).with_for_update()
    ).first()
    if payment is None:
        _refuse("unknown_token", callback)
    assert payment is not None
    if payment.order_id != callback.order_id:
        _refuse(
            "order_mismatch", callback, payment
        )  # another request's token with this order, or the reverse
    if callback.amount != str(payment.amount_rials):
        _refuse("amount_mismatch", callback, payment)
    if payment.state is not P.PENDING:
        _replayed(callback, payment)
    if callback.status in ("CANCELED", "DECLINED"):
        to = P.CANCELED if callback.status == "CANCELED" else P.DECLINED
        _move(
            session,
            payment,
            P.PENDING,
            to,
            failure=callback.status.lower(),
        )
        metrics.count(to.value)
        log.info("payment.not_paid", payment=payment.id, outcome=to.value)
        return CallbackResult(payment.tracking_code, to)
    if callback.status != "OK" or not callback.reference:
        _refuse("bad_status", callback, payment)
    try:
        with session.begin_nested():
            moved = _move(
                session,
                payment,
                P.PENDING,
                P.PAID,
                reference=callback.reference,
                paid_at=utcnow(),
            )
    except IntegrityError:
        moved = False  # the reference already belongs to another payment: a replay under another token
    if not moved:
        _replayed(callback, payment)
    confirm(session, settings, provider, payment)
    return CallbackResult(payment.tracking_code, payment.state)


def confirm(session: Session, settings: Settings, provider: PaymentProvider, payment: Payment) -> None:
    """Verify, then settle, a payment the gateway reported paid. A gateway that does not answer leaves it
    paid (the sweep reverses it after `payment_verify_timeout_seconds`); one that refuses to verify fails
    it (no money moved); a verified amount that differs is reversed at once."""
    assert payment.token is not None and payment.reference is not None
    try:
        verified = provider.verify(payment.token, payment.reference)
        if not verified.ok:
            _move(session, payment, P.PAID, P.FAILED, failure=f"verify:{verified.code}"[:60])
            metrics.count("verify_refused")
            log.warning("payment.verify_refused", payment=payment.id, code=verified.code)
            return
        if verified.amount != payment.amount_rials:
            provider.reverse(payment.token)
            _move(session, payment, P.PAID, P.REVERSED, refund_reason="amount_mismatch", reversed_at=utcnow())
            metrics.count("amount_mismatch")
            log.warning("payment.amount_mismatch", payment=payment.id, verified=verified.amount)
            return
        # The card's mask as the gateway answered server to server: the callback's `card` is not signed,
        # so what the citizen's browser brought never reaches the signed receipt.
        payment.card_mask = (verified.card or "")[:20] or None
        session.flush()
        # Locked after the payment (the lock order, see `start`): the state read here stays.
        request = delivery_selectors.request_for_update(session, payment.request_id)
        if request is None or request.state is not RequestState.AWAITING_PAYMENT:
            _give_back_unwanted(session, settings, provider, payment, request)
            return
        settled = provider.settle(payment.token)
    except GatewayUnavailable as exc:
        metrics.count("verify_unavailable")
        log.warning("payment.verify_unavailable", payment=payment.id, detail=str(exc))
        return
    if not settled.ok:
        metrics.count("settle_refused")
        log.warning("payment.settle_refused", payment=payment.id, code=settled.code)
        return
    _settle(session, settings, payment)


def _give_back_unwanted(
    session: Session, settings: Settings, provider: PaymentProvider, payment: Payment, request: Any
) -> None:
    """Paid (and verified) for a request that no longer waits for its fee (withdrawn while the citizen was
    at the gateway, or its fee dropped): the money goes back at once, never settled into that request. A
    gateway that does not reverse now leaves it paid; the sweep reverses it on its next pass."""
    assert payment.token is not None
    withdrawn = request is not None and request.state is RequestState.WITHDRAWN
    reason = "request_withdrawn" if withdrawn else "not_needed"
    answer = provider.reverse(payment.token)
    if not answer.ok or answer.state != "reversed":
        log.warning("payment.reverse_refused", payment=payment.id, code=answer.code)
        return
    if _move(
        session,
        payment,
        P.PAID,
        P.REVERSED,
        refund_reason=reason,
        reversed_at=utcnow(),
        refund_checked_at=utcnow(),
    ):
        metrics.count(f"reversed_{reason}")
        log.info("payment.reversed_unwanted", payment=payment.id, reason=reason)
        _tell(session, settings, payment, reason)


def _settle(session: Session, settings: Settings, payment: Payment) -> None:
    """The money is the agency's: the payment is settled, its receipt issued, the request goes on."""
    if not _move(session, payment, P.PAID, P.SETTLED, settled_at=utcnow()):
        return
    request = delivery_selectors.request_for_update(session, payment.request_id)
    assert request is not None
    assert payment.reference is not None
    payment.receipt_number = issue_receipt(session, settings, payment, request)
    delivery_service.payment_received(
        session, settings, request, reference=payment.reference, amount_rials=payment.amount_rials
    )
    session.flush()
    metrics.count("settled")
    log.info("payment.settled", payment=payment.id, tracking_code=payment.tracking_code)


def issue_receipt(session: Session, settings: Settings, payment: Payment, request: Any) -> str:
    """The receipt («رسید») as a signed document, verifiable at /verify like any other."""
    document = documents_service.issue_document(
        session,
        settings,
        document_type=RECEIPT_TYPE,
        title_fa=f"رسید پرداخت هزینهٔ «{request.definition.title_fa}»",
        title_en=f"Receipt of the fee for “{request.definition.title_en}”",
        subject_national_code=payment.national_code,
        subject_name=delivery_service.subject_name(session, request),
        issuer_agency_code=payment.agency_code,
        claims={
            "amount_rials": payment.amount_rials,
            "reference": payment.reference,
            "order_id": payment.order_id,
            "tracking_code": payment.tracking_code,
            "service": payment.slug,
            "card": payment.card_mask or "",
            "paid_at": (payment.paid_at or utcnow()).isoformat(timespec="seconds"),
        },
        request_tracking_code=payment.tracking_code,
    )
    return document.number


def _refuse(reason: str, callback: Callback, payment: Payment | None = None) -> None:
    metrics.count(f"refused_{reason}")
    log.warning(
        "payment.callback_refused",
        reason=reason,
        token=callback.token[:64],
        order_id=callback.order_id[:64],
        payment=payment.id if payment else None,
    )
    raise CallbackRefused(f"refused: {reason}", "نتیجهٔ پرداخت با پرداخت ثبت‌شده نمی‌خواند", reason=reason)


def _replayed(callback: Callback, payment: Payment) -> None:
    metrics.count("refused_replay")
    log.warning(
        "payment.callback_replayed",
        payment=payment.id,
        state=payment.state.value,
        reference=callback.reference[:40],
    )
    raise CallbackReplayed(
        "this payment's result was already received",
        "نتیجهٔ این پرداخت پیش‌تر ثبت شده است؛ وضعیت درخواست را در صفحهٔ آن ببینید",
        tracking_code=payment.tracking_code,
    )


def _move(
    session: Session, payment: Payment, from_state: PaymentState, to: PaymentState, **values: Any
) -> bool:
    """Move the payment from the state it is expected to be in; False (nothing written) if it is not."""
    result = session.execute(
        update(Payment)
        .where(Payment.id == payment.id, Payment.state == from_state)
        .values(state=to, updated_at=utcnow(), **values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        session.refresh(payment)
        return False
    session.refresh(payment)
    return True


# --- reversal: unverified in time, refused requests, operators --------------------------------------------


def expire_or_reverse(
    session: Session,
    settings: Settings,
    provider: PaymentProvider,
    payment: Payment,
    *,
    withdrawn: bool = False,
) -> bool:
    """A pending or paid payment not settled in time: the gateway voids the token, or gives the money back
    if the citizen paid and the platform never verified. True if it moved.

    `withdrawn`: its request was withdrawn, so at once and whatever its age: money paid goes back as the
    withdrawal's refund, a token never paid is cancelled (not «expired»: the citizen may not pay it again)."""
    assert payment.token is not None
    answer = provider.reverse(payment.token)  # GatewayUnavailable: tried again at the next sweep
    if not answer.ok:
        log.warning("payment.reverse_refused", payment=payment.id, code=answer.code)
        return False
    if answer.state == "reversed":
        reason = "request_withdrawn" if withdrawn else "not_verified"
        moved = _move(
            session,
            payment,
            payment.state,
            P.REVERSED,
            refund_reason=reason,
            reversed_at=utcnow(),
            refund_checked_at=utcnow(),
        )
        if moved:
            metrics.count("reversed_withdrawn" if withdrawn else "reversed_unverified")
            _tell(session, settings, payment, reason)
        return moved
    if withdrawn:
        moved = _move(session, payment, payment.state, P.CANCELED, failure="withdrawn")
        if moved:
            metrics.count("canceled_withdrawn")
        return moved
    moved = _move(session, payment, payment.state, P.EXPIRED, failure="expired")
    if moved:
        metrics.count("expired")
    return moved


REFUND_REASONS = {
    "request_refused": (
        "درخواست شما پذیرفته نشد؛ هزینهٔ پرداخت‌شده به کارت شما برگشت داده شد",
        "Your request was refused; the fee was returned to your card",
    ),
    "operator": (
        "هزینهٔ پرداخت‌شده به دستور راهبر پنجره به کارت شما برگشت داده شد",
        "The fee was returned to your card by the platform's operator",
    ),
    "not_verified": (
        "پرداخت شما به‌موقع تأیید نشد و مبلغ آن به کارت شما برگشت داده شد؛ می‌توانید دوباره بپردازید",
        "Your payment was not confirmed in time and was returned to your card; you may pay again",
    ),
    "request_withdrawn": (
        "از درخواست انصراف دادید؛ هزینهٔ پرداخت‌شده به کارت شما برگشت داده شد",
        "You withdrew the request; the fee you paid was returned to your card",
    ),
    "not_needed": (
        "این درخواست دیگر در انتظار پرداخت نبود؛ مبلغ پرداخت‌شده به کارت شما برگشت داده شد",
        "The request no longer waited for its fee; the amount you paid was returned to your card",
    ),
}


def refund(
    session: Session, settings: Settings, provider: PaymentProvider, payment_id: str, *, reason: str
) -> Payment:
    """Give a settled payment back through the provider (برگشت وجه), note it on the request's timeline and
    tell the citizen. Refused for a payment that is not settled."""
    payment = session.scalars(select(Payment).where(Payment.id == payment_id).with_for_update()).first()
    if payment is None or payment.state is not P.SETTLED or payment.token is None:
        raise NotRefundable()
    answer = provider.reverse(payment.token)
    if not answer.ok or answer.state != "reversed":
        raise GatewayUnavailable(
            f"the gateway did not reverse: {answer.code}", "درگاه برگشت وجه را انجام نداد"
        )
    if not _move(
        session,
        payment,
        P.SETTLED,
        P.REVERSED,
        refund_reason=reason,
        reversed_at=utcnow(),
        refund_checked_at=utcnow(),
    ):
        return payment  # refunded meanwhile (the sweep and an operator racing): told once, by the winner
    metrics.count(f"refunded_{reason}")
    log.info("payment.refunded", payment=payment.id, reason=reason)
    _tell(session, settings, payment, reason)
    return payment


def _tell(session: Session, settings: Settings, payment: Payment, reason: str) -> None:
    message_fa, message_en = REFUND_REASONS[reason]
    request = delivery_selectors.requests_by_ids(session, [payment.request_id]).get(payment.request_id)
    if request is not None:
        delivery_service.note_on_timeline(
            session,
            request,
            kind="payment_reversed",
            message_fa=message_fa,
            message_en=message_en,
            detail={"amount_rials": payment.amount_rials, "reference": payment.reference, "reason": reason},
        )
    citizen = identity_selectors.get_citizen_by_national_code(session, payment.national_code)
    mobile = citizen.mobile if citizen is not None else None
    notify_service.tell(  # on the channels the citizen chose for payments (the inbox and SMS by default)
        session,
        settings,
        national_code=payment.national_code,
        mobile=mobile,
        subject_fa="برگشت وجه",
        subject_en="Refund",
        body_en=message_en,
        body_fa=message_fa,
        kind="payments.refund",
        link=f"/account/requests/{payment.tracking_code}",
    )


def overdue_payments(session: Session, settings: Settings, now: datetime | None = None) -> list[str]:
    """Pending or paid payments older than the verify timeout, and those of a withdrawn request whatever
    their age (the sweep reverses them)."""
    bound = (now or utcnow()) - timedelta(seconds=settings.payment_verify_timeout_seconds)
    unsettled = Payment.state.in_((P.PENDING, P.PAID))
    withdrawn = delivery_selectors.withdrawn(select(Payment.request_id).where(unsettled).correlate(None))
    return list(
        session.scalars(
            select(Payment.id)
            .where(unsettled, or_(Payment.updated_at < bound, Payment.request_id.in_(withdrawn)))
            .order_by(Payment.updated_at)
            .limit(500)
        )
    )


# How many payments with a refund due one query of the sweep takes (it pages on, by id, to the end).
REFUND_PAGE = 500


def _refund_open() -> Any:
    """A settled payment whose refund is not decided yet (`refund_checked_at`; the partial index
    `ix_payment_refund_open` holds exactly these, so the sweep never reads a decided one again)."""
    return and_(Payment.state == P.SETTLED, Payment.refund_checked_at.is_(None))


def refunds_due(
    session: Session, settings: Settings, *, after: str = "", now: datetime | None = None
) -> list[tuple[str, str]]:
    """Open settled payments whose request was finally refused or withdrawn (the sweep refunds them), as
    (payment id, refund reason), one page of `REFUND_PAGE` ordered by id after `after`. Chosen in SQL,
    through delivery's selectors: a refusal that can still be reviewed is not final, so its fee is kept
    until the review window closes; a withdrawal is final at once."""
    among = select(Payment.request_id).where(_refund_open()).correlate(None)
    refused = delivery_selectors.finally_refused(settings, among, now=now)
    withdrawn = delivery_selectors.withdrawn(among)
    rows = session.execute(
        select(Payment.id, Payment.request_id.in_(withdrawn).label("withdrawn"))
        .where(
            _refund_open(),
            Payment.id > after,
            or_(Payment.request_id.in_(refused), Payment.request_id.in_(withdrawn)),
        )
        .order_by(Payment.id)
        .limit(REFUND_PAGE)
    ).all()
    return [
        (payment_id, "request_withdrawn" if was_withdrawn else "request_refused")
        for payment_id, was_withdrawn in rows
    ]


def keep_approved(session: Session, now: datetime | None = None) -> int:
    """Mark the open settled payments of approved requests decided (the fee is kept): the sweep never
    reads them again. How many."""
    among = select(Payment.request_id).where(_refund_open()).correlate(None)
    result = session.execute(
        update(Payment)
        .where(_refund_open(), Payment.request_id.in_(delivery_selectors.approved(among)))
        .values(refund_checked_at=now or utcnow())
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def reverse_overdue(
    session: Session,
    settings: Settings,
    provider: PaymentProvider,
    payment_id: str,
    now: datetime | None = None,
) -> bool:
    """Lock one overdue payment (or one of a withdrawn request) and reverse it if it still is."""
    payment = session.scalars(select(Payment).where(Payment.id == payment_id).with_for_update()).first()
    if payment is None or payment.state not in (P.PENDING, P.PAID):
        return False
    request = delivery_selectors.requests_by_ids(session, [payment.request_id]).get(payment.request_id)
    withdrawn = request is not None and request.state is RequestState.WITHDRAWN
    bound = (now or utcnow()) - timedelta(seconds=settings.payment_verify_timeout_seconds)
    if payment.updated_at >= bound and not withdrawn:
        return False
    return expire_or_reverse(session, settings, provider, payment, withdrawn=withdrawn)


# --- reconciliation («مغایرت‌گیری») ----------------------------------------------------------------------

PAID_THERE = frozenset({"paid", "verified", "settled"})


def reconcile(
    session: Session, settings: Settings, provider: PaymentProvider, day: date, *, trigger: str = "schedule"
) -> ReconciliationRun:
    """Match the gateway's report of one day (UTC) against the platform's payments; store what differs."""
    run = ReconciliationRun(day=day, provider=provider.name, trigger=trigger)
    session.add(run)
    try:
        rows = provider.daily_report(day)
    except GatewayUnavailable as exc:
        run.error = str(exc)[:2000]
        session.flush()
        metrics.count("reconciliation_failed")
        return run
    start_at = datetime.combine(day, datetime.min.time(), tzinfo=utcnow().tzinfo)
    ours = list(
        session.scalars(
            select(Payment).where(
                (Payment.token.in_([row.token for row in rows]))
                | ((Payment.created_at >= start_at) & (Payment.created_at < start_at + timedelta(days=1)))
            )
        )
    )
    by_token = {p.token: p for p in ours if p.token}
    seen: set[str] = set()
    matched = 0
    for row in rows:
        payment = by_token.get(row.token)
        if payment is not None:
            seen.add(payment.id)
        kind = _difference(row, payment)
        if kind is None:
            matched += 1 if payment is not None or row.state in PAID_THERE else 0
            continue
        run.mismatches.append(_mismatch(kind, row, payment))
    for payment in ours:
        if payment.id not in seen and payment.state is P.SETTLED:
            run.mismatches.append(_mismatch(MismatchKind.MISSING_THERE, None, payment))
    run.gateway_count, run.platform_count, run.matched = len(rows), len(ours), matched
    session.flush()
    metrics.count("reconciled")
    if run.mismatches:
        log.warning("payment.mismatches", day=day.isoformat(), count=len(run.mismatches))
    return run


def _difference(row: ReportRow, payment: Payment | None) -> MismatchKind | None:
    if payment is None:
        return MismatchKind.UNKNOWN_HERE if row.state in PAID_THERE or row.state == "reversed" else None
    if row.amount != payment.amount_rials:
        return MismatchKind.AMOUNT_DIFFERS
    if row.state == "settled" and payment.state is not P.SETTLED:
        return MismatchKind.UNSETTLED_HERE
    if payment.state is P.SETTLED and row.state != "settled":
        return MismatchKind.MISSING_THERE
    return None


def _mismatch(kind: MismatchKind, row: ReportRow | None, payment: Payment | None) -> Mismatch:
    return Mismatch(
        kind=kind,
        token=(row.token if row else payment.token if payment else None),
        order_id=(row.order_id if row else payment.order_id if payment else None),
        payment_id=payment.id if payment else None,
        gateway_amount=row.amount if row else None,
        platform_amount=payment.amount_rials if payment else None,
        gateway_state=row.state if row else None,
        platform_state=payment.state.value if payment else None,
        detail={"reference": (row.reference if row else None) or (payment.reference if payment else None)},
    )
