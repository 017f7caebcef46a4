"""Reading documents: a citizen's own, one by number; the published verification keys; shares."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from panjereh.core.config import Settings
from panjereh.core.db import utcnow
from panjereh.documents.exceptions import DocumentNotFound, ShareNotFound
from panjereh.documents.keys import load_keyring
from panjereh.documents.models import SUPERSEDED, DocumentShare, IssuedDocument, ShareOpening, WalletCopy
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


def document_of(session: Session, national_code: str, number: str) -> IssuedDocument:
    """One of this citizen's documents by number; another citizen's is as unknown as a made-up number."""
    document = find_document(session, number)
    if document is None or document.subject_national_code != national_code:
        raise DocumentNotFound()
    return document


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


def wallet_documents_of(session: Session, national_code: str, limit: int = 100) -> Sequence[IssuedDocument]:
    """A citizen's documents without the wallet copies newer ones replaced, newest first."""
    query = (
        select(IssuedDocument)
        .where(
            IssuedDocument.subject_national_code == national_code,
            or_(IssuedDocument.revoked_by.is_(None), IssuedDocument.revoked_by != SUPERSEDED),
        )
        .order_by(IssuedDocument.issued_at.desc(), IssuedDocument.number)
        .limit(limit)
    )
    return session.scalars(query).all()


def wallet_checked_at(session: Session, national_code: str) -> dict[str, datetime]:
    """When each wallet source was last checked against its registry (source key → instant)."""
    query = (
        select(WalletCopy.source, func.max(WalletCopy.checked_at))
        .where(WalletCopy.subject_national_code == national_code)
        .group_by(WalletCopy.source)
    )
    return {source: checked for source, checked in session.execute(query).all()}


def find_share(session: Session, share_id: str) -> DocumentShare | None:
    """The share with this id, or None."""
    if not isinstance(share_id, str) or len(share_id) > 32:
        return None
    return session.get(DocumentShare, share_id)


def share_of(session: Session, national_code: str, number: str, share_id: str) -> DocumentShare:
    """One of this citizen's shares of one of his documents; anyone else's is as unknown as a made-up id."""
    document = document_of(session, national_code, number)
    share = find_share(session, share_id)
    if share is None or share.document_id != document.id or share.owner_national_code != national_code:
        raise ShareNotFound()
    return share


def find_share_by_token_hash(session: Session, token_hash: str) -> DocumentShare | None:
    """The share whose link token hashes to this, or None."""
    return (
        session.scalars(select(DocumentShare).where(DocumentShare.token_hash == token_hash))
        .unique()
        .one_or_none()
    )


def find_share_by_idempotency_key(
    session: Session, owner_national_code: str, key: str
) -> DocumentShare | None:
    """The share this citizen made through the API under this Idempotency-Key, or None."""
    query = select(DocumentShare).where(
        DocumentShare.owner_national_code == owner_national_code, DocumentShare.idempotency_key == key
    )
    return session.scalars(query).unique().one_or_none()


def shares_of_owner(
    session: Session, national_code: str, *, limit: int = 100, offset: int = 0
) -> Sequence[DocumentShare]:
    """A citizen's shares of every document (any state), newest first, a page at a time."""
    query = (
        select(DocumentShare)
        .where(DocumentShare.owner_national_code == national_code)
        .order_by(DocumentShare.created_at.desc(), DocumentShare.id)
        .limit(limit)
        .offset(offset)
    )
    return session.scalars(query).unique().all()


def shares_of_document(session: Session, document_id: str) -> Sequence[DocumentShare]:
    """A document's shares, newest first."""
    query = (
        select(DocumentShare)
        .where(DocumentShare.document_id == document_id)
        .order_by(DocumentShare.created_at.desc(), DocumentShare.id)
    )
    return session.scalars(query).unique().all()


def active_shares_of(session: Session, national_code: str, limit: int = 5) -> Sequence[DocumentShare]:
    """A citizen's shares that can still be opened (not revoked, not expired), the soonest to end first."""
    query = (
        select(DocumentShare)
        .where(
            DocumentShare.owner_national_code == national_code,
            DocumentShare.revoked_at.is_(None),
            DocumentShare.expires_at > utcnow(),
        )
        .order_by(DocumentShare.expires_at, DocumentShare.id)
        .limit(limit)
    )
    return session.scalars(query).unique().all()


def openings_of(session: Session, share_id: str, limit: int = 200) -> Sequence[ShareOpening]:
    """Each time a share was opened, newest first."""
    query = (
        select(ShareOpening)
        .where(ShareOpening.share_id == share_id)
        .order_by(ShareOpening.opened_at.desc(), ShareOpening.id)
        .limit(limit)
    )
    return session.scalars(query).all()


def opening_counts(session: Session, share_ids: Sequence[str]) -> dict[str, int]:
    """How many times each of these shares was opened."""
    if not share_ids:
        return {}
    query = (
        select(ShareOpening.share_id, func.count())
        .where(ShareOpening.share_id.in_(list(share_ids)))
        .group_by(ShareOpening.share_id)
    )
    return {share_id: count for share_id, count in session.execute(query).all()}
