"""The worker: claims due jobs (or takes those handed over at commit) and runs each as an asyncio task."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import os
import socket
import threading
import time
from collections.abc import Collection
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import structlog
from sqlalchemy.orm import Session, sessionmaker

from panjereh.core import tracing
from panjereh.core.db import unit_of_work, utcnow
from panjereh.core.logging import get_logger
from panjereh.jobs.models import JobStatus
from panjereh.jobs.queue import (
    BACKOFF_BASE_SECONDS,
    ClaimedJob,
    JobContext,
    LeaseLost,
    Retry,
    claim,
    failure_handler_for,
    finish,
    handler_for,
    register_worker,
    release_lease,
    unregister_worker,
)

log = get_logger(__name__)

HEARTBEAT_EVERY_SECONDS = 5.0  # how often a turning loop touches its heartbeat file (a probe allows 30 s)


def _why_a_new_trace(stored: str | None) -> str | None:
    """Why a job's run starts a trace of its own rather than continue a stored one (None: it continues)."""
    if stored is None:
        return "queued outside a trace"
    if tracing.parse(stored) is None:
        return f"stored traceparent {stored[:80]!r} is not a valid W3C traceparent"
    return None


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
        kinds: Collection[str] | None = None,
        heartbeat_file: Path | None = None,
    ) -> None:
        self.backoff_base = backoff_base
        self.heartbeat_file = heartbeat_file
        self._beaten_at = -HEARTBEAT_EVERY_SECONDS
        self.kinds = kinds  # the kinds of job this worker claims (None: every kind)
        self.factory = factory
        self.services = services or {}
        self.worker_id = name or f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self.concurrency = concurrency
        self.lease_seconds = lease_seconds
        self.poll_interval = poll_interval
        self._stop = threading.Event()
        # On stop: seconds the jobs in flight get to finish before they are given back (None: no limit),
        # counted from when stop() was called (monotonic clock).
        self._grace: float | None = None
        self._stopped_at = 0.0
        self._thread: threading.Thread | None = None
        self.processed = 0
        # Jobs this worker has taken and not finished, kept from the moment they are promised: handed
        # over by `enqueue` (from its row's write on) or claimed by `run_forever` (from before its claim),
        # so that together they never pass `concurrency`. And the loop that runs them.
        self._busy = 0
        self._busy_lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self._tasks: dict[asyncio.Task[None], ClaimedJob] = {}

    async def run_job(self, job: ClaimedJob) -> None:
        """Run one claimed job: done, rescheduled with back-off, or failed after its last attempt.

        As a span of the trace that queued it (a new trace if none did): its log lines, its calls'
        traceparent and their message-log entries name that trace (docs/protocols/tracing.md)."""
        with (
            tracing.resumed(job.traceparent, f"job {job.kind}") as span,
            structlog.contextvars.bound_contextvars(trace_id=span.trace_id, span_id=span.span_id),
        ):
            why_new = _why_a_new_trace(job.traceparent)
            if why_new is not None:
                log.debug("job.trace_started", job=job.id, kind=job.kind, reason=why_new)
            await self._run(job)
        self.processed += 1

    async def _run(self, job: ClaimedJob) -> None:
        context = JobContext(
            self.factory, self.worker_id, job, self.services, self.backoff_base, self.lease_seconds
        )
        fn = handler_for(job.kind)
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

    def _requeue_or_fail(self, context: JobContext, reason: str, delay: float | None) -> None:
        job = context.job
        try:
            with unit_of_work(self.factory) as session:
                if job.attempts >= job.max_attempts:
                    finish(session, job.id, self.worker_id, status=JobStatus.FAILED, error=reason)
                    on_failure = failure_handler_for(job.kind)
                    if on_failure is not None:
                        try:
                            with session.begin_nested():  # its failure must not undo the job's
                                on_failure(session, context, reason)
                        except Exception:
                            log.exception("job.on_failure_error", job=job.id, kind=job.kind)
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
                finish(session, job.id, self.worker_id, status=JobStatus.QUEUED, run_at=utcnow())

    def _start(self, job: ClaimedJob) -> None:
        """Run a job whose room is kept, as a task of its own; its end gives the room back."""
        # In a context of its own: a job handed over at commit would otherwise inherit the committing
        # request's (its request id, its span), and a claimed one the loop's. Its trace is its row's.
        task = asyncio.get_running_loop().create_task(self.run_job(job), context=contextvars.Context())
        self._tasks[task] = job
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._tasks.pop(task, None)
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
        if getattr(loop, "_jobs_executor", None) is None:
            # Handlers put database work in threads: enough of them for every job in flight.
            executor = ThreadPoolExecutor(max_workers=self.concurrency * 2 + 4, thread_name_prefix="jobs")
            loop.set_default_executor(executor)
            loop._jobs_executor = executor  # type: ignore[attr-defined]

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
            jobs = await asyncio.to_thread(
                claim, self.factory, self.worker_id, room, self.lease_seconds, self.kinds
            )
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
        when a whole batch has). On stop, the jobs started get the stop's grace period to finish; those
        still running then are cancelled and given back to the queue (see `wind_down`)."""
        wake = self._wake = asyncio.Event()
        with self._busy_lock:
            self._loop = asyncio.get_running_loop()
        register_worker(self)
        try:
            self._use_enough_threads()
            while not self._stop.is_set():
                self._beat()
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
            unregister_worker(self)
            with self._busy_lock:
                self._loop = None  # a job handed over from now on goes back to the queue (see `take`)
            await self.wind_down()

    def _beat(self) -> None:
        """Touch the heartbeat file (at most every few seconds): the loop turns, so the worker is live. A
        worker whose loop is blocked stops touching it, and its liveness probe has it restarted."""
        if self.heartbeat_file is None or time.monotonic() - self._beaten_at < HEARTBEAT_EVERY_SECONDS:
            return
        self._beaten_at = time.monotonic()
        try:
            self.heartbeat_file.touch()
        except OSError as exc:  # a read-only or missing folder: say so, and keep working
            log.warning("worker.heartbeat_failed", path=str(self.heartbeat_file), error=str(exc))

    async def wind_down(self) -> None:
        """Let the jobs in flight finish within the stop's grace period, then cancel the rest and give
        their jobs back to the queue due now, so another worker takes them at once rather than when the
        lease runs out. Nothing is done twice: a handler's work commits with its job's completion, and
        both need the lease (`JobContext.hold`, `finish`), which the release takes away."""
        while self._tasks:
            grace = self._grace
            left = None if grace is None else self._stopped_at + grace - time.monotonic()
            if left is not None and left <= 0:
                break
            # In short steps: a second signal may shorten the grace period meanwhile (`stop(grace=0)`).
            await asyncio.wait(list(self._tasks), timeout=0.5 if left is None else min(left, 0.5))
        late = dict(self._tasks)
        for task in late:
            task.cancel()
        await asyncio.gather(*late, return_exceptions=True)
        for job in late.values():
            released = await asyncio.to_thread(self._give_back, job)
            log.warning("job.released_on_stop", job=job.id, kind=job.kind, released=released)

    def _give_back(self, job: ClaimedJob) -> bool:
        try:
            with unit_of_work(self.factory) as session:
                return release_lease(session, job.id, self.worker_id)
        except Exception:  # the lease then runs out as after a crash: the job is resumed, later
            log.exception("job.release_failed", job=job.id, kind=job.kind)
            return False

    def stop(self, grace: float | None = None) -> None:
        """Stop claiming (from any thread or a signal handler); jobs in flight get `grace` seconds to
        finish (None: as long as they take), then are given back to the queue. A second call may shorten
        the grace period, never lengthen it."""
        if not self._stop.is_set():
            self._stopped_at = time.monotonic()
            self._grace = grace
        elif grace is not None and (self._grace is None or grace < self._grace):
            self._grace = grace
        self._stop.set()
        self.wake()

    def start_in_thread(self) -> threading.Thread:
        """Run this worker on its own event loop in a daemon thread (the embedded default)."""
        self._thread = threading.Thread(
            target=lambda: asyncio.run(self.run_forever()), name="jobs-worker", daemon=True
        )
        self._thread.start()
        return self._thread

    def join(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)
