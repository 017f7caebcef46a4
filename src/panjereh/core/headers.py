"""The frame guard: no other site may put the portal's pages in a frame (clickjacking)."""

from __future__ import annotations

from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# OWASP ASVS 5.0 V3.4.6: CSP `frame-ancestors` on every HTTP response; X-Frame-Options is obsolete but
# still read by browsers that predate CSP Level 2, so it is sent too (OWASP Clickjacking cheat sheet).
FRAME_ANCESTORS = b"frame-ancestors 'none'"
_CSP = b"content-security-policy"
_XFO = b"x-frame-options"


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


class FrameGuardMiddleware(ResponseHeadersMiddleware):
    """Add `Content-Security-Policy: frame-ancestors 'none'` and `X-Frame-Options: DENY` to every response.

    A response that sets its own policy keeps it; `frame-ancestors 'none'` is added to it when missing.
    """

    def on_request(self, scope: Scope) -> Callable[[Headers], Headers]:
        return guarded


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
