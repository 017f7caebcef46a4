"""SMS through Kavenegar's client library, against the simulated Kavenegar-compatible gateway over real
HTTP: sent, delivery reports, refusals, provider failures retried then failed."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from datetime import timedelta

import httpx
import kavenegar
import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from panjereh.core.config import Settings
from panjereh.core.db import utcnow
from panjereh.jobs import Job
from panjereh.notify import providers, service
from panjereh.notify.models import Notification, NotificationStatus
from panjereh.notify.tasks import LASTING_ATTEMPTS, poll_delivery_reports
from tests.notify.conftest import SENDER, TOKEN
from tests.notify.helpers import send_queued

ADMIN = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def gateway_faults(registries_url: str) -> Iterator[Callable[..., None]]:
    def switch(**spec: object) -> None:
        httpx.put(
            f"{registries_url}/_admin/faults/sms-gateway", json=spec, headers=ADMIN, timeout=60
        ).raise_for_status()

    yield switch
    httpx.put(
        f"{registries_url}/_admin/faults/sms-gateway", json={}, headers=ADMIN, timeout=60
    ).raise_for_status()


def gateway_messages(registries_url: str) -> list[dict[str, object]]:
    response = httpx.get(f"{registries_url}/sms-gateway/_messages", headers=ADMIN, timeout=60)
    response.raise_for_status()
    return list(response.json())


def text(db: Session, settings: Settings, mobile: str, body: str = "درخواست 1402 تأیید شد") -> None:
    service.send(
        db, settings, national_code="0499370899", mobile=mobile, channels=frozenset({"sms"}),
        subject_fa="درخواست", body_fa=body, kind="delivery.request", link="/account/requests/1",
    )  # fmt: skip
    db.commit()


def only(db: Session) -> Notification:
    db.expire_all()
    return db.scalars(select(Notification)).one()


def test_the_library_runs_on_this_python_and_its_host_is_its_only_seam() -> None:
    client = kavenegar.KavenegarAPI("key")
    assert client.host == "api.kavenegar.com"  # the library's own: reached only over https
    adapted = providers.KavenegarClient("secret-key", "http://127.0.0.1:9/sms-gateway", 2)
    assert (adapted.scheme, adapted.host) == ("http", "127.0.0.1:9/sms-gateway")
    assert "secret-key" not in repr(adapted)  # the library's repr shows the key


def test_an_sms_is_sent_then_reported_delivered(
    db: Session,
    kavenegar_settings: Settings,
    session_factory: sessionmaker[Session],
    registries_url: str,
) -> None:
    provider = providers.from_settings(kavenegar_settings)
    text(db, kavenegar_settings, "09121234567")  # the demo citizen's number: a phone that exists
    assert send_queued(session_factory, kavenegar_settings, provider) == 1
    sent = only(db)
    assert (sent.status, sent.provider, sent.attempts) == (NotificationStatus.SENT, "kavenegar", 1)
    assert sent.provider_reference and sent.provider_reference.isdigit()
    [received] = [
        m for m in gateway_messages(registries_url) if str(m["messageid"]) == sent.provider_reference
    ]
    link = f"{kavenegar_settings.base_url}/account/requests/1"
    assert received["receptor"] == "09121234567" and received["sender"] == SENDER
    assert received["message"] == f"پنجره ملی: درخواست\nدرخواست ۱۴۰۲ تأیید شد\n{link}"
    reporter = provider.for_channel("sms")
    assert isinstance(reporter, providers.DeliveryReports)
    assert poll_delivery_reports(session_factory, kavenegar_settings, reporter) == 1
    db.commit()
    delivered = only(db)
    assert delivered.status == NotificationStatus.DELIVERED and delivered.delivered_at is not None
    assert delivered.report is not None and delivered.report.startswith("10 ")
    assert (
        poll_delivery_reports(session_factory, kavenegar_settings, reporter) == 0
    )  # settled: not asked again


def test_an_sms_to_a_number_without_a_subscriber_is_reported_undelivered(
    db: Session, kavenegar_settings: Settings, session_factory: sessionmaker[Session]
) -> None:
    provider = providers.from_settings(kavenegar_settings)
    text(db, kavenegar_settings, "09990000001")  # a well-formed number no one in the registries holds
    assert send_queued(session_factory, kavenegar_settings, provider) == 1
    reporter = provider.for_channel("sms")
    assert isinstance(reporter, providers.DeliveryReports)
    assert poll_delivery_reports(session_factory, kavenegar_settings, reporter) == 1
    db.commit()
    undelivered = only(db)
    assert undelivered.status == NotificationStatus.FAILED
    assert undelivered.last_error is not None and undelivered.last_error.startswith("undelivered: 11")


def test_an_sms_older_than_the_polling_window_is_not_asked_about(
    db: Session, kavenegar_settings: Settings, session_factory: sessionmaker[Session]
) -> None:
    provider = providers.from_settings(kavenegar_settings)
    text(db, kavenegar_settings, "09121234567")
    send_queued(session_factory, kavenegar_settings, provider)
    hours = kavenegar_settings.notify.delivery_poll_hours
    db.execute(update(Notification).values(sent_at=utcnow() - timedelta(hours=hours, minutes=1)))
    db.commit()
    reporter = provider.for_channel("sms")
    assert isinstance(reporter, providers.DeliveryReports)
    assert poll_delivery_reports(session_factory, kavenegar_settings, reporter) == 0
    assert only(db).status == NotificationStatus.SENT


def test_a_number_the_gateway_refuses_fails_at_once_with_its_reason(
    db: Session, kavenegar_settings: Settings, session_factory: sessionmaker[Session]
) -> None:
    text(db, kavenegar_settings, "0912")  # malformed: Kavenegar's 411, never worth a retry
    assert send_queued(session_factory, kavenegar_settings, providers.from_settings(kavenegar_settings)) == 1
    failed = only(db)
    assert (failed.status, failed.attempts) == (NotificationStatus.FAILED, 1)
    assert failed.last_error is not None and "APIException[411]" in failed.last_error


def test_a_gateway_that_is_down_is_retried_then_failed_with_its_reason(
    db: Session,
    kavenegar_settings: Settings,
    session_factory: sessionmaker[Session],
    gateway_faults: Callable[..., None],
) -> None:
    provider = providers.from_settings(kavenegar_settings)
    text(db, kavenegar_settings, "09121234567")
    gateway_faults(down=True)
    for attempt in range(1, LASTING_ATTEMPTS + 1):
        db.execute(update(Job).values(run_at=utcnow() - timedelta(seconds=1)))  # past its back-off
        db.commit()
        assert send_queued(session_factory, kavenegar_settings, provider) == 1
        row = only(db)
        assert row.attempts == attempt
        assert row.last_error == "HTTPException: HTTP 503: not a Kavenegar answer"
        expected = NotificationStatus.FAILED if attempt == LASTING_ATTEMPTS else NotificationStatus.QUEUED
        assert row.status == expected


def test_a_gateway_back_up_sends_on_the_next_attempt_once(
    db: Session,
    kavenegar_settings: Settings,
    session_factory: sessionmaker[Session],
    gateway_faults: Callable[..., None],
    registries_url: str,
) -> None:
    provider = providers.from_settings(kavenegar_settings)
    text(db, kavenegar_settings, "09121234567", body="پیام یگانه 77")
    gateway_faults(error_rate=1.0)
    assert send_queued(session_factory, kavenegar_settings, provider) == 1
    assert only(db).status == NotificationStatus.QUEUED
    gateway_faults()
    db.execute(update(Job).values(run_at=utcnow() - timedelta(seconds=1)))
    db.commit()
    assert send_queued(session_factory, kavenegar_settings, provider) == 1
    sent = only(db)
    assert (sent.status, sent.attempts) == (NotificationStatus.SENT, 2)
    copies = [m for m in gateway_messages(registries_url) if "پیام یگانه ۷۷" in str(m["message"])]
    assert len(copies) == 1


def test_the_same_message_sent_twice_is_one_sms(kavenegar_settings: Settings, registries_url: str) -> None:
    # A job resumed after a crash between the send and its record sends again under the same local id.
    sms = providers.KavenegarSms(kavenegar_settings)
    message = providers.Message(
        id="0f" * 16, channel="sms", to="09121234567", national_code=None, kind="k", subject_fa="s",
        body_fa="b", link=None, at=utcnow(), text="یک پیام",
    )  # fmt: skip
    assert sms.send(message) == sms.send(message)


def test_a_wrong_api_key_is_an_attempt_that_failed(
    db: Session, kavenegar_settings: Settings, session_factory: sessionmaker[Session]
) -> None:
    wrong = kavenegar_settings.model_copy(
        update={"notify": kavenegar_settings.notify.model_copy(update={"kavenegar_api_key": "wrong-key"})}
    )
    text(db, wrong, "09121234567")
    assert send_queued(session_factory, wrong, providers.from_settings(wrong)) == 1
    waiting = only(db)
    assert waiting.status == NotificationStatus.QUEUED  # a key is fixed by an operator; meanwhile: retried
    assert waiting.last_error is not None and "APIException[403]" in waiting.last_error
    assert "wrong-key" not in waiting.last_error


def test_the_periodic_job_runs_on_a_worker_only_with_a_provider_that_reports(
    db: Session,
    settings: Settings,
    kavenegar_settings: Settings,
    session_factory: sessionmaker[Session],
) -> None:
    from panjereh.jobs import JobStatus, Worker
    from panjereh.jobs.periodic import ensure_periodic
    from panjereh.notify.tasks import DELIVERY_REPORTS_JOB

    def queued() -> list[Job]:
        db.expire_all()
        return list(db.scalars(select(Job).where(Job.kind == DELIVERY_REPORTS_JOB)))

    ensure_periodic(db, settings)  # the outbox reports nothing: no polling
    db.commit()
    assert queued() == []
    provider = providers.from_settings(kavenegar_settings)
    text(db, kavenegar_settings, "09121234567")
    assert send_queued(session_factory, kavenegar_settings, provider) == 1
    ensure_periodic(db, kavenegar_settings)
    db.execute(update(Job).where(Job.kind == DELIVERY_REPORTS_JOB).values(run_at=utcnow()))
    db.commit()
    [job] = queued()
    worker = Worker(
        session_factory,
        services={"settings": kavenegar_settings, "notify_provider": provider},
        kinds={DELIVERY_REPORTS_JOB},
        concurrency=1,
    )
    assert asyncio.run(worker.run_until_idle()) >= 1
    assert only(db).status == NotificationStatus.DELIVERED
    runs = queued()
    assert any(run.id == job.id and run.status == JobStatus.DONE for run in runs)
    assert any(run.status == JobStatus.QUEUED for run in runs)  # the next run is queued
