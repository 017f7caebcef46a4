"""Reading documents: a citizen's own, one by number; the published verification keys."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from panjereh.core.config import Settings
from panjereh.documents.exceptions import DocumentNotFound
from panjereh.documents.keys import load_keyring
from panjereh.documents.models import IssuedDocument
from panjereh.documents.numbers import normalize_number


def documents_of(session: Session, national_code: str, limit: int = 100) -> Sequence[IssuedDocument]:
    """A citizen's documents, newest first."""
    query = (
        select(IssuedDocument)
        .where(IssuedDocument.subject_national_code == national_code)
        .order_by(IssuedDocument.issued_at.desc(), IssuedDocument.number)
        .limit(limit)
    )
    return session.scalars(query).all()


def find_document(session: Session, number: str) -> IssuedDocument | None:
    """The document with this number (typed in any form: Persian digits, dashes), or None."""
    canonical = normalize_number(number)
    if canonical is None:
        return None
    return session.scalars(select(IssuedDocument).where(IssuedDocument.number == canonical)).one_or_none()


def get_document(session: Session, number: str) -> IssuedDocument:
    """The document with this number, or DocumentNotFound."""
    document = find_document(session, number)
    if document is None:
        raise DocumentNotFound()
    return document


@dataclass(frozen=True)
class PublishedKeys:
    """The public half of the documents' signing keys: what an offline verifier trusts."""

    jwks: dict[str, Any]
    active_kid: str


def published_keys(settings: Settings) -> PublishedKeys:
    """The JWK Set documents are verified with and the id of the key that signs now."""
    ring = load_keyring(settings)
    return PublishedKeys(jwks=ring.jwks(), active_kid=ring.active_kid)
