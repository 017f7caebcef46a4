"""API shapes: verification, the published keys, a share as a third party opens it and as its holder
manages it."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictInt

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


class SharedIssuer(BaseModel):
    code: str
    name_fa: str
    name_en: str


class SharedDocumentOut(BaseModel):
    """The document a share discloses claims of: what it is and who issued it, never its whole content."""

    document_type: str
    title_fa: str
    title_en: str
    issuer: SharedIssuer
    masked_subject: str = Field(description="The holder's national code, masked (0499****99)")
    masked_name: str
    issued_at: datetime
    expires_at: datetime | None = Field(description="When the document itself stops being valid")


class SharedStatementOut(BaseModel):
    """A valid share: the signed statement (verify it offline with the JWKS) and what it says."""

    status: str = Field(description="valid (any other state is a problem: 404 or 410)")
    share_id: str
    statement: str = Field(
        description="Compact JWS (ES256, typ panjereh-share+jws) over the disclosed claims"
    )
    key_id: str
    keys_url: str = Field(description="The JWK Set the statement verifies with")
    claims: dict[str, Any] = Field(description="The disclosed claims, as signed in the statement")
    created_at: datetime
    expires_at: datetime
    document: SharedDocumentOut


class ShareCreate(BaseModel):
    """What the holder discloses, for how long, to whom: the claims by name (`GET` the share form or the
    protocol page for the names a document offers), the lifetime in minutes (60 … 43200)."""

    model_config = ConfigDict(extra="forbid")

    claims: list[Annotated[str, Field(max_length=60)]] = Field(
        max_length=100, description="Claim names, e.g. over_18, holder_name (at most 20 in one share)"
    )
    lifetime_minutes: StrictInt = Field(description="60 (one hour) … 43200 (thirty days)")
    recipient: str = Field(default="", max_length=1000, description="A label for you: whom it is for")


class ShareOut(BaseModel):
    """One of my shares, as its holder sees it: never its link (shown once, when made, and not kept)."""

    share_id: str
    status: str = Field(description="valid | revoked | expired | document_invalid")
    document_number: str
    document_type: str
    title_fa: str
    title_en: str
    claims: dict[str, Any] = Field(description="The disclosed claims, as signed in the statement")
    recipient: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    openings: int = Field(description="How many times the link was opened (refused openings too)")


class ShareCreated(ShareOut):
    """A share just made: its link, once. A retry under the same Idempotency-Key answers the same share
    with `token`, `url` and `api_url` null (the link is not kept; revoke the share and make another)."""

    token: str | None = Field(description="The link's secret (43 characters); shown in this answer only")
    url: str | None = Field(description="The page a third party opens")
    api_url: str | None = Field(description="The API address a third party calls for the statement")


class ShareOpeningOut(BaseModel):
    """One opening of my share: when, how, what it answered, and a coarse trace of who."""

    opened_at: datetime
    channel: str = Field(description="page | api")
    outcome: str = Field(description="What the share was then: valid | revoked | expired | document_invalid")
    agent: str = Field(description='The browser family and system ("Chrome on Android"), never more')
    network: str = Field(description="The address's network (IPv4 /24, IPv6 /48), never the address")
