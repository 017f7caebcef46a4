"""The exchange's periodic jobs: the message log's seal and archive, late schemas, data-access notices."""

from __future__ import annotations

from datetime import timedelta

from panjereh.core.config import Settings
from panjereh.core.db import unit_of_work, utcnow
from panjereh.exchange import notices
from panjereh.exchange import service as exchange_service
from panjereh.exchange.messagelog import seal_and_witness
from panjereh.exchange.retention import archive_before
from panjereh.exchange.signing import load_signer
from panjereh.exchange.timestamps import stamp_witness
from panjereh.exchange.witness import witness_for
from panjereh.jobs import JobContext
from panjereh.jobs.periodic import periodic

SEAL_JOB = "exchange.seal"
ARCHIVE_JOB = "exchange.archive"
TIMESTAMP_JOB = "exchange.timestamp"
DESCRIBE_JOB = "exchange.describe"
DATA_ACCESS_NOTICES_JOB = "exchange.data_access_notices"


@periodic(SEAL_JOB, every_seconds=lambda settings: float(settings.exchange.seal_every_seconds))
def seal_message_log(ctx: JobContext) -> None:
    """Sign the message log's head whenever it has moved since the last seal, and witness the seals.

    The writer seals only when it writes a batch: without this, the newest entries after traffic stops
    would stay unsigned, and a changed last entry with its hash and the head recomputed would verify.
    This bounds the unsealed window to `PANJEREH_EXCHANGE_SEAL_EVERY_SECONDS`; the witness step also
    appends any seal a writer made but could not witness (a crash between its commit and the append).
    """
    settings: Settings = ctx.services["settings"]
    signer = load_signer(settings.home)
    seal_and_witness(
        ctx.sessionmaker, signer, witness_for(settings.home, settings.exchange.witness_file, signer)
    )


def _tsa_named(settings: Settings) -> bool:
    return bool(settings.exchange.tsa_url)


@periodic(
    TIMESTAMP_JOB,
    every_seconds=lambda settings: float(settings.exchange.timestamp_every_seconds),
    enabled=_tsa_named,
)
def timestamp_witness(ctx: JobContext) -> None:
    """Get an RFC 3161 time-stamp over the newest witnessed head (none when the TSA is down: next run)."""
    settings: Settings = ctx.services["settings"]
    if not settings.exchange.tsa_url:  # queued before the TSA was unset
        return
    signer = load_signer(settings.home)
    stamp_witness(settings, witness_for(settings.home, settings.exchange.witness_file, signer))


@periodic(DESCRIBE_JOB, every_seconds=300.0, first_after_seconds=20.0)
def describe_services(ctx: JobContext) -> None:
    """Data services published while their system was down get their schemas once it answers (the
    demo publishes before its registries start)."""
    with unit_of_work(ctx.sessionmaker) as session:
        exchange_service.describe_missing(session)


def _archive_folder_named(settings: Settings) -> bool:
    # Archiving on a schedule only where an operator named the folder: files appearing on their own in a
    # default place nobody watches would be entries quietly leaving the database.
    return settings.exchange.archive_dir is not None


@periodic(ARCHIVE_JOB, every_seconds=86400.0, first_after_seconds=600.0, enabled=_archive_folder_named)
def archive_message_log(ctx: JobContext) -> None:
    """Move message log entries past `PANJEREH_EXCHANGE_RETENTION_DAYS` to the archive folder."""
    config = ctx.services["settings"].exchange
    if config.archive_dir is None:  # queued before the folder was unset: nothing to do
        return
    with unit_of_work(ctx.sessionmaker) as session:
        archive_before(session, utcnow() - timedelta(days=config.retention_days), config.archive_dir)


@periodic(DATA_ACCESS_NOTICES_JOB, every_seconds=60.0)
def data_access_notices(ctx: JobContext) -> None:
    """Tell subscribed citizens about agencies' new looks at their data (the cursor makes a rerun a no-op)."""
    with unit_of_work(ctx.sessionmaker) as session:
        notices.notify_data_access(session, ctx.services["settings"])
