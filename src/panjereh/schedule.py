"""What the platform does on its own, and how often: the periodic work of the domains that sit above the
job system (the job system's own domain registers its work beside it, in `delivery.recurring`).

Imported by every process that runs the job worker — the application (with its in-process worker) and
`panjereh worker` — which registers the work; each worker queues it when it starts.
"""

from __future__ import annotations

from datetime import UTC, datetime

from panjereh.analytics import rollups, sources
from panjereh.conformance.tasks import run_due_checks
from panjereh.core.db import unit_of_work
from panjereh.delivery.jobs import JobContext
from panjereh.delivery.recurring import periodic

CONFORMANCE_CHECKS = "conformance.checks"
ANALYTICS_ROLLUP = "analytics.rollup"
ANALYTICS_MEASURE = "analytics.measure"


@periodic(CONFORMANCE_CHECKS, every_seconds=60.0, first_after_seconds=30.0)
def check_connections(ctx: JobContext) -> None:
    """The connection standard, tested continuously: each agency whose last check is older than
    `PANJEREH_CONFORMANCE_INTERVAL_MINUTES` is checked again (the first pass waits for start-up)."""
    run_due_checks(ctx.sessionmaker, ctx.services["settings"])


@periodic(ANALYTICS_ROLLUP, every_seconds=900.0)
def roll_up(ctx: JobContext) -> None:
    """The dashboards read rollups only: yesterday, today and their Jalali months, recomputed."""
    with unit_of_work(ctx.sessionmaker) as session:
        rollups.rollup_recent(session, datetime.now(UTC).date())


@periodic(ANALYTICS_MEASURE, every_seconds=3600.0, first_after_seconds=120.0)
def measure_shares(ctx: JobContext) -> None:
    """This month's measured shares per agency (catalog, exchange, delivery, connection checks)."""
    with unit_of_work(ctx.sessionmaker) as session:
        sources.refresh_measured_shares(session)
