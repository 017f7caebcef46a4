"""The hash chain of the message log: each entry's hash covers its content and the previous hash."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

GENESIS = "0" * 64

# The fields an entry's hash covers; `seq` is left out on purpose so that a reordering shows as a
# broken link (an entry pointing at the wrong predecessor) rather than as a content change.
CHAIN_FIELDS = (
    "message_id",
    "at",
    "client_agency_code",
    "client_id",
    "service_code",
    "provider_agency_code",
    "subject",
    "purpose",
    "case_ref",
    "method",
    "path",
    "status",
    "outcome",
    "duration_ms",
    "request_digest",
    "response_digest",
    "sandbox",
    "trace_id",
)
# Fields hashed only when set, together as one object at the end of the payload (`{"sandbox": true}`,
# `{"trace_id": "…"}`, or both in this order): an entry without them hashes exactly as it did before
# they existed, so the chains already written still verify, and flipping, adding, changing or removing
# one (a production call passed off as a test, a trace id moved to another entry) breaks the hash.
FLAG_FIELDS = ("sandbox",)  # hashed as `true` when true
OPTIONAL_FIELDS = ("trace_id",)  # hashed as their value when not None
_ALWAYS = tuple(name for name in CHAIN_FIELDS if name not in FLAG_FIELDS + OPTIONAL_FIELDS)


def canonical_time(value: datetime) -> str:
    """A moment as the chain and the seals write it: UTC, microseconds, a Z."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _canonical(value: Any) -> Any:
    if isinstance(value, datetime):
        return canonical_time(value)
    if isinstance(value, float):
        return f"{value:.3f}"
    return value


def entry_hash(prev_hash: str, fields: dict[str, Any]) -> str:
    """SHA-256 over the previous hash and the entry's fields in a fixed, canonical order."""
    payload: list[Any] = [prev_hash, *(_canonical(fields.get(name)) for name in _ALWAYS)]
    extra: dict[str, Any] = {name: True for name in FLAG_FIELDS if fields.get(name)}
    extra.update((name, fields[name]) for name in OPTIONAL_FIELDS if fields.get(name) is not None)
    if extra:
        payload.append(extra)
    encoded = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    return hashlib.sha256(encoded).hexdigest()


def digest(data: bytes) -> str:
    """The SHA-256 digest of a body (stored instead of the body unless bodies are configured)."""
    return hashlib.sha256(data).hexdigest()


def seal_message(seq: int, head_hash: str, sealed_at: datetime) -> bytes:
    """The bytes a seal signs: the position and hash of the chain head and the moment."""
    return f"panjereh-exchange-log:{seq}:{head_hash}:{_canonical(sealed_at)}".encode()
