"""Documents API: public verification and the published signing keys."""

from __future__ import annotations

from fastapi import APIRouter, Response

from panjereh.core.deps import AppSettings, DbSession
from panjereh.documents.deps import VerificationThrottle
from panjereh.documents.exceptions import NothingToVerify
from panjereh.documents.keys import load_keyring
from panjereh.documents.schemas import JsonWebKeySet, VerifyRequest, VerifyResponse
from panjereh.documents.verification import verify_number, verify_payload

router = APIRouter(prefix="/documents", tags=["documents"])


@router.post("/verify", response_model=VerifyResponse)
def verify(
    body: VerifyRequest, db: DbSession, settings: AppSettings, _: VerificationThrottle
) -> VerifyResponse:
    """Verify a document by its QR payload or its number; a refusal is an answer (200), not an error."""
    if body.payload and body.payload.strip():
        return VerifyResponse.of(verify_payload(db, settings, body.payload))
    if body.number and body.number.strip():
        return VerifyResponse.of(verify_number(db, settings, body.number))
    raise NothingToVerify()


@router.get("/keys", response_model=JsonWebKeySet)
def keys(settings: AppSettings, response: Response) -> JsonWebKeySet:
    """The public keys (JWKS) documents are signed with, for verifying offline."""
    # Verifiers may cache the set for a while; a rotation adds a key, it never removes one at once.
    response.headers["Cache-Control"] = "public, max-age=3600"
    return JsonWebKeySet(**load_keyring(settings).jwks())
