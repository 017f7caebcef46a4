"""HTTP plumbing shared by the simulated registries: problems, bearer auth, the app context."""

from __future__ import annotations

import hmac
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.exceptions import HTTPException as StarletteHTTPException

from panjereh.core.identifiers import InvalidIdentifier, normalize_national_code
from panjereh.registries.events import EventFeed
from panjereh.registries.family import FamilyBook
from panjereh.registries.faults import FaultBoard
from panjereh.registries.population import Person, Population
from panjereh.registries.problems import problem


class RegistryError(Exception):
    """A failure a registry reports as an RFC 9457 problem."""

    def __init__(
        self, status: int, code: str, title: str, detail: str = "", headers: dict[str, str] | None = None
    ):
        super().__init__(detail or title)
        self.status, self.code, self.title, self.detail = status, code, title, detail or title
        self.headers = headers or {}


def install_problem_handlers(app: FastAPI) -> None:
    """Make every failure of ``app`` (ours, routing, validation, crashes) a problem document."""

    async def on_registry_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RegistryError)
        return problem(exc.status, exc.code, exc.title, exc.detail, exc.headers)

    async def on_http(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return problem(exc.status_code, code, str(exc.detail), headers=dict(exc.headers or {}))

    async def on_validation(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        errors = [{"loc": list(e.get("loc", ())), "msg": e.get("msg")} for e in exc.errors()]
        return problem(
            400,
            "invalid_request",
            "Invalid request",
            "The request is malformed; see `errors`.",
            errors=errors,
        )

    async def on_crash(request: Request, exc: Exception) -> JSONResponse:
        return problem(500, "internal_error", "Internal error")

    app.add_exception_handler(RegistryError, on_registry_error)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(Exception, on_crash)


@dataclass
class Context:
    """Everything the registries share in one app: the people, the secrets, the switches."""

    population: Population
    token: str
    admin_token: str
    faults: FaultBoard
    events: EventFeed
    clock: Callable[[], datetime]
    family: FamilyBook = field(init=False)

    def __post_init__(self) -> None:
        self.family = FamilyBook(self.population)

    @property
    def seed(self) -> int:
        return self.population.seed

    def today(self) -> date:
        """The clock's calendar date (UTC; registries compare ISO dates)."""
        return self.clock().astimezone(UTC).date()

    def person(self, raw_code: str) -> Person:
        """The person a path's national code names: 400 if malformed, 404 if unknown."""
        code = national_code(raw_code)
        person = self.population.person(code)
        if person is None:
            raise RegistryError(
                404,
                "person_not_found",
                "Person not found",
                f"No person with national code {code} in this registry.",
            )
        return person

    def death_date(self, person: Person) -> date | None:
        """The death date, including deaths injected through the events feed."""
        return person.death_date or self.events.deaths.get(person.national_code)


def national_code(raw: str) -> str:
    """Normalize a national code or fail with a 400 problem naming the reason."""
    try:
        return normalize_national_code(raw)
    except InvalidIdentifier as exc:
        raise RegistryError(400, exc.code, "Invalid national code", str(exc)) from exc


_bearer = HTTPBearer(auto_error=False, description="The registry token: `Authorization: Bearer <token>`")


def bearer_guard(*tokens: str) -> Callable[..., None]:
    """A dependency that accepts any of ``tokens`` as a bearer token and answers 401 otherwise."""
    accepted = [t.encode() for t in tokens if t]

    def guard(credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)) -> None:
        given = credentials.credentials.encode() if credentials else b""
        # Compare against every token in constant time so timing reveals nothing.
        if not any([hmac.compare_digest(given, token) for token in accepted]):
            raise RegistryError(
                401,
                "unauthorized",
                "Unauthorized",
                "A valid `Authorization: Bearer <token>` header is required.",
                headers={"WWW-Authenticate": 'Bearer realm="registries"'},
            )

    return guard
