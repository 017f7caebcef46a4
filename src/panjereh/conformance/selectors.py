"""Reads of the connection standard, for the pages, the CLI, the dashboard and the scheduler."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from panjereh.agencies.models import Agency, AgencySystem, ConnectionStatus
from panjereh.conformance.exceptions import RunNotFound
from panjereh.conformance.models import ConformanceRun, ConformanceState, StatusChange


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
    agencies = session.scalars(select(Agency).order_by(Agency.code)).all()
    systems = dict(
        session.execute(select(AgencySystem.agency_id, func.count()).group_by(AgencySystem.agency_id)).all()
    )
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


def status_counts(session: Session) -> dict[ConnectionStatus, int]:
    """How many agencies are in each connection status (the dashboard's figure)."""
    counts = dict(
        session.execute(
            select(Agency.connection_status, func.count()).group_by(Agency.connection_status)
        ).all()
    )
    return {status: counts.get(status, 0) for status in ConnectionStatus}


def due_agencies(session: Session, now: datetime, interval: timedelta) -> Sequence[Agency]:
    """Agencies with at least one system whose last run is older than the interval (or who never ran)."""
    has_system = select(AgencySystem.agency_id).distinct()
    return session.scalars(
        select(Agency)
        .outerjoin(ConformanceState, ConformanceState.agency_id == Agency.id)
        .where(Agency.id.in_(has_system))
        .where((ConformanceState.last_run_at.is_(None)) | (ConformanceState.last_run_at <= now - interval))
        .order_by(Agency.code)
    ).all()


def agencies_with_systems(session: Session) -> Sequence[Agency]:
    """Every agency that has at least one registered system (what `check --all` covers)."""
    has_system = select(AgencySystem.agency_id).distinct()
    return session.scalars(select(Agency).where(Agency.id.in_(has_system)).order_by(Agency.code)).all()
