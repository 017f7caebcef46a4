"""Delivery backends for the channels that leave the platform (SMS, e-mail)."""

from __future__ import annotations

import json
import sys
import threading
from datetime import datetime
from pathlib import Path
from typing import Any

from panjereh.core.config import Settings

_write_lock = threading.Lock()


def outbox_path(settings: Settings) -> Path:
    """The development outbox: one JSON line per message that would have left the platform."""
    return settings.home / "outbox.jsonl"


def deliver_to_outbox(settings: Settings, record: dict[str, Any]) -> None:
    """Append one message to the outbox and print it (so a person or a test can read a code)."""
    line = json.dumps(record, ensure_ascii=False, default=_default)
    settings.ensure_home()
    with _write_lock, outbox_path(settings).open("a", encoding="utf-8") as handle:
        handle.write(line + "\n")
    if settings.env != "test":
        print(f"[outbox] {line}", file=sys.stderr, flush=True)


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
