"""Sending an SMS or e-mail as a job: through the configured provider, retried with the job system's
back-off when the provider fails, and marked failed after the last attempt.

The send happens between two transactions: the first marks the notification `sending` (and proves the job
is still ours), the second records `sent` and finishes the job. A job resumed after its notification was
recorded sent finishes without sending again; one resumed between the send and that record (a crash in
the gap) sends again under the same `Message.id`, at least once rather than never.
"""

from __future__ import annotations

import asyncio

from sqlalchemy.orm import Session

from panjereh.core.config import Settings
from panjereh.core.db import unit_of_work, utcnow
from panjereh.core.logging import get_logger
from panjereh.jobs import JobContext, LeaseLost, handler
from panjereh.notify.models import Notification, NotificationStatus
from panjereh.notify.providers import Message, Provider

log = get_logger(__name__)

SEND_JOB = "notify.send"
# A login code is worth minutes (PANJEREH_OTP_TTL_SECONDS): five attempts over about fifteen seconds.
MAX_ATTEMPTS = 5
SETTLED = frozenset({NotificationStatus.SENT, NotificationStatus.FAILED})
EXPIRED = "expired before it could be sent"


@handler(SEND_JOB)
async def send_notification(ctx: JobContext) -> None:
    """Send one stored notification through the provider in `ctx.services["notify_provider"]`."""
    provider: Provider = ctx.services["notify_provider"]
    notification_id = ctx.job.payload["notification_id"]
    message = await asyncio.to_thread(
        _start_attempt, ctx, notification_id, provider.name, ctx.services["settings"]
    )
    if message is None:
        return
    try:
        reference = await asyncio.to_thread(provider.send, message)
    except Exception as exc:  # any provider failure is an attempt that failed; the job decides what next
        log.warning(
            "notify.send_failed", notification=notification_id, provider=provider.name, error=str(exc)
        )
        await asyncio.to_thread(_record_failure, ctx, notification_id, f"{type(exc).__name__}: {exc}")
        return
    await asyncio.to_thread(_record_sent, ctx, notification_id, reference)


def _start_attempt(
    ctx: JobContext, notification_id: str, provider_name: str, settings: Settings
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
        notification.provider = provider_name
        return Message(
            id=notification.id,
            channel=notification.channel,
            to=notification.recipient,
            national_code=notification.national_code,
            kind=notification.kind,
            subject_fa=notification.subject_fa,
            body_fa=notification.open_body(settings),
            link=notification.link,
            at=notification.created_at,
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


def _record_failure(ctx: JobContext, notification_id: str, error: str) -> None:
    """Back to `queued` for the job's next attempt (with back-off), or `failed` after its last."""
    with unit_of_work(ctx.sessionmaker) as session:
        notification = session.get(Notification, notification_id)
        assert notification is not None  # the attempt that just failed found it
        notification.last_error = error[:2000]
        if ctx.job.attempts >= ctx.job.max_attempts:
            notification.settle(NotificationStatus.FAILED)
            ctx.fail(session, error)
        else:
            notification.status = NotificationStatus.QUEUED
            ctx.reschedule(session, error)
