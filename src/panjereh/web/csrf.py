"""CSRF protection for every state-changing form: a signed double-submit token bound to the session
(OWASP's "signed double-submit cookie" pattern, the HMAC over the session and a random value).

A signed-in browser's token is bound to its session cookie, so a token from one session fails in every
other (and a session that changes, at login or logout, needs a fresh page); an anonymous form's token is
bound to the pre-session `csrf` cookie alone.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated, Any

from fastapi import Depends, Form, Request

from panjereh.core.cookies import CSRF_COOKIE, SESSION_COOKIE, read_cookie
from panjereh.core.crypto import keyed_hash
from panjereh.core.errors import Forbidden
from panjereh.core.headers import csp_nonce

CSRF_FIELD = "csrf_token"
PURPOSE = "csrf"  # the key derived for CSRF tokens alone (core.crypto)


class CsrfRejected(Forbidden):
    code = "client.csrf"
    title_en = "The form expired or was not sent from this site; reload the page and try again"
    title_fa = "فرم منقضی شده یا از این سایت فرستاده نشده است؛ صفحه را دوباره باز کنید و دوباره بفرستید"


def signature(secret: str, nonce: str, session: str | None = None) -> str:
    """The signature that binds a form token to the browser's nonce and session, under the CSRF key."""
    # Lengths first, so no (session, nonce) pair can be read as another ("a!b" + "c" ≠ "a" + "b!c").
    bound = f"{len(session or '')}!{session or ''}!{nonce}"
    return keyed_hash(secret, PURPOSE, bound)


def _session_of(request: Request) -> str | None:
    return read_cookie(request, SESSION_COOKIE)


def issue_token(request: Request) -> str:
    """The token for forms on this page; the cookie holding its nonce is set by `csrf_context`."""
    nonce = read_cookie(request, CSRF_COOKIE) or getattr(request.state, "csrf_nonce", None)
    if nonce is None:
        nonce = secrets.token_urlsafe(24)
        request.state.csrf_nonce = nonce
    return f"{nonce}.{signature(request.app.state.settings.secret_key, nonce, _session_of(request))}"


def csrf_context(request: Request) -> dict[str, Any]:
    """Template context processor: `{{ csrf_field }}` in every form, and the page's script nonce."""
    return {
        "csrf_token": issue_token(request),
        "csrf_field_name": CSRF_FIELD,
        "csp_nonce": lambda: csp_nonce(request.scope.setdefault("state", {})),
    }


def verify(request: Request, token: str | None) -> None:
    """Refuse unless the token was signed by us for this browser's nonce cookie and its session."""
    nonce = read_cookie(request, CSRF_COOKIE)
    if not token or not nonce or "." not in token:
        raise CsrfRejected()
    sent_nonce, sent_signature = token.rsplit(".", 1)
    expected = signature(request.app.state.settings.secret_key, nonce, _session_of(request))
    if not (_same(sent_nonce, nonce) and _same(sent_signature, expected)):
        raise CsrfRejected()


def _same(sent: str, expected: str) -> bool:
    # compare_digest refuses non-ASCII str (a TypeError, a 500): compare the bytes.
    return hmac.compare_digest(sent.encode(), expected.encode())


def require_csrf(request: Request, csrf_token: Annotated[str | None, Form()] = None) -> None:
    """Dependency for POST form handlers: `_: CsrfProtected`."""
    verify(request, csrf_token)


CsrfProtected = Annotated[None, Depends(require_csrf)]
