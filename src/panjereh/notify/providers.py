"""Providers: what carries an SMS or e-mail out of the platform, behind one interface.

The job handler (`notify.tasks`) sends through the `Dispatcher` the settings make: SMS through
`PANJEREH_NOTIFY_SMS_PROVIDER` (`outbox` or `kavenegar`), e-mail through `PANJEREH_NOTIFY_EMAIL_PROVIDER`
(`outbox` or `smtp`), both `PANJEREH_NOTIFY_PROVIDER` (`outbox`) unless named. A provider sends one
message or raises: `Refused` when the message can never go (an invalid number; not retried), anything
else is a failed attempt the job system retries with back-off. A provider that can say what became of a
sent message (`DeliveryReports`) is asked by the periodic `notify.delivery_reports` job.
`outbox` is the development provider: nothing leaves the machine.
"""

from __future__ import annotations

import json
import smtplib
import ssl
import sys
import threading
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol, runtime_checkable
from urllib.parse import urlsplit

import kavenegar
import requests

from panjereh.core.config import Settings
from panjereh.notify.texts import email_message


@dataclass(frozen=True)
class Message:
    """One SMS or e-mail as a provider sees it; `id` is the notification's, stable across retries (a
    provider that accepts an idempotency reference is given it, so a resumed job does not send twice)."""

    id: str
    channel: str  # sms | email
    to: str
    national_code: str | None
    kind: str
    subject_fa: str
    body_fa: str
    link: str | None  # absolute (PANJEREH_PUBLIC_URL)
    at: datetime
    text: str = ""  # an SMS as it goes out (notify.texts.sms_text); empty for e-mail
    subject_en: str | None = None
    body_en: str | None = None


class Refused(Exception):
    """The provider will never send this message (a malformed number, a refused sender): not retried."""


@dataclass(frozen=True)
class DeliveryReport:
    """What the provider last knew of a sent message: delivered, undelivered (failed) or still on its way."""

    reference: str
    delivered: bool | None  # None: not final yet
    text: str


class Provider(Protocol):
    """Sends a message, or raises (`Refused`: never; any other exception: retried with back-off)."""

    name: str

    def send(self, message: Message) -> str:
        """Send one message; the provider's reference for it."""
        ...


@runtime_checkable
class DeliveryReports(Protocol):
    """A provider that can be asked what became of messages it sent."""

    name: str

    def reports(self, references: Sequence[str]) -> list[DeliveryReport]:
        """The delivery state of these messages (those it knows)."""
        ...


_write_lock = threading.Lock()


class OutboxProvider:
    """The development outbox: one JSON line per message in `$PANJEREH_HOME/outbox.jsonl`, also printed
    (so a person or a test can read a login code)."""

    name = "outbox"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def send(self, message: Message) -> str:
        line = json.dumps(asdict(message), ensure_ascii=False, default=_default)
        self.settings.ensure_home()
        with _write_lock, outbox_path(self.settings).open("a", encoding="utf-8") as handle:
            handle.write(line + "\n")
        if self.settings.env != "test":
            print(f"[outbox] {line}", file=sys.stderr, flush=True)
        return message.id


# Kavenegar's message statuses (sms/status): final ones map to delivered or not; the rest are on their way.
KAVENEGAR_DELIVERED = frozenset({10})
KAVENEGAR_UNDELIVERED = frozenset({6, 11, 13, 14, 100})
# Its answer statuses that mean this message can never go (invalid receptor, sender, text, characters).
KAVENEGAR_REFUSALS = frozenset({411, 412, 413, 414, 422})
KAVENEGAR_STATUS_BATCH = 500  # message ids per sms/status call, the API's limit


class KavenegarClient(kavenegar.KavenegarAPI):
    """Kavenegar's official client (PyPI `kavenegar`) with a transport that can be pointed elsewhere.

    The library builds `https://api.kavenegar.com/v1/<key>/<action>/<method>.json` itself and posts with
    no timeout; its only seam is `host`, always over HTTPS. This adapter keeps its API (`sms_send`,
    `sms_status`, its exceptions, headers and version) and sends the same form-encoded request to
    `base_url` (Kavenegar's own by default; the simulated gateway in tests and the demo) with a timeout,
    a kept-alive session, no redirects followed, and the answer's status kept as a number.
    """

    def __init__(self, apikey: str, base_url: str, timeout: float) -> None:
        super().__init__(apikey)
        parts = urlsplit(base_url.rstrip("/"))
        self.scheme = parts.scheme or "https"
        self.host = parts.netloc + parts.path
        self.timeout = timeout
        self.http = requests.Session()
        self.http.trust_env = False  # no proxy or .netrc picked up from the environment with the key

    def __repr__(self) -> str:  # the library's shows the API key
        return f"KavenegarClient({self.scheme}://{self.host})"

    __str__ = __repr__

    def _request(self, action: str, method: str, params: dict[str, Any] | None = None) -> Any:
        url = f"{self.scheme}://{self.host}/{self.version}/{self.apikey}/{action}/{method}.json"
        try:
            response = self.http.post(
                url, headers=self.headers, data=params or {}, timeout=self.timeout, allow_redirects=False
            )
        except requests.RequestException as exc:
            raise kavenegar.HTTPException(type(exc).__name__) from None  # the URL holds the key: not shown
        try:
            answer = response.json()
            status = int(answer["return"]["status"])
        except (ValueError, KeyError, TypeError):
            raise kavenegar.HTTPException(f"HTTP {response.status_code}: not a Kavenegar answer") from None
        if status != 200:
            raise KavenegarError(status, str(answer["return"].get("message", ""))[:200])
        return answer.get("entries") or []


class KavenegarError(kavenegar.APIException):
    """Kavenegar answered with a status other than 200."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"APIException[{status}] {message}")
        self.status = status


class KavenegarSms:
    """SMS through Kavenegar (`PANJEREH_NOTIFY_SMS_PROVIDER=kavenegar`): sms/send from the account's line,
    sms/status for delivery reports."""

    name = "kavenegar"

    def __init__(self, settings: Settings) -> None:
        notify = settings.notify
        assert notify.kavenegar_api_key and notify.kavenegar_sender  # the settings refuse otherwise
        self.sender = notify.kavenegar_sender
        self.client = KavenegarClient(
            notify.kavenegar_api_key, notify.kavenegar_url, notify.kavenegar_timeout_seconds
        )

    def send(self, message: Message) -> str:
        params = {
            "receptor": message.to,
            "sender": self.sender,
            "message": message.text or message.body_fa,
            # Kavenegar's own idempotency key (numeric): a resumed job does not send the message twice.
            "localid": str(int(message.id[:15], 16)),
        }
        try:
            entries = self.client.sms_send(params)
        except KavenegarError as exc:
            if exc.status in KAVENEGAR_REFUSALS:
                raise Refused(str(exc)) from None
            raise
        return str(entries[0]["messageid"])

    def reports(self, references: Sequence[str]) -> list[DeliveryReport]:
        found: list[DeliveryReport] = []
        for start in range(0, len(references), KAVENEGAR_STATUS_BATCH):
            batch = references[start : start + KAVENEGAR_STATUS_BATCH]
            for entry in self.client.sms_status({"messageid": ",".join(batch)}):
                messageid, status = str(entry.get("messageid")), int(entry.get("status", 0))
                found.append(kavenegar_report(messageid, status, str(entry.get("statustext", ""))))
        return found


def kavenegar_report(messageid: str, status: int, text: str = "") -> DeliveryReport:
    """A Kavenegar message status as a delivery report (the same reading for a poll and a callback)."""
    delivered: bool | None = None  # still on its way
    if status in KAVENEGAR_DELIVERED or status in KAVENEGAR_UNDELIVERED:
        delivered = status in KAVENEGAR_DELIVERED
    return DeliveryReport(messageid, delivered, f"{status} {text}".strip()[:200])


class SmtpEmail:
    """E-mail over SMTP (`PANJEREH_NOTIFY_EMAIL_PROVIDER=smtp`): STARTTLS, implicit TLS or (local relay
    only) plain, with a login if configured; one connection per message."""

    name = "smtp"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def send(self, message: Message) -> str:
        notify = self.settings.notify
        email = email_message(
            self.settings,
            message_id=message.id,
            to=message.to,
            subject_fa=message.subject_fa,
            body_fa=message.body_fa,
            subject_en=message.subject_en,
            body_en=message.body_en,
            link=message.link,
        )
        # The relay's certificate and host name are always checked (against the system's CAs, or the
        # deployment's own bundle): a password and citizens' mail must not go to whoever answers.
        context = ssl.create_default_context(cafile=notify.smtp_ca_file)
        smtp: smtplib.SMTP
        if notify.smtp_security == "tls":
            smtp = smtplib.SMTP_SSL(
                notify.smtp_host, notify.smtp_port, timeout=notify.smtp_timeout_seconds, context=context
            )
        else:
            smtp = smtplib.SMTP(notify.smtp_host, notify.smtp_port, timeout=notify.smtp_timeout_seconds)
        with smtp:
            if notify.smtp_security == "starttls":
                try:
                    smtp.starttls(context=context)
                except smtplib.SMTPNotSupportedError:
                    # Never carry on in plain text: a relay (or someone between) that drops STARTTLS
                    # would otherwise read the login and the mail. Retried: the relay may be fixed.
                    raise TlsUnavailable(
                        f"the relay {notify.smtp_host}:{notify.smtp_port} offers no STARTTLS; "
                        "PANJEREH_NOTIFY_SMTP_SECURITY=starttls sends nothing in plain text"
                    ) from None
            if notify.smtp_user:
                smtp.login(notify.smtp_user, notify.smtp_password or "")
            try:
                smtp.send_message(email)
            except smtplib.SMTPRecipientsRefused as exc:
                codes = [code for code, _text in exc.recipients.values()]
                if codes and all(500 <= code < 600 for code in codes):
                    raise Refused(f"recipient refused: {codes[0]}") from None  # a permanent 5xx
                raise
        return str(email["Message-ID"])


class TlsUnavailable(smtplib.SMTPException):
    """The relay did not offer the TLS the settings require: nothing was sent (an attempt that failed)."""


class Dispatcher:
    """The provider of each channel, as one provider."""

    name = "dispatcher"

    def __init__(self, sms: Provider, email: Provider) -> None:
        self.by_channel: dict[str, Provider] = {"sms": sms, "email": email}

    def for_channel(self, channel: str) -> Provider:
        return self.by_channel[channel]

    def send(self, message: Message) -> str:
        return self.for_channel(message.channel).send(message)


def from_settings(settings: Settings) -> Dispatcher:
    """The providers the settings name, one per channel (one outbox shared by both)."""
    outbox = OutboxProvider(settings)
    sms: Provider = KavenegarSms(settings) if settings.notify.sms == "kavenegar" else outbox
    email: Provider = SmtpEmail(settings) if settings.notify.email == "smtp" else outbox
    return Dispatcher(sms, email)


def provider_for(provider: Provider, channel: str) -> Provider:
    """The provider that carries this channel (a test may hand one provider for every channel)."""
    return provider.for_channel(channel) if isinstance(provider, Dispatcher) else provider


def outbox_path(settings: Settings) -> Path:
    """The development outbox: one JSON line per message that would have left the platform."""
    return settings.home / "outbox.jsonl"


def read_outbox(settings: Settings) -> list[dict[str, Any]]:
    """Every message in the outbox, oldest first (development and tests)."""
    path = outbox_path(settings)
    if not path.exists():
        return []
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def _default(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)
