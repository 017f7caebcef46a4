"""Security headers on every response: the content security policy (scripts from this site or nonced,
no framing), nosniff, the referrer and permissions policies, and HSTS in production (OWASP ASVS 5.0 V3.4)."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# OWASP ASVS 5.0 V3.4.6: CSP `frame-ancestors` on every HTTP response; X-Frame-Options is obsolete but
# still read by browsers that predate CSP Level 2, so it is sent too (OWASP Clickjacking cheat sheet).
FRAME_ANCESTORS = b"frame-ancestors 'none'"
_CSP = b"content-security-policy"
_XFO = b"x-frame-options"

# V3.4.3: scripts only from this site (the vendored assets and web/static) or carrying this response's
# nonce; no inline event handlers, no eval, no plugins, no <base> rewriting. Styles and images from this
# site (a document's QR code is a data: image). The policy is one string for every response: a page that
# needs more (the API's interactive docs) sets its own, and keeps `frame-ancestors 'none'`.
POLICY = (
    "default-src 'self'; script-src 'self'{nonce}; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)
# V3.4.5: no URL (a document's verification link, a search) leaves the site in a Referer header.
REFERRER_POLICY = b"same-origin"
# V3.4.4: browsers never sniff a type the response did not declare.
NOSNIFF = b"nosniff"
# The portal asks the browser for nothing but the camera (scanning a document's QR code on /verify).
PERMISSIONS_POLICY = (
    b"camera=(self), microphone=(), geolocation=(), payment=(), usb=(), serial=(), bluetooth=(), "
    b"browsing-topics=()"
)
# V3.4.8: pages get a browsing context group of their own (no window.opener across origins).
OPENER_POLICY = b"same-origin"
# V3.4.1: a year, subdomains included; sent only where the portal is served over TLS (production).
HSTS = b"max-age=31536000; includeSubDomains"
NONCE_KEY = "csp_nonce"


Headers = list[tuple[bytes, bytes]]


class ResponseHeadersMiddleware:
    """Pure ASGI middleware that amends the headers of every HTTP response (no per-request task)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    def on_request(self, scope: Scope) -> Callable[[Headers], Headers]:
        """Called as a request arrives; returns what to make of its response's headers."""
        raise NotImplementedError

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        amend = self.on_request(scope)

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = amend(list(message.get("headers", [])))
            await send(message)

        await self.app(scope, receive, send_wrapper)


class SecurityHeadersMiddleware(ResponseHeadersMiddleware):
    """Add the security headers to every response; one that sets its own CSP keeps it (plus the frame guard).

    The policy names this request's script nonce when a page asked for one (`csp_nonce`), so a page that
    cannot do without an inline script marks it `nonce="{{ csp_nonce }}"`; other responses pay nothing.
    """

    def __init__(self, app: ASGIApp, *, hsts: bool = False) -> None:
        super().__init__(app)
        self.fixed: Headers = [
            (b"x-content-type-options", NOSNIFF),
            (b"referrer-policy", REFERRER_POLICY),
            (b"permissions-policy", PERMISSIONS_POLICY),
            (b"cross-origin-opener-policy", OPENER_POLICY),
        ]
        if hsts:
            self.fixed.append((b"strict-transport-security", HSTS))
        self.plain_policy = POLICY.format(nonce="").encode()

    def on_request(self, scope: Scope) -> Callable[[Headers], Headers]:
        state: dict[str, Any] = scope.setdefault("state", {})

        def amend(headers: Headers) -> Headers:
            names = {name.lower() for name, _ in headers}
            if _CSP not in names:
                nonce = state.get(NONCE_KEY)
                policy = POLICY.format(nonce=f" 'nonce-{nonce}'").encode() if nonce else self.plain_policy
                headers.append((_CSP, policy))
            headers.extend(header for header in self.fixed if header[0] not in names)
            return guarded(headers)

        return amend


def csp_nonce(state: dict[str, Any]) -> str:
    """This request's script nonce (made on first use), for a page's `<script nonce=…>`."""
    nonce: str | None = state.get(NONCE_KEY)
    if nonce is None:
        nonce = state[NONCE_KEY] = secrets.token_urlsafe(18)
    return nonce


def guarded(headers: Headers) -> Headers:
    """The response's headers with the frame guard added."""
    names = {name.lower() for name, _ in headers}
    if _XFO not in names:
        headers.append((_XFO, b"DENY"))
    if _CSP not in names:
        headers.append((_CSP, FRAME_ANCESTORS))
        return headers
    return [
        (name, value + b"; " + FRAME_ANCESTORS)
        if name.lower() == _CSP and b"frame-ancestors" not in value.lower()
        else (name, value)
        for name, value in headers
    ]
