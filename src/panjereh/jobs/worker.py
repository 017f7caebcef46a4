"""The worker: claims due jobs (or takes those handed over at commit) and runs each as an asyncio task."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import threading
from collections.abc import Collection
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

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
    unregister_worker,
)

log = get_logger(__name__)


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
    ) -> None:
        self.backoff_base = backoff_base
        self.kinds = kinds  # the kinds of job this worker claims (None: every kind)
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
        self.processed += 1

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
        when a whole batch has). On stop, the jobs started are finished before it returns."""
        wake = self._wake = asyncio.Event()
        with self._busy_lock:
            self._loop = asyncio.get_running_loop()
        register_worker(self)
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
            unregister_worker(self)
            with self._busy_lock:
                self._loop = None  # a job handed over from now on goes back to the queue (see `take`)
            await self.drain()

    def stop(self) -> None:
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
