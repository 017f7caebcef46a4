"""Exception handlers that turn every failure into problem+json (or a Persian error page for browsers)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from panjereh.core.bodies import BodyTooLarge, too_large, unreadable
from panjereh.core.errors import (
    PROBLEM_JSON,
    MalformedBody,
    ProblemError,
    ValidationFailed,
    problem_for_status,
)
from panjereh.core.logging import get_logger
from panjereh.core.requests import instance_uri

log = get_logger(__name__)

HtmlRenderer = Callable[[Request, dict[str, Any], int], Response]


def install_problem_handlers(app: FastAPI, html_renderer: HtmlRenderer | None = None) -> None:
    """Register one handler per failure kind; all of them end in `_respond`."""

    def respond(request: Request, error: ProblemError) -> Response:
        request_id = getattr(request.state, "request_id", "unknown")
        problem = error.to_problem(instance_uri(request_id))
        level = "error" if error.status >= 500 else "info"
        getattr(log, level)("problem", code=error.code, status=error.status, path=request.url.path)
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

    async def on_unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled", path=request.url.path)
        return respond(request, ProblemError())

    app.add_exception_handler(ProblemError, on_problem)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(Exception, on_unexpected)


_DEFAULT_DETAILS = {"Not Found", "Method Not Allowed", "Unauthorized", "Forbidden"}

_MACHINE_PREFIXES = ("/api/", "/exchange/", "/oauth", "/.well-known/", "/metrics", "/healthz", "/readyz")


def _wants_html(request: Request) -> bool:
    # Machines (API paths, or clients that do not ask for HTML first) get problem+json.
    if request.url.path.startswith(_MACHINE_PREFIXES):
        return False
    accept = request.headers.get("accept", "")
    return accept.startswith("text/html")
