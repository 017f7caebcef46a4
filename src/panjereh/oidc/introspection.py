"""Token revocation (RFC 7009) and introspection (RFC 7662): authenticated clients, their own tokens."""

from __future__ import annotations

from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from panjereh.core.config import Settings
from panjereh.core.crypto import sha256_hex
from panjereh.core.db import utcnow
from panjereh.identity import selectors as identity_selectors
from panjereh.oidc.clients import ClientCache, ClientInfo
from panjereh.oidc.exceptions import OAuthError
from panjereh.oidc.models import OidcGrant, OidcToken
from panjereh.oidc.tokens import (
    ClientCredentials,
    authenticate_client,
    refuse_duplicates,
    revoke_grant,
    subject_for,
)

TOKEN_TYPE_HINTS = ("access_token", "refresh_token")  # RFC 7009 §2.1 / RFC 7662 §2.1


def _authenticated(
    session: Session,
    settings: Settings,
    credentials: ClientCredentials,
    endpoint: str,
    cache: ClientCache | None,
) -> ClientInfo:
    """A confidential client authenticated as at the token endpoint; public clients are refused here."""
    refuse_duplicates(credentials)
    client = authenticate_client(
        session, credentials, f"{settings.base_url}/oauth2/{endpoint}", settings.base_url, cache
    )
    if client.token_endpoint_auth_method == "none":  # noqa: S105
        raise OAuthError("invalid_client", f"Only authenticated clients may use the {endpoint} endpoint", 401)
    form = credentials.form
    if not form.get("token"):
        raise OAuthError("invalid_request", "token is required")
    hint = form.get("token_type_hint")
    if hint is not None and hint not in TOKEN_TYPE_HINTS:
        raise OAuthError("unsupported_token_type", f"token_type_hint is one of {', '.join(TOKEN_TYPE_HINTS)}")
    return client


def _find(session: Session, token: str) -> tuple[OidcToken, OidcGrant] | None:
    row = session.get(OidcToken, sha256_hex(token))
    grant = session.get(OidcGrant, row.grant_id) if row is not None else None
    return (row, grant) if row is not None and grant is not None else None


def revoke(
    session: Session, settings: Settings, credentials: ClientCredentials, cache: ClientCache | None = None
) -> None:
    """RFC 7009 §2.1: a refresh token revokes its whole grant (every token from that authorization); an
    access token only itself. An unknown token is no error (§2.2); another client's token is refused."""
    client = _authenticated(session, settings, credentials, "revoke", cache)
    found = _find(session, credentials.form["token"])
    if found is None:
        return
    row, grant = found
    if grant.client_id != client.client_id:
        raise OAuthError("unauthorized_client", "The token was not issued to this client")
    if row.kind == "refresh":
        revoke_grant(session, grant.id, "client_revoked")
        return
    now = utcnow()
    session.execute(
        update(OidcToken)
        .where(OidcToken.token_hash == row.token_hash, OidcToken.expires_at > now)
        .values(expires_at=now)
    )


def introspect(
    session: Session, settings: Settings, credentials: ClientCredentials, cache: ClientCache | None = None
) -> dict[str, Any]:
    """RFC 7662 §2.2: what a live token of this client stands for; `{"active": false}` for anything else
    (unknown, expired, rotated, revoked, or issued to another client: §2.2 hides which)."""
    client = _authenticated(session, settings, credentials, "introspect", cache)
    found = _find(session, credentials.form["token"])
    if found is None:
        return {"active": False}
    row, grant = found
    now = utcnow()
    live = (
        grant.client_id == client.client_id
        and grant.revoked_at is None
        and row.used_at is None
        and now < row.expires_at
        and identity_selectors.citizen_exists(session, grant.citizen_id)
    )
    if not live:
        return {"active": False}
    return {
        "active": True,
        "scope": row.scope or grant.scope,
        "client_id": client.client_id,
        "token_type": "Bearer" if row.kind == "access" else "refresh_token",
        "exp": int(row.expires_at.timestamp()),
        "iat": int(row.created_at.timestamp()),
        "sub": subject_for(settings, client, grant.citizen_id),
        "aud": client.client_id,
        "iss": settings.base_url,
        "acr": grant.acr,
        "auth_time": int(grant.auth_time.timestamp()),
    }
