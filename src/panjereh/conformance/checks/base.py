"""What a check is: an id, a name in both languages, and a function that returns an outcome with a reason."""

from __future__ import annotations

import asyncio
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import httpx
from sqlalchemy.orm import Session

from panjereh.conformance.constants import CheckStatus
from panjereh.core.config import ConformanceSettings, Settings

if TYPE_CHECKING:
    from panjereh.agencies.models import Agency


@dataclass(frozen=True)
class Outcome:
    """A check's finding: its status and why, in English and Persian, with the figures behind it."""

    status: CheckStatus
    reason_en: str
    reason_fa: str
    details: dict[str, Any] = field(default_factory=dict)


def passed(reason_en: str, reason_fa: str, **details: Any) -> Outcome:
    return Outcome(CheckStatus.PASS, reason_en, reason_fa, details)


def failed(reason_en: str, reason_fa: str, **details: Any) -> Outcome:
    return Outcome(CheckStatus.FAIL, reason_en, reason_fa, details)


def warned(reason_en: str, reason_fa: str, **details: Any) -> Outcome:
    return Outcome(CheckStatus.WARN, reason_en, reason_fa, details)


def not_applicable(reason_en: str, reason_fa: str, **details: Any) -> Outcome:
    return Outcome(CheckStatus.NOT_APPLICABLE, reason_en, reason_fa, details)


@dataclass(frozen=True)
class SystemTarget:
    """An agency system as the probes see it: a snapshot taken before any network call (no session held)."""

    code: str
    name_fa: str
    base_url: str
    openapi_url: str | None = None
    health_url: str | None = None
    # The strictest latency objective among the data services the system publishes; None without any.
    latency_objective_ms: float | None = None

    @property
    def health(self) -> str:
        return self.health_url or f"{self.base_url}/healthz"

    @property
    def openapi(self) -> str:
        return self.openapi_url or f"{self.base_url}/openapi.json"


@dataclass
class OpenApiFetch:
    """The system's OpenAPI document once fetched (shared by the checks that need it), or why not."""

    document: dict[str, Any] | None
    status_code: int | None
    reason_en: str = ""
    reason_fa: str = ""


class ProbeContext:
    """What a system check may use: the target, one HTTP client, the platform's credential, the settings."""

    def __init__(
        self,
        target: SystemTarget,
        http: httpx.AsyncClient,
        *,
        settings: Settings,
        config: ConformanceSettings,
    ) -> None:
        self.target = target
        self.http = http
        self.settings = settings
        self.config = config
        self._openapi: asyncio.Task[OpenApiFetch] | None = None

    @property
    def token(self) -> str:
        """The platform's credential on agency systems (the registries' bearer token)."""
        return self.settings.registry_token

    @property
    def production(self) -> bool:
        return self.settings.env == "production"

    async def openapi(self) -> OpenApiFetch:
        """The OpenAPI document, fetched once per system however many checks ask."""
        if self._openapi is None:
            self._openapi = asyncio.ensure_future(self._fetch_openapi())
        return await self._openapi

    async def _fetch_openapi(self) -> OpenApiFetch:
        url = self.target.openapi
        try:
            response = await self.http.get(url, headers={"authorization": f"Bearer {self.token}"})
        except httpx.HTTPError as exc:
            return OpenApiFetch(
                None, None, f"{url} could not be fetched: {describe_error(exc)}", f"{url} دریافت نشد."
            )
        if response.status_code != 200:
            return OpenApiFetch(
                None,
                response.status_code,
                f"{url} answered HTTP {response.status_code}",
                f"{url} با کد HTTP {response.status_code} پاسخ داد.",
            )
        try:
            document = response.json()
        except ValueError:
            return OpenApiFetch(None, 200, f"{url} did not answer JSON", f"پاسخ {url} در قالب JSON نیست.")
        if not isinstance(document, dict):
            return OpenApiFetch(
                None, 200, f"{url} answered JSON that is not an object", f"پاسخ {url} یک شیء JSON نیست."
            )
        return OpenApiFetch(document, 200)


def describe_error(exc: httpx.HTTPError) -> str:
    """A short, stable description of a transport failure for a reason text."""
    if isinstance(exc, httpx.TimeoutException):
        return "no answer within the timeout"
    if isinstance(exc, httpx.ConnectError):
        return "connection refused or host unknown"
    return type(exc).__name__


class Check(ABC):
    """A check of the connection standard; subclasses are registered once in the registry."""

    id: ClassVar[str]
    name_en: ClassVar[str]
    name_fa: ClassVar[str]
    order: ClassVar[int] = 100


class SystemCheck(Check):
    """A check run over HTTP against each of an agency's systems."""

    # A gate runs first; when it finds the system unreachable, the other checks are skipped.
    gate: ClassVar[bool] = False

    @abstractmethod
    async def run(self, ctx: ProbeContext) -> Outcome:
        """Probe the system and say what was found."""


class AgencyCheck(Check):
    """A check of the agency's records on the platform (its OIDC clients, its service cards)."""

    @abstractmethod
    def run(self, session: Session, agency: Agency, settings: Settings) -> Outcome:
        """Read the platform's records of the agency and say what was found."""


def elapsed_ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)
