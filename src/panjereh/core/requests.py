"""Request ids and traces: a trusted X-Request-ID or a fresh one, and the W3C traceparent honoured or
started (core/tracing.py), bound to every log line and problem of the request."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

import structlog
from starlette.types import Scope

from panjereh.core import tracing
from panjereh.core.headers import Headers, ResponseHeadersMiddleware
from panjereh.core.metrics import RouteTemplates

REQUEST_ID_HEADER = b"x-request-id"
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


TRACERESPONSE_HEADER = b"traceresponse"


class RequestIdMiddleware(ResponseHeadersMiddleware):
    """Give each request an id and a span of its trace, put both in the log context and echo them in the
    response (`traceresponse`, W3C Trace Context Level 2: this server's span, for the caller's logs)."""

    def on_request(self, scope: Scope) -> Callable[[Headers], Headers]:
        request_id = _incoming_id(scope) or uuid.uuid4().hex
        span = tracing.enter(_header(scope, TRACEPARENT))
        state = scope.setdefault("state", {})
        state["request_id"], state["trace_id"] = request_id, span.trace_id
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(
            request_id=request_id, trace_id=span.trace_id, span_id=span.span_id
        )
        echoed = [(REQUEST_ID_HEADER, request_id.encode()), (TRACERESPONSE_HEADER, span.header().encode())]
        return lambda headers: [*headers, *echoed]


TRACEPARENT = tracing.TRACEPARENT_HEADER.encode()


def _header(scope: Scope, wanted: bytes) -> str | None:
    for name, value in scope.get("headers", []):
        if name == wanted:
            return str(value.decode("latin-1"))
    return None


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


_ROUTE_TEMPLATES = RouteTemplates()


def loggable_path(scope: Scope) -> str:
    """The path a log line may keep: the matched route's template (`/shared/{token}`), never the path as
    sent, which can hold a bearer secret (a share link's token, a verification code); the raw path only
    when no route matched (then it holds no live secret of ours)."""
    if scope.get("route") is None and scope.get("endpoint") is None:
        return str(scope.get("path", ""))
    return _ROUTE_TEMPLATES.template(scope, scope.get("app"))
