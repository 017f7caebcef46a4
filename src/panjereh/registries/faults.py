"""Fault injection: make a registry slow, flaky, down or garbled while the app runs.

The platform's timeouts, retries, circuit breakers and conformance checks are tested against
these switches. A fault applies to every request under the registry's prefix, health check and
OpenAPI document included, except the ``/_admin/`` routes.
"""

from __future__ import annotations

import asyncio
import random
import threading
from dataclasses import asdict, dataclass

from pydantic import BaseModel, ConfigDict, Field
from starlette.types import ASGIApp, Receive, Scope, Send

from panjereh.registries.problems import problem_bytes


class FaultSpec(BaseModel):
    """The faults switched on for one registry."""

    model_config = ConfigDict(extra="forbid")

    latency_ms: int = Field(0, ge=0, le=120_000, description="Delay added before answering")
    error_rate: float = Field(0.0, ge=0.0, le=1.0, description="Share of requests answered 500")
    down: bool = Field(False, description="Answer 503 to everything, health check included")
    garbage: bool = Field(False, description="Answer 200 with a malformed, non-JSON body")
    redirect_to: str | None = Field(
        None,
        max_length=2000,
        description="Answer 307 with this Location (a system trying to send the caller elsewhere)",
    )


@dataclass(frozen=True)
class Fault:
    """An immutable snapshot of one registry's faults."""

    latency_ms: int = 0
    error_rate: float = 0.0
    down: bool = False
    garbage: bool = False
    redirect_to: str | None = None

    @property
    def active(self) -> bool:
        return self != NO_FAULT


NO_FAULT = Fault()
GARBAGE_BODY = b'<html><body>Service Unavailable</body></html>\x00{"national_code": '


class FaultBoard:
    """The fault switches of every registry in one app."""

    def __init__(self, registries: list[str]) -> None:
        self.registries = list(registries)
        self._faults: dict[str, Fault] = {}
        self._lock = threading.Lock()
        self._rng = random.Random()  # error_rate draws are meant to be random, not seeded

    def get(self, registry: str) -> Fault:
        return self._faults.get(registry, NO_FAULT)

    def set(self, registry: str, spec: FaultSpec) -> Fault:
        fault = Fault(**spec.model_dump())
        with self._lock:
            self._faults[registry] = fault
        return fault

    def reset(self) -> None:
        with self._lock:
            self._faults.clear()

    def snapshot(self) -> dict[str, dict[str, object]]:
        """Every registry's faults, switched on or not."""
        return {code: asdict(self.get(code)) for code in self.registries}

    def fails_now(self, fault: Fault) -> bool:
        return fault.error_rate > 0 and self._rng.random() < fault.error_rate


class FaultMiddleware:
    """Pure ASGI middleware applying a registry's faults before the request reaches it."""

    def __init__(self, app: ASGIApp, board: FaultBoard, registry: str) -> None:
        self.app, self.board, self.registry = app, board, registry

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or "/_admin/" in scope["path"]:
            await self.app(scope, receive, send)
            return
        fault = self.board.get(self.registry)
        if fault.latency_ms:
            await asyncio.sleep(fault.latency_ms / 1000)
        if fault.down:
            body = problem_bytes(
                503,
                "registry_down",
                "Registry unavailable",
                f"The {self.registry} registry is down (injected fault).",
            )
            await _send(send, 503, body, b"application/problem+json", [(b"retry-after", b"5")])
        elif self.board.fails_now(fault):
            body = problem_bytes(
                500,
                "injected_error",
                "Internal error",
                f"The {self.registry} registry failed (injected fault).",
            )
            await _send(send, 500, body, b"application/problem+json")
        elif fault.redirect_to:
            headers = [(b"location", fault.redirect_to.encode())]
            await _send(send, 307, b"", b"text/plain", headers)
        elif fault.garbage:
            # Claims JSON, is not: what a misconfigured gateway in front of a real registry sends.
            await _send(send, 200, GARBAGE_BODY, b"application/json")
        else:
            await self.app(scope, receive, send)


async def _send(
    send: Send,
    status: int,
    body: bytes,
    content_type: bytes,
    headers: list[tuple[bytes, bytes]] | None = None,
) -> None:
    raw_headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": raw_headers + (headers or [])})
    await send({"type": "http.response.body", "body": body})
