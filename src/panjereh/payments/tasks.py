"""Payments' jobs: the sweep (reverse what was not verified in time, refund what was refused after payment
or withdrawn) and the daily reconciliation against the gateway's report."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

from sqlalchemy.orm import Session, sessionmaker

from panjereh.core.config import Settings
from panjereh.core.db import unit_of_work, utcnow
from panjereh.core.logging import get_logger
from panjereh.jobs import JobContext, handler
from panjereh.jobs.periodic import periodic
from panjereh.payments import providers, service
from panjereh.payments.constants import GIVE_BACK_JOB
from panjereh.payments.exceptions import GatewayUnavailable, NotRefundable
from panjereh.payments.models import ReconciliationRun

log = get_logger(__name__)

SWEEP_JOB = "payments.sweep"
RECONCILE_JOB = "payments.reconcile"


def _provider(ctx: JobContext, settings: Settings) -> providers.PaymentProvider:
    found = ctx.services.get("payment_provider")
    return found if found is not None else providers.from_settings(settings)


def sweep(factory: sessionmaker[Session], settings: Settings, provider: providers.PaymentProvider) -> int:
    """One pass: each overdue payment (or one of a withdrawn request) reversed or voided, each finally
    refused or withdrawn request's settled fee refunded, one unit of work each (a gateway that does not
    answer leaves that one for the next pass). How many moved."""
    moved = 0
    with unit_of_work(factory, writes=False) as session:
        overdue = service.overdue_payments(session, settings)
    for payment_id in overdue:
        try:
            with unit_of_work(factory) as session:
                moved += service.reverse_overdue(session, settings, provider, payment_id)
        except GatewayUnavailable as exc:
            log.warning("payment.sweep_gateway_unavailable", payment=payment_id, detail=str(exc))
    with unit_of_work(factory) as session:  # approved: kept for good, never read again
        service.keep_approved(session)
    after = ""  # paged by id to the end, so one the gateway will not refund never hides the rest
    while True:
        with unit_of_work(factory, writes=False) as session:
            due = service.refunds_due(session, settings, after=after)
        if not due:
            return moved
        for payment_id, reason in due:
            try:
                with unit_of_work(factory) as session:
                    service.refund(session, settings, provider, payment_id, reason=reason)
                    moved += 1
            except (GatewayUnavailable, NotRefundable) as exc:
                log.warning("payment.refund_failed", payment=payment_id, detail=str(exc))
        after = due[-1][0]


def reconcile_day(
    factory: sessionmaker[Session],
    settings: Settings,
    provider: providers.PaymentProvider,
    day: date,
    *,
    trigger: str = "schedule",
) -> ReconciliationRun:
    """Reconcile one day in a unit of work of its own; the stored run (with its mismatches)."""
    with unit_of_work(factory) as session:
        run = service.reconcile(session, settings, provider, day, trigger=trigger)
        run.mismatches  # noqa: B018 — loaded before the session closes
    return run


def give_back(ctx: JobContext) -> bool:
    """A withdrawn request's payment given back at the gateway, the job done in the same unit of work."""
    settings: Settings = ctx.services["settings"]
    with unit_of_work(ctx.sessionmaker) as session:
        ctx.hold(session)  # still ours: a job given back to the queue meanwhile does nothing here
        moved = service.give_back_withdrawn(
            session, settings, _provider(ctx, settings), ctx.job.payload["payment_id"]
        )
        ctx.complete(session)
    return moved


@handler(GIVE_BACK_JOB)
async def give_back_job(ctx: JobContext) -> None:
    await asyncio.to_thread(give_back, ctx)


@periodic(
    SWEEP_JOB, every_seconds=lambda settings: settings.payment_sweep_every_seconds, first_after_seconds=30.0
)
def sweep_job(ctx: JobContext) -> None:
    settings: Settings = ctx.services["settings"]
    sweep(ctx.sessionmaker, settings, _provider(ctx, settings))


@periodic(
    RECONCILE_JOB,
    every_seconds=lambda settings: settings.payment_reconcile_every_seconds,
    first_after_seconds=300.0,
)
def reconcile_job(ctx: JobContext) -> None:
    """Yesterday (UTC) against the gateway's report."""
    settings: Settings = ctx.services["settings"]
    reconcile_day(ctx.sessionmaker, settings, _provider(ctx, settings), (utcnow() - timedelta(days=1)).date())
