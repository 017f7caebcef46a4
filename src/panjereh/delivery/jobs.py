"""A durable job system on the database: queued in the caller's transaction (so only after commit),
claimed with a lease (PostgreSQL: SELECT ... FOR UPDATE SKIP LOCKED), retried with back-off, and
finished in the same transaction as the work, so a crash mid-job leaves it to be resumed, never done twice."""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import socket
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, event, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from panjereh.core.db import one_statement, unit_of_work, utcnow
from panjereh.core.logging import get_logger
from panjereh.delivery.models import Job, JobStatus

log = get_logger(__name__)

BACKOFF_BASE_SECONDS = 1.0
BACKOFF_CAP_SECONDS = 300.0

_wakers: list[Callable[[], None]] = []
_wakers_lock = threading.Lock()


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
) -> Job:
    """Add a job in the caller's transaction; workers see it (and are woken) only once that commits."""
    if dedupe_key is not None:
        existing = session.scalar(select(Job).where(Job.dedupe_key == dedupe_key))
        if existing is not None:
            return existing
    job = Job(
        kind=kind,
        payload=payload,
        run_at=run_at or utcnow(),
        dedupe_key=dedupe_key,
        max_attempts=max_attempts,
    )
    session.add(job)
    session.flush()
    if not session.info.get("delivery_wake_hooked"):
        session.info["delivery_wake_hooked"] = True
        event.listen(session, "after_commit", _wake_after_commit, once=True)
    return job


def _wake_after_commit(session: Session) -> None:
    session.info.pop("delivery_wake_hooked", None)
    wake_workers()


def wake_workers() -> None:
    """Tell in-process workers new work is committed (other processes find it on their next poll)."""
    with _wakers_lock:
        wakers = list(_wakers)
    for waker in wakers:
        waker()


@dataclass(frozen=True)
class ClaimedJob:
    id: str
    kind: str
    payload: dict[str, Any]
    attempts: int
    max_attempts: int


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
        _finish(session, self.job.id, self.worker_id, status=JobStatus.DONE)
        self.finished = True

    def reschedule(self, session: Session, reason: str, delay: float | None = None) -> None:
        """Put the job back for a later attempt, atomically with whatever the handler recorded."""
        seconds = delay if delay is not None else backoff(self.job.attempts, base=self.backoff_base)
        when = utcnow() + timedelta(seconds=seconds)
        _finish(session, self.job.id, self.worker_id, status=JobStatus.QUEUED, run_at=when, error=reason)
        self.finished = True


Handler = Callable[[JobContext], Awaitable[None]]
HANDLERS: dict[str, Handler] = {}


def handler(kind: str) -> Callable[[Handler], Handler]:
    """Register an async handler for a job kind."""

    def register(fn: Handler) -> Handler:
        HANDLERS[kind] = fn
        return fn

    return register


def _finish(
    session: Session,
    job_id: str,
    worker_id: str,
    *,
    status: JobStatus,
    run_at: datetime | None = None,
    error: str | None = None,
) -> None:
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


def _claimable(now: datetime) -> Any:
    return or_(
        and_(Job.status == JobStatus.QUEUED, Job.run_at <= now),
        and_(Job.status == JobStatus.RUNNING, Job.locked_until < now),  # a crashed worker's lease ran out
    )


def claim(
    factory: sessionmaker[Session], worker_id: str, limit: int, lease_seconds: float
) -> list[ClaimedJob]:
    """Take up to `limit` due jobs under a lease, in one statement (UPDATE ... WHERE id IN (SELECT ...
    FOR UPDATE SKIP LOCKED) RETURNING): workers never wait on each other's rows, and on SQLite the
    single write statement takes the write lock at once instead of upgrading a read."""
    now = utcnow()
    due = (
        select(Job.id)
        .where(_claimable(now))
        .order_by(Job.run_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    with one_statement(factory) as session:
        rows = session.execute(
            update(Job)
            .where(Job.id.in_(due), _claimable(now))
            .values(
                status=JobStatus.RUNNING,
                locked_by=worker_id,
                locked_until=now + timedelta(seconds=lease_seconds),
                attempts=Job.attempts + 1,
            )
            .returning(Job.id, Job.kind, Job.payload, Job.attempts, Job.max_attempts)
            .execution_options(synchronize_session=False)
        ).all()
    return [
        ClaimedJob(job_id, kind, dict(payload or {}), attempts, top)
        for job_id, kind, payload, attempts, top in rows
    ]


class Worker:
    """Runs due jobs concurrently on an asyncio loop; many workers in many processes may share a database."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        *,
        services: dict[str, Any] | None = None,
        name: str | None = None,
        concurrency: int = 16,
        lease_seconds: float = 60.0,
        poll_interval: float = 0.5,
        backoff_base: float = BACKOFF_BASE_SECONDS,
    ) -> None:
        self.backoff_base = backoff_base
        self.factory = factory
        self.services = services or {}
        self.worker_id = name or f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self.concurrency = concurrency
        self.lease_seconds = lease_seconds
        self.poll_interval = poll_interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.processed = 0

    async def run_job(self, job: ClaimedJob) -> None:
        """Run one claimed job: done, rescheduled with back-off, or failed after its last attempt."""
        context = JobContext(
            self.factory, self.worker_id, job, self.services, self.backoff_base, self.lease_seconds
        )
        fn = HANDLERS.get(job.kind)
        try:
            if fn is None:
                raise RuntimeError(f"no handler for job kind {job.kind!r}")
            await fn(context)
            if not context.finished:
                with unit_of_work(self.factory) as session:
                    context.complete(session)
        except LeaseLost:
            log.warning("job.lease_lost", job=job.id, kind=job.kind)
        except Retry as exc:
            self._requeue_or_fail(context, exc.reason, exc.delay)
        except Exception as exc:  # a handler's bug must not kill the worker; the job keeps the error
            log.exception("job.error", job=job.id, kind=job.kind)
            self._requeue_or_fail(context, f"{type(exc).__name__}: {exc}", None)
        self.processed += 1

    def _requeue_or_fail(self, context: JobContext, reason: str, delay: float | None) -> None:
        job = context.job
        try:
            with unit_of_work(self.factory) as session:
                if job.attempts >= job.max_attempts:
                    _finish(session, job.id, self.worker_id, status=JobStatus.FAILED, error=reason)
                else:
                    context.reschedule(session, reason, delay)
        except LeaseLost:
            log.warning("job.lease_lost", job=job.id, kind=job.kind)

    async def run_due(self) -> int:
        """Claim and run one batch of due jobs; how many ran."""
        loop = asyncio.get_running_loop()
        if getattr(loop, "_delivery_executor", None) is None:
            # Handlers put database work in threads: enough of them for every job in flight.
            executor = ThreadPoolExecutor(max_workers=self.concurrency * 2 + 4, thread_name_prefix="delivery")
            loop.set_default_executor(executor)
            loop._delivery_executor = executor  # type: ignore[attr-defined]
        jobs = await asyncio.to_thread(
            claim, self.factory, self.worker_id, self.concurrency, self.lease_seconds
        )
        if jobs:
            await asyncio.gather(*(self.run_job(job) for job in jobs))
        return len(jobs)

    async def run_until_idle(self, *, max_rounds: int = 1000) -> int:
        """Run until nothing is due (tests and one-shot commands); how many jobs ran."""
        total = 0
        for _ in range(max_rounds):
            ran = await self.run_due()
            if not ran:
                break
            total += ran
        return total

    async def run_forever(self) -> None:
        """Poll and run until `stop()`; an in-process enqueue wakes the loop at once."""
        loop = asyncio.get_running_loop()
        wake = asyncio.Event()

        def waker() -> None:
            loop.call_soon_threadsafe(wake.set)

        with _wakers_lock:
            _wakers.append(waker)
        try:
            while not self._stop.is_set():
                try:
                    ran = await self.run_due()
                except Exception:  # the database may be restarting: keep polling
                    log.exception("worker.poll_failed")
                    ran = 0
                if ran:
                    continue
                wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wake.wait(), timeout=self.poll_interval)
        finally:
            with _wakers_lock:
                _wakers.remove(waker)

    def stop(self) -> None:
        self._stop.set()
        wake_workers()

    def start_in_thread(self) -> threading.Thread:
        """Run this worker on its own event loop in a daemon thread (the embedded default)."""
        self._thread = threading.Thread(
            target=lambda: asyncio.run(self.run_forever()), name="delivery-worker", daemon=True
        )
        self._thread.start()
        return self._thread

    def join(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)
