"""The portal's browser cookies: the one place that names them, and sets, reads and deletes them.

Over HTTPS (`settings.cookies_secure`, production) the cookies that carry a credential or bind a form to
the browser take the `__Host-` prefix (RFC 6265bis §4.1.3.2): the browser accepts such a cookie only
with `Secure`, `Path=/` and no `Domain`, so neither a sibling subdomain nor a plain-HTTP page can set or
shadow it (no session fixation from `evil.gov.ir`, no CSRF nonce planted over HTTP). In development and
tests over plain HTTP the prefix cannot be used (browsers refuse a `__Host-` cookie without `Secure`), so
the same cookies go by their bare names there.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from starlette.requests import HTTPConnection
    from starlette.responses import Response

    from panjereh.core.config import Settings

HOST_PREFIX = "__Host-"

SESSION_COOKIE = "pj_session"  # the web session's token (identity.sessions)
LOGIN_COOKIE = "pj_login"  # binds a login code to the browser that asked for it
CSRF_COOKIE = "csrf"  # the nonce a form's CSRF token is signed over (web.csrf)
ACTING_COOKIE = "acting"  # whom the citizen acts for in this browser (a hint, checked at every act)
LOCALE_COOKIE = "lang"  # the reader's language: no secret, no prefix (a shadowed one changes the words)

LOCALE_MAX_AGE = 365 * 86400

_HOST_ONLY = frozenset({SESSION_COOKIE, LOGIN_COOKIE, CSRF_COOKIE, ACTING_COOKIE})


def cookie_name(name: str, secure: bool) -> str:
    """The name a cookie goes by: `__Host-` prefixed over HTTPS when it is one of the host-only cookies."""
    return HOST_PREFIX + name if secure and name in _HOST_ONLY else name


def read_cookie(request: HTTPConnection, name: str) -> str | None:
    """The cookie's value as this deployment names it (None when absent or empty).

    During the switch to the prefix (`PANJEREH_LEGACY_SESSION_COOKIE`), a session cookie set under the
    bare name before it is still read, so citizens are not signed out by the deployment; off by default,
    because a bare-named cookie is exactly what a sibling host can plant.
    """
    settings: Settings = request.app.state.settings
    value = request.cookies.get(cookie_name(name, settings.cookies_secure))
    if not value and name == SESSION_COOKIE and settings.cookies_secure and settings.legacy_session_cookie:
        value = request.cookies.get(name)
    return value or None


def set_cookie(
    response: Response, settings: Settings, name: str, value: str, *, max_age: int | None = None
) -> None:
    """Set a cookie the way every portal cookie is set: HttpOnly, SameSite=Lax, Path=/, no Domain,
    Secure over HTTPS (which the `__Host-` prefix requires)."""
    secure = settings.cookies_secure
    response.set_cookie(
        cookie_name(name, secure),
        value,
        max_age=max_age,
        httponly=True,
        samesite="lax",
        secure=secure,
        path="/",
    )
    if name == SESSION_COOKIE and secure and settings.legacy_session_cookie:
        _delete(response, name, secure)  # the new session replaces one under the old name


def delete_cookie(response: Response, settings: Settings, name: str) -> None:
    """Delete a cookie under the name this deployment uses (and, during the switch, the old name too)."""
    secure = settings.cookies_secure
    _delete(response, cookie_name(name, secure), secure)
    if name == SESSION_COOKIE and secure and settings.legacy_session_cookie:
        _delete(response, name, secure)


def _delete(response: Response, name: str, secure: bool) -> None:
    # The attributes the cookie was set with: a browser keeps a `__Host-` cookie unless the deletion is
    # itself Secure with Path=/.
    response.delete_cookie(name, path="/", secure=secure, httponly=True, samesite="lax")
