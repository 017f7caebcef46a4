"""The frame guard: no other site may put the portal's pages in a frame (clickjacking)."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# OWASP ASVS 5.0 V3.4.6: CSP `frame-ancestors` on every HTTP response; X-Frame-Options is obsolete but
# still read by browsers that predate CSP Level 2, so it is sent too (OWASP Clickjacking cheat sheet).
FRAME_ANCESTORS = b"frame-ancestors 'none'"
_CSP = b"content-security-policy"
_XFO = b"x-frame-options"


class FrameGuardMiddleware:
    """Add `Content-Security-Policy: frame-ancestors 'none'` and `X-Frame-Options: DENY` to every response.

    A response that sets its own policy keeps it; `frame-ancestors 'none'` is added to it when missing.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = guarded(list(message.get("headers", [])))
            await send(message)

        await self.app(scope, receive, send_wrapper)


def guarded(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
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
