"""Request bodies at the edge: a size limit per route family, counted as the body streams in, and JSON
that is well-formed (RFC 8259: UTF-8, no NaN or Infinity) before any route reads it."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Literal

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from panjereh.core.config import BodyLimitSettings
from panjereh.core.errors import PROBLEM_JSON, MalformedBody, PayloadTooLarge, ProblemError
from panjereh.core.logging import get_logger
from panjereh.core.requests import instance_uri, loggable_path

log = get_logger(__name__)

Family = Literal["api", "form", "upload", "exchange"]

EXCHANGE_GATEWAY_PREFIX = "/exchange/v1/"


class BodyTooLarge(StarletteHTTPException):
    """Raised from `receive` once the body passes its family's limit; an HTTP error, so the frameworks'
    body parsers pass it on untouched and the problem handlers answer it (413)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"The request body is larger than {limit} bytes.")
        self.limit = limit


def too_large(limit: int) -> PayloadTooLarge:
    """The 413 problem for a body over `limit` bytes."""
    return PayloadTooLarge(
        f"The request body is larger than this address accepts ({limit} bytes).",
        f"حجم بدنهٔ درخواست از اندازهٔ مجاز این نشانی ({limit} بایت) بیشتر است.",
        max_bytes=limit,
        # The rest of the body is not read: the connection is closed after the answer, not drained.
        headers={"Connection": "close"},
    )


def unreadable(exc: BaseException | None) -> MalformedBody:
    """The 400 problem for a body a parser gave up on, saying why in both languages."""
    if isinstance(exc, UnicodeDecodeError):
        return MalformedBody("The body is not valid UTF-8.", "متن درخواست با UTF-8 رمزگذاری نشده است.")
    if isinstance(exc, RecursionError):
        return MalformedBody("The body is nested too deeply.", "ساختار درخواست بیش از اندازه تودرتو است.")
    if isinstance(exc, _NotFinite):
        return MalformedBody(
            "NaN and Infinity are not JSON numbers (RFC 8259).",
            "NaN و Infinity عدد معتبر JSON نیستند.",
        )
    if isinstance(exc, json.JSONDecodeError):
        return MalformedBody(
            f"The body is not JSON: {exc.msg} at character {exc.pos}.",
            f"بدنهٔ درخواست JSON معتبر نیست (نویسهٔ {exc.pos}).",
        )
    if isinstance(exc, ValueError) and "integer string conversion" in str(exc):
        return MalformedBody(
            "A number in the body has too many digits.", "عددی در درخواست بیش از حد رقم دارد."
        )
    return MalformedBody()


class _NotFinite(ValueError):
    pass


def _refuse_constant(name: str) -> float:
    raise _NotFinite(name)


def check_json(body: bytes) -> MalformedBody | None:
    """None when `body` is RFC 8259 JSON that Python can hold; else the problem that says why not."""
    try:
        json.loads(body.decode("utf-8"), parse_constant=_refuse_constant)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        return unreadable(exc)
    return None


def family_of(path: str, content_type: str) -> Family:
    """Which limit a request falls under: the gateway by path, the rest by what the body is."""
    if path.startswith(EXCHANGE_GATEWAY_PREFIX):
        return "exchange"
    media_type = content_type.partition(";")[0].strip().lower()
    if media_type == "multipart/form-data":
        return "upload"
    if media_type == "application/x-www-form-urlencoded":
        return "form"
    return "api"


def _is_json(content_type: str) -> bool:
    media_type = content_type.partition(";")[0].strip().lower()
    return media_type == "application/json" or (
        media_type.startswith("application/") and media_type.endswith("+json")
    )


class BodyGuardMiddleware:
    """Pure ASGI middleware: a declared Content-Length over the limit is answered 413 before the app
    runs; an undeclared (chunked) body is counted as it arrives and stops at the limit; a JSON body
    (outside the gateway, which forwards bodies as they are) is read, checked once, and replayed.

    Starlette's own RequestBodyLimitMiddleware answers in plain text and has one limit per route;
    this one answers problem+json and picks the limit by route family (docs/security.md).
    """

    def __init__(self, app: ASGIApp, limits: BodyLimitSettings) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        content_type = headers.get("content-type", "")
        family = family_of(scope["path"], content_type)
        limit: int = getattr(self.limits, family)
        declared = _content_length(headers)
        if declared is not None and declared > limit:
            await _answer(scope, send, too_large(limit))
            return
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        inner: Receive = limited
        if family == "api" and _is_json(content_type) and (declared is None or declared > 0):
            try:
                body = await _read_all(limited)
            except BodyTooLarge:
                await _answer(scope, send, too_large(limit))
                return
            if body and (problem := check_json(body)) is not None:
                await _answer(scope, send, problem)
                return
            inner = _replay(body, receive)

        started = False

        async def watched_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, inner, watched_send)
        except BodyTooLarge:
            if started:
                raise
            await _answer(scope, send, too_large(limit))


def _content_length(headers: Headers) -> int | None:
    value = headers.get("content-length")
    if value is None:
        return None
    # Digits only (no sign, no spaces) and short enough to be a size: anything else is not a length.
    return int(value) if value.isascii() and value.isdigit() and len(value) < 20 else None


async def _read_all(receive: Callable[[], Awaitable[Message]]) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A `receive` that hands the app the body already read, then the client's own messages."""
    pending = True

    async def replayed() -> Message:
        nonlocal pending
        if pending:
            pending = False
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed


async def _answer(scope: Scope, send: Send, problem: ProblemError) -> None:
    request_id = scope.get("state", {}).get("request_id", "unknown")
    log.info("problem", code=problem.code, status=problem.status, path=loggable_path(scope))
    response = JSONResponse(
        problem.to_problem(instance_uri(request_id)), status_code=problem.status, media_type=PROBLEM_JSON
    )
    response.headers.update(problem.headers)
    await response(scope, _nothing, send)


async def _nothing() -> Message:
    return {"type": "http.disconnect"}
