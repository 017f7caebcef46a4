"""A durable job system on the database: queued in the caller's transaction (so only after commit),
claimed with a lease (PostgreSQL: SELECT ... FOR UPDATE SKIP LOCKED), retried with back-off, and
finished in the same transaction as the work, so a crash mid-job leaves it to be resumed, never done twice.

A job due now that is queued in a process whose own worker has room is handed to that worker: it is
written already leased to it, and started the moment its transaction commits, with no claim and no poll
(see `enqueue`). The lease keeps it as durable as any other: if the process dies first, the lease runs
out and any worker resumes the job."""

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

from sqlalchemy import and_, or_, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from panjereh.core.db import on_commit, one_statement, unit_of_work, utcnow
from panjereh.core.logging import get_logger
from panjereh.delivery.models import Job, JobStatus

log = get_logger(__name__)

BACKOFF_BASE_SECONDS = 1.0
BACKOFF_CAP_SECONDS = 300.0

_running: list[Worker] = []  # this process's workers that are polling, in the order they started
_running_lock = threading.Lock()


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
) -> Job:
    """Add a job in the caller's transaction; workers see it (and are woken) only once that commits.

    A job due now goes straight to a worker of this process that has room: the row is written leased
    to it, and the worker starts it when the transaction commits (never before, never after a
    rollback). `hint` travels with such a job in memory only: what its handler would otherwise read
    back from the database (the handler must work without it, as when another worker resumes the job).
    """
    if dedupe_key is not None:
        existing = session.scalar(select(Job).where(Job.dedupe_key == dedupe_key))
        if existing is not None:
            return existing
    now = utcnow()
    job = Job(
        kind=kind,
        payload=payload,
        run_at=run_at or now,
        dedupe_key=dedupe_key,
        max_attempts=max_attempts,
    )
    taker = _worker_with_room(session) if job.run_at <= now else None
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
        claimed = ClaimedJob(job.id, kind, dict(payload), job.attempts, max_attempts, hint)
        on_commit(session, lambda: taker.take(claimed), on_rollback=taker.release)
    return job


def _worker_with_room(session: Session) -> Worker | None:
    """A running worker of this process on the session's own engine that keeps room for one more job.

    Only the same engine: a worker on another database would never find the row. Sessions bound to one
    connection (the tests' transaction) hand nothing over."""
    bind = session.bind
    if not isinstance(bind, Engine):
        return None
    with _running_lock:
        workers = list(_running)
    for worker in workers:
        if worker.factory.kw.get("bind") is bind and worker.reserve():
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
    """Take up to `limit` due jobs under a lease, in one statement (WITH due AS MATERIALIZED (SELECT ...
    FOR UPDATE SKIP LOCKED) UPDATE ... RETURNING): workers never wait on each other's rows, and on SQLite
    the single write statement takes the write lock at once instead of upgrading a read.

    The pick is materialized: as a plain `IN (subquery)` PostgreSQL may run it once per row it checks,
    each run skipping the rows the one before locked, and a claim of 4 took every due job."""
    now = utcnow()
    due = (
        select(Job.id)
        .where(_claimable(now))
        .order_by(Job.run_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
        .cte("due")
        .prefix_with("MATERIALIZED", dialect="postgresql")
    )
    with one_statement(factory) as session:
        rows = session.execute(
            update(Job)
            .where(Job.id.in_(select(due.c.id)), _claimable(now))
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
        # Jobs this worker has taken and not finished, kept from the moment they are promised: handed
        # over by `enqueue` (from its row's write on) or claimed by `run_forever` (from before its claim),
        # so that together they never pass `concurrency`. And the loop that runs them.
        self._busy = 0
        self._busy_lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self._tasks: set[asyncio.Task[None]] = set()

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

    def reserve(self) -> bool:
        """Keep room for a job being handed over (see `enqueue`); False when full or stopping."""
        with self._busy_lock:
            if self._loop is None or self._stop.is_set() or self._busy >= self.concurrency:
                return False
            self._busy += 1
            return True

    def release(self, count: int = 1) -> None:
        """Give back room kept for jobs that will not come (a rollback, a claim that found fewer)."""
        with self._busy_lock:
            self._busy -= count

    def take(self, job: ClaimedJob) -> None:
        """Start a job handed over by a committed transaction (from any thread)."""
        loop = self._loop
        try:
            if loop is None:
                raise RuntimeError("worker not running")
            loop.call_soon_threadsafe(self._start, job)
        except RuntimeError:  # the worker stopped in between: the job goes back to the queue
            self.release()
            with contextlib.suppress(LeaseLost), unit_of_work(self.factory) as session:
                _finish(session, job.id, self.worker_id, status=JobStatus.QUEUED, run_at=utcnow())

    def _start(self, job: ClaimedJob) -> None:
        """Run a job whose room is kept, as a task of its own; its end gives the room back."""
        task = asyncio.get_running_loop().create_task(self.run_job(job))
        self._tasks.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        self.release()
        if self._wake is not None:  # room again: claim what waits in the queue now, not at the next poll
            self._wake.set()

    async def drain(self) -> None:
        """Wait until every job this worker started as a task (handed over or claimed) has finished."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def wake(self) -> None:
        """Poll now (from any thread): new work was committed."""
        loop, wake = self._loop, self._wake
        if loop is not None and wake is not None:
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                loop.call_soon_threadsafe(wake.set)

    def _use_enough_threads(self) -> None:
        loop = asyncio.get_running_loop()
        if getattr(loop, "_delivery_executor", None) is None:
            # Handlers put database work in threads: enough of them for every job in flight.
            executor = ThreadPoolExecutor(max_workers=self.concurrency * 2 + 4, thread_name_prefix="delivery")
            loop.set_default_executor(executor)
            loop._delivery_executor = executor  # type: ignore[attr-defined]

    async def run_due(self) -> int:
        """Claim one batch of due jobs and wait until every job this worker started has finished; how many
        it claimed (tests, one-shot commands). The same claim as `run_forever`'s, and the same room kept."""
        self._use_enough_threads()
        started = await self._claim_and_start()
        await self.drain()
        return started

    async def _claim_and_start(self) -> int:
        """Claim as many due jobs as there is room for and start each as its own task; how many."""
        with self._busy_lock:
            room = self.concurrency - self._busy
            if room <= 0:
                return 0
            self._busy += room  # kept before the claim, so a hand-over meanwhile cannot take it too
        try:
            jobs = await asyncio.to_thread(claim, self.factory, self.worker_id, room, self.lease_seconds)
        except BaseException:
            self.release(room)
            raise
        self.release(room - len(jobs))
        for job in jobs:
            self._start(job)
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
        """Poll and run until `stop()`; an in-process enqueue wakes the loop at once, or hands its job over.

        Each job claimed runs as a task of its own, and the worker claims again as soon as one ends (not
        when a whole batch has). On stop, the jobs started are finished before it returns."""
        wake = self._wake = asyncio.Event()
        with self._busy_lock:
            self._loop = asyncio.get_running_loop()
        with _running_lock:
            _running.append(self)
        try:
            self._use_enough_threads()
            while not self._stop.is_set():
                wake.clear()
                try:
                    started = await self._claim_and_start()
                except Exception:  # the database may be restarting: keep polling
                    log.exception("worker.poll_failed")
                    started = 0
                if started:
                    continue
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wake.wait(), timeout=self.poll_interval)
        finally:
            with _running_lock:
                _running.remove(self)
            with self._busy_lock:
                self._loop = None  # a job handed over from now on goes back to the queue (see `take`)
            await self.drain()

    def stop(self) -> None:
        self._stop.set()
        self.wake()

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
