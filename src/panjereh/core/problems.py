"""Exception handlers that turn every failure into problem+json (or a Persian error page for browsers)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Match

from panjereh.core.bodies import BodyTooLarge, too_large, unreadable
from panjereh.core.db import database_unavailable
from panjereh.core.errors import (
    PROBLEM_JSON,
    DatabaseUnavailable,
    MalformedBody,
    ProblemError,
    ValidationFailed,
    problem_for_status,
)
from panjereh.core.logging import get_logger
from panjereh.core.requests import instance_uri, loggable_path

log = get_logger(__name__)

HtmlRenderer = Callable[[Request, dict[str, Any], int], Response]


class Problem(BaseModel):
    """An RFC 9457 problem as the platform sends it (a domain may add fields, e.g. `errors`)."""

    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    title_fa: str
    status: int = Field(ge=400, le=599)
    code: str = Field(description="Stable: clients branch on it, never on the text")
    instance: str
    detail: str | None = None
    detail_fa: str | None = None


_PROBLEM_CONTENT = {PROBLEM_JSON: {"schema": Problem.model_json_schema()}}
_PROBLEM_STATUSES = {
    400: "The body cannot be parsed (client.malformed_body) or the request is malformed",
    401: "Not signed in, or no valid access token",
    403: "Signed in, but not permitted",
    404: "No such resource (or not yours to see)",
    405: "Method not allowed",
    409: "Conflicts with the current state",
    413: "The body is over its route family's limit (client.payload_too_large)",
    415: "Unsupported content type",
    422: "A field is missing or invalid (client.validation or a domain code)",
    429: "Rate limited",
    500: "A crash of the platform (platform.internal): never for any input",
    502: "A provider's system failed (exchange)",
    503: "Temporarily unavailable",
    504: "A provider's system did not answer in time (exchange)",
}
PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"description": description, "content": _PROBLEM_CONTENT}
    for status, description in _PROBLEM_STATUSES.items()
}
"""The error answers every operation may give, declared once for the whole API document."""


def install_problem_handlers(app: FastAPI, html_renderer: HtmlRenderer | None = None) -> None:
    """Register one handler per failure kind; all of them end in `_respond`."""

    def respond(request: Request, error: ProblemError) -> Response:
        request_id = getattr(request.state, "request_id", "unknown")
        problem = error.to_problem(instance_uri(request_id))
        level = "error" if error.status >= 500 else "info"
        path = loggable_path(request.scope)
        getattr(log, level)("problem", code=error.code, status=error.status, path=path)
        if html_renderer is not None and _wants_html(request):
            response = html_renderer(request, problem, error.status)
        else:
            response = JSONResponse(problem, status_code=error.status, media_type=PROBLEM_JSON)
        response.headers.update(error.headers)
        return response

    async def on_problem(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ProblemError)
        return respond(request, exc)

    async def on_http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        headers = dict(exc.headers or {})
        if isinstance(exc, BodyTooLarge):
            return respond(request, too_large(exc.limit))
        if exc.status_code == 400 and exc.__cause__ is not None:
            # The frameworks' body parsers: FastAPI's "error parsing the body" names its cause.
            error = unreadable(exc.__cause__)
            error.headers = headers
            return respond(request, error)
        if exc.status_code == 405 and (allowed := _allowed_methods(request)):
            headers["Allow"] = ", ".join(allowed)
        # Only a status the frameworks raise lands here; a 4xx is the caller's, never platform.internal.
        problem_class = problem_for_status(exc.status_code)
        detail = exc.detail if isinstance(exc.detail, str) and exc.detail not in _DEFAULT_DETAILS else None
        if exc.status_code == 400:
            problem_class = MalformedBody  # Starlette's form parser: a broken multipart or form
        return respond(request, problem_class(detail, headers=headers))

    async def on_validation(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        errors = [
            {"loc": list(err.get("loc", ())), "msg": err.get("msg"), "type": err.get("type")}
            for err in exc.errors()
        ]
        return respond(
            request,
            ValidationFailed(
                "Some fields are missing or malformed; see `errors`.",
                "برخی از فیلدها خالی یا نادرست است؛ جزئیات در errors آمده است.",
                errors=errors,
            ),
        )

    async def on_database(request: Request, exc: Exception) -> Response:
        if isinstance(exc, sa_exc.DataError) and "NUL (0x00)" in str(exc.orig):
            # A NUL byte in a text parameter (`?provider=%00`): SQLite stores it, PostgreSQL refuses it.
            # The caller's input, not a crash: 422 on both databases' behalf.
            return respond(
                request,
                ValidationFailed(
                    "A text parameter holds a NUL character (0x00), which no field accepts.",
                    "یکی از ورودی‌های متنی نویسهٔ NUL (0x00) دارد که هیچ فیلدی آن را نمی‌پذیرد.",
                ),
            )
        if not database_unavailable(exc):
            raise exc  # any other database error is a crash: on_unexpected answers it (500)
        # A PostgreSQL restart or failover: the caller may retry, so 503 with Retry-After, not a crash
        # (and, handled here rather than by on_unexpected, no "Exception in ASGI application" either).
        log.warning("database_unavailable", error=type(exc).__name__, path=loggable_path(request.scope))
        return respond(request, DatabaseUnavailable())

    async def on_unexpected(request: Request, exc: Exception) -> Response:
        if database_unavailable(exc):  # raised outside the routes (a middleware's own query)
            log.warning("database_unavailable", error=type(exc).__name__, path=loggable_path(request.scope))
            return respond(request, DatabaseUnavailable())
        log.exception("unhandled", path=loggable_path(request.scope))
        return respond(request, ProblemError())

    app.add_exception_handler(ProblemError, on_problem)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(sa_exc.DBAPIError, on_database)
    app.add_exception_handler(sa_exc.TimeoutError, on_database)
    app.add_exception_handler(Exception, on_unexpected)


_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def _allowed_methods(request: Request) -> list[str]:
    """Every method some route serves at this path (RFC 9110 §15.5.6): Starlette names only the first
    route's, so a path with a GET and a POST route answered a DELETE with one of the two."""
    routes = request.app.router.routes
    return [
        method
        for method in _METHODS
        if any(route.matches({**request.scope, "method": method})[0] is Match.FULL for route in routes)
    ]


_DEFAULT_DETAILS = {"Not Found", "Method Not Allowed", "Unauthorized", "Forbidden"}

_MACHINE_PREFIXES = ("/api/", "/exchange/", "/oauth", "/.well-known/", "/metrics", "/healthz", "/readyz")


def _wants_html(request: Request) -> bool:
    # Machines (API paths, or clients that do not ask for HTML first) get problem+json.
    if request.url.path.startswith(_MACHINE_PREFIXES):
        return False
    accept = request.headers.get("accept", "")
    return accept.startswith("text/html")
