"""The platform's own client of the exchange (as agency `ito`): the gateway pipeline, in-process."""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Callable
from typing import Any, Required, TypedDict, Unpack

from prometheus_client import CollectorRegistry
from sqlalchemy.orm import Session

from panjereh.core.config import Settings
from panjereh.exchange.auth import ClientAuthenticator
from panjereh.exchange.metrics import ExchangeMetrics
from panjereh.exchange.pipeline import Call, Caller, Exchange, InquiryResult
from panjereh.exchange.service import PLATFORM_AGENCY, PLATFORM_CLIENT_ID, PLATFORM_SANDBOX_CLIENT_ID

__all__ = ["InquiryResult", "PlatformClient"]

PLATFORM_CALLER = Caller(client_id=PLATFORM_CLIENT_ID, agency_code=PLATFORM_AGENCY, rate_per_second=1_000_000)
PLATFORM_SANDBOX_CALLER = Caller(
    client_id=PLATFORM_SANDBOX_CLIENT_ID, agency_code=PLATFORM_AGENCY, rate_per_second=1_000_000, sandbox=True
)


class Inquiry(TypedDict, total=False):
    """What the platform names when it asks a data service (`PlatformClient.inquire` / `ainquire`)."""

    subject: Required[str | None]
    purpose: Required[str]
    case: str | None
    path_params: dict[str, str] | None
    query: dict[str, str] | None
    body: dict[str, Any] | None  # sent as JSON
    timeout: float | None  # seconds; the service's own timeout when None


class PlatformClient:
    """Inquiries the platform makes itself (login checks, smart services); no HTTP loop to itself."""

    def __init__(
        self,
        settings: Settings,
        sessionmaker: Callable[[], Session],
        *,
        metrics_registry: CollectorRegistry | None = None,
    ) -> None:
        self.settings = settings
        self.exchange = Exchange(settings, sessionmaker, ExchangeMetrics(metrics_registry))
        self.auth = ClientAuthenticator(settings, self.exchange.config.token_ttl_seconds)
        self.caller = PLATFORM_CALLER

    def in_sandbox(self) -> PlatformClient:
        """The same client calling as the platform's sandbox client: sandbox grants, test personas only,
        its calls logged as sandbox calls (never in the ledger or the figures). Shares this exchange."""
        sandboxed = copy.copy(self)
        sandboxed.caller = PLATFORM_SANDBOX_CALLER
        return sandboxed

    @property
    def sandbox(self) -> bool:
        return self.caller.sandbox

    def inquire(self, service_code: str, **inquiry: Unpack[Inquiry]) -> InquiryResult:
        """Ask a data service from synchronous code (blocking); raises GrantMissing or ProviderUnavailable."""
        call = self._prepare(service_code, inquiry)
        return self.exchange.finish(call, self.exchange.forward_sync(call))[0]

    async def ainquire(self, service_code: str, **inquiry: Unpack[Inquiry]) -> InquiryResult:
        """Ask a data service from async code; raises GrantMissing or ProviderUnavailable."""
        return await self.asend(await self.aprepare(service_code, **inquiry))

    async def aprepare(self, service_code: str, **inquiry: Unpack[Inquiry]) -> Call:
        """Check an inquiry (service, parameters, subject, grant) without sending it: a caller with several
        inquiries learns of a fault in any before one is made. Raises the exchange's refusals."""
        # See Exchange.checks_on_loop and Exchange.checks_cached: no database round trip on the loop.
        if self.exchange.checks_on_loop or self.exchange.checks_cached(self.caller, service_code):
            return self._prepare(service_code, inquiry)
        return await asyncio.to_thread(self._prepare, service_code, inquiry)

    async def asend(self, call: Call) -> InquiryResult:
        """Send an inquiry checked by `aprepare`; raises ProviderUnavailable."""
        outcome = await self.exchange.forward(call)
        if self.exchange.writer.inline:  # inline logging writes to the database: not on the event loop
            return (await asyncio.to_thread(self.exchange.finish, call, outcome))[0]
        return self.exchange.finish(call, outcome)[0]

    def _prepare(self, service_code: str, inquiry: Inquiry) -> Call:
        return self.exchange.prepare(
            self.caller,
            service_code,
            path_params=inquiry.get("path_params"),
            query=inquiry.get("query"),
            json_body=inquiry.get("body"),
            subject=inquiry["subject"],
            purpose=inquiry["purpose"],
            case=inquiry.get("case"),
            timeout=inquiry.get("timeout"),
        )

    def flush(self) -> None:
        """Wait until every logged call is in the database (tests and shutdown)."""
        self.exchange.writer.flush()

    async def aclose(self) -> None:
        await self.exchange.aclose()

    def close(self) -> None:
        self.exchange.close()
