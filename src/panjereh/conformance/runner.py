"""Runs the system checks over HTTP: several systems at once, each probe with a timeout, no session held."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import httpx

from panjereh.agencies.constants import ConnectionStatus
from panjereh.conformance.checks import standard
from panjereh.conformance.checks.base import Outcome, ProbeContext, SystemCheck, SystemTarget, elapsed_ms
from panjereh.conformance.constants import CheckStatus, RunVerdict
from panjereh.core.config import ConformanceSettings, Settings
from panjereh.core.db import utcnow


@dataclass(frozen=True)
class Finding:
    """One check's outcome on one system (system_code None: an agency-wide check)."""

    check_id: str
    system_code: str | None
    outcome: Outcome
    duration_ms: float = 0.0


@dataclass
class AgencyPlan:
    """What a run needs, read from the database beforehand: the agency, its systems, agency-wide findings."""

    agency_id: str
    agency_code: str
    status: ConnectionStatus
    targets: list[SystemTarget]
    agency_findings: list[Finding] = field(default_factory=list)
    started_at: datetime = field(default_factory=utcnow)


@dataclass
class AgencyReport:
    """A plan with every finding, ready to be recorded."""

    plan: AgencyPlan
    findings: list[Finding]
    finished_at: datetime

    @property
    def verdict(self) -> RunVerdict:
        return verdict_of(self.plan.targets, self.findings)


def verdict_of(targets: list[SystemTarget], findings: list[Finding]) -> RunVerdict:
    """Unreachable beats failing beats passing; an agency without systems is not judged."""
    if not targets:
        return RunVerdict.NO_SYSTEMS
    if any(f.check_id == "reachable" and f.outcome.details.get("unreachable") for f in findings):
        return RunVerdict.UNREACHABLE
    if any(f.outcome.status is CheckStatus.FAIL for f in findings):
        return RunVerdict.FAILING
    return RunVerdict.PASSING


async def _timed(check: SystemCheck, ctx: ProbeContext) -> Finding:
    started = time.perf_counter()
    try:
        outcome = await check.run(ctx)
    except Exception as exc:  # a broken plugin reports itself instead of losing the whole run
        outcome = Outcome(
            CheckStatus.FAIL,
            f"The check itself failed ({type(exc).__name__}: {exc}).",
            "خود این بررسی با خطا متوقف شد.",
            {"error": type(exc).__name__},
        )
    return Finding(check.id, ctx.target.code, outcome, elapsed_ms(started))


async def check_system(
    target: SystemTarget, http: httpx.AsyncClient, settings: Settings, config: ConformanceSettings
) -> list[Finding]:
    """Every system check against one system: the gate first, then the rest concurrently."""
    ctx = ProbeContext(target, http, settings=settings, config=config)
    checks = standard.system_checks()
    gates = [check for check in checks if check.gate]
    findings = [await _timed(check, ctx) for check in gates]
    rest = [check for check in checks if not check.gate]
    if any(f.outcome.details.get("unreachable") for f in findings):
        reason = next(f.outcome for f in findings if f.outcome.details.get("unreachable"))
        findings += [
            Finding(
                check.id,
                target.code,
                Outcome(
                    CheckStatus.SKIPPED,
                    f"Not checked: the system is unreachable ({reason.reason_en})",
                    "بررسی نشد: سامانه در دسترس نیست.",
                ),
            )
            for check in rest
        ]
        return findings
    findings += await asyncio.gather(*(_timed(check, ctx) for check in rest))
    return findings


async def probe(
    plans: list[AgencyPlan],
    settings: Settings,
    config: ConformanceSettings,
    *,
    on_done: Callable[[AgencyReport], None] | None = None,
) -> list[AgencyReport]:
    """Run the system checks of every plan, at most `config.concurrency` systems at a time."""
    semaphore = asyncio.Semaphore(config.concurrency)
    timeout = httpx.Timeout(config.timeout_seconds)
    limits = httpx.Limits(max_connections=config.concurrency * 4)
    async with httpx.AsyncClient(timeout=timeout, limits=limits, follow_redirects=False) as http:

        async def one_system(target: SystemTarget) -> list[Finding]:
            async with semaphore:
                return await check_system(target, http, settings, config)

        async def one_agency(plan: AgencyPlan) -> AgencyReport:
            per_system = await asyncio.gather(*(one_system(target) for target in plan.targets))
            findings = [finding for group in per_system for finding in group] + plan.agency_findings
            report = AgencyReport(plan, findings, utcnow())
            if on_done is not None:
                on_done(report)
            return report

        return list(await asyncio.gather(*(one_agency(plan) for plan in plans)))


def probe_sync(
    plans: list[AgencyPlan],
    settings: Settings,
    config: ConformanceSettings,
    *,
    on_done: Callable[[AgencyReport], None] | None = None,
) -> list[AgencyReport]:
    """`probe` from synchronous code (CLI, jobs, a request's worker thread)."""
    return asyncio.run(probe(plans, settings, config, on_done=on_done))
