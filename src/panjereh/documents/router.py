"""Documents API: public verification, the published signing keys, shared documents for third parties, and
the signed-in holder's own shares (make, list, revoke, openings)."""

from __future__ import annotations

from contextlib import suppress
from typing import Annotated, Any

from fastapi import APIRouter, Header, Request, Response

from panjereh.core.deps import AppSettings, DbSession
from panjereh.core.errors import PROBLEM_JSON
from panjereh.core.problems import Problem
from panjereh.core.schemas import Limit, Offset
from panjereh.documents import sharing
from panjereh.documents.deps import ShareOpeningThrottle, VerificationThrottle
from panjereh.documents.exceptions import NothingToVerify, ShareAlreadyRevoked
from panjereh.documents.keys import load_keyring
from panjereh.documents.masking import mask_name, mask_national_code
from panjereh.documents.models import DocumentShare
from panjereh.documents.payload import expiry_instant
from panjereh.documents.schemas import (
    JsonWebKeySet,
    ShareCreate,
    ShareCreated,
    SharedDocumentOut,
    SharedIssuer,
    SharedStatementOut,
    ShareOpeningOut,
    ShareOut,
    VerifyRequest,
    VerifyResponse,
)
from panjereh.documents.selectors import document_of, opening_counts, openings_of, share_of, shares_of_owner
from panjereh.documents.verification import verify_number, verify_payload
from panjereh.identity.deps import CurrentCitizen, ensure_level

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


SHARE_REFUSALS: dict[int | str, dict[str, Any]] = {
    410: {
        "description": "The share was revoked (documents.share_revoked), has expired "
        "(documents.share_expired) or its document is no longer valid (documents.share_document_invalid)",
        "content": {PROBLEM_JSON: {"schema": Problem.model_json_schema()}},
    },
}


@router.get("/shares/{token}", response_model=SharedStatementOut, responses=SHARE_REFUSALS)
def open_shared(
    token: str,
    request: Request,
    response: Response,
    db: DbSession,
    settings: AppSettings,
    _: ShareOpeningThrottle,
) -> SharedStatementOut:
    """Open a shared document as a third party: the signed statement of the claims its holder chose.

    Verify `statement` offline: ES256, `kid` among `GET /api/v1/documents/keys`, `typ` panjereh-share+jws,
    `exp` in the future; this answer also says whether the holder has revoked it since. Each call is
    recorded as an opening the holder sees. Unknown or malformed tokens: 404; revoked, expired, or a
    document that is no longer valid: 410."""
    share, status = sharing.open_share(
        db,
        token,
        channel="api",
        user_agent=request.headers.get("user-agent"),
        address=request.client.host if request.client else None,
    )
    if status != sharing.ShareStatus.VALID:
        db.commit()  # the refused opening is recorded too (the holder sees attempts after revoking)
        raise sharing.REFUSALS[status]()
    # Like the share page: the holder's claims are kept by no cache (a revoked share must not answer again).
    response.headers["Cache-Control"] = "private, no-store"
    document = share.document
    return SharedStatementOut(
        status=status,
        share_id=share.id,
        statement=share.statement,
        key_id=share.key_id,
        keys_url=f"{settings.base_url}/api/v1/documents/keys",
        claims=sharing.statement_claims(share),
        created_at=share.created_at,
        expires_at=share.expires_at,
        document=SharedDocumentOut(
            document_type=document.document_type,
            title_fa=document.title_fa,
            title_en=document.title_en,
            issuer=SharedIssuer(
                code=document.issuer_agency_code,
                name_fa=document.issuer_name_fa,
                name_en=document.issuer_name_en,
            ),
            masked_subject=mask_national_code(document.subject_national_code),
            masked_name=mask_name(document.subject_name),
            issued_at=document.issued_at,
            expires_at=expiry_instant(document.valid_until) if document.valid_until else None,
        ),
    )


# --- the holder's own shares (the cookie session; a state change from another site is refused) -------

PRIVATE = "private, no-store"  # what a holder disclosed, to whom, and who opened it: kept by no cache


def _share_out(share: DocumentShare, openings: int) -> dict[str, Any]:
    document = share.document
    return {
        "share_id": share.id,
        "status": sharing.status_of(share),
        "document_number": document.number,
        "document_type": document.document_type,
        "title_fa": document.title_fa,
        "title_en": document.title_en,
        "claims": sharing.statement_claims(share),
        "recipient": share.recipient_label,
        "created_at": share.created_at,
        "expires_at": share.expires_at,
        "revoked_at": share.revoked_at,
        "openings": openings,
    }


@router.post("/{number}/shares", response_model=ShareCreated, status_code=201)
def make_share(
    number: str,
    body: ShareCreate,
    request: Request,
    response: Response,
    citizen: CurrentCitizen,
    db: DbSession,
    settings: AppSettings,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", max_length=80)] = None,
) -> ShareCreated:
    """Share chosen claims of one of my documents: the answer holds the link **once** (only its hash is kept).

    Needs a two-factor session: below it, 403 `identity.step_up_required`. The same Idempotency-Key again
    answers 200 with the first share and no link; with another body, 409
    `documents.share_idempotency_conflict`. Another citizen's document is 404, like an unknown number.
    """
    document = document_of(db, citizen.national_code, number)  # ownership before the step-up: a stranger
    ensure_level(request, sharing.SHARE_LEVEL)  # learns nothing from being asked for a second factor
    request_fields: dict[str, Any] = {
        "document_number": document.number,
        "owner_national_code": citizen.national_code,
        "claims": body.claims,
        "lifetime": sharing.lifetime_of(body.lifetime_minutes),
        "recipient_label": body.recipient,
    }
    token: str | None
    if idempotency_key and idempotency_key.strip():
        share, token = sharing.create_share_once(
            db, settings, idempotency_key=idempotency_key, **request_fields
        )
    else:
        share, token = sharing.create_share(db, settings, **request_fields)
    response.headers["Cache-Control"] = PRIVATE
    links: dict[str, str | None] = {"token": None, "url": None, "api_url": None}
    if token is None:
        response.status_code = 200  # a retry: the share exists, its link was shown in the first answer
    elif sharing.show_link_once(db, share, token):  # this answer is its one showing
        links = {
            "token": token,
            "url": sharing.share_url(settings, token),
            "api_url": f"{settings.base_url}/api/v1/documents/shares/{token}",
        }
    # The share's address for its holder (never the link: a Location is copied where a body is not).
    response.headers["Location"] = f"/api/v1/documents/{document.number}/shares/{share.id}"
    counts = opening_counts(db, [share.id])
    return ShareCreated.model_validate(_share_out(share, counts.get(share.id, 0)) | links)


@router.get("/shares", response_model=list[ShareOut])
def my_shares(
    response: Response, citizen: CurrentCitizen, db: DbSession, limit: Limit = 100, offset: Offset = 0
) -> list[ShareOut]:
    """My shares of every document (any state), newest first: what each discloses, never its link.

    Paged like the platform's other lists (`limit` at most 500, `offset`); a full page carries a
    `Link: <…>; rel="next"` header (RFC 8288) to the next one."""
    shares = shares_of_owner(db, citizen.national_code, limit=limit, offset=offset)
    if len(shares) == limit:
        response.headers["Link"] = (
            f'</api/v1/documents/shares?limit={limit}&offset={offset + limit}>; rel="next"'
        )

    counts = opening_counts(db, [share.id for share in shares])
    response.headers["Cache-Control"] = PRIVATE
    return [ShareOut.model_validate(_share_out(share, counts.get(share.id, 0))) for share in shares]


# One share's address is under its document (like its page, /documents/{number}/shares/{id}): the shorter
# /shares/{share_id} would be the same template as the third party's /shares/{token} (OpenAPI forbids two).
MY_SHARE = "/{number}/shares/{share_id}"


@router.get(MY_SHARE, response_model=ShareOut)
def my_share(
    number: str, share_id: str, response: Response, citizen: CurrentCitizen, db: DbSession
) -> ShareOut:
    """One of my shares: what it discloses, to whom, until when, its state and openings; never its link."""
    share = share_of(db, citizen.national_code, number, share_id)
    response.headers["Cache-Control"] = PRIVATE
    return ShareOut.model_validate(_share_out(share, opening_counts(db, [share.id]).get(share.id, 0)))


@router.delete(MY_SHARE, status_code=204, response_class=Response)
def revoke_my_share(number: str, share_id: str, citizen: CurrentCitizen, db: DbSession) -> Response:
    """Revoke one of my shares: refused from the next opening on. Revoking it again answers 204 too."""
    share = share_of(db, citizen.national_code, number, share_id)
    # DELETE is idempotent (RFC 9110 §9.2.2): a share already revoked is in the state asked for.
    with suppress(ShareAlreadyRevoked):
        sharing.revoke_share(db, share.id, owner_national_code=citizen.national_code)
    return Response(status_code=204)


@router.get(f"{MY_SHARE}/openings", response_model=list[ShareOpeningOut])
def my_share_openings(
    number: str, share_id: str, response: Response, citizen: CurrentCitizen, db: DbSession
) -> list[ShareOpeningOut]:
    """Each time my share was opened (page or API, refused ones too), newest first."""
    share = share_of(db, citizen.national_code, number, share_id)
    response.headers["Cache-Control"] = PRIVATE
    return [
        ShareOpeningOut.model_validate(opening, from_attributes=True) for opening in openings_of(db, share.id)
    ]
