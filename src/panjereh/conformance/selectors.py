"""Reads of the connection standard, for the pages, the CLI, the dashboard and the scheduler."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from panjereh.agencies import selectors as agency_selectors
from panjereh.agencies.constants import ConnectionStatus
from panjereh.conformance.exceptions import RunNotFound
from panjereh.conformance.models import ConformanceRun, ConformanceState, StatusChange

if TYPE_CHECKING:
    from panjereh.agencies.models import Agency


def latest_run(session: Session, agency_id: str) -> ConformanceRun | None:
    """The agency's newest run with its results, or None."""
    return session.scalars(
        select(ConformanceRun)
        .where(ConformanceRun.agency_id == agency_id)
        .options(selectinload(ConformanceRun.results))
        .order_by(ConformanceRun.started_at.desc(), ConformanceRun.finished_at.desc())
        .limit(1)
    ).first()


def get_run(session: Session, run_id: str) -> ConformanceRun:
    """One run with its results, or RunNotFound."""
    run = session.scalars(
        select(ConformanceRun)
        .where(ConformanceRun.id == run_id)
        .options(selectinload(ConformanceRun.results))
    ).one_or_none()
    if run is None:
        raise RunNotFound(f"No conformance run {run_id!r}.", f"اجرای «{run_id}» پیدا نشد.")
    return run


def runs_of(session: Session, agency_id: str, limit: int = 30) -> Sequence[ConformanceRun]:
    """The agency's runs, newest first (without their results)."""
    return session.scalars(
        select(ConformanceRun)
        .where(ConformanceRun.agency_id == agency_id)
        .order_by(ConformanceRun.started_at.desc(), ConformanceRun.finished_at.desc())
        .limit(limit)
    ).all()


def status_history(session: Session, agency_id: str, limit: int = 50) -> Sequence[StatusChange]:
    """The agency's status changes, newest first."""
    return session.scalars(
        select(StatusChange)
        .where(StatusChange.agency_id == agency_id)
        .order_by(StatusChange.at.desc())
        .limit(limit)
    ).all()


def state(session: Session, agency_id: str) -> ConformanceState | None:
    return session.get(ConformanceState, agency_id)


@dataclass(frozen=True)
class AgencyConformance:
    """One row of the national list: the agency, its status and its last run."""

    agency: Agency
    systems: int
    last_run: ConformanceRun | None
    suspended: bool


def national_overview(session: Session) -> list[AgencyConformance]:
    """Every agency with its status, systems count and newest run; the worst statuses first."""
    agencies = agency_selectors.list_agencies(session)
    systems = agency_selectors.system_counts(session)
    newest = (
        select(ConformanceRun.agency_id, func.max(ConformanceRun.started_at).label("at"))
        .group_by(ConformanceRun.agency_id)
        .subquery()
    )
    runs = {
        run.agency_id: run
        for run in session.scalars(
            select(ConformanceRun).join(
                newest,
                (ConformanceRun.agency_id == newest.c.agency_id) & (ConformanceRun.started_at == newest.c.at),
            )
        )
    }
    suspended = set(session.scalars(select(ConformanceState.agency_id).where(ConformanceState.suspended)))
    order = {
        ConnectionStatus.DISCONNECTED: 0,
        ConnectionStatus.STANDARD_LOST: 1,
        ConnectionStatus.NOT_CONNECTED: 2,
        ConnectionStatus.CONNECTED: 3,
    }
    rows = [
        AgencyConformance(agency, systems.get(agency.id, 0), runs.get(agency.id), agency.id in suspended)
        for agency in agencies
    ]
    rows.sort(key=lambda row: (order[row.agency.connection_status], row.agency.code))
    return rows


def due_agencies(session: Session, now: datetime, interval: timedelta) -> list[Agency]:
    """Agencies with at least one system whose last run is older than the interval (or who never ran),
    and every agency shown as connected with no system (its run finds nothing to test and disconnects it)."""
    runs = session.execute(select(ConformanceState.agency_id, ConformanceState.last_run_at))
    last_runs = dict(runs.all())
    with_systems = agency_selectors.agencies_with_systems(session)
    due = [
        agency
        for agency in with_systems
        if (last := last_runs.get(agency.id)) is None or last <= now - interval
    ]
    tested = {agency.id for agency in with_systems}
    untested = [
        agency
        for agency in agency_selectors.list_agencies(session)
        if agency.connection_status is ConnectionStatus.CONNECTED and agency.id not in tested
    ]
    return sorted(due + untested, key=lambda agency: agency.code)
