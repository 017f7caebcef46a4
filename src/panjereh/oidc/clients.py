"""Client registration for agency apps (command line and admin API share this)."""

from __future__ import annotations

import secrets
import threading
import time
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from joserfc import jwk
from sqlalchemy.orm import Session

from panjereh.core.crypto import sha256_hex
from panjereh.core.db import utcnow
from panjereh.oidc.exceptions import ClientExists, ClientNotFound, InvalidClientMetadata
from panjereh.oidc.models import OidcClient

AUTH_METHODS = ("client_secret_basic", "client_secret_post", "private_key_jwt")
SCOPES = ("openid", "profile", "national_code", "phone", "offline_access")
# How long the token endpoint trusts its copy of a client's registration: a client disabled by another
# process (the CLI, another worker) stops getting tokens within this time; in this process, at once.
CLIENT_CACHE_SECONDS = 10.0


@dataclass(frozen=True, slots=True)
class ClientInfo:
    """What the token endpoint needs of an enabled client (a snapshot, safe to share across threads)."""

    client_id: str
    token_endpoint_auth_method: str
    secret_hash: str | None
    jwks: dict[str, Any] | None
    subject_type: str
    sector_identifier: str


def snapshot(client: OidcClient) -> ClientInfo:
    return ClientInfo(
        client.client_id,
        client.token_endpoint_auth_method,
        client.secret_hash,
        dict(client.jwks) if client.jwks else None,
        client.subject_type,
        client.sector_identifier,
    )


_CACHES: weakref.WeakSet[ClientCache] = weakref.WeakSet()


class ClientCache:
    """Enabled clients by id, each kept CLIENT_CACHE_SECONDS (unknown or disabled ids are not kept)."""

    def __init__(self, seconds: float = CLIENT_CACHE_SECONDS) -> None:
        self.seconds = seconds
        self._lock = threading.Lock()
        self._entries: dict[str, tuple[float, ClientInfo]] = {}
        _CACHES.add(self)

    def get(self, session: Session, client_id: str) -> ClientInfo | None:
        now = time.monotonic()
        entry = self._entries.get(client_id)
        if entry is not None and now - entry[0] < self.seconds:
            return entry[1]
        client = get_client(session, client_id)
        if client is None:
            self.forget(client_id)
            return None
        info = snapshot(client)
        with self._lock:
            self._entries[client_id] = (now, info)
        return info

    def forget(self, client_id: str) -> None:
        with self._lock:
            self._entries.pop(client_id, None)


def _forget_everywhere(client_id: str) -> None:
    """A registration changed: no cache in this process may keep the old one."""
    for cache in list(_CACHES):
        cache.forget(client_id)


def _check_uri(uri: str, *, allow_http_loopback: bool = True) -> str:
    parts = urlsplit(uri)
    if parts.fragment or not parts.scheme or not parts.netloc:
        raise InvalidClientMetadata(f"Not an absolute URI without fragment: {uri}", f"نشانی نادرست: {uri}")
    loopback = parts.hostname in ("127.0.0.1", "localhost", "::1")
    if parts.scheme != "https" and not (parts.scheme == "http" and loopback and allow_http_loopback):
        raise InvalidClientMetadata(
            f"Redirect URIs must use https: {uri}", f"نشانی بازگشت باید https باشد: {uri}"
        )
    return uri


def register(
    session: Session,
    *,
    client_id: str,
    name_fa: str,
    redirect_uris: Sequence[str],
    name_en: str = "",
    agency_code: str | None = None,
    token_endpoint_auth_method: str = "client_secret_basic",  # noqa: S105, S107
    jwks: dict[str, Any] | None = None,
    post_logout_redirect_uris: Sequence[str] = (),
    subject_type: str = "public",
    sector_identifier: str | None = None,
    scopes: Sequence[str] = ("openid", "profile", "national_code", "phone", "offline_access"),
    min_level: int = 1,
) -> tuple[OidcClient, str | None]:
    """Register a client; returns it and its secret (shown once; only a hash is kept)."""
    if not client_id or len(client_id) > 100 or not client_id.replace(".", "").replace("-", "").isalnum():
        raise InvalidClientMetadata("client_id: letters, digits, dots and dashes", "شناسهٔ برنامه نادرست است")
    if session.get(OidcClient, client_id) is not None:
        raise ClientExists()
    _forget_everywhere(client_id)
    if token_endpoint_auth_method not in AUTH_METHODS:
        raise InvalidClientMetadata(
            f"token_endpoint_auth_method must be one of {AUTH_METHODS}", "روش احراز هویت نادرست"
        )
    if not redirect_uris:
        raise InvalidClientMetadata("At least one redirect URI is needed", "دست‌کم یک نشانی بازگشت لازم است")
    uris = [_check_uri(uri) for uri in redirect_uris]
    logout_uris = [_check_uri(uri) for uri in post_logout_redirect_uris]
    if subject_type not in ("public", "pairwise"):
        raise InvalidClientMetadata("subject_type is public or pairwise", "نوع شناسهٔ کاربر نادرست است")
    unknown = set(scopes) - set(SCOPES)
    if unknown or "openid" not in scopes:
        raise InvalidClientMetadata(f"Scopes must include openid and be among {SCOPES}", "دامنه‌ها نادرست است")
    if min_level not in (1, 2):
        raise InvalidClientMetadata("min_level is 1 or 2", "سطح اطمینان ۱ یا ۲ است")
    secret: str | None = None
    if token_endpoint_auth_method == "private_key_jwt":  # noqa: S105, S107
        if not jwks or not jwks.get("keys"):
            raise InvalidClientMetadata(
                "private_key_jwt needs the client's public JWKS", "کلید عمومی برنامه لازم است"
            )
        try:
            key_set = jwk.KeySet.import_key_set(jwks)  # type: ignore[arg-type]
        except Exception as exc:  # any parse failure means the JWKS is unusable
            raise InvalidClientMetadata(f"Unreadable JWKS: {exc}", "کلید عمومی برنامه خوانا نیست") from exc
        if any(key.is_private for key in key_set.keys):
            raise InvalidClientMetadata("Send public keys only", "فقط کلید عمومی بفرستید")
    else:
        secret = secrets.token_urlsafe(32)
    sector = sector_identifier or (urlsplit(uris[0]).hostname or "")
    client = OidcClient(
        client_id=client_id,
        name_fa=name_fa,
        name_en=name_en,
        agency_code=agency_code,
        redirect_uris=uris,
        post_logout_redirect_uris=logout_uris,
        token_endpoint_auth_method=token_endpoint_auth_method,
        secret_hash=sha256_hex(secret) if secret else None,
        jwks=jwks if token_endpoint_auth_method == "private_key_jwt" else None,  # noqa: S105, S107
        subject_type=subject_type,
        sector_identifier=sector,
        scopes=" ".join(dict.fromkeys(scopes)),
        min_level=min_level,
        created_at=utcnow(),
    )
    session.add(client)
    session.flush()
    return client, secret


def get_client(session: Session, client_id: str) -> OidcClient | None:
    """An enabled client, or None."""
    client = session.get(OidcClient, client_id) if client_id else None
    return client if client is not None and client.disabled_at is None else None


def disable(session: Session, client_id: str) -> OidcClient:
    client = session.get(OidcClient, client_id)
    if client is None:
        raise ClientNotFound()
    client.disabled_at = utcnow()
    session.flush()
    _forget_everywhere(client_id)
    return client


def describe(client: OidcClient) -> dict[str, Any]:
    """The client's registration, as the admin API and CLI show it (never the secret)."""
    return {
        "client_id": client.client_id,
        "client_name": client.name_fa,
        "client_name_en": client.name_en,
        "agency_code": client.agency_code,
        "redirect_uris": client.redirect_uris,
        "post_logout_redirect_uris": client.post_logout_redirect_uris,
        "token_endpoint_auth_method": client.token_endpoint_auth_method,
        "subject_type": client.subject_type,
        "sector_identifier": client.sector_identifier,
        "scope": client.scopes,
        "min_level": client.min_level,
        "disabled": client.disabled_at is not None,
    }
