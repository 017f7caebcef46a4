"""Periodic platform work on the job system: each run queues the next in the transaction that ends it.

A domain registers its work with `@periodic(kind, every_seconds=...)`; every worker queues whatever is
registered when it starts (`ensure_periodic`), and a job of a kind is queued or running at most once,
however many workers share the database.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from panjereh.core.config import Settings
from panjereh.core.db import unit_of_work, utcnow
from panjereh.core.logging import get_logger
from panjereh.delivery import jobs
from panjereh.delivery.models import Job, JobStatus
from panjereh.exchange import notices

log = get_logger(__name__)


@dataclass(frozen=True)
class Periodic:
    kind: str
    every_seconds: float
    first_after_seconds: float


PERIODIC: dict[str, Periodic] = {}


def ensure_recurring(session: Session, kind: str, *, delay: float = 0.0) -> None:
    """Queue a recurring job unless one of its kind is already queued or running."""
    pending = session.scalar(
        select(Job.id).where(Job.kind == kind, Job.status.in_((JobStatus.QUEUED, JobStatus.RUNNING)))
    )
    if pending is None:
        jobs.enqueue(session, kind, {}, run_at=utcnow() + timedelta(seconds=delay), max_attempts=1_000_000)


def ensure_periodic(session: Session) -> None:
    """Queue every registered periodic job that is not queued or running yet (at a worker's start)."""
    for item in PERIODIC.values():
        ensure_recurring(session, item.kind, delay=item.first_after_seconds)


def periodic(
    kind: str, *, every_seconds: float, first_after_seconds: float = 0.0
) -> Callable[[Callable[[jobs.JobContext], None]], Callable[[jobs.JobContext], None]]:
    """Run `work(ctx)` (sync: it goes to a worker thread) every `every_seconds` on the job worker.

    A run that raises is logged and the next one is queued all the same: periodic work must not stop
    because one run failed (a registry down, say); its own records say what failed.
    """

    def register(work: Callable[[jobs.JobContext], None]) -> Callable[[jobs.JobContext], None]:
        PERIODIC[kind] = Periodic(kind, every_seconds, first_after_seconds)

        @jobs.handler(kind)
        async def run(ctx: jobs.JobContext) -> None:
            try:
                await asyncio.to_thread(work, ctx)
            except Exception:
                log.exception("periodic.failed", kind=kind)
            with unit_of_work(ctx.sessionmaker) as session:
                ctx.complete(session)
                ensure_recurring(session, kind, delay=every_seconds)

        return work

    return register


DATA_ACCESS_NOTICES_JOB = "exchange.data_access_notices"


@periodic(DATA_ACCESS_NOTICES_JOB, every_seconds=60.0)
def data_access_notices(ctx: jobs.JobContext) -> None:
    """Tell subscribed citizens about agencies' new looks at their data (the cursor makes a rerun a no-op)."""
    settings: Settings = ctx.services["settings"]
    with unit_of_work(ctx.sessionmaker) as session:
        notices.notify_data_access(session, settings)
