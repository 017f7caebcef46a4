"""The signed payload a document's QR code carries: a compact JWS (ES256) over claims with short names.

Pure functions of a key set, with no database: the same code an offline verifier runs. The format is
written down in docs/protocols/documents.md.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, KeySet

from panjereh.core import jalali
from panjereh.documents.keys import ALGORITHM

FORMAT_VERSION = 1
# Past this many characters the QR code gets dense enough to scan badly from paper; the document's own
# claims are then replaced by their digest (the full claims stay on the record and in the PDF).
MAX_COMPACT_LENGTH = 900
REQUIRED_CLAIMS = ("v", "n", "t", "i", "sm", "iat")
_COMPACT = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")


class PayloadRefused(Exception):
    """A payload that does not verify; `code` says why in a stable word."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class DocumentClaims:
    """What a verified payload says."""

    version: int
    number: str
    document_type: str
    issuer: str
    masked_subject: str
    masked_name: str
    issued_at: datetime
    expires_at: datetime | None
    claims: dict[str, Any] | None
    claims_digest: str | None
    kid: str


def expiry_instant(valid_until: date) -> datetime:
    """A document valid until a day stays valid to the end of that day in Tehran."""
    midnight = datetime.combine(valid_until + timedelta(days=1), time(0), tzinfo=jalali.TEHRAN)
    return midnight.astimezone(UTC)


def claims_digest(claims: dict[str, Any]) -> str:
    """SHA-256 of the canonical JSON of the document's claims, base64url without padding."""
    digest = hashlib.sha256(_canonical(claims)).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def build_claims(
    *,
    number: str,
    document_type: str,
    issuer: str,
    masked_subject: str,
    masked_name: str,
    issued_at: datetime,
    valid_until: date | None,
    claims: dict[str, Any],
) -> dict[str, Any]:
    """The payload's claims (short names keep the QR code small)."""
    body: dict[str, Any] = {
        "v": FORMAT_VERSION,
        "n": number,
        "t": document_type,
        "i": issuer,
        "sm": masked_subject,
        "sn": masked_name,
        "iat": int(issued_at.timestamp()),
    }
    if valid_until is not None:
        body["exp"] = int(expiry_instant(valid_until).timestamp())
    body["c"] = claims
    return body


def sign(body: dict[str, Any], key: ECKey) -> str:
    """The compact JWS of the claims; too-large claims are carried as their digest `cd` instead."""
    token = jws.serialize_compact({"alg": ALGORITHM, "kid": key.kid}, _canonical(body), key)
    if len(token) > MAX_COMPACT_LENGTH and "c" in body:
        smaller = {k: v for k, v in body.items() if k != "c"} | {"cd": claims_digest(body["c"])}
        token = jws.serialize_compact({"alg": ALGORITHM, "kid": key.kid}, _canonical(smaller), key)
    return token


def extract_compact(text: str) -> str:
    """The compact JWS inside what a scanner or a person gave: the token itself, or a /verify?p= link."""
    text = (text or "").strip()
    if "://" in text or text.startswith("/"):
        parts = urlsplit(text)
        candidates = parse_qs(parts.query).get("p", []) + [parts.fragment]
        text = next((c for c in candidates if c), "")
    text = "".join(text.split())
    if not _COMPACT.fullmatch(text):
        raise PayloadRefused("payload.malformed", "this is not a signed document payload (compact JWS)")
    return text


def verify(text: str, keys: KeySet) -> DocumentClaims:
    """Check the signature against the published keys and read the claims; raise PayloadRefused if not."""
    token = extract_compact(text)
    try:
        header = jws.extract_compact(token.encode()).headers()
    except (JoseError, ValueError, binascii.Error) as exc:
        raise PayloadRefused("payload.malformed", "the payload's header cannot be read") from exc
    # Check the algorithm before any key is touched: `none` and HMAC-with-the-public-key tricks stop here.
    if header.get("alg") != ALGORITHM:
        raise PayloadRefused("payload.algorithm", f"algorithm {header.get('alg')!r} is refused; only ES256")
    kid = header.get("kid")
    if not isinstance(kid, str) or not any(key.kid == kid for key in keys.keys):
        raise PayloadRefused("payload.unknown_key", f"signed with a key that is not published ({kid!r})")
    try:
        verified = jws.deserialize_compact(token, keys, algorithms=[ALGORITHM])
    except (JoseError, ValueError, binascii.Error) as exc:
        raise PayloadRefused(
            "payload.signature", "the signature does not match: the payload was altered"
        ) from exc
    return _read_claims(verified.payload, kid)


def _read_claims(raw: bytes, kid: str) -> DocumentClaims:
    try:
        body = json.loads(raw)
        if not isinstance(body, dict) or any(name not in body for name in REQUIRED_CLAIMS):
            raise ValueError("claims missing")
        if body["v"] != FORMAT_VERSION:
            raise ValueError("unknown version")
        expires = body.get("exp")
        claims = body.get("c")
        return DocumentClaims(
            version=int(body["v"]),
            number=str(body["n"]),
            document_type=str(body["t"]),
            issuer=str(body["i"]),
            masked_subject=str(body["sm"]),
            masked_name=str(body.get("sn", "")),
            issued_at=datetime.fromtimestamp(int(body["iat"]), UTC),
            expires_at=datetime.fromtimestamp(int(expires), UTC) if expires is not None else None,
            claims=claims if isinstance(claims, dict) else None,
            claims_digest=body.get("cd"),
            kid=kid,
        )
    except (ValueError, TypeError, KeyError, OverflowError) as exc:
        raise PayloadRefused(
            "payload.claims", "the signed claims are not a document of a known format"
        ) from exc


def _canonical(value: Any) -> bytes:
    # Sorted keys and no spaces: the same claims always give the same bytes (and the same digest).
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str).encode()
