"""E-mail over SMTP, received by a real SMTP server (aiosmtpd) on this machine."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Iterator
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from panjereh.core.config import NotifySettings, Settings
from panjereh.notify import providers, service
from panjereh.notify.models import Notification, NotificationStatus
from tests.notify.helpers import send_queued
from tests.support.servers import free_port

USER, PASSWORD = "panjereh", "relay-secret"
BOUNCING = "nobody@bounce.example"


class Mailbox:
    """What the server received; refuses one recipient for good and anyone without the password."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if address == BOUNCING:
            return "550 5.1.1 No such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        parsed = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        self.messages.append(parsed)
        return "250 Message accepted for delivery"


def _authenticate(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (USER.encode(), PASSWORD.encode())
    return AuthResult(success=ok, handled=False)


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    box = Mailbox()
    port = free_port()
    controller = Controller(
        box,
        hostname="127.0.0.1",
        port=port,
        authenticator=_authenticate,
        auth_required=True,
        auth_require_tls=False,  # a relay on the same host; STARTTLS is the deployed default
    )
    controller.start()
    try:
        yield box, port
    finally:
        controller.stop()


def smtp_settings(settings: Settings, port: int, password: str = PASSWORD) -> Settings:
    notify = NotifySettings(
        email_provider="smtp", smtp_host="127.0.0.1", smtp_port=port, smtp_security="none",
        smtp_user=USER, smtp_password=password, smtp_timeout_seconds=5,
        email_from="پنجره <no-reply@panjereh.test>",
    )  # fmt: skip
    return settings.model_copy(update={"notify": notify})


def queue_email(db: Session, settings: Settings, to: str) -> None:
    service.send(
        db, settings, national_code="0499370899", email=to, channels=frozenset({"email"}),
        subject_fa="درخواست 1402-12", body_fa="درخواست شما تأیید شد.\nسند صادر شد.",
        subject_en="Request 1402-12", body_en="Your request was approved.", kind="delivery.request",
        link="/account/requests/1402-12",
    )  # fmt: skip
    db.commit()


def only(db: Session) -> Notification:
    db.expire_all()
    return db.scalars(select(Notification)).one()


def test_an_email_arrives_in_persian_with_an_english_alternative(
    db: Session, settings: Settings, session_factory: sessionmaker[Session], mailbox: tuple[Mailbox, int]
) -> None:
    box, port = mailbox
    configured = smtp_settings(settings, port)
    queue_email(db, configured, "ali@example.com")
    assert send_queued(session_factory, configured, providers.from_settings(configured)) == 1
    [received] = box.messages
    assert box.envelopes == [("no-reply@panjereh.test", ["ali@example.com"])]
    assert received["Subject"] == "درخواست ۱۴۰۲-۱۲ | Request ۱۴۰۲-۱۲"
    assert received["To"] == "ali@example.com" and "panjereh.test" in received["Message-ID"]
    plain = received.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    page = received.get_body(("html",)).get_content()  # type: ignore[union-attr]
    link = f"{settings.base_url}/account/requests/1402-12"
    assert "درخواست شما تأیید شد." in plain and "Your request was approved." in plain and link in plain
    assert '<html lang="fa" dir="rtl">' in page and f'href="{link}"' in page
    sent = only(db)
    assert (sent.status, sent.provider, sent.attempts) == (NotificationStatus.SENT, "smtp", 1)
    assert sent.provider_reference == received["Message-ID"]


def test_a_recipient_refused_for_good_fails_at_once(
    db: Session, settings: Settings, session_factory: sessionmaker[Session], mailbox: tuple[Mailbox, int]
) -> None:
    box, port = mailbox
    configured = smtp_settings(settings, port)
    queue_email(db, configured, BOUNCING)
    assert send_queued(session_factory, configured, providers.from_settings(configured)) == 1
    failed = only(db)
    assert (failed.status, failed.attempts) == (NotificationStatus.FAILED, 1)  # not retried
    assert failed.last_error is not None and "550" in failed.last_error and not box.messages


def test_a_relay_that_refuses_the_login_is_retried(
    db: Session, settings: Settings, session_factory: sessionmaker[Session], mailbox: tuple[Mailbox, int]
) -> None:
    box, port = mailbox
    wrong = smtp_settings(settings, port, password="wrong")
    queue_email(db, wrong, "ali@example.com")
    assert send_queued(session_factory, wrong, providers.from_settings(wrong)) == 1
    waiting = only(db)
    assert (waiting.status, waiting.attempts) == (NotificationStatus.QUEUED, 1)
    assert waiting.last_error is not None and waiting.last_error.startswith("SMTPAuthenticationError")
    assert not box.messages


def test_an_unreachable_relay_is_an_attempt_that_failed(
    db: Session, settings: Settings, session_factory: sessionmaker[Session]
) -> None:
    nowhere = smtp_settings(settings, free_port())  # nothing listens there
    queue_email(db, nowhere, "ali@example.com")
    assert send_queued(session_factory, nowhere, providers.from_settings(nowhere)) == 1
    waiting = only(db)
    assert (waiting.status, waiting.attempts) == (NotificationStatus.QUEUED, 1)
    assert waiting.last_error is not None and "ConnectionRefusedError" in waiting.last_error
