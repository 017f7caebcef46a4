"""What the platform does on its own, and how often: the periodic work of the domains that sit above the
job system (the job system's own domain registers its work beside it, in `delivery.recurring`).

Imported by every process that runs the job worker — the application (with its in-process worker) and
`panjereh worker` — which registers the work; each worker queues it when it starts.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from panjereh.analytics import rollups, sources
from panjereh.conformance.tasks import run_due_checks
from panjereh.core.db import unit_of_work, utcnow
from panjereh.delivery.jobs import JobContext
from panjereh.delivery.recurring import periodic
from panjereh.exchange import service as exchange_service
from panjereh.exchange.config import ExchangeSettings
from panjereh.exchange.messagelog import seal_head
from panjereh.exchange.retention import archive_before
from panjereh.exchange.signing import load_signer

CONFORMANCE_CHECKS = "conformance.checks"
ANALYTICS_ROLLUP = "analytics.rollup"
ANALYTICS_MEASURE = "analytics.measure"
EXCHANGE_SEAL = "exchange.seal"
EXCHANGE_ARCHIVE = "exchange.archive"
EXCHANGE_DESCRIBE = "exchange.describe"

# Read when the worker imports this module: the periods of the exchange's own work are its settings.
_exchange = ExchangeSettings()


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


@periodic(EXCHANGE_SEAL, every_seconds=float(_exchange.seal_every_seconds))
def seal_message_log(ctx: JobContext) -> None:
    """Sign the message log's head whenever it has moved since the last seal.

    The writer seals only when it writes a batch: without this, the newest entries after traffic stops
    would stay unsigned, and a changed last entry with its hash and the head recomputed would verify.
    """
    settings = ctx.services["settings"]
    with unit_of_work(ctx.sessionmaker) as session:
        seal_head(session, load_signer(settings.home))


@periodic(EXCHANGE_DESCRIBE, every_seconds=300.0, first_after_seconds=20.0)
def describe_services(ctx: JobContext) -> None:
    """Data services published while their system was down get their schemas once it answers (the
    demo publishes before its registries start)."""
    with unit_of_work(ctx.sessionmaker) as session:
        exchange_service.describe_missing(session)


def archive_message_log(ctx: JobContext) -> None:
    """Move message log entries past `PANJEREH_EXCHANGE_RETENTION_DAYS` to the archive folder."""
    config = ExchangeSettings()
    if config.archive_dir is None:
        return
    with unit_of_work(ctx.sessionmaker) as session:
        archive_before(session, utcnow() - timedelta(days=config.retention_days), config.archive_dir)


# Archiving on a schedule only where an operator named the folder: files appearing on their own in a
# default place nobody watches would be entries quietly leaving the database.
if _exchange.archive_dir is not None:
    periodic(EXCHANGE_ARCHIVE, every_seconds=86400.0, first_after_seconds=600.0)(archive_message_log)
