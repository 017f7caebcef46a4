"""The gateway at /exchange/v1 (docs/protocols/exchange.md): token endpoint and inquiries."""

from __future__ import annotations

from functools import cache
from typing import Annotated
from urllib.parse import unquote

from fastapi import APIRouter, Form, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from panjereh.core.config import REPO_ROOT
from panjereh.core.db import unit_of_work
from panjereh.exchange.auth import ASSERTION_TYPE, SCOPE, token_url
from panjereh.exchange.client import PlatformClient
from panjereh.exchange.exceptions import InvalidClientCredentials, InvalidInquiry
from panjereh.exchange.pipeline import Call

router = APIRouter(prefix="/exchange/v1", include_in_schema=False)

SUBJECT_HEADER = "panjereh-subject"
PURPOSE_HEADER = "panjereh-purpose"
CASE_HEADER = "panjereh-case"
MESSAGE_ID_HEADER = "Panjereh-Message-Id"


def _platform(request: Request) -> PlatformClient:
    client: PlatformClient = request.app.state.exchange
    return client


@router.post("/token")
def token(
    request: Request,
    grant_type: Annotated[str, Form()],
    client_assertion_type: Annotated[str | None, Form()] = None,
    client_assertion: Annotated[str | None, Form()] = None,
) -> JSONResponse:
    """OAuth 2 client credentials with `private_key_jwt`: an assertion in, an access token out."""
    if grant_type != "client_credentials":
        raise InvalidInquiry(
            "Only grant_type=client_credentials is supported.",
            "فقط grant_type=client_credentials پذیرفته می‌شود.",
            error="unsupported_grant_type",
        )
    if client_assertion_type != ASSERTION_TYPE or not client_assertion:
        raise InvalidClientCredentials(
            f"Authenticate with client_assertion_type={ASSERTION_TYPE} and a signed client_assertion.",
            "با یک client_assertion امضاشده احراز هویت کنید.",
            error="invalid_client",
        )
    platform = _platform(request)
    with unit_of_work(request.app.state.sessionmaker) as session:
        client = platform.auth.authenticate_assertion(
            session, client_assertion, token_url(request.app.state.settings)
        )
        issued = platform.auth.issue(client)
    return JSONResponse(
        {
            "access_token": issued.token,
            "token_type": "Bearer",
            "expires_in": issued.expires_in,
            "scope": SCOPE,
        },
        headers={"Cache-Control": "no-store"},
    )


# The gateway's own OpenAPI document (written by hand: the inquiry route is a plain Starlette route and
# forwards whatever the provider's document says; the platform's part, errors included, is described here).
OPENAPI_DOCUMENT = REPO_ROOT / "docs" / "protocols" / "exchange-gateway.openapi.json"


@cache
def _openapi_bytes() -> bytes:
    return OPENAPI_DOCUMENT.read_bytes()


@router.get("/openapi.json")
def openapi_document() -> Response:
    """The gateway's OpenAPI document: the token endpoint, inquiries, and every problem they answer."""
    return Response(_openapi_bytes(), media_type="application/json")


def _header(request: Request, name: str) -> str | None:
    value = request.headers.get(name)
    # Header values are Latin-1 on the wire: Persian purposes arrive percent-encoded UTF-8.
    return unquote(value) if value else None


GATEWAY_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


async def inquire(request: Request) -> Response:
    """Authenticate, authorize, forward, log: one inquiry of an agency system."""
    if request.method not in GATEWAY_METHODS:  # Starlette adds HEAD to GET routes; the gateway never did
        raise StarletteHTTPException(405, headers={"Allow": ", ".join(GATEWAY_METHODS)})
    service_code: str = request.path_params["service_code"]
    path: str = request.path_params["path"]
    platform = _platform(request)
    exchange = platform.exchange
    caller = platform.auth.caller(request.headers.get("authorization"))
    body = await request.body()

    def prepare() -> Call:
        return exchange.prepare(
            caller,
            service_code,
            method=request.method,
            path="/" + path,
            query=request.url.query,
            body=body or None,
            subject=_header(request, SUBJECT_HEADER),
            purpose=_header(request, PURPOSE_HEADER) or "",
            case=_header(request, CASE_HEADER),
            timeout=None,
        )

    # The checks read the database: on the loop where that is a local file or nothing is read (all
    # cached), else in a worker thread.
    on_loop = exchange.checks_on_loop or exchange.checks_cached(caller, service_code)
    call = prepare() if on_loop else await run_in_threadpool(prepare)
    outcome = await exchange.forward(call)
    if exchange.writer.inline:
        result, raw = await run_in_threadpool(exchange.finish, call, outcome)
    else:
        result, raw = exchange.finish(call, outcome)
    assert raw is not None
    return Response(
        raw.body,
        status_code=raw.status,
        media_type=raw.content_type or "application/json",
        headers={MESSAGE_ID_HEADER: result.message_id},
    )


# A plain Starlette route, not a FastAPI one: the hot path has no parameters to validate and no
# dependencies to solve, and FastAPI's per-request machinery for them was a visible share of the
# gateway's time. Errors still go through the application's problem+json handlers.
router.add_route(  # Starlette's add_route does not apply the router's prefix itself
    router.prefix + "/{service_code}/{path:path}",
    inquire,
    methods=list(GATEWAY_METHODS),
    include_in_schema=False,
)
