"""Sharing a document with selective claims: a signed statement of only the chosen claims, behind a link.

The citizen picks claims of a document (its own, the holder's name or national code, and derived claims
such as `over_18` that answer without revealing their input), a lifetime and a recipient label. The
platform signs a new statement (ES256, the documents' keys, `typ` `panjereh-share+jws`) bound to the
share's id and expiry; the third party opens the link (page or API) and can check the signature offline
against the published JWKS. The link's token is random (256 bits) and only its SHA-256 is stored. Each
opening is recorded with a coarse trace (browser family, the address's network, never the address).
The format is written down in docs/protocols/document-sharing.md.
"""

from __future__ import annotations

import binascii
import hashlib
import json
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from panjereh.core import jalali
from panjereh.core.config import Settings
from panjereh.core.db import utcnow
from panjereh.core.logging import get_logger
from panjereh.documents import claims as disclosure
from panjereh.documents import payload as signed
from panjereh.documents.exceptions import (
    InvalidShare,
    ShareAlreadyRevoked,
    SharedDocumentInvalid,
    ShareExpired,
    ShareIdempotencyConflict,
    ShareNotFound,
    ShareRevoked,
)
from panjereh.documents.keys import ALGORITHM, load_keyring
from panjereh.documents.masking import mask_name, mask_national_code
from panjereh.documents.models import DocumentShare, IssuedDocument, ShareOpening
from panjereh.documents.selectors import (
    document_of,
    find_share,
    find_share_by_idempotency_key,
    find_share_by_token_hash,
)
from panjereh.documents.traces import coarse_agent, coarse_network
from panjereh.documents.verification import Status, standing_of
from panjereh.identity import constants as levels

log = get_logger(__name__)

STATEMENT_VERSION = 1
STATEMENT_TYPE = "panjereh-share+jws"
MIN_LIFETIME = timedelta(hours=1)
MAX_LIFETIME = timedelta(days=30)
# The lifetimes the page offers (minutes); the API of the service accepts anything within the bounds.
LIFETIME_CHOICES = (60, 24 * 60, 7 * 24 * 60, 30 * 24 * 60)
MAX_LABEL = 100
MAX_IDEMPOTENCY_KEY = 80
# Making a share discloses verified claims to a third party, like turning the second factor off: it asks
# for the two-factor session level (docs/security.md), with a step-up when the session has less.
SHARE_LEVEL = levels.LEVEL_TWO_FACTOR
TOKEN_BYTES = 32
_TOKEN = re.compile(r"[A-Za-z0-9_-]{43}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class ShareStatus:
    """What a share is at a moment (also recorded with each opening)."""

    VALID = "valid"
    REVOKED = "revoked"
    EXPIRED = "expired"
    DOCUMENT_INVALID = "document_invalid"


def hash_token(token: str) -> str:
    """What is stored of a link's token."""
    return hashlib.sha256(token.encode()).hexdigest()


def share_url(settings: Settings, token: str) -> str:
    """The absolute link a third party opens (from PANJEREH_PUBLIC_URL)."""
    return f"{settings.base_url}/shared/{token}"


def claim_values(document: IssuedDocument, names: list[str], today: date) -> dict[str, Any]:
    """The values of the chosen claims on `today` (derived ones computed, the holder's from the record)."""
    values: dict[str, Any] = {}
    source = document.claims or {}
    for name in names:
        if name == disclosure.HOLDER_NAME:
            values[name] = document.subject_name
        elif name == disclosure.HOLDER_NATIONAL_CODE:
            values[name] = document.subject_national_code
        elif name in disclosure.DERIVED:
            values[name] = disclosure.derive(name, source, today)
        else:
            values[name] = source[name]
    return values


def _chosen(document: IssuedDocument, names: list[str], today: date) -> list[str]:
    offered = disclosure.offered(document.claims or {}, today)
    cleaned = [name.strip() for name in names if isinstance(name, str) and name.strip()]
    if not cleaned:
        raise InvalidShare("Choose at least one claim to share.", "دست‌کم یک مورد را برای اشتراک برگزینید.")
    if len(cleaned) > disclosure.MAX_CLAIMS:
        raise InvalidShare(
            f"At most {disclosure.MAX_CLAIMS} claims in one share.",
            f"در هر اشتراک حداکثر {disclosure.MAX_CLAIMS} مورد.",
        )
    unknown = [name[:40] for name in cleaned if name not in offered]
    if unknown:
        raise InvalidShare(
            f"This document offers no claim named {', '.join(unknown)}.",
            "این مدرک چنین موردی برای اشتراک ندارد.",
            unknown=unknown,
        )
    return [name for name in offered if name in set(cleaned)]  # the document's order, no repeats


def _lifetime_refused() -> InvalidShare:
    return InvalidShare(
        "A share lasts between one hour and thirty days.", "مدت اشتراک باید از یک ساعت تا سی روز باشد."
    )


def lifetime_of(minutes: int) -> timedelta:
    """A share's lifetime from a number of minutes, or InvalidShare outside one hour … thirty days (checked
    before any arithmetic, so no number a caller sends can overflow a timedelta)."""
    if not MIN_LIFETIME // timedelta(minutes=1) <= minutes <= MAX_LIFETIME // timedelta(minutes=1):
        raise _lifetime_refused()
    return timedelta(minutes=minutes)


def create_share(
    session: Session,
    settings: Settings,
    *,
    document_number: str,
    owner_national_code: str,
    claims: list[str],
    lifetime: timedelta,
    recipient_label: str = "",
    idempotency_key: str | None = None,
    request_digest: str | None = None,
) -> tuple[DocumentShare, str]:
    """Sign a statement of the chosen claims and store the share; returns it with the link's token (shown
    once, never stored). The API's retries go through `create_share_once`."""
    document = document_of(session, owner_national_code, document_number)
    if standing_of(document) is not Status.VALID:
        raise InvalidShare(
            "A revoked, replaced or expired document cannot be shared.",
            "مدرک باطل، جایگزین‌شده یا منقضی را نمی‌توان به اشتراک گذاشت.",
        )
    if not MIN_LIFETIME <= lifetime <= MAX_LIFETIME:
        raise _lifetime_refused()
    label = " ".join(_CONTROL.sub(" ", recipient_label or "").split())
    if len(label) > MAX_LABEL:
        raise InvalidShare(
            f"The recipient's label is at most {MAX_LABEL} characters.",
            f"نام گیرنده حداکثر {MAX_LABEL} نویسه است.",
        )
    today = jalali.tehran_today(utcnow())
    names = _chosen(document, claims, today)
    now = utcnow().replace(microsecond=0)
    expires_at = now + lifetime
    if document.valid_until is not None:  # a share never outlives its document
        expires_at = min(expires_at, signed.expiry_instant(document.valid_until))
    token = secrets.token_urlsafe(TOKEN_BYTES)
    ring = load_keyring(settings)
    share = DocumentShare(
        document_id=document.id,
        owner_national_code=owner_national_code,
        token_hash=hash_token(token),
        claims=names,
        recipient_label=label,
        created_at=now,
        expires_at=expires_at,
        key_id=ring.active_kid,
        statement="",
        idempotency_key=idempotency_key,
        request_digest=request_digest,
    )
    session.add(share)
    session.flush()  # the id the statement is bound to
    body = build_statement(document, share, claim_values(document, names, today))
    share.statement = jws.serialize_compact(
        {"alg": ALGORITHM, "kid": ring.active_kid, "typ": STATEMENT_TYPE}, _canonical(body), ring.active
    )
    session.flush()
    log.info("documents.share_created", share=share.id, claims=len(names), kid=ring.active_kid)
    return share, token


def request_digest(document_number: str, claims: list[str], lifetime: timedelta, recipient_label: str) -> str:
    """What a share request asks for, as a digest: the same key with another request is a conflict."""
    return hashlib.sha256(
        _canonical([document_number.strip(), sorted(set(claims)), lifetime.total_seconds(), recipient_label])
    ).hexdigest()


def create_share_once(
    session: Session,
    settings: Settings,
    *,
    idempotency_key: str,
    document_number: str,
    owner_national_code: str,
    claims: list[str],
    lifetime: timedelta,
    recipient_label: str = "",
) -> tuple[DocumentShare, str | None]:
    """`create_share` under the caller's Idempotency-Key: the same key and request again return the first
    share without its token (that was shown once and is not kept); the same key with another request is a
    conflict. The key is the citizen's own: two citizens' keys never meet."""
    key = idempotency_key.strip()[:MAX_IDEMPOTENCY_KEY]
    digest = request_digest(document_number, claims, lifetime, recipient_label)
    existing = find_share_by_idempotency_key(session, owner_national_code, key)
    if existing is not None:
        return _same_or_conflict(existing, digest), None
    try:
        with session.begin_nested():
            return create_share(
                session,
                settings,
                document_number=document_number,
                owner_national_code=owner_national_code,
                claims=claims,
                lifetime=lifetime,
                recipient_label=recipient_label,
                idempotency_key=key,
                request_digest=digest,
            )
    except IntegrityError:
        # A concurrent retry with the same key stored its share first: answer with that one.
        existing = find_share_by_idempotency_key(session, owner_national_code, key)
        if existing is None:
            raise
        return _same_or_conflict(existing, digest), None


def _same_or_conflict(existing: DocumentShare, digest: str) -> DocumentShare:
    if existing.request_digest != digest:
        raise ShareIdempotencyConflict(share_id=existing.id)
    return existing


def show_link_once(session: Session, share: DocumentShare, token: str) -> bool:
    """Whether this is the one showing of the share's link `token` (the page right after making it, or the
    API's answer): a conditional update, so of two racing reloads only one shows it, and only the current
    link is ever marked shown (a form sent twice replaces a link no page showed: `rekey_unshown`)."""
    shown = session.execute(
        update(DocumentShare)
        .where(
            DocumentShare.id == share.id,
            DocumentShare.link_shown_at.is_(None),
            DocumentShare.token_hash == hash_token(token),
        )
        .values(link_shown_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(shown, "rowcount", 0) == 1)


def rekey_unshown(session: Session, share: DocumentShare) -> str | None:
    """A new link for a share whose link was never shown, or None once it was.

    For a form sent twice (a double click): the first answer's link never reached a page, so the second
    answer hands over a fresh one and the first stops opening the share. A link that was shown may be in a
    third party's hands already, so it is never replaced."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    replaced = session.execute(
        update(DocumentShare)
        .where(DocumentShare.id == share.id, DocumentShare.link_shown_at.is_(None))
        .values(token_hash=hash_token(token))
        .execution_options(synchronize_session=False)
    )
    if getattr(replaced, "rowcount", 0) != 1:
        return None
    set_committed_value(share, "token_hash", hash_token(token))
    return token


def build_statement(document: IssuedDocument, share: DocumentShare, values: dict[str, Any]) -> dict[str, Any]:
    """The statement's claims: who issued what about whom (masked), the chosen claims, the share's bounds."""
    body: dict[str, Any] = {
        "v": STATEMENT_VERSION,
        "sid": share.id,
        "t": document.document_type,
        "tf": document.title_fa,
        "te": document.title_en,
        "i": document.issuer_agency_code,
        "sm": mask_national_code(document.subject_national_code),
        "sn": mask_name(document.subject_name),
        "diat": int(document.issued_at.timestamp()),
        "iat": int(share.created_at.timestamp()),
        "exp": int(share.expires_at.timestamp()),
        "c": values,
    }
    if document.valid_until is not None:
        body["dexp"] = int(signed.expiry_instant(document.valid_until).timestamp())
    return body


def statement_claims(share: DocumentShare) -> dict[str, Any]:
    """The claims a stored share's statement discloses (our own record: read, not verified again)."""
    body = json.loads(jws.extract_compact(share.statement.encode()).payload)
    claims: dict[str, Any] = body["c"]
    return claims


@dataclass(frozen=True)
class Statement:
    """A verified statement's content."""

    share_id: str
    document_type: str
    issuer: str
    masked_subject: str
    masked_name: str
    issued_at: datetime
    expires_at: datetime
    claims: dict[str, Any]
    kid: str


def verify_statement(token: str, keys: KeySet, now: datetime | None = None) -> Statement:
    """What an offline verifier does: ES256 only, a published key, the signature, the type, the expiry.
    Raises signed.PayloadRefused with a stable code."""
    token = "".join((token or "").split())
    if not re.fullmatch(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*", token):
        raise signed.PayloadRefused("payload.malformed", "not a compact JWS")
    try:
        header = jws.extract_compact(token.encode()).headers()
    except (JoseError, ValueError, binascii.Error) as exc:
        raise signed.PayloadRefused("payload.malformed", "the header cannot be read") from exc
    if header.get("alg") != ALGORITHM:
        raise signed.PayloadRefused("payload.algorithm", "only ES256 is accepted")
    if header.get("typ") != STATEMENT_TYPE:
        raise signed.PayloadRefused("payload.claims", "not a share statement")
    kid = header.get("kid")
    if not isinstance(kid, str) or not any(key.kid == kid for key in keys.keys):
        raise signed.PayloadRefused("payload.unknown_key", "signed with a key that is not published")
    try:
        verified = jws.deserialize_compact(token, keys, algorithms=[ALGORITHM])
        body = json.loads(verified.payload)
        statement = Statement(
            share_id=str(body["sid"]),
            document_type=str(body["t"]),
            issuer=str(body["i"]),
            masked_subject=str(body["sm"]),
            masked_name=str(body.get("sn", "")),
            issued_at=datetime.fromtimestamp(int(body["iat"]), UTC),
            expires_at=datetime.fromtimestamp(int(body["exp"]), UTC),
            claims=dict(body["c"]),
            kid=kid,
        )
    except (JoseError, ValueError, binascii.Error) as exc:
        raise signed.PayloadRefused("payload.signature", "the signature does not match") from exc
    except (KeyError, TypeError, OverflowError) as exc:
        raise signed.PayloadRefused("payload.claims", "not a share statement of a known format") from exc
    if statement.expires_at <= (now or utcnow()):
        raise signed.PayloadRefused("share.expired", "the share has expired")
    return statement


def status_of(share: DocumentShare, now: datetime | None = None) -> str:
    """Valid, revoked, expired, or its document no longer valid: the one rule for the page and the API."""
    if share.revoked_at is not None:
        return ShareStatus.REVOKED
    if share.expires_at <= (now or utcnow()):
        return ShareStatus.EXPIRED
    if standing_of(share.document) is not Status.VALID:
        return ShareStatus.DOCUMENT_INVALID
    return ShareStatus.VALID


REFUSALS: dict[str, type[ShareRevoked | ShareExpired | SharedDocumentInvalid]] = {
    ShareStatus.REVOKED: ShareRevoked,
    ShareStatus.EXPIRED: ShareExpired,
    ShareStatus.DOCUMENT_INVALID: SharedDocumentInvalid,
}


def find_by_token(session: Session, token: str) -> DocumentShare:
    """The share a link's token opens, or ShareNotFound (a malformed token never reaches the database)."""
    if not isinstance(token, str) or not _TOKEN.fullmatch(token):
        raise ShareNotFound()
    share = find_share_by_token_hash(session, hash_token(token))
    if share is None:
        raise ShareNotFound()
    return share


def open_share(
    session: Session, token: str, *, channel: str, user_agent: str | None, address: str | None
) -> tuple[DocumentShare, str]:
    """Open a share by its token and record the opening; returns it with its status now."""
    share = find_by_token(session, token)
    status = status_of(share)
    session.add(
        ShareOpening(
            share_id=share.id,
            opened_at=utcnow(),
            channel=channel,
            outcome=status,
            agent=coarse_agent(user_agent),
            network=coarse_network(address),
        )
    )
    session.flush()
    return share, status


def revoke_share(session: Session, share_id: str, *, owner_national_code: str) -> DocumentShare:
    """The owner revokes a share: every later opening is refused."""
    share = find_share(session, share_id)
    if share is None or share.owner_national_code != owner_national_code:
        raise ShareNotFound()
    if share.revoked_at is not None:
        raise ShareAlreadyRevoked()
    share.revoked_at = utcnow()
    session.flush()
    log.info("documents.share_revoked", share=share.id)
    return share


def _canonical(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str).encode()
