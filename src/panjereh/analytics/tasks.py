"""The dashboards' periodic jobs: the rollups every 15 minutes, the measured shares hourly."""

from __future__ import annotations

from datetime import UTC, datetime

from panjereh.analytics import rollups, sources
from panjereh.core.db import unit_of_work
from panjereh.jobs import JobContext
from panjereh.jobs.periodic import periodic

ROLLUP_JOB = "analytics.rollup"
MEASURE_JOB = "analytics.measure"


@periodic(ROLLUP_JOB, every_seconds=900.0)
def roll_up(ctx: JobContext) -> None:
    """The dashboards read rollups only: yesterday, today and their Jalali months, recomputed."""
    with unit_of_work(ctx.sessionmaker) as session:
        rollups.rollup_recent(session, datetime.now(UTC).date())


@periodic(MEASURE_JOB, every_seconds=3600.0, first_after_seconds=120.0)
def measure_shares(ctx: JobContext) -> None:
    """This month's measured shares per agency (catalog, exchange, delivery, connection checks)."""
    with unit_of_work(ctx.sessionmaker) as session:
        sources.refresh_measured_shares(session)
