"""Providers: what carries an SMS or e-mail out of the platform, behind one interface.

The job handler (`notify.tasks`) sends through whichever provider the settings name
(`PANJEREH_NOTIFY_PROVIDER`); a provider sends one message or raises, and the job system retries.
`outbox` is the development provider: nothing leaves the machine.
"""

from __future__ import annotations

import json
import sys
import threading
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from panjereh.core.config import Settings


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
    link: str | None
    at: datetime


class Provider(Protocol):
    """Sends a message, or raises (any exception is a failed attempt, retried with back-off)."""

    name: str

    def send(self, message: Message) -> str:
        """Send one message; the provider's reference for it."""
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


def from_settings(settings: Settings) -> Provider:
    """The provider the settings name."""
    # One provider today; a real SMS gateway or mail relay is added here and to `notify_provider`'s values.
    return {"outbox": OutboxProvider}[settings.notify_provider](settings)


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
