"""Writes of the connection standard: plan a run, record its findings, move the status (flush only)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from panjereh.agencies import selectors as agency_selectors
from panjereh.agencies import service as agency_service
from panjereh.agencies.constants import ConnectionStatus
from panjereh.conformance.checks import standard
from panjereh.conformance.checks.base import SystemTarget
from panjereh.conformance.constants import CheckStatus, RunTrigger, RunVerdict
from panjereh.conformance.exceptions import RunTooSoon
from panjereh.conformance.models import ConformanceResult, ConformanceRun, ConformanceState, StatusChange
from panjereh.conformance.runner import AgencyPlan, AgencyReport, Finding, probe_sync
from panjereh.core.config import ConformanceSettings, Settings
from panjereh.core.db import utcnow
from panjereh.core.persian import to_persian_digits
from panjereh.exchange import selectors as exchange_selectors

if TYPE_CHECKING:
    from panjereh.agencies.models import Agency


def state_of(session: Session, agency: Agency) -> ConformanceState:
    """The agency's streaks and suspension, created on first use."""
    state = session.get(ConformanceState, agency.id)
    if state is None:
        state = ConformanceState(
            agency_id=agency.id, failing_streak=0, unreachable_streak=0, passing_streak=0, suspended=False
        )
        session.add(state)
        session.flush()
    return state


def refuse_if_too_soon(
    session: Session, agency: Agency, config: ConformanceSettings, now: datetime | None = None
) -> None:
    """RunTooSoon (429, Retry-After) when the agency's last run ended within the on-demand cooldown: each run
    probes the agency's systems many times, and a button pressed again and again must not load them."""
    last = session.scalar(
        select(ConformanceRun.finished_at)
        .where(ConformanceRun.agency_id == agency.id)
        .order_by(ConformanceRun.finished_at.desc())
        .limit(1)
    )
    if last is None or config.manual_cooldown_seconds == 0:
        return
    wait = config.manual_cooldown_seconds - ((now or utcnow()) - last).total_seconds()
    if wait > 0:
        seconds = math.ceil(wait)
        in_persian = to_persian_digits(str(seconds))
        raise RunTooSoon(
            f"The last run ended moments ago; run again in {seconds} s.",
            f"آخرین بررسی همین چند لحظه پیش تمام شد؛ {in_persian} ثانیهٔ دیگر دوباره اجرا کنید.",
            headers={"Retry-After": str(seconds)},
            retry_after_seconds=seconds,
        )


def plan(session: Session, agency: Agency, settings: Settings) -> AgencyPlan:
    """Snapshot the agency's systems and run the agency-wide checks, before any network call."""
    started = utcnow()
    objectives: dict[str, float] = {}
    for data_service in exchange_selectors.list_services(session, agency.code):
        known = objectives.get(data_service.system_id)
        objective = float(data_service.latency_objective_ms)
        objectives[data_service.system_id] = objective if known is None else min(known, objective)
    targets = [
        SystemTarget(s.code, s.name_fa, s.base_url, s.openapi_url, s.health_url, objectives.get(s.id))
        for s in agency_selectors.list_systems(session, agency.id)
    ]
    findings = []
    for check in standard.agency_checks():
        findings.append(Finding(check.id, None, check.run(session, agency, settings)))
    return AgencyPlan(agency.id, agency.code, agency.connection_status, targets, findings, started)


@dataclass(frozen=True)
class Transition:
    """Where the status goes after a run, and why."""

    to: ConnectionStatus
    reason_en: str
    reason_fa: str


def next_status(
    current: ConnectionStatus, verdict: RunVerdict, state: ConformanceState, config: ConformanceSettings
) -> Transition | None:
    """The status machine (design.md §3 flow 7); None when the status stays.

    connected → standard_lost: failing `fail_threshold` runs in a row (answers, but fails the standard);
    any → disconnected: unreachable `unreachable_threshold` runs in a row, or suspended;
    disconnected → standard_lost: reachable again but still failing (reconnecting);
    standard_lost | disconnected | not_connected → connected: passing `recover_threshold` runs in a row;
    connected → not_connected: no system to test (connected means tested).
    """
    if state.suspended:
        if current is ConnectionStatus.DISCONNECTED:
            return None
        return Transition(
            ConnectionStatus.DISCONNECTED,
            f"Suspended: {state.suspended_reason}",
            f"اتصال تعلیق شد: {state.suspended_reason}",
        )
    if verdict is RunVerdict.NO_SYSTEMS:
        if current is ConnectionStatus.CONNECTED:  # "connected" means tested: nothing to test, not connected
            return Transition(
                ConnectionStatus.NOT_CONNECTED,
                "No system registered for the connection standard to test.",
                "سامانه‌ای برای آزمون استاندارد اتصال ثبت نشده است.",
            )
        return None
    if verdict is RunVerdict.PASSING:
        if current is not ConnectionStatus.CONNECTED and state.passing_streak >= config.recover_threshold:
            return Transition(
                ConnectionStatus.CONNECTED,
                f"Passed the connection standard {state.passing_streak} run(s) in a row.",
                f"{state.passing_streak} بار پیاپی استاندارد اتصال را گذراند.",
            )
        return None
    if verdict is RunVerdict.UNREACHABLE:
        if (
            current is not ConnectionStatus.DISCONNECTED
            and state.unreachable_streak >= config.unreachable_threshold
        ):
            return Transition(
                ConnectionStatus.DISCONNECTED,
                f"Unreachable {state.unreachable_streak} run(s) in a row.",
                f"{state.unreachable_streak} بار پیاپی در دسترس نبود.",
            )
    elif current is ConnectionStatus.DISCONNECTED:  # FAILING: the systems answer but some check fails.
        return Transition(
            ConnectionStatus.STANDARD_LOST,
            "Reachable again but failing the connection standard (reconnecting).",
            "دوباره در دسترس است اما هنوز استاندارد اتصال را نمی‌گذراند (در حال اتصال مجدد).",
        )
    # Unreachable or failing alike: a connected agency loses the standard after enough such runs.
    if current is ConnectionStatus.CONNECTED and state.failing_streak >= config.fail_threshold:
        return Transition(
            ConnectionStatus.STANDARD_LOST,
            f"Failing the connection standard {state.failing_streak} run(s) in a row.",
            f"{state.failing_streak} بار پیاپی استاندارد اتصال را نگذراند.",
        )
    return None


def _update_streaks(state: ConformanceState, verdict: RunVerdict) -> None:
    if verdict is RunVerdict.NO_SYSTEMS:
        return
    if verdict is RunVerdict.PASSING:
        state.passing_streak += 1
        state.failing_streak = state.unreachable_streak = 0
        return
    state.passing_streak = 0
    state.failing_streak += 1  # an unreachable system fails the standard too
    state.unreachable_streak = state.unreachable_streak + 1 if verdict is RunVerdict.UNREACHABLE else 0


def _failure_summary(findings: list[Finding]) -> tuple[str, str]:
    """The first failures of a run, as the reason attached to a status change."""
    failing = [f for f in findings if f.outcome.status is CheckStatus.FAIL][:3]
    if not failing:
        return "", ""
    en = "; ".join(f"{f.system_code or 'agency'} / {f.check_id}: {f.outcome.reason_en}" for f in failing)
    fa = "؛ ".join(f"{f.system_code or 'دستگاه'} / {f.check_id}: {f.outcome.reason_fa}" for f in failing)
    return en, fa


def record(
    session: Session, report: AgencyReport, trigger: RunTrigger, config: ConformanceSettings
) -> ConformanceRun:
    """Store a run with every finding, update the streaks and move the status (with history) if due."""
    agency = agency_selectors.get_agency(session, report.plan.agency_id)
    state = state_of(session, agency)
    verdict = report.verdict
    findings = report.findings
    before = agency.connection_status
    run = ConformanceRun(
        agency_id=agency.id,
        trigger=trigger,
        started_at=report.plan.started_at,
        finished_at=report.finished_at,
        verdict=verdict,
        passed=sum(f.outcome.status is CheckStatus.PASS for f in findings),
        warned=sum(f.outcome.status is CheckStatus.WARN for f in findings),
        failed=sum(f.outcome.status is CheckStatus.FAIL for f in findings),
        status_before=before,
        status_after=before,
    )
    order = {check.id: index for index, check in enumerate(standard)}
    ordered = sorted(
        findings, key=lambda f: (f.system_code is None, f.system_code or "", order.get(f.check_id, 99))
    )
    for position, finding in enumerate(ordered):
        run.results.append(
            ConformanceResult(
                position=position,
                system_code=finding.system_code,
                check_id=finding.check_id,
                status=finding.outcome.status,
                reason_en=finding.outcome.reason_en,
                reason_fa=finding.outcome.reason_fa,
                details=finding.outcome.details,
                duration_ms=finding.duration_ms,
            )
        )
    session.add(run)
    session.flush()
    _update_streaks(state, verdict)
    state.last_run_at = report.finished_at
    transition = next_status(before, verdict, state, config)
    if transition is not None:
        failures_en, failures_fa = _failure_summary(findings)
        change_status(
            session,
            agency,
            transition.to,
            reason_en=" — ".join(part for part in (transition.reason_en, failures_en) if part),
            reason_fa=" — ".join(part for part in (transition.reason_fa, failures_fa) if part),
            run=run,
        )
        run.status_after = transition.to
    session.flush()
    return run


def change_status(
    session: Session,
    agency: Agency,
    status: ConnectionStatus,
    *,
    reason_en: str,
    reason_fa: str,
    run: ConformanceRun | None = None,
) -> StatusChange:
    """Move the agency's status (stored by the agencies domain) and write the history row."""
    change = StatusChange(
        agency_id=agency.id,
        run_id=run.id if run is not None else None,
        at=utcnow(),
        from_status=agency.connection_status,
        to_status=status,
        reason_en=reason_en,
        reason_fa=reason_fa,
    )
    session.add(change)
    agency_service.set_connection_status(session, agency, status)
    return change


def suspend(session: Session, agency: Agency, *, reason: str) -> None:
    """Suspend the agency's connection: disconnected at once, and kept so whatever the checks find."""
    state = state_of(session, agency)
    state.suspended = True
    state.suspended_reason = reason
    if agency.connection_status is not ConnectionStatus.DISCONNECTED:
        change_status(
            session,
            agency,
            ConnectionStatus.DISCONNECTED,
            reason_en=f"Suspended: {reason}",
            reason_fa=f"اتصال تعلیق شد: {reason}",
        )
    session.flush()


def reinstate(session: Session, agency: Agency) -> None:
    """Lift a suspension; the next passing run(s) reconnect the agency."""
    state = state_of(session, agency)
    state.suspended = False
    state.suspended_reason = ""
    state.passing_streak = 0
    session.flush()


def check_agency(
    session: Session,
    settings: Settings,
    agency: Agency,
    *,
    trigger: RunTrigger = RunTrigger.MANUAL,
) -> ConformanceRun:
    """Run the suite against one agency now and record it (the probes run inside the caller's transaction)."""
    config = settings.conformance
    [report] = probe_sync([plan(session, agency, settings)], settings, config)
    return record(session, report, trigger, config)


def record_initial_status(session: Session, agency: Agency) -> StatusChange | None:
    """Start the history of an agency with its current status, once (the demo data's reported status)."""
    if session.scalars(select(StatusChange.id).where(StatusChange.agency_id == agency.id).limit(1)).first():
        return None
    change = StatusChange(
        agency_id=agency.id,
        at=utcnow(),
        from_status=None,
        to_status=agency.connection_status,
        reason_en="The status as reported when the record began (demo data).",
        reason_fa="وضعیت گزارش‌شده در آغاز ثبت سابقه (دادهٔ نمایشی).",
    )
    session.add(change)
    session.flush()
    return change
