"""A durable job system on the database: queued in the caller's transaction (so only after commit),
claimed with a lease (PostgreSQL: SELECT ... FOR UPDATE SKIP LOCKED), retried with back-off, and
finished in the same transaction as the work, so a crash mid-job leaves it to be resumed, never done twice.

A job due now that is queued in a process whose own worker has room is handed to that worker: it is
written already leased to it, and started the moment its transaction commits, with no claim and no poll
(see `enqueue`). The lease keeps it as durable as any other: if the process dies first, the lease runs
out and any worker resumes the job.

The platform layer beneath the domains: it knows no domain. Each domain registers its handlers in its own
`tasks.py` (`@handler(kind)`, or `periodic.periodic` for periodic jobs); the edge lists those modules."""

from __future__ import annotations

import random
import threading
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import and_, or_, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from panjereh.core import tracing
from panjereh.core.db import on_commit, one_statement, utcnow
from panjereh.jobs.models import Job, JobStatus

BACKOFF_BASE_SECONDS = 1.0
BACKOFF_CAP_SECONDS = 300.0


class Taker(Protocol):
    """What `enqueue` needs of a running worker of this process to hand it a job (`worker.Worker`)."""

    factory: sessionmaker[Session]
    worker_id: str
    lease_seconds: float
    kinds: Collection[str] | None

    def reserve(self) -> bool: ...
    def release(self, count: int = 1) -> None: ...
    def take(self, job: ClaimedJob) -> None: ...
    def wake(self) -> None: ...


_running: list[Taker] = []  # this process's workers that are polling, in the order they started
_running_lock = threading.Lock()


def register_worker(worker: Taker) -> None:
    """A worker of this process began polling: jobs queued here may be handed to it from now on."""
    with _running_lock:
        _running.append(worker)


def unregister_worker(worker: Taker) -> None:
    """A worker of this process stopped polling: nothing more is handed to it."""
    with _running_lock:
        _running.remove(worker)


class Retry(Exception):  # noqa: N818 — a control-flow signal, not an error
    """Raised by a handler: try the job again later (the attempt counts toward max_attempts)."""

    def __init__(self, reason: str, delay: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.delay = delay


class LeaseLost(Exception):  # noqa: N818
    """Another worker took the job over (our lease expired); our transaction must not commit."""


def backoff(attempt: int, *, base: float = BACKOFF_BASE_SECONDS, cap: float = BACKOFF_CAP_SECONDS) -> float:
    """Seconds before attempt `attempt + 1`: exponential, capped, with ±20% jitter."""
    delay = min(cap, base * 2 ** max(0, attempt - 1))
    return delay * random.uniform(0.8, 1.2)


def enqueue(
    session: Session,
    kind: str,
    payload: dict[str, Any],
    *,
    run_at: datetime | None = None,
    dedupe_key: str | None = None,
    max_attempts: int = 25,
    hint: Any = None,
    traced: bool = True,
) -> Job:
    """Add a job in the caller's transaction; workers see it (and are woken) only once that commits.

    A job due now goes straight to a worker of this process that has room: the row is written leased
    to it, and the worker starts it when the transaction commits (never before, never after a
    rollback). `hint` travels with such a job in memory only: what its handler would otherwise read
    back from the database (the handler must work without it, as when another worker resumes the job).

    The job keeps the trace it is queued in (a request's, or the job's that queues it): each of its runs
    is a new span of that trace. `traced=False` for work the current trace does not cause (a schedule's
    next run): its runs start traces of their own.
    """
    if dedupe_key is not None:
        existing = session.scalar(select(Job).where(Job.dedupe_key == dedupe_key))
        if existing is not None:
            return existing
    now = utcnow()
    span = tracing.current() if traced else None
    job = Job(
        kind=kind,
        payload=payload,
        run_at=run_at or now,
        dedupe_key=dedupe_key,
        max_attempts=max_attempts,
        traceparent=span.header() if span is not None else None,
    )
    taker = _worker_with_room(session, kind) if job.run_at <= now else None
    if taker is not None:
        job.status = JobStatus.RUNNING
        job.locked_by = taker.worker_id
        job.locked_until = now + timedelta(seconds=taker.lease_seconds)
        job.attempts = 1  # as a claim counts it
    session.add(job)
    session.flush()
    if taker is None:
        on_commit(session, wake_workers)
    else:
        claimed = ClaimedJob(
            job.id, kind, dict(payload), job.attempts, max_attempts, hint, traceparent=job.traceparent
        )
        on_commit(session, lambda: taker.take(claimed), on_rollback=taker.release)
    return job


def _worker_with_room(session: Session, kind: str) -> Taker | None:
    """A running worker of this process on the session's own engine, taking jobs of this kind, that keeps
    room for one more.

    Only the same engine: a worker on another database would never find the row. Sessions bound to one
    connection (the tests' transaction) hand nothing over."""
    bind = session.bind
    if not isinstance(bind, Engine):
        return None
    with _running_lock:
        workers = list(_running)
    for worker in workers:
        takes_kind = worker.kinds is None or kind in worker.kinds
        if worker.factory.kw.get("bind") is bind and takes_kind and worker.reserve():
            return worker
    return None


def wake_workers() -> None:
    """Tell in-process workers new work is committed (other processes find it on their next poll)."""
    with _running_lock:
        workers = list(_running)
    for worker in workers:
        worker.wake()


@dataclass(frozen=True)
class ClaimedJob:
    id: str
    kind: str
    payload: dict[str, Any]
    attempts: int
    max_attempts: int
    hint: Any = None  # handed over in memory with the job (see `enqueue`); None when claimed
    traceparent: str | None = None  # as stored: the span that queued the job (read, never trusted)


@dataclass
class JobContext:
    """What a handler gets: the session factory, the settings and services, and its lease."""

    sessionmaker: sessionmaker[Session]
    worker_id: str
    job: ClaimedJob
    services: dict[str, Any] = field(default_factory=dict)
    backoff_base: float = BACKOFF_BASE_SECONDS
    lease_seconds: float = 60.0
    finished: bool = False

    def hold(self, session: Session) -> None:
        """Renew the lease as the transaction's first statement: proves we still own the job before work
        that must not be done twice, and keeps the lease for a long step that follows."""
        result = session.execute(
            update(Job)
            .where(Job.id == self.job.id, Job.locked_by == self.worker_id, Job.status == JobStatus.RUNNING)
            .values(locked_until=utcnow() + timedelta(seconds=self.lease_seconds))
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise LeaseLost(self.job.id)

    def complete(self, session: Session) -> None:
        """Mark the job done inside the handler's own transaction (atomic with its work)."""
        finish(session, self.job.id, self.worker_id, status=JobStatus.DONE)
        self.finished = True

    def fail(self, session: Session, reason: str) -> None:
        """Give the job up inside the handler's own transaction (atomic with what the handler recorded)."""
        finish(session, self.job.id, self.worker_id, status=JobStatus.FAILED, error=reason)
        self.finished = True

    def reschedule(self, session: Session, reason: str, delay: float | None = None) -> None:
        """Put the job back for a later attempt, atomically with whatever the handler recorded."""
        seconds = delay if delay is not None else backoff(self.job.attempts, base=self.backoff_base)
        when = utcnow() + timedelta(seconds=seconds)
        finish(session, self.job.id, self.worker_id, status=JobStatus.QUEUED, run_at=when, error=reason)
        self.finished = True


Handler = Callable[[JobContext], Awaitable[None]]
HANDLERS: dict[str, Handler] = {}


def handler_for(kind: str) -> Handler | None:
    """The handler registered for a job kind, if any."""
    return HANDLERS.get(kind)


# Called in the transaction that marks a job of the kind failed (its last attempt raised), so that the
# work it was doing is never silently abandoned: the domain records what giving up means.
OnFailure = Callable[[Session, "JobContext", str], None]
FAILURE_HANDLERS: dict[str, OnFailure] = {}


def handler(kind: str, *, on_failure: OnFailure | None = None) -> Callable[[Handler], Handler]:
    """Register an async handler for a job kind, and what to do when it gives up (`on_failure`)."""

    def register(fn: Handler) -> Handler:
        HANDLERS[kind] = fn
        if on_failure is not None:
            FAILURE_HANDLERS[kind] = on_failure
        return fn

    return register


def failure_handler_for(kind: str) -> OnFailure | None:
    """What a job kind does when its last attempt fails, if anything."""
    return FAILURE_HANDLERS.get(kind)


def finish(
    session: Session,
    job_id: str,
    worker_id: str,
    *,
    status: JobStatus,
    run_at: datetime | None = None,
    error: str | None = None,
) -> None:
    """End our hold on a job (done, failed, or queued again); LeaseLost if another worker has it."""
    values: dict[str, Any] = {"status": status, "locked_by": None, "locked_until": None}
    if status in (JobStatus.DONE, JobStatus.FAILED):
        values["finished_at"] = utcnow()
    if run_at is not None:
        values["run_at"] = run_at
    if error is not None:
        values["last_error"] = error[:2000]
    result = session.execute(
        update(Job)
        .where(Job.id == job_id, Job.locked_by == worker_id, Job.status == JobStatus.RUNNING)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise LeaseLost(job_id)


def release_lease(session: Session, job_id: str, worker_id: str) -> bool:
    """Give a job we hold back to the queue, due now, its attempt not counted (a stopping worker's job:
    another worker takes it at once instead of when the lease runs out). False if it is no longer ours
    (finished meanwhile, or taken over): then there is nothing to give back."""
    result = session.execute(
        update(Job)
        .where(Job.id == job_id, Job.locked_by == worker_id, Job.status == JobStatus.RUNNING)
        .values(
            status=JobStatus.QUEUED,
            locked_by=None,
            locked_until=None,
            run_at=utcnow(),
            attempts=Job.attempts - 1,
        )
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


def _claimable(now: datetime, kinds: Collection[str] | None) -> Any:
    due = or_(
        and_(Job.status == JobStatus.QUEUED, Job.run_at <= now),
        and_(Job.status == JobStatus.RUNNING, Job.locked_until < now),  # a crashed worker's lease ran out
    )
    return due if kinds is None else and_(due, Job.kind.in_(sorted(kinds)))


def claim(
    factory: sessionmaker[Session],
    worker_id: str,
    limit: int,
    lease_seconds: float,
    kinds: Collection[str] | None = None,
) -> list[ClaimedJob]:
    """Take up to `limit` due jobs under a lease, in one statement (WITH due AS MATERIALIZED (SELECT ...
    FOR UPDATE SKIP LOCKED) UPDATE ... RETURNING): workers never wait on each other's rows, and on SQLite
    the single write statement takes the write lock at once instead of upgrading a read.

    The pick is materialized: as a plain `IN (subquery)` PostgreSQL may run it once per row it checks,
    each run skipping the rows the one before locked, and a claim of 4 took every due job. `kinds` limits
    the claim to those kinds of job (None: every kind)."""
    now = utcnow()
    due = (
        select(Job.id)
        .where(_claimable(now, kinds))
        .order_by(Job.run_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
        .cte("due")
        .prefix_with("MATERIALIZED", dialect="postgresql")
    )
    with one_statement(factory) as session:
        rows = session.execute(
            update(Job)
            .where(Job.id.in_(select(due.c.id)), _claimable(now, kinds))
            .values(
                status=JobStatus.RUNNING,
                locked_by=worker_id,
                locked_until=now + timedelta(seconds=lease_seconds),
                attempts=Job.attempts + 1,
            )
            .returning(Job.id, Job.kind, Job.payload, Job.attempts, Job.max_attempts, Job.traceparent)
            .execution_options(synchronize_session=False)
        ).all()
    return [
        ClaimedJob(job_id, kind, dict(payload or {}), attempts, top, traceparent=traceparent)
        for job_id, kind, payload, attempts, top, traceparent in rows
    ]
