"""OpenID Connect Back-Channel Logout 1.0: when a citizen's portal session ends, each client that holds a
grant from that session and registered a `backchannel_logout_uri` is sent a signed logout token, by a job
(retried with back-off while the client does not answer 200)."""

from __future__ import annotations

import secrets
import time
from typing import Any

from joserfc import jwt
from sqlalchemy import select
from sqlalchemy.orm import Session

from panjereh.core.config import Settings
from panjereh.core.crypto import sha256_hex
from panjereh.jobs import enqueue
from panjereh.oidc.keys import ALG, KeyRing
from panjereh.oidc.models import OidcClient, OidcGrant
from panjereh.oidc.tokens import subject_for

BACKCHANNEL_JOB = "oidc.backchannel_logout"
BACKCHANNEL_EVENT = "http://schemas.openid.net/event/backchannel-logout"  # §2.4
LOGOUT_TOKEN_TYPE = "logout+jwt"  # noqa: S105 — §2.4: explicit typing, so a logout token is never taken for an ID token
LOGOUT_TOKEN_SECONDS = 120
# Back-off from one second, doubling, capped at five minutes: about fourteen minutes in all.
BACKCHANNEL_ATTEMPTS = 10


def session_ended(session: Session, session_id: str) -> int:
    """Queue a logout notice to every client with a grant from this session that asked for one (§2.5).

    Queued in the caller's transaction: nothing is sent unless the logout commits. How many were queued.
    """
    rows = session.execute(
        select(OidcGrant.client_id, OidcGrant.citizen_id)
        .join(OidcClient, OidcClient.client_id == OidcGrant.client_id)
        .where(
            OidcGrant.session_id == session_id,
            OidcClient.backchannel_logout_uri.is_not(None),
            OidcClient.disabled_at.is_(None),
        )
        .distinct()
    ).all()
    for client_id, citizen_id in rows:
        enqueue(
            session,
            BACKCHANNEL_JOB,
            {"client_id": client_id, "citizen_id": citizen_id, "sid": session_id},
            # Hashed: a client id is up to 100 characters, a dedupe key at most 120.
            dedupe_key=f"{BACKCHANNEL_JOB}:{sha256_hex(f'{client_id}:{session_id}')}",
            max_attempts=BACKCHANNEL_ATTEMPTS,
        )
    return len(rows)


def logout_token(settings: Settings, keys: KeyRing, client: OidcClient, citizen_id: str, sid: str) -> str:
    """A logout token (§2.4): `iss aud iat exp jti sub sid events`, never a `nonce`, typed `logout+jwt`."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": settings.base_url,
        "aud": client.client_id,
        "iat": now,
        "exp": now + LOGOUT_TOKEN_SECONDS,
        "jti": secrets.token_urlsafe(16),
        "sub": subject_for(settings, client, citizen_id),
        "sid": sid,
        "events": {BACKCHANNEL_EVENT: {}},
    }
    key = keys.active
    return jwt.encode({"alg": ALG, "kid": key.kid, "typ": LOGOUT_TOKEN_TYPE}, claims, key)
