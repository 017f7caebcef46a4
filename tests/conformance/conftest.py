"""Fixtures of the connection-standard tests: agencies with systems on the simulated registries, faults."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import httpx
import pytest

from panjereh.conformance.checks.base import Outcome, SystemTarget
from panjereh.conformance.runner import check_system
from panjereh.core.config import ConformanceSettings, Settings

TOKEN = "test-registry-token"


def tuned(settings: Settings, config: ConformanceSettings) -> Settings:
    """The settings with this connection-standard section (the one way the service is configured)."""
    return settings.model_copy(update={"conformance": config})


@pytest.fixture
def config() -> ConformanceSettings:
    """Few probes, so a test is quick; a generous objective, since the registries share the test's process."""
    return ConformanceSettings(
        latency_probes=3,
        latency_objective_ms=2000,
        timeout_seconds=3,
        fail_threshold=2,
        unreachable_threshold=2,
        recover_threshold=1,
    )


@pytest.fixture
def run_checks(settings: Settings, config: ConformanceSettings) -> Callable[..., dict[str, Outcome]]:
    """Every system check against one address, by check id."""

    def run(
        base_url: str,
        *,
        with_settings: Settings | None = None,
        with_config: ConformanceSettings | None = None,
    ) -> dict[str, Outcome]:
        async def go() -> dict[str, Outcome]:
            async with httpx.AsyncClient(timeout=config.timeout_seconds) as http:
                target = SystemTarget("probe", "سامانه", base_url)
                findings = await check_system(target, http, with_settings or settings, with_config or config)
            return {finding.check_id: finding.outcome for finding in findings}

        return asyncio.run(go())

    return run
