"""The token and userinfo endpoints (RFC 6749 §3.2, §6; RFC 7523; OIDC Core §3.1.3, §5.3, §9)."""

from __future__ import annotations

import base64
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import unquote

from authlib.oauth2.rfc7636 import create_s256_code_challenge
from authlib.oidc.core.util import create_half_hash
from joserfc import jwk, jwt
from joserfc.errors import JoseError
from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.orm import Session

from panjereh.core.config import Settings
from panjereh.core.crypto import sha256_hex, stable_keyed_hash
from panjereh.core.db import new_id, utcnow
from panjereh.identity import constants as levels
from panjereh.identity import selectors as identity_selectors
from panjereh.oidc import clients, release
from panjereh.oidc.clients import ClientCache, ClientInfo
from panjereh.oidc.exceptions import OAuthError
from panjereh.oidc.keys import ALG, KeyRing
from panjereh.oidc.models import (
    OidcAssertionJti,
    OidcAuthorizationCode,
    OidcClient,
    OidcConsent,
    OidcGrant,
    OidcToken,
)

if TYPE_CHECKING:
    from panjereh.identity.models import Citizen

ACCESS_LIFETIME = timedelta(minutes=10)
REFRESH_LIFETIME = timedelta(days=30)
ID_TOKEN_SECONDS = 600
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
OFFLINE_ACCESS = "offline_access"
ASSERTION_ALGS = ["RS256", "PS256", "ES256"]
# The tables themselves, for Core INSERTs on the grant path (no ORM unit-of-work bookkeeping).
GRANT_TABLE = cast(Table, OidcGrant.__table__)
TOKEN_TABLE = cast(Table, OidcToken.__table__)
CODE_TABLE = cast(Table, OidcAuthorizationCode.__table__)
# Built once: executing a prepared statement skips SQLAlchemy's per-call construction and coercion.
_INSERT_GRANT = insert(GRANT_TABLE)
_INSERT_TOKENS = insert(TOKEN_TABLE)
_FIND_CODE = select(CODE_TABLE).where(CODE_TABLE.c.code_hash == bindparam("code_hash"))
_CLAIM_CODE = (
    update(CODE_TABLE)
    .where(CODE_TABLE.c.code_hash == bindparam("claimed_hash"), CODE_TABLE.c.used_at.is_(None))
    .values(used_at=bindparam("now"), grant_id=bindparam("new_grant_id"))
)


@dataclass(frozen=True)
class ClientCredentials:
    """What the token request carried to authenticate the client."""

    authorization: str | None
    form: dict[str, str]
    duplicated: frozenset[str] = frozenset()  # form parameters sent more than once (RFC 6749 §3.2)


def _find_client(session: Session, client_id: str, cache: ClientCache | None) -> ClientInfo | None:
    if cache is not None:
        return cache.get(session, client_id)
    client = clients.get_client(session, client_id)
    return clients.snapshot(client) if client is not None else None


def authenticate_client(
    session: Session,
    credentials: ClientCredentials,
    token_endpoint: str,
    issuer: str,
    cache: ClientCache | None = None,
) -> ClientInfo:
    """Exactly one method, the one the client registered; `invalid_client` (401) otherwise."""
    form = credentials.form
    used: list[str] = []
    client_id: str | None = None
    secret: str | None = None
    if credentials.authorization and credentials.authorization.lower().startswith("basic "):
        try:
            raw = base64.b64decode(credentials.authorization[6:].strip(), validate=True).decode()
            basic_id, basic_secret = raw.split(":", 1)
        except (ValueError, UnicodeDecodeError):
            raise OAuthError("invalid_client", "Malformed Basic credentials", 401) from None
        used.append("client_secret_basic")
        client_id, secret = unquote(basic_id), unquote(basic_secret)
    if "client_secret" in form:
        used.append("client_secret_post")
        client_id, secret = form.get("client_id"), form["client_secret"]
    if "client_assertion" in form:
        used.append("private_key_jwt")
    if not used and form.get("client_id"):
        used.append("none")  # a public client (RFC 8252 §8.4) names itself; PKCE binds its code
        client_id = form["client_id"]
    if len(used) != 1:
        raise OAuthError("invalid_client", "Authenticate the client with exactly one method", 401)
    method = used[0]
    if method == "none":
        public = _find_client(session, client_id or "", cache)
        if public is None or public.token_endpoint_auth_method != "none":  # noqa: S105
            raise OAuthError("invalid_client", "Client authentication failed", 401)
        return public
    if method == "private_key_jwt":
        return _assertion_client(session, form, token_endpoint, issuer, cache)
    client = _find_client(session, client_id or "", cache)
    if client is None or client.token_endpoint_auth_method != method or not client.secret_hash:
        raise OAuthError("invalid_client", "Client authentication failed", 401)
    if form.get("client_id") and form["client_id"] != client.client_id:
        raise OAuthError("invalid_client", "client_id does not match the credentials", 401)
    if not hmac.compare_digest(client.secret_hash, sha256_hex(secret or "")):
        raise OAuthError("invalid_client", "Client authentication failed", 401)
    return client


def _assertion_client(
    session: Session, form: dict[str, str], token_endpoint: str, issuer: str, cache: ClientCache | None
) -> ClientInfo:
    if form.get("client_assertion_type") != ASSERTION_TYPE:
        raise OAuthError("invalid_client", "Unsupported client_assertion_type", 401)
    assertion = form["client_assertion"]
    client = _find_client(session, _peek_issuer(assertion), cache)
    if client is None or client.token_endpoint_auth_method != "private_key_jwt" or not client.jwks:  # noqa: S105, S107
        raise OAuthError("invalid_client", "Client authentication failed", 401)
    try:
        key_set = jwk.KeySet.import_key_set(client.jwks)  # type: ignore[arg-type]
        token = jwt.decode(assertion, key_set, algorithms=ASSERTION_ALGS)
        jwt.JWTClaimsRegistry(
            leeway=30,
            iss={"essential": True, "value": client.client_id},
            sub={"essential": True, "value": client.client_id},
            exp={"essential": True},
            jti={"essential": True},
        ).validate(token.claims)
    except (JoseError, ValueError) as exc:
        raise OAuthError("invalid_client", f"Client assertion rejected: {exc}", 401) from None
    audience = token.claims.get("aud")
    audiences = audience if isinstance(audience, list) else [audience]
    # The endpoint called, the issuer, or the token endpoint (what libraries send to every endpoint).
    if not {token_endpoint, issuer, f"{issuer}/oauth2/token"} & set(audiences):
        raise OAuthError("invalid_client", "Client assertion audience must be the token endpoint", 401)
    if int(token.claims["exp"]) > time.time() + 3600:
        raise OAuthError("invalid_client", "Client assertion lives too long", 401)
    key = f"{client.client_id}:{token.claims['jti']}"
    if session.get(OidcAssertionJti, key) is not None:
        raise OAuthError("invalid_client", "Client assertion replayed (jti already used)", 401)
    session.add(OidcAssertionJti(key=key, expires_at=utcnow() + timedelta(seconds=3700)))
    session.flush()
    return client


def _peek_issuer(assertion: str) -> str:
    """The unverified `iss` of an assertion: only to pick the client whose keys must then verify it."""
    try:
        payload = assertion.split(".")[1]
        return str(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))).get("iss", ""))
    except (IndexError, ValueError, AttributeError):
        return ""


def subject_for(settings: Settings, client: OidcClient | ClientInfo, citizen_id: str) -> str:
    """The `sub` this client sees: the citizen id, or a pairwise value per sector (OIDC Core §8.1)."""
    if client.subject_type == "pairwise":
        return stable_keyed_hash(
            settings.secret_key, "pairwise-sub", f"{client.sector_identifier}:{citizen_id}"
        )[:40]
    return citizen_id


def _new_token(
    rows: list[dict[str, Any]], grant_id: str, kind: str, lifetime: timedelta, scope: str | None = None
) -> str:
    """A fresh token; its row (hash only) is appended to `rows` for one INSERT."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    rows.append(
        {
            "token_hash": sha256_hex(token),
            "kind": kind,
            "scope": scope,
            "grant_id": grant_id,
            "created_at": now,
            "expires_at": now + lifetime,
            "used_at": None,
        }
    )
    return token


@dataclass(frozen=True, slots=True)
class GrantFacts:
    """The parts of a grant an ID token states (from a new grant's values or a stored row)."""

    id: str
    scope: str
    acr: str
    amr: str
    auth_time: datetime
    session_id: str | None


def _issue(
    settings: Settings,
    keys: KeyRing,
    session: Session,
    client: ClientInfo,
    citizen_id: str,
    grant: GrantFacts,
    nonce: str | None,
    access_scope: str | None = None,
) -> dict[str, Any]:
    """Tokens for a grant; `access_scope` narrows the access token (a refresh asking less, RFC 6749 §6)."""
    rows: list[dict[str, Any]] = []
    access = _new_token(rows, grant.id, "access", ACCESS_LIFETIME, access_scope)
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": settings.base_url,
        "sub": subject_for(settings, client, citizen_id),
        "aud": client.client_id,
        "azp": client.client_id,
        "iat": now,
        "exp": now + ID_TOKEN_SECONDS,
        "auth_time": int(grant.auth_time.timestamp()),
        "acr": grant.acr,
        "amr": grant.amr.split(),
        "at_hash": create_half_hash(access, ALG).decode(),
    }
    if grant.session_id:
        claims["sid"] = grant.session_id
    if nonce is not None:
        claims["nonce"] = nonce
    key = keys.active
    response: dict[str, Any] = {
        "access_token": access,
        "token_type": "Bearer",
        "expires_in": int(ACCESS_LIFETIME.total_seconds()),
        "scope": access_scope or grant.scope,
        "id_token": jwt.encode({"alg": ALG, "kid": key.kid, "typ": "JWT"}, claims, key),
    }
    # A refresh token is continued access: only when the citizen granted offline_access (OIDC Core §11).
    if OFFLINE_ACCESS in grant.scope.split():
        response["refresh_token"] = _new_token(rows, grant.id, "refresh", REFRESH_LIFETIME)
    # One Core INSERT for the tokens: no ORM unit-of-work bookkeeping on the hot path.
    session.connection().execute(_INSERT_TOKENS, rows)
    return response


def revoke_grant(session: Session, grant_id: str, reason: str) -> None:
    session.execute(
        update(OidcGrant)
        .where(OidcGrant.id == grant_id, OidcGrant.revoked_at.is_(None))
        .values(revoked_at=utcnow(), revoked_reason=reason)
    )


def exchange_code(
    session: Session, settings: Settings, keys: KeyRing, client: ClientInfo, form: dict[str, str]
) -> dict[str, Any]:
    """grant_type=authorization_code: single use, same client and redirect URI, PKCE S256."""
    code = form.get("code", "")
    # Core statements on the session's connection (same transaction), skipping the ORM execute layer.
    connection = session.connection()
    row = connection.execute(_FIND_CODE, {"code_hash": sha256_hex(code)}).first() if code else None
    if row is None or row.client_id != client.client_id:
        raise OAuthError("invalid_grant", "Unknown authorization code")
    now = utcnow()
    if row.used_at is not None:
        # A code used twice: whatever it was exchanged for is revoked too (RFC 6749 §4.1.2).
        if row.grant_id:
            revoke_grant(session, row.grant_id, "code_reuse")
        raise OAuthError("invalid_grant", "Authorization code already used")
    if now >= row.expires_at:
        raise OAuthError("invalid_grant", "Authorization code expired")
    if form.get("redirect_uri") != row.redirect_uri:
        raise OAuthError("invalid_grant", "redirect_uri does not match the authorization request")
    verifier = form.get("code_verifier", "")
    if not 43 <= len(verifier) <= 128:
        raise OAuthError("invalid_grant", "code_verifier missing or malformed (PKCE is required)")
    if not hmac.compare_digest(create_s256_code_challenge(verifier), row.code_challenge):
        raise OAuthError("invalid_grant", "PKCE verification failed")
    grant = GrantFacts(new_id(), row.scope, row.acr, row.amr, row.auth_time, row.session_id)
    # The claim also records the grant id, so a later reuse of this code revokes what it was exchanged for.
    claimed = connection.execute(
        _CLAIM_CODE, {"claimed_hash": row.code_hash, "now": now, "new_grant_id": grant.id}
    )
    if not getattr(claimed, "rowcount", 0):  # a concurrent request won the race
        raise OAuthError("invalid_grant", "Authorization code already used")
    if not identity_selectors.citizen_exists(session, row.citizen_id):
        raise OAuthError("invalid_grant", "The citizen no longer exists")
    connection.execute(
        _INSERT_GRANT,
        {
            "id": grant.id,
            "client_id": client.client_id,
            "citizen_id": row.citizen_id,
            "session_id": grant.session_id,
            "scope": grant.scope,
            "acr": grant.acr,
            "amr": grant.amr,
            "auth_time": grant.auth_time,
            "created_at": now,
            "revoked_at": None,
            "revoked_reason": None,
        },
    )
    return _issue(settings, keys, session, client, row.citizen_id, grant, row.nonce)


def refresh(
    session: Session, settings: Settings, keys: KeyRing, client: ClientInfo, form: dict[str, str]
) -> dict[str, Any]:
    """grant_type=refresh_token: rotation; a rotated token used again revokes the whole grant."""
    presented = form.get("refresh_token", "")
    row = session.get(OidcToken, sha256_hex(presented)) if presented else None
    if row is None or row.kind != "refresh":
        raise OAuthError("invalid_grant", "Unknown refresh token")
    grant = session.get(OidcGrant, row.grant_id)
    if grant is None or grant.client_id != client.client_id:
        raise OAuthError("invalid_grant", "Unknown refresh token")
    if grant.revoked_at is not None:
        raise OAuthError("invalid_grant", "The grant was revoked")
    now = utcnow()
    if row.used_at is not None:
        revoke_grant(session, grant.id, "refresh_reuse")  # RFC 9700 §4.14.2: reuse means theft
        raise OAuthError("invalid_grant", "Refresh token reused: the grant is revoked")
    if now >= row.expires_at:
        raise OAuthError("invalid_grant", "Refresh token expired")
    narrowed = _narrowed_scope(form, grant.scope)
    claimed = session.execute(
        update(OidcToken)
        .where(OidcToken.token_hash == row.token_hash, OidcToken.used_at.is_(None))
        .values(used_at=now)
    )
    if not getattr(claimed, "rowcount", 0):
        revoke_grant(session, grant.id, "refresh_reuse")
        raise OAuthError("invalid_grant", "Refresh token reused: the grant is revoked")
    citizen = identity_selectors.get_citizen(session, grant.citizen_id)
    if citizen is None:
        raise OAuthError("invalid_grant", "The citizen no longer exists")
    facts = GrantFacts(grant.id, grant.scope, grant.acr, grant.amr, grant.auth_time, grant.session_id)
    return _issue(settings, keys, session, client, citizen.id, facts, None, narrowed)


def _narrowed_scope(form: dict[str, str], granted: str) -> str | None:
    """RFC 6749 §6: a refresh may ask for the granted scope or less (never more: `invalid_scope`).

    None: the whole grant. The new refresh token keeps the grant's scope, so a later refresh may ask for
    all of it again.
    """
    if "scope" not in form:
        return None
    asked = list(dict.fromkeys(form["scope"].split()))
    if not asked:
        raise OAuthError("invalid_scope", "scope is empty")
    beyond = set(asked) - set(granted.split())
    if beyond:
        raise OAuthError("invalid_scope", f"Not granted: {' '.join(sorted(beyond))}")
    if "openid" not in asked:
        raise OAuthError("invalid_scope", "The openid scope is required")
    return None if set(asked) == set(granted.split()) else " ".join(asked)


def token_endpoint(
    session: Session,
    settings: Settings,
    keys: KeyRing,
    credentials: ClientCredentials,
    client_cache: ClientCache | None = None,
) -> dict[str, Any]:
    """Dispatch on grant_type after authenticating the client."""
    token_url = f"{settings.base_url}/oauth2/token"
    refuse_duplicates(credentials)
    client = authenticate_client(session, credentials, token_url, settings.base_url, client_cache)
    grant_type = credentials.form.get("grant_type")
    if grant_type == "authorization_code":
        return exchange_code(session, settings, keys, client, credentials.form)
    if grant_type == "refresh_token":
        return refresh(session, settings, keys, client, credentials.form)
    raise OAuthError("unsupported_grant_type", "Supported: authorization_code, refresh_token")


def refuse_duplicates(credentials: ClientCredentials) -> None:
    if credentials.duplicated:
        names = ", ".join(sorted(credentials.duplicated))
        raise OAuthError("invalid_request", f"Parameters sent more than once: {names}")


def userinfo(
    session: Session, settings: Settings, access_token: str
) -> tuple[dict[str, Any], release.Pending]:
    """Claims by scope for a live access token (OIDC Core §5.3); 401 invalid_token otherwise. With them,
    the verified attributes still to fetch from the registries (`oidc.release.fetch`, off this thread)."""
    row = session.get(OidcToken, sha256_hex(access_token)) if access_token else None
    if row is None or row.kind != "access" or utcnow() >= row.expires_at:
        raise OAuthError("invalid_token", "The access token is invalid or expired", 401)
    grant = session.get(OidcGrant, row.grant_id)
    if grant is None or grant.revoked_at is not None:
        raise OAuthError("invalid_token", "The access token was revoked", 401)
    client = session.get(OidcClient, grant.client_id)
    citizen = identity_selectors.get_citizen(session, grant.citizen_id)
    if client is None or citizen is None or client.disabled_at is not None:
        raise OAuthError("invalid_token", "The access token is invalid", 401)
    scopes = set((row.scope or grant.scope).split())
    claims: dict[str, Any] = {"sub": subject_for(settings, client, citizen.id)}
    if "profile" in scopes:
        claims.update(
            name=citizen.display_name,
            given_name=citizen.first_name,
            family_name=citizen.last_name,
            birthdate=citizen.birth_date.isoformat(),
            gender=citizen.gender,
            locale="fa-IR",
        )
    if "national_code" in scopes:
        claims["national_code"] = citizen.national_code
    if "phone" in scopes:
        claims["phone_number"] = "+98" + citizen.mobile[1:]
        claims["phone_number_verified"] = True
    claims["acr"] = grant.acr
    releasable = release.releasable(session, client, citizen.id, scopes)
    pending = release.Pending(
        client_id=client.client_id,
        sandbox=client.sandbox,
        national_code=citizen.national_code,
        scopes=releasable.scopes,
        citizen_id=citizen.id,
        token_hash=row.token_hash,
        token_expires_at=row.expires_at,
        consent_stamp=releasable.consent_stamp,
    )
    return claims, pending


def revoke_client_for_citizen(session: Session, citizen: Citizen, client_id: str) -> None:
    """Connected apps → revoke: the consent and every grant (so every token) of this client."""
    revoked: tuple[tuple[type[OidcConsent | OidcGrant], dict[str, Any]], ...] = (
        (OidcConsent, {}),
        (OidcGrant, {"revoked_reason": "citizen_revoked"}),
    )
    for model, reason in revoked:
        session.execute(
            update(model)
            .where(model.citizen_id == citizen.id, model.client_id == client_id, model.revoked_at.is_(None))
            .values(revoked_at=utcnow(), **reason)
        )


def decode_id_token_hint(
    session: Session, settings: Settings, keys: KeyRing, hint: str
) -> dict[str, Any] | None:
    """An ID token we issued (expired is fine for logout, OIDC RP-Initiated Logout §2), else None."""
    try:
        token = jwt.decode(hint, keys.key_set(), algorithms=[ALG])
    except (JoseError, ValueError):
        return None
    if token.claims.get("iss") != settings.base_url:
        return None
    return dict(token.claims)


def connected_apps(session: Session, citizen: Citizen) -> list[tuple[Any, OidcClient]]:
    """The citizen's live consents with their clients."""
    rows = session.execute(
        select(OidcConsent, OidcClient)
        .join(OidcClient, OidcClient.client_id == OidcConsent.client_id)
        .where(OidcConsent.citizen_id == citizen.id, OidcConsent.revoked_at.is_(None))
        .order_by(OidcConsent.granted_at.desc())
    ).all()
    return [(consent, client) for consent, client in rows]


def level_of(acr: str) -> int:
    return levels.level_of_acr(acr) or levels.LEVEL_SMS
