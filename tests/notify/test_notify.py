"""Notify: inbox rows, SMS and e-mail sent by a job through a provider with retries and a status, the
development outbox, and refusals."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from datetime import timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from panjereh.core.config import Settings
from panjereh.core.db import utcnow
from panjereh.jobs import Job, JobStatus, queue
from panjereh.notify import selectors, service
from panjereh.notify.exceptions import NoRecipient, UnknownChannel
from panjereh.notify.models import Notification, NotificationStatus
from panjereh.notify.providers import Message, read_outbox
from panjereh.notify.tasks import LASTING_ATTEMPTS, SEND_JOB
from tests.notify.helpers import send_queued


async def _awaited(step: Awaitable[None]) -> None:
    """A job handler's awaitable as the coroutine `asyncio.run` takes."""
    await step


def text_demo_citizen(
    db: Session,
    settings: Settings,
    body_fa: str,
    *,
    subject_fa: str = "کد ورود",
    kind: str = "identity.login_code",
) -> None:
    """An SMS to the demo citizen, in the test's transaction."""
    service.send(
        db, settings, national_code="0499370899", mobile="09121234567", channels=frozenset({"sms"}),
        subject_fa=subject_fa, body_fa=body_fa, kind=kind,
    )  # fmt: skip


class Flaky:
    """A provider that fails its first `failures` sends, then sends (the messages it sent are kept)."""

    name = "flaky"

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.sent: list[Message] = []

    def send(self, message: Message) -> str:
        if self.failures > 0:
            self.failures -= 1
            raise ConnectionError("gateway timed out")
        self.sent.append(message)
        return f"flaky-{len(self.sent)}"


def queue_a_code(db: Session, settings: Settings, body_fa: str) -> None:
    """An SMS committed, its job queued."""
    text_demo_citizen(db, settings, body_fa)
    db.commit()


def pass_the_backoff(db: Session) -> None:
    """Make the queued job due now, as once its back-off has passed."""
    db.execute(update(Job).values(run_at=utcnow() - timedelta(seconds=1)))
    db.commit()


def send_job(db: Session) -> Job:
    job = db.scalar(select(Job).where(Job.kind == SEND_JOB))
    assert job is not None
    return job


def only_notification(db: Session) -> Notification:
    db.expire_all()
    [notification] = db.scalars(select(Notification)).all()
    return notification


def test_inbox_and_sms(db: Session, settings: Settings, session_factory: sessionmaker[Session]) -> None:
    before = len(read_outbox(settings))
    service.send(
        db,
        settings,
        national_code="0499370899",
        mobile="09121234567",
        channels=frozenset({"inbox", "sms"}),
        subject_fa="درخواست شما",
        body_fa="تصمیم گرفته شد",
        kind="delivery.decided",
        link="/requests/1",
    )
    rows = selectors.inbox(db, "0499370899")
    assert [row.subject_fa for row in rows] == ["درخواست شما"]
    assert selectors.unread_count(db, "0499370899") == 1
    assert selectors.inbox(db, "0790419904") == []
    db.commit()
    assert only_notification(db).status == NotificationStatus.QUEUED
    assert len(read_outbox(settings)) == before  # queued: the job sends it
    assert send_queued(session_factory, settings) == 1
    outbox = read_outbox(settings)
    assert len(outbox) == before + 1 and outbox[-1]["to"] == "09121234567" and outbox[-1]["channel"] == "sms"
    sent = only_notification(db)
    assert (sent.status, sent.attempts, sent.provider, sent.provider_reference) == (
        NotificationStatus.SENT, 1, "outbox", sent.id,
    )  # fmt: skip
    assert sent.sent_at is not None and outbox[-1]["id"] == sent.id
    assert service.mark_read(db, "0790419904", rows[0].id) is False  # not theirs
    assert service.mark_read(db, "0499370899", rows[0].id) is True
    assert selectors.unread_count(db, "0499370899") == 0


def test_a_message_of_a_rolled_back_transaction_never_leaves(
    db: Session, settings: Settings, session_factory: sessionmaker[Session]
) -> None:
    before = len(read_outbox(settings))
    text_demo_citizen(db, settings, "کد: 123456")
    db.rollback()  # the request failed after the send: the code would point at an attempt that is gone
    db.commit()  # a later transaction of the same session commits nothing that was rolled back
    assert send_queued(session_factory, settings) == 0
    assert len(read_outbox(settings)) == before
    text_demo_citizen(db, settings, "کد: 654321")
    db.commit()
    db.commit()  # queued once, not again
    assert send_queued(session_factory, settings) == 1
    sent = read_outbox(settings)[before:]
    assert [record["body_fa"] for record in sent] == ["کد: 654321"]


def test_a_provider_that_fails_then_succeeds_is_retried_and_ends_sent(
    db: Session, settings: Settings, session_factory: sessionmaker[Session]
) -> None:
    provider = Flaky(failures=2)
    queue_a_code(db, settings, "کد: 111111")
    for attempt in (1, 2):
        assert send_queued(session_factory, settings, provider) == 1
        waiting = only_notification(db)
        assert (waiting.status, waiting.attempts) == (NotificationStatus.QUEUED, attempt)
        assert waiting.last_error == "ConnectionError: gateway timed out" and not provider.sent
        job = send_job(db)
        assert job.status == JobStatus.QUEUED and job.run_at > utcnow()  # backed off
        pass_the_backoff(db)
    assert send_queued(session_factory, settings, provider) == 1
    sent = only_notification(db)
    assert (sent.status, sent.attempts, sent.provider, sent.provider_reference) == (
        NotificationStatus.SENT, 3, "flaky", "flaky-1",
    )  # fmt: skip
    assert sent.last_error is None and [message.body_fa for message in provider.sent] == ["کد: 111111"]


def test_a_provider_that_always_fails_ends_failed_with_its_error(
    db: Session, settings: Settings, session_factory: sessionmaker[Session]
) -> None:
    provider = Flaky(failures=1_000)
    queue_a_code(db, settings, "کد: 222222")  # no lifetime: a notice that may wait out an outage
    for _ in range(LASTING_ATTEMPTS):
        pass_the_backoff(db)
        assert send_queued(session_factory, settings, provider) == 1
    failed = only_notification(db)
    assert (failed.status, failed.attempts) == (NotificationStatus.FAILED, LASTING_ATTEMPTS)
    assert failed.last_error == "ConnectionError: gateway timed out" and failed.failed_at is not None
    job = send_job(db)
    assert job.status == JobStatus.FAILED and job.last_error == failed.last_error
    assert send_queued(session_factory, settings, provider) == 0 and not provider.sent


def test_a_resumed_job_does_not_send_again(
    db: Session, settings: Settings, session_factory: sessionmaker[Session]
) -> None:
    queue_a_code(db, settings, "کد: 333333")
    handler = queue.handler_for(SEND_JOB)
    assert handler is not None
    resumed: list[queue.ClaimedJob] = []

    class SlowerThanItsLease(Flaky):
        def send(self, message: Message) -> str:
            reference = super().send(message)
            # While it was sending, its lease ran out and another worker resumed the job.
            resumed.extend(queue.claim(session_factory, "worker-b", 10, lease_seconds=60))
            return reference

    provider = SlowerThanItsLease(failures=0)
    services = {"settings": settings, "notify_provider": provider}
    [claimed] = queue.claim(session_factory, "worker-a", 10, lease_seconds=60)
    slow = queue.JobContext(session_factory, "worker-a", claimed, services, lease_seconds=-1)
    with pytest.raises(queue.LeaseLost):
        asyncio.run(_awaited(handler(slow)))
    assert only_notification(db).status == NotificationStatus.SENT  # the send is recorded all the same
    [job] = resumed
    asyncio.run(_awaited(handler(queue.JobContext(session_factory, "worker-b", job, services))))
    assert len(provider.sent) == 1  # the new owner found it sent: no second send
    stored = send_job(db)
    assert stored.status == JobStatus.DONE and stored.locked_by is None


def test_refusals(db: Session, settings: Settings) -> None:
    with pytest.raises(UnknownChannel):
        service.send(
            db,
            settings,
            national_code="0499370899",
            channels=frozenset({"fax"}),
            subject_fa="x",
            body_fa="x",
            kind="k",
        )
    with pytest.raises(NoRecipient):
        service.send(
            db,
            settings,
            national_code="0499370899",
            channels=frozenset({"sms"}),
            subject_fa="x",
            body_fa="x",
            kind="k",
        )


def test_a_savepoint_released_is_not_the_commit_a_message_waits_for(
    db: Session, settings: Settings, session_factory: sessionmaker[Session]
) -> None:
    before = len(read_outbox(settings))
    text_demo_citizen(db, settings, "ثبت شد", subject_fa="درخواست", kind="delivery.request")
    with db.begin_nested():  # released: SQLAlchemy announces it as a commit, yet nothing is committed
        service.mark_read(db, "0499370899", "no-such-message")
    assert len(read_outbox(settings)) == before
    db.commit()
    send_queued(session_factory, settings)
    assert [record["body_fa"] for record in read_outbox(settings)[before:]] == ["ثبت شد"]


def test_a_stored_body_is_sealed_while_queued_and_dropped_once_sent(
    db: Session, settings: Settings, session_factory: sessionmaker[Session]
) -> None:
    # A login code is kept only as a keyed hash elsewhere: the notification row must not hold it readable.
    queue_a_code(db, settings, "کد: 424242")
    waiting = only_notification(db)
    assert "424242" not in waiting.body_sealed and waiting.open_body(settings) == "کد: 424242"
    provider = Flaky(failures=0)
    assert send_queued(session_factory, settings, provider) == 1
    sent = only_notification(db)
    assert sent.status is NotificationStatus.SENT and sent.body_sealed == ""
    assert [message.body_fa for message in provider.sent] == ["کد: 424242"]


def test_a_message_past_its_lifetime_is_failed_not_sent_late(
    db: Session, settings: Settings, session_factory: sessionmaker[Session]
) -> None:
    service.send(
        db, settings, national_code="0499370899", mobile="09121234567", channels=frozenset({"sms"}),
        subject_fa="کد ورود", body_fa="کد: 515151", kind="identity.login_code",
        expires_at=utcnow() - timedelta(seconds=1),  # the worker was down longer than the code lived
    )  # fmt: skip
    db.commit()
    provider = Flaky(failures=0)
    assert send_queued(session_factory, settings, provider) == 1
    late = only_notification(db)
    assert (late.status, late.last_error, late.attempts) == (
        NotificationStatus.FAILED,
        "expired before it could be sent",
        0,
    )
    assert not provider.sent and send_job(db).status == JobStatus.DONE
