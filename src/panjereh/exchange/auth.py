"""Client authentication: OAuth 2 client credentials with `private_key_jwt` (RFC 7523, RFC 7521).

An agency system signs a short assertion with one of its registered keys; the gateway answers with
an access token (an HS256 JWT signed by the platform) that the system sends on every call.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any

from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet, OctKey
from sqlalchemy.orm import Session

from panjereh.core.config import Settings
from panjereh.core.crypto import derive_key
from panjereh.exchange import selectors
from panjereh.exchange.exceptions import InvalidClientCredentials
from panjereh.exchange.models import ExchangeClient
from panjereh.exchange.pipeline import Caller

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ASSERTION_ALGORITHMS = ["RS256", "PS256", "ES256", "EdDSA"]
MAX_ASSERTION_LIFETIME = 300
SCOPE = "exchange"


TOKEN_PATH = "/exchange/v1/token"  # noqa: S105 (a path, not a secret)


def token_url(settings: Settings) -> str:
    """The token endpoint: the audience client assertions must name."""
    return f"{settings.base_url}{TOKEN_PATH}"


def _refuse(detail: str) -> InvalidClientCredentials:
    return InvalidClientCredentials(
        detail,
        "سامانهٔ درخواست‌کننده احراز هویت نشد.",
        headers={"WWW-Authenticate": 'Bearer realm="exchange"'},
    )


class ReplayGuard:
    """Remembers assertion ids until they expire, so one assertion buys one token (per process)."""

    def __init__(self) -> None:
        self._seen: dict[str, float] = {}
        self._lock = threading.Lock()

    def first_use(self, jti: str, expires: float) -> bool:
        now = time.time()
        with self._lock:
            if len(self._seen) > 10_000:
                self._seen = {key: exp for key, exp in self._seen.items() if exp > now}
            if jti in self._seen:
                return False
            self._seen[jti] = expires
            return True


@dataclass(frozen=True)
class AccessToken:
    token: str
    expires_in: int


class ClientAuthenticator:
    """Checks client assertions and issues and verifies access tokens."""

    def __init__(self, settings: Settings, token_ttl_seconds: int) -> None:
        self.settings = settings
        self.ttl = token_ttl_seconds
        self._key = OctKey.import_key(derive_key(settings.secret_key, "exchange-access-token"))
        self._issuer = f"{settings.base_url}/exchange"
        self._replays = ReplayGuard()
        self._verified: dict[str, tuple[Caller, float]] = {}
        self._lock = threading.Lock()

    def authenticate_assertion(self, session: Session, assertion: str, audience: str) -> ExchangeClient:
        """The client whose active key signed this assertion (iss = sub = client_id, aud = token URL)."""
        try:
            # Read the claims unverified only to learn which client's keys to verify them with.
            unverified = json.loads(jws.extract_compact(assertion.encode()).payload)
        except (JoseError, ValueError) as exc:
            raise _refuse("The client assertion is not a JWT.") from exc
        client_id = unverified.get("iss") if isinstance(unverified, dict) else None
        if not isinstance(client_id, str) or unverified.get("sub") != client_id:
            raise _refuse("The assertion's `iss` and `sub` must both be the client_id.")
        try:
            client = selectors.get_client(session, client_id)
        except Exception as exc:
            raise _refuse("Unknown client.") from exc
        if not client.active:
            raise _refuse("The client is suspended.")
        keys = [key.public_jwk for key in client.keys if key.retired_at is None]
        if not keys:
            raise _refuse("The client has no active key.")
        try:
            token = jwt.decode(
                assertion, KeySet.import_key_set({"keys": keys}), algorithms=ASSERTION_ALGORITHMS
            )
        except (JoseError, ValueError) as exc:
            raise _refuse("The assertion's signature does not match an active key of the client.") from exc
        claims = token.claims
        now = time.time()
        exp = claims.get("exp")
        audiences = claims.get("aud")
        audiences = [audiences] if isinstance(audiences, str) else (audiences or [])
        if audience not in audiences:
            raise _refuse(f"The assertion's `aud` must be {audience}.")
        if not isinstance(exp, int | float) or exp < now - 30 or exp > now + MAX_ASSERTION_LIFETIME + 30:
            raise _refuse("The assertion must expire within five minutes from now.")
        jti = claims.get("jti")
        if (
            not isinstance(jti, str)
            or not jti
            or not self._replays.first_use(f"{client_id}:{jti}", float(exp))
        ):
            raise _refuse("The assertion needs a `jti` never used before.")
        return client

    def issue(self, client: ExchangeClient) -> AccessToken:
        """An access token naming the client, its agency and its rate limit."""
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self._issuer,
            "sub": client.client_id,
            "agency": client.agency.code,
            "rate": client.rate_per_second,
            "sandbox": client.sandbox,
            "scope": SCOPE,
            "iat": now,
            "exp": now + self.ttl,
            "jti": uuid.uuid4().hex,
        }
        return AccessToken(jwt.encode({"alg": "HS256", "typ": "at+jwt"}, claims, self._key), self.ttl)

    def caller(self, authorization: str | None) -> Caller:
        """The caller a `Bearer` access token names; refuses missing, forged or expired tokens."""
        if not authorization or not authorization.lower().startswith("bearer "):
            raise _refuse("Send `Authorization: Bearer <access token>` from /exchange/v1/token.")
        token = authorization[7:].strip()
        now = time.time()
        cached = self._verified.get(token)
        if cached is not None and cached[1] > now:
            return cached[0]
        try:
            claims = jwt.decode(token, self._key, algorithms=["HS256"]).claims
        except (JoseError, ValueError) as exc:
            raise _refuse("The access token is not valid.") from exc
        exp = claims.get("exp")
        if claims.get("iss") != self._issuer or not isinstance(exp, int) or exp <= now:
            raise _refuse("The access token has expired or was not issued here.")
        caller = Caller(
            client_id=claims["sub"],
            agency_code=claims["agency"],
            rate_per_second=int(claims["rate"]),
            sandbox=claims.get("sandbox") is True,
        )
        with self._lock:
            if len(self._verified) > 50_000:
                self._verified.clear()
            self._verified[token] = (caller, float(exp))
        return caller
