"""The link of a share just made, shown once on the share's page after the redirect (POST → 303 → GET).

Only the token's SHA-256 is stored, so the page the browser is sent to cannot read the link back from the
database. The POST hands it over in a cookie: encrypted and authenticated (Fernet, under a key derived for
this purpose alone), bound to the web session and to the share, valid for five minutes, sent only to that
share's page (its `Path`), and cleared by the first page that shows it. A reload finds no cookie and shows
the share (claims, expiry, openings, revoke) without its link.

Why not a one-time slot on the server: the slot would hold the token readable by the server (Redis or a
table) for as long as it lives, and need a store and a sweeper of its own; the cookie stays in the browser
that is shown the link anyway, and the server keeps nothing it could leak.
"""

from __future__ import annotations

import hmac
from typing import TYPE_CHECKING

from cryptography.fernet import InvalidToken, MultiFernet
from fastapi import Request, Response

from panjereh.core.crypto import fernet
from panjereh.documents import sharing

if TYPE_CHECKING:
    from panjereh.documents.models import DocumentShare

COOKIE = "share_link"
PURPOSE = "share-link"
# Long enough for the redirect on a slow phone line, short enough that a link never waits in a cookie jar.
TTL_SECONDS = 300


def page_path(document_number: str, share_id: str) -> str:
    """The share's page: where the browser is sent after making it, and the cookie's `Path`."""
    return f"/documents/{document_number}/shares/{share_id}"


def _cipher(request: Request) -> MultiFernet:
    return fernet(request.app.state.settings.secret_key, PURPOSE)


def hand_over(
    request: Request, response: Response, *, session_id: str, share: DocumentShare, token: str
) -> None:
    """Give the browser the new share's link, sealed, for the next GET of the share's page."""
    response.set_cookie(
        COOKIE,
        _cipher(request).encrypt(f"{session_id}|{share.id}|{token}".encode()).decode(),
        max_age=TTL_SECONDS,
        path=page_path(share.document.number, share.id),
        httponly=True,
        samesite="strict",
        secure=request.app.state.settings.cookies_secure,
    )


def take(request: Request, *, session_id: str, share: DocumentShare) -> str | None:
    """The link's token if this browser was just handed it for this share in this session, else None."""
    sealed = request.cookies.get(COOKIE)
    if not sealed or len(sealed) > 1000:
        return None
    try:
        plain = _cipher(request).decrypt(sealed.encode(), ttl=TTL_SECONDS)
    except InvalidToken:
        return None
    owner_session, share_id, token = (plain.decode().split("|", 2) + ["", ""])[:3]
    if owner_session != session_id or share_id != share.id:
        return None
    # The stored hash is the last word: nothing but this share's own link is ever shown.
    if not hmac.compare_digest(sharing.hash_token(token), share.token_hash):
        return None
    return token


def clear(request: Request, response: Response, share: DocumentShare) -> None:
    """Drop the cookie (the link is shown once): also when it was stale, foreign or forged."""
    if COOKIE in request.cookies:
        response.delete_cookie(
            COOKIE,
            path=page_path(share.document.number, share.id),
            httponly=True,
            samesite="strict",
            secure=request.app.state.settings.cookies_secure,
        )
