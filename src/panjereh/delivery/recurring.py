"""Recurring platform jobs on the job system: each run queues the next in the transaction that ends it."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from panjereh.core.config import Settings
from panjereh.core.db import unit_of_work, utcnow
from panjereh.delivery import jobs
from panjereh.delivery.models import Job, JobStatus
from panjereh.exchange import notices

DATA_ACCESS_NOTICES_JOB = "exchange.data_access_notices"
DATA_ACCESS_NOTICES_EVERY_SECONDS = 60.0


def ensure_recurring(session: Session, kind: str, *, delay: float = 0.0) -> None:
    """Queue a recurring job unless one of its kind is already queued or running."""
    pending = session.scalar(
        select(Job.id).where(Job.kind == kind, Job.status.in_((JobStatus.QUEUED, JobStatus.RUNNING)))
    )
    if pending is None:
        jobs.enqueue(session, kind, {}, run_at=utcnow() + timedelta(seconds=delay), max_attempts=1_000_000)


@jobs.handler(DATA_ACCESS_NOTICES_JOB)
async def data_access_notices_job(ctx: jobs.JobContext) -> None:
    """Tell subscribed citizens about agencies' new looks at their data, then queue the next run."""
    settings: Settings = ctx.services["settings"]
    with unit_of_work(ctx.sessionmaker) as session:
        ctx.hold(session)
        notices.notify_data_access(session, settings)
        ctx.complete(session)
        ensure_recurring(session, DATA_ACCESS_NOTICES_JOB, delay=DATA_ACCESS_NOTICES_EVERY_SECONDS)
