"""Issued documents: what was signed, for whom, by which agency, and whether it still stands."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from panjereh.core.db import Base, new_id, utcnow


class IssuedDocument(Base):
    """A signed document; its `payload` is the compact JWS its QR code carries."""

    __tablename__ = "issued_document"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    number: Mapped[str] = mapped_column(String(16), unique=True)
    document_type: Mapped[str] = mapped_column(String(60))
    title_fa: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str] = mapped_column(String(200))
    subject_national_code: Mapped[str] = mapped_column(String(10), index=True)
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
