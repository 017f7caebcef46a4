"""Jobs handed straight to this process's running worker: leased in the row that queues them, started
at commit, never before and never after a rollback, and back in the queue when the worker cannot take them."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from panjereh import jobs
from panjereh.core.db import utcnow
from panjereh.jobs import Job, JobStatus

SEEN: list[tuple[str, Any]] = []
GATE = threading.Event()  # the handler below waits on it, so a test can look at a job while it runs


@jobs.handler("test.handoff")
async def note(ctx: jobs.JobContext) -> None:
    SEEN.append((ctx.job.id, ctx.job.hint))
    while not GATE.is_set():
        await asyncio.sleep(0.01)


def eventually(check: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


@pytest.fixture
def running(session_factory: sessionmaker[Session]) -> Iterator[jobs.Worker]:
    """A worker polling in its own thread, as the web process's is; it polls rarely, so a job it runs
    quickly was handed to it, not claimed."""
    SEEN.clear()
    GATE.clear()
    worker = jobs.Worker(session_factory, concurrency=1, poll_interval=60)
    worker.start_in_thread()
    eventually(lambda: takes_handoffs(worker))
    yield worker
    GATE.set()
    worker.stop()
    worker.join(timeout=10)


def takes_handoffs(worker: jobs.Worker) -> bool:
    if not worker.reserve():
        return False
    worker.release()
    return True


def stored(session_factory: sessionmaker[Session], job_id: str) -> Job:
    with session_factory() as session:
        job = session.get(Job, job_id)
        assert job is not None
        return job


def test_a_job_is_handed_over_leased_and_starts_only_at_commit(
    running, session_factory: sessionmaker[Session]
) -> None:
    with session_factory() as session:
        job = jobs.enqueue(session, "test.handoff", {}, hint={"ready": True})
        job_id = job.id
        time.sleep(0.2)
        assert SEEN == []  # not before the commit
        session.commit()
    eventually(lambda: len(SEEN) == 1)
    assert [(job_id, {"ready": True})] == SEEN  # the hint came with it, in memory
    row = stored(session_factory, job_id)
    assert (row.status, row.locked_by, row.attempts) == (JobStatus.RUNNING, running.worker_id, 1)
    GATE.set()
    eventually(lambda: stored(session_factory, job_id).status == JobStatus.DONE)


def test_a_rolled_back_job_never_starts_and_its_room_is_given_back(
    running, session_factory: sessionmaker[Session]
) -> None:
    with session_factory() as session:
        jobs.enqueue(session, "test.handoff", {})
        session.rollback()
    time.sleep(0.2)
    assert SEEN == []
    # The worker takes one job at a time: had the room not come back, this one would only be queued.
    with session_factory() as session:
        job_id = jobs.enqueue(session, "test.handoff", {}).id
        session.commit()
    assert stored(session_factory, job_id).locked_by == running.worker_id
    eventually(lambda: [job for job, _ in SEEN] == [job_id])


def test_a_full_worker_leaves_the_job_to_the_queue(running, session_factory: sessionmaker[Session]) -> None:
    with session_factory() as session:
        first = jobs.enqueue(session, "test.handoff", {}).id
        second = jobs.enqueue(session, "test.handoff", {}).id
        session.commit()
    eventually(lambda: len(SEEN) == 1)
    assert stored(session_factory, second).status == JobStatus.QUEUED
    assert stored(session_factory, second).locked_by is None
    GATE.set()  # the first finishes; the commit's wake-up makes the worker claim the second
    eventually(lambda: stored(session_factory, first).status == JobStatus.DONE)
    running.wake()
    eventually(lambda: stored(session_factory, second).status == JobStatus.DONE)


def test_a_job_handed_to_a_worker_that_stopped_goes_back_to_the_queue(
    running, session_factory: sessionmaker[Session]
) -> None:
    with session_factory() as session:
        job_id = jobs.enqueue(session, "test.handoff", {}).id
        running.stop()  # between the row being written and its commit
        running.join(timeout=10)
        session.commit()
    row = stored(session_factory, job_id)
    assert (row.status, row.locked_by) == (JobStatus.QUEUED, None)
    assert SEEN == []


def test_jobs_due_later_are_queued_not_handed_over(running, session_factory: sessionmaker[Session]) -> None:
    with session_factory() as session:
        job_id = jobs.enqueue(session, "test.handoff", {}, run_at=utcnow() + timedelta(hours=1)).id
        session.commit()
    assert stored(session_factory, job_id).status == JobStatus.QUEUED


def test_a_savepoint_released_does_not_start_the_job(running, session_factory: sessionmaker[Session]) -> None:
    """A savepoint's release is announced as a commit; the job starts only with the outermost one (its
    row is not committed before: the worker could not find it)."""
    with session_factory() as session:
        job_id = jobs.enqueue(session, "test.handoff", {}).id
        with session.begin_nested():
            jobs.enqueue(session, "test.other", {})
        time.sleep(0.2)
        assert SEEN == []
        session.commit()
    eventually(lambda: [job for job, _ in SEEN] == [job_id])


def test_a_job_queued_in_a_savepoint_rolled_back_never_starts(
    running, session_factory: sessionmaker[Session]
) -> None:
    with session_factory() as session:
        savepoint = session.begin_nested()
        jobs.enqueue(session, "test.handoff", {})
        savepoint.rollback()  # the job's row is gone with it, and so is its hand-over
        kept = jobs.enqueue(session, "test.handoff", {}).id  # room came back: one job at a time
        session.commit()
    eventually(lambda: [job for job, _ in SEEN] == [kept])
