"""The checks as jobs: on-demand passes and the periodic one. Each reads its plans in one unit of work,
probes with none open, and records in another."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from panjereh.agencies import selectors as agency_selectors
from panjereh.agencies.constants import ConnectionStatus
from panjereh.conformance import selectors, service
from panjereh.conformance.constants import RunTrigger, RunVerdict
from panjereh.conformance.runner import AgencyReport, Finding, probe_sync
from panjereh.core.config import Settings
from panjereh.core.db import unit_of_work, utcnow
from panjereh.core.logging import get_logger
from panjereh.jobs import JobContext
from panjereh.jobs.periodic import periodic

log = get_logger(__name__)

CHECKS_JOB = "conformance.checks"


@dataclass(frozen=True)
class RunSummary:
    """What a recorded run found, for printing and for callers that need no session."""

    agency_code: str
    run_id: str
    verdict: RunVerdict
    status_before: ConnectionStatus
    status_after: ConnectionStatus
    findings: list[Finding]


def run_checks(
    factory: sessionmaker[Session],
    settings: Settings,
    agency_codes: Sequence[str],
    *,
    trigger: RunTrigger = RunTrigger.MANUAL,
    on_done: Callable[[AgencyReport], None] | None = None,
) -> list[RunSummary]:
    """Check these agencies now (AgencyNotFound for an unknown code) and record every run."""
    config = settings.conformance
    with unit_of_work(factory) as session:
        plans = [
            service.plan(session, agency_selectors.get_agency_by_code(session, code), settings)
            for code in agency_codes
        ]
    # No transaction is held while agency systems are probed: a slow system must not pin a connection.
    reports = probe_sync(plans, settings, config, on_done=on_done)
    summaries = []
    with unit_of_work(factory) as session:
        for report in reports:
            run = service.record(session, report, trigger, config)
            summaries.append(
                RunSummary(
                    report.plan.agency_code,
                    run.id,
                    run.verdict,
                    run.status_before,
                    run.status_after,
                    report.findings,
                )
            )
    for summary in summaries:
        log.info(
            "conformance.run",
            agency=summary.agency_code,
            verdict=summary.verdict.value,
            status_before=summary.status_before.value,
            status_after=summary.status_after.value,
        )
    return summaries


def run_due_checks(
    factory: sessionmaker[Session],
    settings: Settings,
    *,
    now: datetime | None = None,
    trigger: RunTrigger = RunTrigger.SCHEDULE,
    on_done: Callable[[AgencyReport], None] | None = None,
) -> list[RunSummary]:
    """Check every agency whose last run is older than `interval_minutes` (call it every minute or so)."""
    config = settings.conformance
    with unit_of_work(factory) as session:
        due = [
            agency.code
            for agency in selectors.due_agencies(
                session, now or utcnow(), timedelta(minutes=config.interval_minutes)
            )
        ]
    if not due:
        return []
    return run_checks(factory, settings, due, trigger=trigger, on_done=on_done)


def all_checked_agencies(factory: sessionmaker[Session]) -> list[str]:
    """The codes `check --all` covers: every agency with a registered system."""
    with unit_of_work(factory) as session:
        return [agency.code for agency in agency_selectors.agencies_with_systems(session)]


@periodic(CHECKS_JOB, every_seconds=60.0, first_after_seconds=30.0)
def check_connections(ctx: JobContext) -> None:
    """The connection standard, tested continuously: each agency whose last check is older than
    `PANJEREH_CONFORMANCE_INTERVAL_MINUTES` is checked again (the first pass waits for start-up)."""
    run_due_checks(ctx.sessionmaker, ctx.services["settings"])
