"""Delivery reports called back by the SMS provider (POST /api/v1/notify/kavenegar/delivery/<secret>): the
simulated Kavenegar gateway calls the portal over real HTTP; replays change nothing; a forged, unknown,
malformed or huge callback is refused with a problem and logged; polling still settles a lost one."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterator, Sequence

import httpx
import pytest
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from fastapi.testclient import TestClient
from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session, sessionmaker

from panjereh.app import create_app
from panjereh.core.config import Settings
from panjereh.core.db import make_sessionmaker, unit_of_work, utcnow
from panjereh.notify import providers, service
from panjereh.notify.models import Notification, NotificationStatus
from panjereh.notify.tasks import poll_delivery_reports
from tests.delivery.conftest import committed_engine  # noqa: F401 — a database the code commits to
from tests.notify.helpers import send_queued
from tests.notify.test_kavenegar import ADMIN, only, text
from tests.support.servers import running_server

SECRET = secrets.token_urlsafe(32)
PATH = f"/api/v1/notify/kavenegar/delivery/{SECRET}"
KNOWN_MOBILE = "09121234567"  # the demo citizen's: the gateway reports it delivered (10)
NO_SUBSCRIBER = "09990000001"  # no one holds it: undelivered (11)


@pytest.fixture
def callback_settings(kavenegar_settings: Settings) -> Settings:
    notify = kavenegar_settings.notify.model_copy(update={"kavenegar_callback_secret": SECRET})
    return kavenegar_settings.model_copy(update={"notify": notify})


def _app(settings: Settings, factory: sessionmaker[Session]) -> FastAPI:
    application = create_app(settings)
    application.state.sessionmaker = factory
    return application


@pytest.fixture
def portal(callback_settings: Settings, session_factory: sessionmaker[Session]) -> Iterator[TestClient]:
    with TestClient(_app(callback_settings, session_factory), base_url="http://testserver") as client:
        yield client


@pytest.fixture
def portal_url(callback_settings: Settings, session_factory: sessionmaker[Session]) -> Iterator[str]:
    """The portal over real HTTP, inside the test's transaction (the gateway calls it back)."""
    with running_server(_app(callback_settings, session_factory)) as url:
        yield url


@pytest.fixture
def gateway_calls_back(registries_url: str, portal_url: str) -> Iterator[None]:
    """The gateway's panel set to call the portal back (only when asked: no timer in a test)."""
    endpoint = f"{registries_url}/sms-gateway/_callback"
    httpx.put(endpoint, json={"url": portal_url + PATH}, headers=ADMIN, timeout=60).raise_for_status()
    yield
    httpx.put(endpoint, json={}, headers=ADMIN, timeout=60).raise_for_status()


def call_back(registries_url: str, messageid: str) -> list[dict[str, int]]:
    response = httpx.post(
        f"{registries_url}/sms-gateway/_callbacks", params={"messageid": messageid}, headers=ADMIN, timeout=60
    )
    response.raise_for_status()
    return list(response.json())


def sent_sms(db: Session, factory: sessionmaker[Session], settings: Settings, mobile: str) -> Notification:
    text(db, settings, mobile)
    assert send_queued(factory, settings, providers.from_settings(settings)) == 1
    sent = only(db)
    assert sent.status is NotificationStatus.SENT and sent.provider_reference
    return sent


def problem(response: httpx.Response, status: int, code: str) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = dict(response.json())
    assert body["code"] == code and body["title_fa"] and body["title"]
    return body


def logged(capsys: pytest.CaptureFixture[str]) -> list[dict[str, object]]:
    return [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")]


@pytest.mark.usefixtures("gateway_calls_back")
def test_the_gateway_calls_back_and_the_sms_is_delivered_without_polling(
    db: Session, callback_settings: Settings, session_factory: sessionmaker[Session], registries_url: str
) -> None:
    sent = sent_sms(db, session_factory, callback_settings, KNOWN_MOBILE)
    assert call_back(registries_url, str(sent.provider_reference)) == [
        {"messageid": int(str(sent.provider_reference)), "answer": 200}
    ]
    delivered = only(db)
    assert delivered.status is NotificationStatus.DELIVERED and delivered.delivered_at is not None
    assert delivered.report == "10 (callback)"
    reporter = providers.from_settings(callback_settings).for_channel("sms")
    assert isinstance(reporter, providers.DeliveryReports)
    assert (
        poll_delivery_reports(session_factory, callback_settings, reporter) == 0
    )  # settled: polling leaves it


@pytest.mark.usefixtures("gateway_calls_back")
def test_an_undelivered_report_called_back_fails_the_sms_and_a_replay_changes_nothing(
    db: Session, callback_settings: Settings, session_factory: sessionmaker[Session], registries_url: str
) -> None:
    sent = sent_sms(db, session_factory, callback_settings, NO_SUBSCRIBER)
    reference = str(sent.provider_reference)
    call_back(registries_url, reference)
    failed = only(db)
    assert failed.status is NotificationStatus.FAILED
    assert failed.last_error == "undelivered: 11 (callback)"
    first_failed_at = failed.failed_at
    assert call_back(registries_url, reference) == [{"messageid": int(reference), "answer": 200}]  # replayed
    again = only(db)
    assert (again.status, again.failed_at, again.last_error) == (
        NotificationStatus.FAILED, first_failed_at, "undelivered: 11 (callback)",
    )  # fmt: skip


def test_a_replay_and_a_contradicting_report_after_the_final_one_change_nothing(
    db: Session, callback_settings: Settings, session_factory: sessionmaker[Session], portal: TestClient
) -> None:
    reference = str(sent_sms(db, session_factory, callback_settings, KNOWN_MOBILE).provider_reference)
    first = portal.post(PATH, data={"messageid": reference, "status": "10"})
    assert first.status_code == 200 and first.json() == {"messageid": reference, "changed": True}
    delivered_at = only(db).delivered_at
    for status in ("10", "11", "6"):  # the same report again, then an operator's late contradiction
        answer = portal.post(PATH, data={"messageid": reference, "status": status})
        assert answer.status_code == 200 and answer.json()["changed"] is False
    kept = only(db)
    assert (kept.status, kept.delivered_at, kept.report) == (
        NotificationStatus.DELIVERED, delivered_at, "10 (callback)",
    )  # fmt: skip


def test_a_report_still_on_its_way_keeps_the_sms_sent(
    db: Session, callback_settings: Settings, session_factory: sessionmaker[Session], portal: TestClient
) -> None:
    reference = str(sent_sms(db, session_factory, callback_settings, KNOWN_MOBILE).provider_reference)
    answer = portal.post(
        PATH, data={"messageid": reference, "status": "4"}
    )  # Kavenegar: sent to the operator
    assert answer.status_code == 200 and answer.json()["changed"] is False
    waiting = only(db)
    assert waiting.status is NotificationStatus.SENT and waiting.report == "4 (callback)"


def test_a_wrong_secret_is_refused_logged_and_changes_nothing(
    db: Session,
    callback_settings: Settings,
    session_factory: sessionmaker[Session],
    portal: TestClient,
    capsys: pytest.CaptureFixture[str],
) -> None:
    reference = str(sent_sms(db, session_factory, callback_settings, KNOWN_MOBILE).provider_reference)
    capsys.readouterr()
    for forged in (SECRET[:-1] + ("A" if SECRET[-1] != "A" else "B"), SECRET[:-1], "x", "س" * 43):
        answer = portal.post(
            f"/api/v1/notify/kavenegar/delivery/{forged}", data={"messageid": reference, "status": "10"}
        )
        body = problem(answer, 403, "notify.callback_refused")
        assert SECRET not in json.dumps(body)
    assert only(db).status is NotificationStatus.SENT
    lines = logged(capsys)
    refusals = [line for line in lines if line.get("event") == "notify.callback_refused"]
    assert len(refusals) == 4 and all(line["reason"] == "wrong_secret" for line in refusals)
    assert SECRET not in json.dumps(lines)  # the access log keeps the route's template, not the path


def test_an_unknown_message_id_is_refused_and_logged(
    portal: TestClient, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    problem(portal.post(PATH, data={"messageid": "987654321", "status": "10"}), 404, "notify.unknown_message")
    assert any(
        line.get("event") == "notify.callback_refused" and line.get("reason") == "unknown_message"
        for line in logged(capsys)
    )


def test_another_providers_message_or_an_email_is_not_reached_by_the_callback(
    db: Session, callback_settings: Settings, portal: TestClient
) -> None:
    for channel, provider in (("sms", "outbox"), ("email", "kavenegar")):
        service.send(
            db, callback_settings, national_code="0499370899", mobile=KNOWN_MOBILE, email="a@example.com",
            channels=frozenset({channel}), subject_fa="s", body_fa="b", kind="delivery.request",
        )  # fmt: skip
        db.flush()
        row = db.scalars(select(Notification).where(Notification.channel == channel)).one()
        row.provider, row.provider_reference = provider, f"55500{len(channel)}"
        row.settle(NotificationStatus.SENT)
    db.commit()
    for reference in ("555003", "555005"):
        problem(
            portal.post(PATH, data={"messageid": reference, "status": "10"}), 404, "notify.unknown_message"
        )
    db.expire_all()
    assert {row.status for row in db.scalars(select(Notification))} == {NotificationStatus.SENT}


@pytest.mark.parametrize(
    "body",
    [
        {"status": "10"},  # no message id
        {"messageid": "80000001"},  # no status
        {"messageid": "8000abc", "status": "10"},
        {"messageid": "۸۰۰۰۰۰۰۱", "status": "10"},  # Persian digits are not Kavenegar's
        {"messageid": "-80000001", "status": "10"},
        {"messageid": "80000001", "status": "NaN"},
        {"messageid": "80000001", "status": "1e3"},
        {"messageid": "8" * 1000, "status": "10"},  # a huge number
        {"messageid": "80000001", "status": "10" * 50},
        {"messageid": "", "status": ""},
    ],
)
def test_a_malformed_callback_is_refused(portal: TestClient, body: dict[str, str]) -> None:
    problem(portal.post(PATH, data=body), 422, "notify.callback_invalid")


def test_a_callback_in_the_wrong_encoding_or_shape_is_refused(portal: TestClient) -> None:
    raw = portal.post(
        PATH,
        content=b"messageid=\xff\xfe80&status=10",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    problem(raw, 422, "notify.callback_invalid")
    problem(portal.post(PATH, json={"messageid": "80000001", "status": "10"}), 422, "notify.callback_invalid")
    problem(portal.post(PATH), 422, "notify.callback_invalid")


def test_a_huge_callback_is_refused_before_it_is_read(portal: TestClient) -> None:
    huge = "messageid=1&status=10&pad=" + "x" * (2 * 1024 * 1024)
    answer = portal.post(PATH, content=huge, headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert answer.status_code == 413
    assert answer.headers["content-type"].startswith("application/problem+json")


def test_without_a_secret_or_with_another_sms_provider_there_is_no_callback(
    settings: Settings, callback_settings: Settings, session_factory: sessionmaker[Session]
) -> None:
    outbox = settings.model_copy(
        update={"notify": settings.notify.model_copy(update={"kavenegar_callback_secret": SECRET})}
    )
    unset = callback_settings.model_copy(
        update={"notify": callback_settings.notify.model_copy(update={"kavenegar_callback_secret": None})}
    )
    for configured in (unset, outbox):
        with TestClient(_app(configured, session_factory)) as client:
            answer = client.post(PATH, data={"messageid": "80000001", "status": "10"})
            problem(answer, 404, "notify.callback_off")


def test_a_short_callback_secret_refuses_to_start(kavenegar_settings: Settings) -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        kavenegar_settings.notify.model_validate(
            {**kavenegar_settings.notify.model_dump(), "kavenegar_callback_secret": "short"}
        )


def test_a_lost_callback_is_settled_by_polling(
    db: Session, callback_settings: Settings, session_factory: sessionmaker[Session], portal: TestClient
) -> None:
    sent = sent_sms(db, session_factory, callback_settings, KNOWN_MOBILE)  # no callback address set: lost
    reporter = providers.from_settings(callback_settings).for_channel("sms")
    assert isinstance(reporter, providers.DeliveryReports)
    assert poll_delivery_reports(session_factory, callback_settings, reporter) == 1
    db.commit()
    polled = only(db)
    assert polled.status is NotificationStatus.DELIVERED and polled.delivered_at is not None
    delivered_at = polled.delivered_at
    late = portal.post(PATH, data={"messageid": str(sent.provider_reference), "status": "11"})
    assert late.status_code == 200 and late.json()["changed"] is False  # the callback after the poll
    kept = only(db)
    assert (kept.status, kept.delivered_at) == (NotificationStatus.DELIVERED, delivered_at)


def test_a_callback_taken_while_the_poll_asks_the_provider_is_not_overturned(
    db: Session, callback_settings: Settings, session_factory: sessionmaker[Session]
) -> None:
    """The poll reads the `sent` messages, then asks the provider over the network; a callback committed
    meanwhile (another session) settled one. The poll's own report, contradicting and older in the
    database's eyes, must neither overturn the final status nor replace the callback's `report`.

    (`poll_delivery_reports` runs two transactions, none open while the provider answers, so on SQLite no
    write lock is held over the network: `test_no_transaction_is_open_while_the_provider_answers`.)"""
    sent = sent_sms(db, session_factory, callback_settings, NO_SUBSCRIBER)  # the gateway polls it as 11
    reference = str(sent.provider_reference)
    found = providers.from_settings(callback_settings).for_channel("sms")
    assert isinstance(found, providers.DeliveryReports)
    reporter: providers.DeliveryReports = found

    class CallbackMeanwhile:
        """The gateway's status API, answered only after a callback was taken and committed."""

        name = reporter.name

        def reports(self, references: Sequence[str]) -> list[providers.DeliveryReport]:
            assert references == [reference]
            with session_factory() as other:
                taken = service.kavenegar_delivery_callback(
                    other, callback_settings, secret=SECRET, messageid=reference, status="10"
                )
                other.commit()
            assert taken
            return reporter.reports(references)

    assert poll_delivery_reports(session_factory, callback_settings, CallbackMeanwhile()) == 0
    kept = only(db)
    assert (kept.status, kept.report, kept.failed_at, kept.last_error) == (
        NotificationStatus.DELIVERED, "10 (callback)", None, None,
    )  # fmt: skip
    assert kept.delivered_at is not None and kept.report_checked_at is not None


def test_no_transaction_is_open_while_the_provider_answers(
    committed_engine: Engine,  # noqa: F811 — the fixture imported above
    callback_settings: Settings,
) -> None:
    """On a database the poll really commits to (each session its own connection), not one of the pool's
    connections is checked out while the provider is asked: on SQLite a transaction that writes holds the
    database's one write lock, and every citizen's request would wait behind the gateway's answer."""
    factory = make_sessionmaker(committed_engine)
    with unit_of_work(factory) as session:
        message = Notification(
            channel="sms", recipient=KNOWN_MOBILE, kind="test.poll", subject_fa="آزمون", body_sealed="-",
            status=NotificationStatus.SENT, provider="kavenegar", provider_reference="90001",
            sent_at=utcnow(),
        )  # fmt: skip
        session.add(message)
    checked_out: list[int] = []

    class Watching:
        name = "kavenegar"

        def reports(self, references: Sequence[str]) -> list[providers.DeliveryReport]:
            checked_out.append(committed_engine.pool.checkedout())  # type: ignore[attr-defined]
            return [providers.kavenegar_report(reference, 10) for reference in references]

    try:
        assert poll_delivery_reports(factory, callback_settings, Watching()) == 1
        assert checked_out == [0]
        with factory() as session:
            stored = session.get(Notification, message.id)
            assert stored is not None and stored.status is NotificationStatus.DELIVERED
    finally:
        with unit_of_work(factory) as session:
            session.execute(delete(Notification).where(Notification.id == message.id))


def test_the_gateway_calls_back_by_itself_and_tries_again_until_the_report_is_taken(
    registries_url: str, kavenegar_settings: Settings
) -> None:
    """The simulated panel's timer: a report refused at first (the platform had not recorded the id yet)
    is called back again, with back-off, until taken. A receiver of its own: no database is shared."""
    from fastapi import Form

    receiver = FastAPI()
    received: list[tuple[str, str]] = []

    @receiver.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @receiver.post("/report")
    def report(messageid: str = Form(), status: str = Form()) -> JSONResponse:
        received.append((messageid, status))
        return JSONResponse({}, status_code=404 if len(received) == 1 else 200)

    endpoint = f"{registries_url}/sms-gateway/_callback"
    with running_server(receiver) as url:
        httpx.put(
            endpoint,
            json={"url": url + "/report", "after_seconds": 0},
            headers=ADMIN,
            timeout=60,
        ).raise_for_status()
        try:
            sms = providers.KavenegarSms(kavenegar_settings)
            reference = sms.send(
                providers.Message(
                    id=secrets.token_hex(16),
                    channel="sms",
                    to=KNOWN_MOBILE,
                    national_code=None,
                    kind="k",
                    subject_fa="s",
                    body_fa="b",
                    link=None,
                    at=utcnow(),
                    text="گزارش خودکار",
                )  # fmt: skip
            )
            deadline = time.monotonic() + 120  # generous: the machine is shared; not a timing assertion
            while not _reported(registries_url, reference) and time.monotonic() < deadline:
                time.sleep(0.2)
        finally:
            httpx.put(endpoint, json={}, headers=ADMIN, timeout=60).raise_for_status()
    [sent] = [m for m in _gateway_messages(registries_url) if str(m["messageid"]) == reference]
    assert sent["callback_answers"] == [404, 200] and sent["reported"] is True
    assert received == [(reference, "10"), (reference, "10")]


def _gateway_messages(registries_url: str) -> list[dict[str, object]]:
    response = httpx.get(f"{registries_url}/sms-gateway/_messages", headers=ADMIN, timeout=30)
    response.raise_for_status()
    return list(response.json())


def _reported(registries_url: str, reference: str) -> bool:
    return any(str(m["messageid"]) == reference and m["reported"] for m in _gateway_messages(registries_url))
