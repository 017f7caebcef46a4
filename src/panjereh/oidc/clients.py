"""Client registration for agency apps (command line and admin API share this)."""

from __future__ import annotations

import secrets
import threading
import time
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import SplitResult, urlsplit

from joserfc import jwk
from sqlalchemy import select
from sqlalchemy.orm import Session

from panjereh.core.crypto import sha256_hex
from panjereh.core.db import utcnow
from panjereh.oidc import attributes
from panjereh.oidc.exceptions import ClientExists, ClientNotFound, InvalidClientMetadata
from panjereh.oidc.models import OidcClient

AUTH_METHODS = ("client_secret_basic", "client_secret_post", "private_key_jwt", "none")  # none: public
BASE_SCOPES = ("openid", "profile", "national_code", "phone", "offline_access")
SCOPES = (*BASE_SCOPES, *attributes.SCOPES)  # the verified registry attributes (oidc.attributes)
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


LOOPBACK_HOSTS = ("127.0.0.1", "::1")  # RFC 8252 §7.3 (and §8.3: not "localhost", a name can be remapped)
APPLICATION_TYPES = ("web", "native")


def _refuse(uri: str, why_en: str, why_fa: str) -> InvalidClientMetadata:
    return InvalidClientMetadata(f"{why_en}: {uri}", f"{why_fa}: {uri}")


def _check_uri(uri: str, application_type: str = "web") -> str:
    """A redirect URI a client may register: exact, no wildcard, no fragment; `https` for web clients.

    Native apps (RFC 8252 §7) may also register a loopback `http` URI on 127.0.0.1 or [::1] (any port is
    accepted at authorization time, §7.3) or a private-use scheme in reverse-domain form (§7.1, e.g.
    `ir.gov.tax.app:/oauth2redirect`); their claimed `https` URIs (§7.2) are ordinary `https` ones.
    """
    if "*" in uri:
        raise _refuse(
            uri, "Wildcards are not allowed in redirect URIs", "نشانی بازگشت نباید نویسهٔ * داشته باشد"
        )
    if any(char.isspace() for char in uri) or len(uri) > 500:
        raise _refuse(uri, "Not a valid URI", "نشانی نادرست")
    try:
        parts = urlsplit(uri)
        parts.port  # noqa: B018 — raises ValueError for a malformed port
    except ValueError:
        raise _refuse(uri, "Not a valid URI", "نشانی نادرست") from None
    if parts.fragment or "#" in uri or not parts.scheme:
        raise _refuse(uri, "Not an absolute URI without fragment", "نشانی نادرست")
    if application_type == "native" and parts.scheme not in ("http", "https"):
        if "." not in parts.scheme or parts.netloc:
            raise _refuse(
                uri,
                "A native app's own scheme must be a reverse domain name, e.g. ir.gov.app:/callback",
                "طرح اختصاصی برنامه باید به شکل دامنهٔ وارونه باشد",
            )
        return uri
    if not parts.hostname or parts.username is not None or parts.password is not None:
        raise _refuse(uri, "Not an absolute URI with a host", "نشانی نادرست")
    if parts.scheme == "https":
        return uri
    if parts.scheme == "http" and application_type == "native" and parts.hostname in LOOPBACK_HOSTS:
        return uri
    raise _refuse(
        uri,
        "Redirect URIs must use https (native apps: also http on 127.0.0.1 or [::1])",
        "نشانی بازگشت باید https باشد",
    )


def _check_backchannel_uri(uri: str) -> str:
    """OIDC Back-Channel Logout §2.2: absolute, no fragment, `https` (plain `http` only on loopback)."""
    if "*" in uri:
        raise _refuse(uri, "Wildcards are not allowed", "نشانی نباید نویسهٔ * داشته باشد")
    try:
        parts = urlsplit(uri)
        parts.port  # noqa: B018
    except ValueError:
        raise _refuse(uri, "Not a valid URI", "نشانی نادرست") from None
    loopback = parts.hostname in (*LOOPBACK_HOSTS, "localhost")
    if (
        parts.fragment
        or not parts.hostname
        or not (parts.scheme == "https" or (parts.scheme == "http" and loopback))
    ):
        raise _refuse(
            uri, "backchannel_logout_uri must be https without fragment", "نشانی خروج باید https باشد"
        )
    return uri


def _without_port(parts: SplitResult) -> SplitResult:
    host = f"[{parts.hostname}]" if parts.hostname and ":" in parts.hostname else (parts.hostname or "")
    return parts._replace(netloc=host)


def redirect_allowed(client: OidcClient, uri: str) -> bool:
    """Is `uri` one of the client's redirect URIs? Exact string match (OIDC Core §3.1.2.1), except that a
    native app's loopback URI matches with any port (RFC 8252 §7.3)."""
    if uri in client.redirect_uris:
        return True
    if client.application_type != "native":
        return False
    try:
        parts = urlsplit(uri)
        parts.port  # noqa: B018
    except ValueError:
        return False
    if parts.scheme != "http" or parts.hostname not in LOOPBACK_HOSTS:
        return False
    wanted = _without_port(parts)
    for registered in client.redirect_uris:
        known = urlsplit(registered)
        if known.scheme == "http" and known.hostname in LOOPBACK_HOSTS and _without_port(known) == wanted:
            return True
    return False


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
    application_type: str = "web",
    backchannel_logout_uri: str | None = None,
    sandbox: bool = False,
    attribute_purposes: dict[str, Any] | None = None,
    approve_attributes: bool = False,
) -> tuple[OidcClient, str | None]:
    """Register a client; returns it and its secret (shown once; only a hash is kept). A `sandbox` client
    signs in the test personas only (`oidc.authorize.admits`).

    Attribute scopes (`oidc.attributes`) need a reason each (`attribute_purposes`); they are asked of
    citizens only once approved: `approve_attributes` is for the operator's own paths (the admin API,
    the command line, the demo seed); an agency's registration waits for `approve_attributes_of`.
    """
    if not client_id or len(client_id) > 100 or not client_id.replace(".", "").replace("-", "").isalnum():
        raise InvalidClientMetadata("client_id: letters, digits, dots and dashes", "شناسهٔ برنامه نادرست است")
    if session.get(OidcClient, client_id) is not None:
        raise ClientExists()
    _forget_everywhere(client_id)
    if token_endpoint_auth_method not in AUTH_METHODS:
        raise InvalidClientMetadata(
            f"token_endpoint_auth_method must be one of {AUTH_METHODS}", "روش احراز هویت نادرست"
        )
    if application_type not in APPLICATION_TYPES:
        raise InvalidClientMetadata("application_type is web or native", "نوع برنامه web یا native است")
    if token_endpoint_auth_method == "none" and application_type != "native":  # noqa: S105
        # A public client cannot keep a secret: RFC 8252's native apps. A web server keeps one.
        raise InvalidClientMetadata(
            "token_endpoint_auth_method=none is for native apps (application_type=native)",
            "برنامهٔ بدون رمز فقط برای برنامه‌های موبایل و رومیزی است",
        )
    if not redirect_uris:
        raise InvalidClientMetadata("At least one redirect URI is needed", "دست‌کم یک نشانی بازگشت لازم است")
    uris = [_check_uri(uri, application_type) for uri in redirect_uris]
    logout_uris = [_check_uri(uri, application_type) for uri in post_logout_redirect_uris]
    backchannel = _check_backchannel_uri(backchannel_logout_uri) if backchannel_logout_uri else None
    if subject_type not in ("public", "pairwise"):
        raise InvalidClientMetadata("subject_type is public or pairwise", "نوع شناسهٔ کاربر نادرست است")
    unknown = set(scopes) - set(SCOPES)
    if unknown or "openid" not in scopes:
        raise InvalidClientMetadata(f"Scopes must include openid and be among {SCOPES}", "دامنه‌ها نادرست است")
    purposes = attributes.check_purposes(list(scopes), attribute_purposes)
    if purposes and token_endpoint_auth_method == "none":  # noqa: S105
        # Registry data goes only to a client that authenticates itself (as Myinfo asks of its partners).
        raise InvalidClientMetadata(
            "Verified attributes are released to confidential clients only",
            "ویژگی‌های تأییدشده فقط به برنامه‌ای داده می‌شود که رمز یا کلید دارد",
        )
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
    elif token_endpoint_auth_method != "none":  # noqa: S105
        secret = secrets.token_urlsafe(32)
    sector = sector_identifier or (urlsplit(uris[0]).hostname or urlsplit(uris[0]).scheme)
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
        application_type=application_type,
        backchannel_logout_uri=backchannel,
        sandbox=sandbox,
        attribute_purposes=purposes,
        approved_attributes=" ".join(purposes) if approve_attributes else "",
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
        "application_type": client.application_type,
        "backchannel_logout_uri": client.backchannel_logout_uri,
        "sandbox": client.sandbox,
        "attribute_purposes": dict(client.attribute_purposes or {}),
        "approved_attributes": client.approved_attributes,
        "disabled": client.disabled_at is not None,
    }


# --- the agency workspace: an agency's own apps ------------------------------------------------------------


def clients_of(session: Session, agency_code: str) -> list[OidcClient]:
    """The agency's registered apps, enabled or not, by client id."""
    return list(
        session.scalars(
            select(OidcClient).where(OidcClient.agency_code == agency_code).order_by(OidcClient.client_id)
        )
    )


def rotate_secret(session: Session, client_id: str) -> str:
    """A new client secret (shown once); the old one stops working at once."""
    client = session.get(OidcClient, client_id)
    if client is None:
        raise ClientNotFound()
    if client.token_endpoint_auth_method == "private_key_jwt":  # noqa: S105
        raise InvalidClientMetadata(
            "This app signs with its keys; it has no secret.", "این برنامه رمز ندارد."
        )
    secret = secrets.token_urlsafe(32)
    client.secret_hash = sha256_hex(secret)
    session.flush()
    _forget_everywhere(client_id)
    return secret


def enable(session: Session, client_id: str) -> OidcClient:
    """Let a disabled (or approval-waiting) app sign citizens in again."""
    client = session.get(OidcClient, client_id)
    if client is None:
        raise ClientNotFound()
    client.disabled_at = None
    session.flush()
    _forget_everywhere(client_id)
    return client


def approve_attributes_of(session: Session, client_id: str) -> OidcClient:
    """An operator approves the attributes the client registered with reasons: citizens are asked for them
    from now on. Only the registered ones: approval never widens what the client asked for."""
    client = session.get(OidcClient, client_id)
    if client is None:
        raise ClientNotFound()
    client.approved_attributes = " ".join(attributes.attribute_scopes(list(client.attribute_purposes or {})))
    session.flush()
    return client


def approved_attribute_scopes(client: OidcClient) -> set[str]:
    """The attribute scopes this client may ask a citizen for: registered with a reason and approved."""
    return set(client.approved_attributes.split()) & set(client.scopes.split()) & set(attributes.SCOPES)


def attributes_asked(session: Session, client_id: str) -> list[tuple[str, str, str]]:
    """The verified attributes a client registered, as (Persian label, English label, reason): what an
    operator reads before approving it."""
    client = session.get(OidcClient, client_id)
    purposes = (client.attribute_purposes or {}) if client is not None else {}
    return [
        (attributes.ATTRIBUTES[scope].label_fa, attributes.ATTRIBUTES[scope].label_en, purposes[scope][0])
        for scope in attributes.attribute_scopes(list(purposes))
    ]
