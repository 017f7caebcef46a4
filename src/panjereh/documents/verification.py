"""Public verification: is this payload or number a genuine, standing document? Never the full subject."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.orm import Session

from panjereh.core.config import Settings
from panjereh.core.db import utcnow
from panjereh.documents import payload as signed
from panjereh.documents.keys import load_keyring
from panjereh.documents.masking import mask_name, mask_national_code
from panjereh.documents.models import IssuedDocument
from panjereh.documents.numbers import normalize_number
from panjereh.documents.selectors import find_document


class Status(enum.StrEnum):
    VALID = "valid"
    INVALID = "invalid"
    REVOKED = "revoked"
    EXPIRED = "expired"


# Each refusal in both languages; the codes are stable (API clients and the docs rely on them).
REASONS: dict[str, tuple[str, str]] = {
    "payload.malformed": ("This is not a document payload.", "این متن، متن کد QR یک سند نیست."),
    "payload.algorithm": (
        "The payload uses a refused signature algorithm (only ES256 is accepted).",
        "امضای این متن با الگوریتمی است که پذیرفته نیست (فقط ES256).",
    ),
    "payload.unknown_key": (
        "The payload is signed with a key the window has not published: it was not issued here.",
        "این متن با کلیدی امضا شده که پنجره منتشر نکرده است: این سند را پنجره صادر نکرده است.",
    ),
    "payload.signature": (
        "The signature does not match: the payload has been altered.",
        "امضا با متن نمی‌خواند: متن سند دست‌کاری شده است.",
    ),
    "payload.claims": (
        "The signed content is not a document of a known format.",
        "محتوای امضاشده قالب شناخته‌شده‌ای ندارد.",
    ),
    "number.malformed": (
        "This is not a document number (16 digits with a check digit).",
        "این شمارهٔ سند درست نیست (۱۶ رقم با رقم کنترل).",
    ),
    "document.not_found": ("No document with this number was issued.", "سندی با این شماره صادر نشده است."),
    "document.mismatch": (
        "The signed payload does not match the record of this document.",
        "متن امضاشده با سابقهٔ این سند نمی‌خواند.",
    ),
    "document.revoked": (
        "The issuing agency has revoked this document.",
        "دستگاه صادرکننده این سند را باطل کرده است.",
    ),
    "document.superseded": (
        "A newer copy of this document replaced it, or the registry no longer holds its record.",
        "رونوشت تازه‌تری جای این سند را گرفته یا سابقهٔ آن دیگر در سامانهٔ صادرکننده نیست.",
    ),
    "document.expired": ("The document's validity has ended.", "مدت اعتبار این سند به پایان رسیده است."),
    "document.valid": ("Genuine and in force.", "سند اصیل و معتبر است."),
}


@dataclass(frozen=True)
class Verification:
    """The answer /verify shows: a status, why, and what the public may see of the document."""

    status: Status
    reason_code: str
    number: str | None = None
    document_type: str | None = None
    title_fa: str | None = None
    title_en: str | None = None
    issuer_code: str | None = None
    issuer_name_fa: str | None = None
    issuer_name_en: str | None = None
    masked_subject: str | None = None
    masked_name: str | None = None
    issued_at: datetime | None = None
    expires_at: datetime | None = None
    # The last day it is valid (the end of that day in Tehran is `expires_at`): what people are shown,
    # the same date as on the document's page and its PDF.
    valid_until: date | None = None
    revoked_at: datetime | None = None
    revocation_reason: str | None = None
    key_id: str | None = None

    @property
    def valid(self) -> bool:
        return self.status is Status.VALID

    @property
    def reason_en(self) -> str:
        return REASONS[self.reason_code][0]

    @property
    def reason_fa(self) -> str:
        return REASONS[self.reason_code][1]


def verify_payload(session: Session, settings: Settings, text: str) -> Verification:
    """Verify a scanned or pasted payload: signature first (offline-equivalent), then the record."""
    try:
        claims = signed.verify(text, load_keyring(settings).key_set())
    except signed.PayloadRefused as refused:
        return Verification(Status.INVALID, refused.code)
    document = find_document(session, claims.number)
    if document is None:
        return Verification(Status.INVALID, "document.not_found", number=claims.number)
    if document.payload != signed.extract_compact(text):
        # A genuine signature over other claims for this number cannot come from us; say so, show nothing.
        return Verification(Status.INVALID, "document.mismatch", number=claims.number)
    return _standing(document)


def verify_number(session: Session, settings: Settings, number: str) -> Verification:
    """Verify a typed document number against the record (and the record's own signature)."""
    canonical = normalize_number(number)
    if canonical is None:
        return Verification(Status.INVALID, "number.malformed")
    document = find_document(session, canonical)
    if document is None:
        return Verification(Status.INVALID, "document.not_found", number=canonical)
    try:
        signed.verify(document.payload, load_keyring(settings).key_set())
    except signed.PayloadRefused:
        return Verification(Status.INVALID, "document.mismatch", number=canonical)
    return _standing(document)


def verify_text(session: Session, settings: Settings, text: str) -> Verification:
    """One box for both: a number when it is digits, a payload otherwise."""
    if normalize_number(text) is not None or not any(ch == "." for ch in text):
        return verify_number(session, settings, text)
    return verify_payload(session, settings, text)


# What /verify shows of a document just as the record holds it (the rest is masked or derived).
_SHOWN_AS_STORED = (
    "number",
    "document_type",
    "title_fa",
    "title_en",
    "issuer_name_fa",
    "issuer_name_en",
    "issued_at",
    "revoked_at",
    "revocation_reason",
    "key_id",
)


def standing_of(document: IssuedDocument) -> Status:
    """Valid, revoked or expired, now: the one rule for /verify, the document's page and its PDF."""
    expires_at = signed.expiry_instant(document.valid_until) if document.valid_until else None
    if document.revoked_at is not None:
        return Status.REVOKED
    if expires_at is not None and expires_at <= utcnow():
        return Status.EXPIRED
    return Status.VALID


_STANDING_REASONS = {
    Status.REVOKED: "document.revoked",
    Status.EXPIRED: "document.expired",
    Status.VALID: "document.valid",
}


def _standing(document: IssuedDocument) -> Verification:
    expires_at = signed.expiry_instant(document.valid_until) if document.valid_until else None
    status = standing_of(document)
    reason = "document.superseded" if document.is_superseded else _STANDING_REASONS[status]
    return Verification(
        status,
        reason,
        **{name: getattr(document, name) for name in _SHOWN_AS_STORED},
        issuer_code=document.issuer_agency_code,
        masked_subject=mask_national_code(document.subject_national_code),
        masked_name=mask_name(document.subject_name),
        expires_at=expires_at,
        valid_until=document.valid_until,
    )
