"""Rollups: raw visits summed per day, first sign-ins per day, exact distinct users per Jalali month.

Dashboard figures read these small tables, never the raw events, so a national month (80 M visits)
answers in milliseconds. Rollups are recomputed for the days that have raw events (idempotent: a day
is replaced whole), so demo history seeded directly as rollups is never overwritten by an empty day.
Every change to these tables calls `rollups_changed` in its transaction: the web processes' cached
dashboard figures (analytics/cache.py) are dropped at its commit.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import delete, func, insert, literal, select, update
from sqlalchemy.orm import Session

from panjereh.analytics.models import (
    DEMO_HISTORY,
    EVENTS,
    ROLLUP_VERSION_ID,
    MonthActive,
    PseudonymousUser,
    RollupVersion,
    UserDaily,
    VisitDaily,
    visit_event,
)
from panjereh.core.db import utcnow
from panjereh.core.jalali import jalali_month_bounds, to_jalali

_GENERATION = select(RollupVersion.generation).where(RollupVersion.id == ROLLUP_VERSION_ID)


def rollup_generation(session: Session) -> int:
    """How many times the rollups have changed (0 if the row is missing)."""
    return int(session.scalar(_GENERATION) or 0)


def rollups_changed(session: Session) -> None:
    """The rollups changed in this transaction: every process's cached figures are stale at its commit
    (analytics/cache.py). Call it from every writer of the rollup tables."""
    bumped = session.execute(
        update(RollupVersion)
        .where(RollupVersion.id == ROLLUP_VERSION_ID)
        .values(generation=RollupVersion.generation + 1, changed_at=utcnow())
    )
    if getattr(bumped, "rowcount", 1) == 0:
        # A database made without the migration's row (the migration inserts it).
        session.add(RollupVersion(id=ROLLUP_VERSION_ID, generation=1, changed_at=utcnow()))
    session.flush()


def rollup_days(session: Session, since: date, until: date) -> int:
    """Recompute the daily rollups for days in [since, until) that have raw events; returns days done."""
    days = session.scalars(
        select(visit_event.c.day).where(visit_event.c.day >= since, visit_event.c.day < until).distinct()
    ).all()
    if not days:
        return 0
    session.execute(delete(VisitDaily).where(VisitDaily.day.in_(days)))
    agency = func.coalesce(visit_event.c.agency_code, literal(""))
    session.execute(
        insert(VisitDaily).from_select(
            ["day", "agency_code", "channel", "visits", "authenticated_visits"],
            select(
                visit_event.c.day,
                agency,
                visit_event.c.channel,
                func.count(),
                func.count(visit_event.c.visitor),
            )
            .where(visit_event.c.day >= since, visit_event.c.day < until)
            .group_by(visit_event.c.day, agency, visit_event.c.channel),
        )
    )
    session.execute(delete(UserDaily).where(UserDaily.day.in_(days)))
    session.execute(
        insert(UserDaily).from_select(
            ["day", "new_users"],
            select(PseudonymousUser.first_seen_on, func.count())
            .where(PseudonymousUser.first_seen_on.in_(days))
            .group_by(PseudonymousUser.first_seen_on),
        )
    )
    rollups_changed(session)
    return len(days)


def rollup_users(session: Session, since: date, until: date) -> int:
    """Recompute first sign-ins per day in [since, until) from the pseudonymous users (all days)."""
    days_with_users = select(PseudonymousUser.first_seen_on).where(
        PseudonymousUser.first_seen_on >= since, PseudonymousUser.first_seen_on < until
    )
    session.execute(delete(UserDaily).where(UserDaily.day.in_(days_with_users.distinct())))
    session.execute(
        insert(UserDaily).from_select(
            ["day", "new_users"],
            select(PseudonymousUser.first_seen_on, func.count())
            .where(PseudonymousUser.first_seen_on >= since, PseudonymousUser.first_seen_on < until)
            .group_by(PseudonymousUser.first_seen_on),
        )
    )
    rollups_changed(session)
    return int(
        session.scalar(
            select(func.count()).select_from(UserDaily).where(UserDaily.day >= since, UserDaily.day < until)
        )
        or 0
    )


def rollup_month(
    session: Session, year: int, month: int, *, replace_model: bool = False
) -> MonthActive | None:
    """Recompute a Jalali month's exact distinct users and visits from raw events (None if it has none).

    A month the demo history models keeps the model's figures (unless `replace_model`, for a load that
    replaces the month whole): its visits are mostly modelled days, and the model's distinct users
    can't be counted together with a demo's few live ones."""
    start, end = jalali_month_bounds(year, month)
    rollup_days(session, start, end)
    row = session.get(MonthActive, (year, month))
    if row is not None and row.source == DEMO_HISTORY and not replace_model:
        return row
    in_month = (visit_event.c.day >= start, visit_event.c.day < end)
    visits = session.scalar(select(func.count()).select_from(visit_event).where(*in_month)) or 0
    if not visits:
        return None
    # GROUP BY in a subquery rather than COUNT(DISTINCT): PostgreSQL runs it as a parallel hash aggregate.
    visitors = select(visit_event.c.visitor).where(*in_month, visit_event.c.visitor.is_not(None))
    active = session.scalar(
        select(func.count()).select_from(visitors.group_by(visit_event.c.visitor).subquery())
    )
    active = active or 0
    if row is None:
        row = MonthActive(year=year, month=month)
        session.add(row)
    row.active_users, row.visits, row.source, row.computed_at = active, visits, EVENTS, utcnow()
    rollups_changed(session)
    return row


def rollup_recent(session: Session, today: date, days: int = 2) -> None:
    """The periodic job: yesterday and today, and the current (and just-closed) Jalali month."""
    since = today - timedelta(days=days - 1)
    rollup_days(session, since, today + timedelta(days=1))
    months = {
        (to_jalali(since).year, to_jalali(since).month),
        (to_jalali(today).year, to_jalali(today).month),
    }
    for year, month in sorted(months):
        rollup_month(session, year, month)
