"""API shapes for verification and the published keys."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from panjereh.core.schemas import shape_of
from panjereh.documents.verification import Verification


class VerifyRequest(BaseModel):
    """Either the QR code's text (the payload, or the whole /verify link) or a document number."""

    payload: str | None = Field(default=None, max_length=8000, description="Compact JWS or /verify?p= link")
    number: str | None = Field(default=None, max_length=40, description="16 digits, dashes and Persian ok")


class Reason(BaseModel):
    code: str
    en: str
    fa: str


class VerifyResponse(BaseModel):
    """What anyone may learn about a document: never the full national code."""

    valid: bool
    status: str = Field(description="valid | invalid | revoked | expired")
    reason: Reason
    number: str | None = None
    document_type: str | None = None
    title_fa: str | None = None
    title_en: str | None = None
    issuer: dict[str, str] | None = None
    masked_subject: str | None = None
    masked_name: str | None = None
    issued_at: datetime | None = None
    expires_at: datetime | None = None
    revoked_at: datetime | None = None
    revocation_reason: str | None = None
    key_id: str | None = None

    @classmethod
    def of(cls, result: Verification) -> VerifyResponse:
        issuer = None
        if result.issuer_code:
            issuer = {
                "code": result.issuer_code,
                "name_fa": result.issuer_name_fa or "",
                "name_en": result.issuer_name_en or "",
            }
        return shape_of(
            cls,
            result,
            status=result.status.value,
            reason=Reason(code=result.reason_code, en=result.reason_en, fa=result.reason_fa),
            issuer=issuer,
        )


class JsonWebKeySet(BaseModel):
    """RFC 7517 JWK Set of the public keys documents are signed with (active first)."""

    keys: list[dict[str, Any]]
