"""Dated agency figures `(agency, metric, period, share, source)` and times to decision: writes and reads."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from panjereh.analytics.exceptions import InvalidShare
from panjereh.analytics.models import METRICS, AgencyDecisionTime, AgencyShare
from panjereh.core.db import utcnow

# When two sources describe the same month, a measurement from the platform's own data beats a report.
MEASURED_SOURCES = (
    "catalog-inventory",
    "exchange-inquiries",
    "delivery-definitions",
    "delivery-requests",
    "agencies-status",
)


def record_share(
    session: Session,
    *,
    agency_code: str,
    metric: str,
    period: date,
    share: float,
    source: str,
    base: int | None = None,
    note: str | None = None,
) -> AgencyShare:
    """Store (or correct) the figure one source gives for one agency, metric and month."""
    if metric not in METRICS:
        raise InvalidShare(f"Unknown metric {metric!r}.", f"شاخص «{metric}» شناخته‌شده نیست.")
    if not 0.0 <= share <= 1.0:
        raise InvalidShare(f"A share is a fraction in 0..1, not {share}.", "سهم باید کسری میان ۰ و ۱ باشد.")
    row = session.scalars(
        select(AgencyShare).where(
            AgencyShare.agency_code == agency_code,
            AgencyShare.metric == metric,
            AgencyShare.period == period,
            AgencyShare.source == source,
        )
    ).one_or_none()
    if row is None:
        row = AgencyShare(agency_code=agency_code, metric=metric, period=period, source=source)
        session.add(row)
    # A correction is recorded anew: `signature` (and so the dashboard's cached standings) sees it.
    row.share, row.base, row.note, row.recorded_at = share, base, note, utcnow()
    session.flush()
    return row


def signature(session: Session, since: date, until: date) -> tuple[int, str]:
    """A cheap fingerprint of the figures with period in [since, until): it moves with every write."""
    count, last = session.execute(
        select(func.count(), func.max(AgencyShare.recorded_at)).where(
            AgencyShare.period >= since, AgencyShare.period < until
        )
    ).one()
    return int(count or 0), str(last)


@dataclass(frozen=True)
class Figure:
    """One figure as the dashboard shows it: value, denominator if known, where and when it comes from."""

    value: float
    base: int | None
    period: date
    source: str
    note: str | None = None


def latest_figures(session: Session, since: date, until: date) -> dict[tuple[str, str], Figure]:
    """Per (agency, metric): the newest figure with period in [since, until) (a measurement beats a
    report of the same month)."""
    # Plain rows, not AgencyShare objects: the dashboard's overview reads a year of figures per view.
    rows = session.execute(
        select(
            AgencyShare.agency_code,
            AgencyShare.metric,
            AgencyShare.share,
            AgencyShare.base,
            AgencyShare.period,
            AgencyShare.source,
            AgencyShare.note,
        ).where(AgencyShare.period >= since, AgencyShare.period < until)
    ).all()
    best: dict[tuple[str, str], tuple[tuple[date, int], Figure]] = {}
    for code, metric, share, base, period, source, note in rows:
        key = (code, metric)
        priority = (period, 1 if source in MEASURED_SOURCES else 0)
        if key not in best or priority > best[key][0]:
            best[key] = (priority, Figure(share, base, period, source, note))
    return {key: figure for key, (_priority, figure) in best.items()}


def history(session: Session, agency_code: str) -> Sequence[AgencyShare]:
    """Every figure of one agency, oldest first (the scorecard over time)."""
    return session.scalars(
        select(AgencyShare)
        .where(AgencyShare.agency_code == agency_code)
        .order_by(AgencyShare.period, AgencyShare.metric, AgencyShare.source)
    ).all()


def record_decision_time(
    session: Session, *, agency_code: str, period: date, median_seconds: float, decided: int, source: str
) -> AgencyDecisionTime:
    """Store (or correct) one source's time to decision for one agency and month."""
    if median_seconds < 0 or decided < 1:
        raise InvalidShare(
            f"A time to decision needs decided requests and seconds >= 0: {median_seconds} s, {decided}.",
            "زمان تا تصمیم باید از درخواست‌های تصمیم‌گرفته و نامنفی باشد.",
        )
    row = session.scalars(
        select(AgencyDecisionTime).where(
            AgencyDecisionTime.agency_code == agency_code,
            AgencyDecisionTime.period == period,
            AgencyDecisionTime.source == source,
        )
    ).one_or_none()
    if row is None:
        row = AgencyDecisionTime(agency_code=agency_code, period=period, source=source)
        session.add(row)
    row.median_seconds, row.decided = median_seconds, decided
    session.flush()
    return row


def decision_time_history(session: Session, agency_code: str) -> Sequence[AgencyDecisionTime]:
    """Every time to decision of one agency, oldest first."""
    return session.scalars(
        select(AgencyDecisionTime)
        .where(AgencyDecisionTime.agency_code == agency_code)
        .order_by(AgencyDecisionTime.period, AgencyDecisionTime.source)
    ).all()
