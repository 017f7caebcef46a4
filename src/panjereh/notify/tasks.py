"""Sending an SMS or e-mail as a job: through the configured provider, retried with the job system's
back-off when the provider fails, and marked failed after the last attempt (at once when the provider
refuses the message for good); and the periodic job that asks the SMS provider what was delivered.

The send happens between two transactions: the first marks the notification `sending` (and proves the job
is still ours), the second records `sent` and finishes the job. A job resumed after its notification was
recorded sent finishes without sending again; one resumed between the send and that record (a crash in
the gap) sends again under the same `Message.id`, at least once rather than never.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from panjereh.core.config import Settings
from panjereh.core.db import unit_of_work, utcnow
from panjereh.core.logging import get_logger
from panjereh.jobs import JobContext, LeaseLost, handler
from panjereh.jobs.periodic import periodic
from panjereh.notify.constants import SMS, VERBATIM_KINDS
from panjereh.notify.models import Notification, NotificationStatus
from panjereh.notify.providers import (
    DeliveryReport,
    DeliveryReports,
    Message,
    Provider,
    Refused,
    provider_for,
)
from panjereh.notify.texts import sms_text

log = get_logger(__name__)

SEND_JOB = "notify.send"
DELIVERY_REPORTS_JOB = "notify.delivery_reports"
# A login code is worth minutes (PANJEREH_OTP_TTL_SECONDS): five attempts over about fifteen seconds.
MAX_ATTEMPTS = 5
# Any other notice waits out an outage: ten attempts, the back-off capped at five minutes (about 25 min).
LASTING_ATTEMPTS = 10
SETTLED = frozenset({NotificationStatus.SENT, NotificationStatus.DELIVERED, NotificationStatus.FAILED})
EXPIRED = "expired before it could be sent"
REPORTS_PER_RUN = 2000


@handler(SEND_JOB)
async def send_notification(ctx: JobContext) -> None:
    """Send one stored notification through the provider in `ctx.services["notify_provider"]`."""
    dispatcher: Provider = ctx.services["notify_provider"]
    notification_id = ctx.job.payload["notification_id"]
    message = await asyncio.to_thread(
        _start_attempt, ctx, notification_id, dispatcher, ctx.services["settings"]
    )
    if message is None:
        return
    provider = provider_for(dispatcher, message.channel)
    try:
        reference = await asyncio.to_thread(provider.send, message)
    except Exception as exc:  # any provider failure is an attempt that failed; the job decides what next
        log.warning(
            "notify.send_failed", notification=notification_id, provider=provider.name, error=str(exc)
        )
        error = f"{type(exc).__name__}: {exc}"
        await asyncio.to_thread(_record_failure, ctx, notification_id, error, isinstance(exc, Refused))
        return
    await asyncio.to_thread(_record_sent, ctx, notification_id, reference)


def _start_attempt(
    ctx: JobContext, notification_id: str, dispatcher: Provider, settings: Settings
) -> Message | None:
    """Mark the notification `sending` under our lease; None (and the job done) when it needs no send."""
    with unit_of_work(ctx.sessionmaker) as session:
        ctx.hold(session)
        notification = session.get(Notification, notification_id)
        if notification is None or notification.status in SETTLED:
            ctx.complete(session)  # gone with its data, or already settled by an earlier run of this job
            return None
        if notification.expires_at is not None and notification.expires_at <= utcnow():
            # A login code texted after its lifetime would only confuse: the citizen asks for a new one.
            notification.last_error = EXPIRED
            notification.settle(NotificationStatus.FAILED)
            ctx.complete(session)
            return None
        notification.status = NotificationStatus.SENDING
        notification.attempts += 1
        notification.provider = provider_for(dispatcher, notification.channel).name
        body_fa = notification.open_body(settings)
        text = ""
        if notification.channel == SMS:
            text = sms_text(
                notification.subject_fa,
                body_fa,
                notification.link,
                max_parts=settings.notify.sms_max_parts,
                verbatim=notification.kind in VERBATIM_KINDS,
            )
        return Message(
            id=notification.id,
            channel=notification.channel,
            to=notification.recipient,
            national_code=notification.national_code,
            kind=notification.kind,
            subject_fa=notification.subject_fa,
            body_fa=body_fa,
            link=notification.link,
            at=notification.created_at,
            text=text,
            subject_en=notification.subject_en,
            body_en=notification.open_body_en(settings),
        )


def _mark_sent(session: Session, notification_id: str, reference: str) -> None:
    notification = session.get(Notification, notification_id)
    if notification is not None:
        notification.provider_reference = reference[:120]
        notification.settle(NotificationStatus.SENT)


def _record_sent(ctx: JobContext, notification_id: str, reference: str) -> None:
    try:
        with unit_of_work(ctx.sessionmaker) as session:
            _mark_sent(session, notification_id, reference)
            ctx.complete(session)
    except LeaseLost:
        # Another worker resumed the job while this one was sending (a send slower than the lease): the
        # message is out all the same, and the record keeps that worker from sending it again.
        with unit_of_work(ctx.sessionmaker) as session:
            _mark_sent(session, notification_id, reference)
        raise


def _record_failure(ctx: JobContext, notification_id: str, error: str, refused: bool) -> None:
    """Back to `queued` for the job's next attempt (with back-off), or `failed` after its last (or at once
    when the provider refused the message for good)."""
    with unit_of_work(ctx.sessionmaker) as session:
        notification = session.get(Notification, notification_id)
        assert notification is not None  # the attempt that just failed found it
        notification.last_error = error[:2000]
        if refused or ctx.job.attempts >= ctx.job.max_attempts:
            notification.settle(NotificationStatus.FAILED)
            ctx.fail(session, error)
        else:
            notification.status = NotificationStatus.QUEUED
            ctx.reschedule(session, error)


@periodic(
    DELIVERY_REPORTS_JOB,
    every_seconds=lambda settings: settings.notify.delivery_poll_seconds,
    first_after_seconds=10.0,
    enabled=lambda settings: settings.notify.sms == "kavenegar",
)
def delivery_reports(ctx: JobContext) -> None:
    """Ask the SMS provider what became of the messages it accepted (within the polling window)."""
    provider = provider_for(ctx.services["notify_provider"], SMS)
    if isinstance(provider, DeliveryReports):
        poll_delivery_reports(ctx.sessionmaker, ctx.services["settings"], provider)


def poll_delivery_reports(
    factory: sessionmaker[Session], settings: Settings, provider: DeliveryReports
) -> int:
    """Update sent SMS from the provider's delivery reports: delivered, or failed (undelivered, with the
    provider's reason); how many changed. Messages older than the window are no longer asked about.

    Two short transactions with the provider asked between them, none open meanwhile: on SQLite a unit of
    work holds the database's one write lock, and every citizen's request would wait for as long as the
    gateway takes to answer (up to its timeout). A callback may settle a message meanwhile, so the reports
    are applied to the rows read again under a row lock (`Notification.take_report` moves only a `sent`
    one): a final status taken in between is never overturned, nor its `report` replaced by the poll's
    older word."""
    with unit_of_work(factory) as session:
        asked = messages_to_ask(session, settings, provider.name)
    if not asked:
        return 0
    reports = provider.reports(list(asked))
    with unit_of_work(factory) as session:
        return take_delivery_reports(session, asked, reports)


def messages_to_ask(session: Session, settings: Settings, provider_name: str) -> dict[str, str]:
    """The sent SMS to ask the provider about (its reference → the message's id), the least recently
    asked first; each is marked as asked now, so a message that is never settled does not hold the others
    back."""
    since = utcnow() - timedelta(hours=settings.notify.delivery_poll_hours)
    waiting = session.scalars(
        select(Notification)
        .where(
            Notification.status == NotificationStatus.SENT,
            Notification.channel == SMS,
            Notification.provider == provider_name,
            Notification.provider_reference.is_not(None),
            Notification.sent_at >= since,
        )
        .order_by(Notification.report_checked_at.is_not(None), Notification.report_checked_at)
        .limit(REPORTS_PER_RUN)
    ).all()
    now = utcnow()
    for row in waiting:
        row.report_checked_at = now  # this column only: the status is written from a locked read
    return {row.provider_reference: row.id for row in waiting if row.provider_reference}


def take_delivery_reports(session: Session, id_of: dict[str, str], answered: list[DeliveryReport]) -> int:
    """Apply the provider's reports on the asked messages (reference → id), read again under a row lock;
    how many changed."""
    now = utcnow()
    reports = [report for report in answered if report.reference in id_of]
    if not reports:
        return 0
    locked = session.scalars(
        select(Notification)
        .where(Notification.id.in_({id_of[report.reference] for report in reports}))
        .with_for_update()
        .execution_options(populate_existing=True)  # what a callback committed since the first read
    )
    current = {row.id: row for row in locked}
    changed = 0
    for report in reports:
        found = current.get(id_of[report.reference])
        if found is not None and found.take_report(report.delivered, report.text, now):
            changed += 1
    session.flush()
    return changed
