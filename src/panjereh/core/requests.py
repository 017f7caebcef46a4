"""Request ids: taken from a trusted X-Request-ID or made fresh, bound to every log line and problem."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

import structlog
from starlette.types import Scope

from panjereh.core.headers import Headers, ResponseHeadersMiddleware

REQUEST_ID_HEADER = b"x-request-id"
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


class RequestIdMiddleware(ResponseHeadersMiddleware):
    """Give each request an id, put it in the log context and echo it in the response."""

    def on_request(self, scope: Scope) -> Callable[[Headers], Headers]:
        request_id = _incoming_id(scope) or uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        return lambda headers: [*headers, (REQUEST_ID_HEADER, request_id.encode())]


def _incoming_id(scope: Scope) -> str | None:
    # A client-chosen id is kept only when it is plainly safe to log.
    for name, value in scope.get("headers", []):
        if name == REQUEST_ID_HEADER:
            candidate = value.decode("latin-1")
            return candidate if _SAFE_REQUEST_ID.match(candidate) else None
    return None


def instance_uri(request_id: str) -> str:
    """The problem `instance` for a request: the same id the log line carries."""
    return f"urn:panjereh:request:{request_id}"
