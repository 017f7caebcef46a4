"""Issuing and revoking documents (flush, never commit: the caller owns the transaction)."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from panjereh.agencies import selectors as agency_selectors
from panjereh.core.config import Settings
from panjereh.core.db import utcnow
from panjereh.core.identifiers import InvalidIdentifier, normalize_legal_entity_id, normalize_national_code
from panjereh.core.logging import get_logger
from panjereh.documents import payload as signed
from panjereh.documents.exceptions import AlreadyRevoked, InvalidDocument, RevocationForbidden
from panjereh.documents.keys import load_keyring
from panjereh.documents.masking import mask_name, mask_national_code
from panjereh.documents.models import IssuedDocument
from panjereh.documents.numbers import new_number
from panjereh.documents.selectors import get_document

log = get_logger(__name__)

__all__ = ["IssuedDocument", "issue_document", "revoke_document", "unused_number"]


def issue_document(
    session: Session,
    settings: Settings,
    *,
    document_type: str,
    title_fa: str,
    title_en: str,
    subject_national_code: str,
    subject_name: str,
    issuer_agency_code: str,
    claims: dict[str, Any],
    valid_until: date | None = None,
    request_tracking_code: str | None = None,
    number: str | None = None,
) -> IssuedDocument:
    """Number, sign and store a document for a citizen; its payload verifies offline against the JWKS.

    `number` is one the caller took from `unused_number` beforehand (a smart decision does, while its
    registries are being asked); otherwise one is chosen here."""
    try:
        national_code = normalize_national_code(subject_national_code)
    except InvalidIdentifier:
        try:  # a company's document (a business service, applied for by its representative)
            national_code = normalize_legal_entity_id(subject_national_code)
        except InvalidIdentifier as exc:
            raise InvalidDocument(
                "The subject's national code is not valid.", "کد ملی صاحب سند معتبر نیست."
            ) from exc
    agency = agency_selectors.find_agency_by_code(session, issuer_agency_code)
    if agency is None:
        raise InvalidDocument(
            f"No agency with code {issuer_agency_code!r} may issue documents.",
            f"دستگاهی با کد «{issuer_agency_code}» ثبت نشده است.",
        )
    if not document_type or not title_fa.strip() or not subject_name.strip():
        raise InvalidDocument(
            "A document needs a type, a Persian title and the subject's name.",
            "سند باید نوع، عنوان فارسی و نام صاحب سند داشته باشد.",
        )
    issued_at = utcnow().replace(microsecond=0)
    if valid_until is not None and signed.expiry_instant(valid_until) <= issued_at:
        raise InvalidDocument("The document would be expired at issue.", "تاریخ اعتبار سند گذشته است.")
    ring = load_keyring(settings)
    number = number or unused_number(session, issued_at)
    body = signed.build_claims(
        number=number,
        document_type=document_type,
        issuer=agency.code,
        masked_subject=mask_national_code(national_code),
        masked_name=mask_name(subject_name),
        issued_at=issued_at,
        valid_until=valid_until,
        claims=claims,
    )
    document = IssuedDocument(
        number=number,
        document_type=document_type,
        title_fa=title_fa.strip(),
        title_en=title_en.strip(),
        subject_national_code=national_code,
        subject_name=subject_name.strip(),
        issuer_agency_code=agency.code,
        issuer_name_fa=agency.name_fa,
        issuer_name_en=agency.name_en,
        claims=claims,
        valid_until=valid_until,
        request_tracking_code=request_tracking_code,
        issued_at=issued_at,
        key_id=ring.active_kid,
        payload=signed.sign(body, ring.active),
    )
    # Written with the caller's next flush, in one go with the rest of its unit of work (a decision
    # that issues a document writes the request, its timeline and the document together); the unique
    # index on the number still refuses a clash at that flush.
    session.add(document)
    log.info("document.issued", number=number, type=document_type, issuer=agency.code, kid=ring.active_kid)
    return document


def revoke_document(session: Session, number: str, *, agency_code: str, reason: str) -> IssuedDocument:
    """Revoke a document on behalf of its issuing agency; /verify reports it revoked from then on."""
    document = get_document(session, number)
    if document.issuer_agency_code != agency_code:
        raise RevocationForbidden(
            f"{number} was issued by {document.issuer_agency_code}, not {agency_code}.",
            f"این سند را «{document.issuer_name_fa}» صادر کرده است، نه دستگاه «{agency_code}».",
        )
    if document.revoked_at is not None:
        raise AlreadyRevoked()
    if not reason.strip():
        raise InvalidDocument("Give the reason for revoking.", "علت ابطال را بنویسید.")
    document.revoked_at = utcnow()
    document.revoked_by = agency_code
    document.revocation_reason = reason.strip()
    session.flush()
    log.info("document.revoked", number=document.number, agency=agency_code)
    return document


def unused_number(session: Session, when: Any) -> str:
    """A document number for an issue on `when` that no stored document has."""
    # 10^11 numbers a year: a clash is rare, and the unique index catches a race with another writer.
    while True:
        number = new_number(when)
        if session.scalar(select(IssuedDocument.id).where(IssuedDocument.number == number)) is None:
            return number
