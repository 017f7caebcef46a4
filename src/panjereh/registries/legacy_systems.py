"""Agriculture Jihad subsidiaries' own systems, as the connection standard finds them (for the demo).

Three small systems of the Ministry of Agriculture Jihad's subsidiaries, mounted under ``/legacy``:

- ``/legacy/agri-ivo`` (Iran Veterinary Organization): answers, enforces its token and reports errors
  as problem+json, but its OpenAPI description is not valid (no ``info.version``, an undeclared path
  parameter) — it fails the "OpenAPI description valid" check.
- ``/legacy/agri-ppo`` (Plant Protection Organization): a valid OpenAPI description, but its errors are
  a home-made JSON shape (``{"result": false, "message": ...}``), not RFC 9457 problem+json, and it checks
  a token only when one is sent — it fails the "error format" and "authentication enforced" checks.
- ``/legacy/agri-fisheries`` (Iran Fisheries Organization): conformant, for contrast.

Self-contained on purpose: these are not registries of ``services.yaml`` and offer no data services.
"""

from __future__ import annotations

import hmac
import re
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import Receive, Scope, Send

PROBLEM_JSON = "application/problem+json"
_bearer = HTTPBearer(auto_error=False)

# What the veterinary organization publishes: close to OpenAPI, but not valid OpenAPI 3.0.
INVALID_VETERINARY_OPENAPI: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {"title": "سامانه صدور پروانه بهداشتی دامپزشکی"},
    "security": [{"bearer": []}],
    "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
    "paths": {
        "/health-certificates/{certificate_id}": {
            "get": {"summary": "Health certificate of a livestock unit", "responses": {"200": {}}}
        }
    },
}


def _problem(status: int, title: str, detail: str) -> JSONResponse:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON)


def _guard(token: str) -> Any:
    def guard(credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)) -> None:
        given = credentials.credentials.encode() if credentials else b""
        if not hmac.compare_digest(given, token.encode()):
            raise StarletteHTTPException(401, "A valid bearer token is required.")

    return guard


def _lenient_guard(token: str) -> Any:
    # The legacy bug: a wrong token is refused, a missing one lets the call through.
    def guard(credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)) -> None:
        if credentials is not None and not hmac.compare_digest(
            credentials.credentials.encode(), token.encode()
        ):
            raise StarletteHTTPException(401, "Wrong token.")

    return guard


def _system(
    title: str, code: str, token: str, *, problem_errors: bool, openapi: bool, enforce_auth: bool = True
) -> FastAPI:
    app = FastAPI(
        title=title,
        version="1",
        openapi_url="/openapi.json" if openapi else None,
        docs_url=None,
        redoc_url=None,
    )

    async def on_http(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        if problem_errors:
            return _problem(exc.status_code, "Error", str(exc.detail))
        # The legacy shape: an envelope of its own, labelled as plain JSON.
        return JSONResponse({"result": False, "message": str(exc.detail)}, status_code=exc.status_code)

    app.add_exception_handler(StarletteHTTPException, on_http)

    @app.get("/healthz", tags=["operations"])
    def healthz() -> dict[str, str]:
        return {"status": "ok", "system": code}

    guard = _guard(token) if enforce_auth else _lenient_guard(token)

    @app.get("/records/{record_id}", dependencies=[Depends(guard)], tags=["records"])
    def record(record_id: str) -> dict[str, str]:
        return {"id": record_id, "system": code}

    return app


def create_app(token: str) -> FastAPI:
    """The three subsidiaries' systems under one app (mounted by the registries at ``/legacy``)."""
    root = FastAPI(title="Agriculture Jihad subsidiaries' systems (simulated)", docs_url=None, redoc_url=None)

    veterinary = _system(
        "Iran Veterinary Organization", "agri-ivo", token, problem_errors=True, openapi=False
    )

    @veterinary.get("/openapi.json", include_in_schema=False)
    def veterinary_openapi() -> dict[str, Any]:
        return INVALID_VETERINARY_OPENAPI

    root.mount("/agri-ivo", veterinary)
    root.mount(
        "/agri-ppo",
        _system(
            "Plant Protection Organization",
            "agri-ppo",
            token,
            problem_errors=False,
            openapi=True,
            enforce_auth=False,
        ),
    )
    root.mount(
        "/agri-fisheries",
        _system("Iran Fisheries Organization", "agri-fisheries", token, problem_errors=True, openapi=True),
    )
    return root


_AGENCY_CODE = re.compile(r"[a-z][a-z0-9-]{1,39}")


class AgencySystems:
    """A generic, conformant system per agency under ``/{agency_code}`` (mounted at ``/agencies``).

    The demo's agencies that the article counts as connected and that publish no registry of their own get
    one of these, so that "connected" means the connection standard tested a system. Each agency's app is
    built on its first request and kept; an ill-formed code is a 404 problem.
    """

    def __init__(self, token: str) -> None:
        self._token = token
        self._apps: dict[str, FastAPI] = {}

    def app_for(self, code: str) -> FastAPI:
        app = self._apps.get(code)
        if app is None:
            app = _system(f"System of agency {code}", code, self._token, problem_errors=True, openapi=True)
            self._apps[code] = app
        return app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        path: str = scope["path"]
        root_path: str = scope.get("root_path", "")
        relative = path[len(root_path) :] if root_path and path.startswith(root_path) else path
        code, _, _rest = relative.lstrip("/").partition("/")
        if not _AGENCY_CODE.fullmatch(code):
            response = _problem(404, "Not Found", "No such agency system.")
            await response(scope, receive, send)
            return
        child = dict(scope)
        child["root_path"] = f"{root_path}/{code}"
        await self.app_for(code)(child, receive, send)
