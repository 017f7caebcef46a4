"""CSRF protection for every state-changing form: a signed double-submit token (OWASP's pattern)."""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated, Any

from fastapi import Depends, Form, Request

from panjereh.core.crypto import keyed_hash
from panjereh.core.errors import Forbidden

CSRF_COOKIE = "csrf"
CSRF_FIELD = "csrf_token"
PURPOSE = "csrf"  # the key derived for CSRF tokens alone (core.crypto)


class CsrfRejected(Forbidden):
    code = "client.csrf"
    title_en = "The form expired or was not sent from this site; reload the page and try again"
    title_fa = "فرم منقضی شده یا از این سایت فرستاده نشده است؛ صفحه را دوباره باز کنید و دوباره بفرستید"


def signature(secret: str, nonce: str) -> str:
    """The signature that binds a form token to the browser's nonce, under the CSRF key."""
    return keyed_hash(secret, PURPOSE, nonce)


def issue_token(request: Request) -> str:
    """The token for forms on this page; the cookie holding its nonce is set by `csrf_context`."""
    nonce = request.cookies.get(CSRF_COOKIE) or getattr(request.state, "csrf_nonce", None)
    if nonce is None:
        nonce = secrets.token_urlsafe(24)
        request.state.csrf_nonce = nonce
    return f"{nonce}.{signature(request.app.state.settings.secret_key, nonce)}"


def csrf_context(request: Request) -> dict[str, Any]:
    """Template context processor: `{{ csrf_field }}` in every form."""
    return {"csrf_token": issue_token(request), "csrf_field_name": CSRF_FIELD}


def verify(request: Request, token: str | None) -> None:
    """Refuse unless the token was signed by us for the nonce in this browser's cookie."""
    nonce = request.cookies.get(CSRF_COOKIE)
    if not token or not nonce or "." not in token:
        raise CsrfRejected()
    sent_nonce, sent_signature = token.rsplit(".", 1)
    expected = signature(request.app.state.settings.secret_key, nonce)
    if not (hmac.compare_digest(sent_nonce, nonce) and hmac.compare_digest(sent_signature, expected)):
        raise CsrfRejected()


def require_csrf(request: Request, csrf_token: Annotated[str | None, Form()] = None) -> None:
    """Dependency for POST form handlers: `_: CsrfProtected`."""
    verify(request, csrf_token)


CsrfProtected = Annotated[None, Depends(require_csrf)]
