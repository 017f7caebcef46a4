"""Issued documents: what was signed, for whom, by which agency, and whether it still stands."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from panjereh.core.db import Base, new_id, utcnow

# `revoked_by` of a wallet copy that a newer copy (or the record's disappearance) replaced: not an agency.
SUPERSEDED = "panjereh:superseded"


class IssuedDocument(Base):
    """A signed document; its `payload` is the compact JWS its QR code carries."""

    __tablename__ = "issued_document"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    number: Mapped[str] = mapped_column(String(16), unique=True)
    document_type: Mapped[str] = mapped_column(String(60))
    title_fa: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str] = mapped_column(String(200))
    # A person's national code, or a company's legal-entity ID (11 digits) for a business service's document.
    subject_national_code: Mapped[str] = mapped_column(String(11), index=True)
    subject_name: Mapped[str] = mapped_column(String(200))
    # The issuer as it stood when signing (a document keeps naming its issuer even if agencies are renamed).
    issuer_agency_code: Mapped[str] = mapped_column(String(40), index=True)
    issuer_name_fa: Mapped[str] = mapped_column(String(200))
    issuer_name_en: Mapped[str] = mapped_column(String(200))
    claims: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    valid_until: Mapped[date | None] = mapped_column(Date)
    request_tracking_code: Mapped[str | None] = mapped_column(String(40), index=True)
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    key_id: Mapped[str] = mapped_column(String(64))
    payload: Mapped[str] = mapped_column(Text)
    revoked_at: Mapped[datetime | None]
    revoked_by: Mapped[str | None] = mapped_column(String(40))
    revocation_reason: Mapped[str | None] = mapped_column(Text)

    @property
    def signed_payload(self) -> str:
        """The compact JWS (the contract's name for `payload`)."""
        return self.payload

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    @property
    def is_superseded(self) -> bool:
        return self.revoked_by == SUPERSEDED


class WalletCopy(Base):
    """A document of another issuer pulled into the citizen's wallet: which registry record it copies, the
    signed document that carries it, and whether a newer copy has replaced it."""

    __tablename__ = "documents_wallet_copy"
    __table_args__ = (
        Index("ix_documents_wallet_copy_current", "subject_national_code", "source", "item_key"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    subject_national_code: Mapped[str] = mapped_column(String(10))
    source: Mapped[str] = mapped_column(String(60))  # the wallet source (driving-licence, vehicle, ...)
    # Which record of the source (a vehicle's plate, a degree's level and institution): one copy each.
    item_key: Mapped[str] = mapped_column(String(200))
    document_id: Mapped[str] = mapped_column(ForeignKey("issued_document.id", ondelete="CASCADE"), index=True)
    # SHA-256 of the registry's claims: an unchanged record keeps its copy (and the copy's shares).
    claims_hash: Mapped[str] = mapped_column(String(64))
    fetched_at: Mapped[datetime] = mapped_column(default=utcnow)
    checked_at: Mapped[datetime] = mapped_column(default=utcnow)
    superseded_at: Mapped[datetime | None]

    document: Mapped[IssuedDocument] = relationship(lazy="joined")


class DocumentShare(Base):
    """A citizen's share of some of a document's claims with a third party, as a signed statement."""

    __tablename__ = "documents_share"
    __table_args__ = (
        # One share per citizen and Idempotency-Key: a retried API call finds the first share.
        Index("uq_documents_share_idempotency", "owner_national_code", "idempotency_key", unique=True),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    document_id: Mapped[str] = mapped_column(ForeignKey("issued_document.id", ondelete="CASCADE"), index=True)
    owner_national_code: Mapped[str] = mapped_column(String(10), index=True)
    # SHA-256 of the link's token: the token itself is shown once, in the link, and never stored.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    claims: Mapped[list[str]] = mapped_column(JSON, default=list)  # the chosen claim names, in order
    recipient_label: Mapped[str] = mapped_column(String(100), default="")
    statement: Mapped[str] = mapped_column(Text)  # the compact JWS the third party receives
    key_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    revoked_at: Mapped[datetime | None]
    # When a page or an API answer showed the link (its one showing: a reload never shows it again).
    link_shown_at: Mapped[datetime | None]
    # The API caller's Idempotency-Key and a digest of what it asked (same key, other body: a conflict).
    idempotency_key: Mapped[str | None] = mapped_column(String(80))
    request_digest: Mapped[str | None] = mapped_column(String(64))

    document: Mapped[IssuedDocument] = relationship(lazy="joined")


class ShareOpening(Base):
    """One time a share was opened (page or API): when, how, and only a coarse trace of who."""

    __tablename__ = "documents_share_opening"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    share_id: Mapped[str] = mapped_column(ForeignKey("documents_share.id", ondelete="CASCADE"), index=True)
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    channel: Mapped[str] = mapped_column(String(10))  # page | api
    # What the share was at that moment (valid, expired, revoked, document_revoked).
    outcome: Mapped[str] = mapped_column(String(20))
    agent: Mapped[str] = mapped_column(String(40), default="")  # "Chrome on Android", never the whole string
    network: Mapped[str] = mapped_column(String(50), default="")  # the address's /24 (IPv4) or /48 (IPv6)
