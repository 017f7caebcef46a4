"""The platform's own client of the exchange (as agency `ito`): the gateway pipeline, in-process."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from prometheus_client import CollectorRegistry
from sqlalchemy.orm import Session

from panjereh.core.config import Settings
from panjereh.exchange.auth import ClientAuthenticator
from panjereh.exchange.exceptions import GrantMissing, ProviderUnavailable
from panjereh.exchange.metrics import ExchangeMetrics
from panjereh.exchange.pipeline import Call, Caller, Exchange, InquiryResult, ProviderFailure, Raw
from panjereh.exchange.service import PLATFORM_AGENCY, PLATFORM_CLIENT_ID

__all__ = ["GrantMissing", "InquiryResult", "PlatformClient", "ProviderUnavailable"]

PLATFORM_CALLER = Caller(client_id=PLATFORM_CLIENT_ID, agency_code=PLATFORM_AGENCY, rate_per_second=1_000_000)


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

    def inquire(
        self,
        service_code: str,
        *,
        subject: str | None,
        purpose: str,
        case: str | None = None,
        path_params: dict[str, str] | None = None,
        query: dict[str, str] | None = None,
        body: dict[str, Any] | None = None,
        timeout: float | None = None,
    ) -> InquiryResult:
        """Ask a data service (blocking). Raises GrantMissing or ProviderUnavailable."""
        call = self._prepare(service_code, subject, purpose, case, path_params, query, body, timeout)
        outcome: Raw | ProviderFailure
        try:
            outcome = self.exchange.forward_sync(call)
        except ProviderFailure as failure:
            outcome = failure
        return self.exchange.finish(call, outcome)[0]

    async def ainquire(
        self,
        service_code: str,
        *,
        subject: str | None,
        purpose: str,
        case: str | None = None,
        path_params: dict[str, str] | None = None,
        query: dict[str, str] | None = None,
        body: dict[str, Any] | None = None,
        timeout: float | None = None,
    ) -> InquiryResult:
        """Ask a data service (async, aiohttp). Raises GrantMissing or ProviderUnavailable."""
        args = (service_code, subject, purpose, case, path_params, query, body, timeout)
        # See Exchange.checks_on_loop and Exchange.checks_cached: no database round trip on the loop.
        if self.exchange.checks_on_loop or self.exchange.checks_cached(PLATFORM_CALLER, service_code):
            call = self._prepare(*args)
        else:
            call = await asyncio.to_thread(self._prepare, *args)
        outcome: Raw | ProviderFailure
        try:
            outcome = await self.exchange.forward_async(call)
        except ProviderFailure as failure:
            outcome = failure
        if self.exchange.writer.inline:  # inline logging writes to the database: not on the event loop
            return (await asyncio.to_thread(self.exchange.finish, call, outcome))[0]
        return self.exchange.finish(call, outcome)[0]

    def _prepare(
        self,
        service_code: str,
        subject: str | None,
        purpose: str,
        case: str | None,
        path_params: dict[str, str] | None,
        query: dict[str, str] | None,
        body: dict[str, Any] | None,
        timeout: float | None,
    ) -> Call:
        return self.exchange.prepare(
            PLATFORM_CALLER,
            service_code,
            path_params=path_params,
            query=query,
            json_body=body,
            subject=subject,
            purpose=purpose,
            case=case,
            timeout=timeout,
        )

    def flush(self) -> None:
        """Wait until every logged call is in the database (tests and shutdown)."""
        self.exchange.writer.flush()

    async def aclose(self) -> None:
        await self.exchange.aclose()

    def close(self) -> None:
        self.exchange.close()
