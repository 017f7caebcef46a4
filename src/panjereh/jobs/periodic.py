"""Periodic jobs: each run queues the next in the transaction that ends it.

A domain registers its periodic jobs in its `tasks.py` with `@periodic(kind, every_seconds=...)`; every
worker queues whatever is registered (and switched on by the settings) when it starts
(`ensure_periodic`), and a job of a kind is queued or running at most once, however many workers share
the database.
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
from panjereh.jobs.models import Job, JobStatus
from panjereh.jobs.queue import JobContext, enqueue, handler

log = get_logger(__name__)

Work = Callable[[JobContext], None]


@dataclass(frozen=True)
class Periodic:
    kind: str
    every: Callable[[Settings], float]  # seconds between runs, from the settings
    first_after_seconds: float
    enabled: Callable[[Settings], bool]


PERIODIC: dict[str, Periodic] = {}


def ensure_queued(session: Session, kind: str, *, delay: float = 0.0) -> None:
    """Queue a job that queues its own next run, unless one of its kind is already queued or running.

    Untraced: the next run is not caused by the run (or request) that queues it, and each run is a trace
    of its own, not one trace that grows for as long as the schedule lasts."""
    pending = session.scalar(
        select(Job.id).where(Job.kind == kind, Job.status.in_((JobStatus.QUEUED, JobStatus.RUNNING)))
    )
    if pending is None:
        enqueue(
            session,
            kind,
            {},
            run_at=utcnow() + timedelta(seconds=delay),
            max_attempts=1_000_000,
            traced=False,
        )


def ensure_periodic(session: Session, settings: Settings) -> None:
    """Queue every registered periodic job these settings switch on that is not queued or running yet
    (at a worker's start)."""
    for item in PERIODIC.values():
        if item.enabled(settings):
            ensure_queued(session, item.kind, delay=item.first_after_seconds)


def periodic(
    kind: str,
    *,
    every_seconds: float | Callable[[Settings], float],
    first_after_seconds: float = 0.0,
    enabled: Callable[[Settings], bool] = lambda _settings: True,
) -> Callable[[Work], Work]:
    """Run `work(ctx)` (sync: it goes to a worker thread) every `every_seconds` on the job worker.

    `every_seconds` may be read from the settings (a function of them), and `enabled` says from the
    settings whether the job runs at all. A run that raises is logged and the next one is queued all the
    same: periodic work must not stop because one run failed (a registry down, say); its own records say
    what failed.
    """
    every = every_seconds if callable(every_seconds) else (lambda _settings: float(every_seconds))

    def register(work: Work) -> Work:
        PERIODIC[kind] = Periodic(kind, every, first_after_seconds, enabled)

        @handler(kind)
        async def run(ctx: JobContext) -> None:
            try:
                await asyncio.to_thread(work, ctx)
            except Exception:
                log.exception("periodic.failed", kind=kind)
            with unit_of_work(ctx.sessionmaker) as session:
                ctx.complete(session)
                ensure_queued(session, kind, delay=every(ctx.services["settings"]))

        return work

    return register
