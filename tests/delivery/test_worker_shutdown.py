"""A job worker stopped by SIGTERM: jobs in flight finish within the grace period, or go back to the queue at
once (not when their lease runs out), and nothing is done twice."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from panjereh import jobs
from panjereh.core.config import Settings
from panjereh.delivery import service
from panjereh.delivery.constants import RequestState
from panjereh.delivery.models import RequestEvent, ServiceRequest
from panjereh.documents.models import IssuedDocument
from panjereh.jobs import Job, JobStatus
from tests.delivery.conftest import DEMO, run_jobs
from tests.support.factories import create_citizen

STARTED: list[str] = []
FINISHED: list[str] = []
RELEASE = threading.Event()


@jobs.handler("test.slow")
async def slow(ctx: jobs.JobContext) -> None:
    """Runs until the test lets it go (RELEASE), then finishes."""
    STARTED.append(ctx.job.id)
    while not RELEASE.is_set():
        await asyncio.sleep(0.02)
    FINISHED.append(ctx.job.id)


@pytest.fixture
def slow_jobs() -> Iterator[None]:
    STARTED.clear()
    FINISHED.clear()
    RELEASE.clear()
    yield
    RELEASE.set()


def _running_worker(session_factory: sessionmaker[Session]) -> tuple[jobs.Worker, threading.Thread]:
    """A worker polling in a thread of its own, as `panjereh worker` and the web process run it."""
    worker = jobs.Worker(
        session_factory, name="stopping", concurrency=2, lease_seconds=600, poll_interval=0.05
    )
    return worker, worker.start_in_thread()


def _stored(session_factory: sessionmaker[Session], job_id: str) -> Job:
    """The job as committed now (a session of its own: the test's may hold an older snapshot)."""
    with session_factory() as session:
        job = session.get(Job, job_id)
    assert job is not None
    return job


def _wait_for(condition: object, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_a_job_past_the_grace_period_goes_back_to_the_queue_at_once(
    db: Session, session_factory: sessionmaker[Session], slow_jobs: None
) -> None:
    job = jobs.enqueue(db, "test.slow", {})
    db.commit()
    worker, thread = _running_worker(session_factory)
    _wait_for(lambda: STARTED)
    stopped = time.monotonic()
    worker.stop(grace=0.3)
    thread.join(timeout=20)
    assert not thread.is_alive()
    assert time.monotonic() - stopped < 10  # the grace period, not the job, decided when it stopped
    stored = _stored(session_factory, job.id)
    # Queued and due now, with no owner: not "running" until a 600 s lease runs out. The attempt that was
    # cut short does not count against the job's attempts.
    assert (stored.status, stored.locked_by, stored.locked_until, stored.attempts) == (
        JobStatus.QUEUED, None, None, 0,
    )  # fmt: skip
    assert FINISHED == []
    # Another worker takes it at once and runs it to the end.
    RELEASE.set()
    other = jobs.Worker(session_factory, name="other", lease_seconds=600)
    assert asyncio.run(other.run_until_idle()) == 1
    stored = _stored(session_factory, job.id)
    assert stored.status == JobStatus.DONE and stored.attempts == 1
    assert [job.id] == FINISHED


def test_a_job_that_ends_within_the_grace_period_is_finished_not_released(
    db: Session, session_factory: sessionmaker[Session], slow_jobs: None
) -> None:
    job = jobs.enqueue(db, "test.slow", {})
    db.commit()
    worker, thread = _running_worker(session_factory)
    _wait_for(lambda: STARTED)
    worker.stop(grace=60)
    time.sleep(0.3)
    assert thread.is_alive()  # waiting for the job, not claiming more
    later = jobs.enqueue(db, "test.slow", {})
    db.commit()
    RELEASE.set()
    thread.join(timeout=20)
    assert not thread.is_alive()
    assert _stored(session_factory, job.id).status == JobStatus.DONE
    assert _stored(session_factory, later.id).status == JobStatus.QUEUED  # left for other workers
    assert [job.id] == FINISHED


def test_a_second_stop_shortens_the_grace_period(
    db: Session, session_factory: sessionmaker[Session], slow_jobs: None
) -> None:
    job = jobs.enqueue(db, "test.slow", {})
    db.commit()
    worker, thread = _running_worker(session_factory)
    _wait_for(lambda: STARTED)
    worker.stop(grace=600)
    time.sleep(0.2)
    assert thread.is_alive()
    worker.stop(grace=0)  # the second Ctrl+C
    thread.join(timeout=20)
    assert not thread.is_alive()
    assert _stored(session_factory, job.id).status == JobStatus.QUEUED


def test_a_job_finished_by_its_handler_is_not_given_back(
    db: Session, session_factory: sessionmaker[Session]
) -> None:
    """Releasing needs the lease: a job whose work committed with its completion stays done."""
    job = jobs.enqueue(db, "test.slow", {})
    db.commit()
    [claimed] = jobs.queue.claim(session_factory, "w", 1, lease_seconds=60)
    context = jobs.JobContext(session_factory, "w", claimed)
    with session_factory() as session, session.begin():
        context.complete(session)
    with session_factory() as session, session.begin():
        assert jobs.queue.release_lease(session, job.id, "w") is False
    assert _stored(session_factory, job.id).status == JobStatus.DONE


def _worker_process(settings: Settings, engine: Engine, grace: float) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "PANJEREH_ENV": "test",
        "PANJEREH_SECRET_KEY": settings.secret_key,
        "PANJEREH_PUBLIC_URL": settings.base_url,
        "PANJEREH_HOME": str(settings.home),
        "PANJEREH_DATABASE_URL": engine.url.render_as_string(hide_password=False),
        "PANJEREH_REGISTRIES_URL": settings.registries_url,
        "PANJEREH_REGISTRY_TOKEN": settings.registry_token,
        "PANJEREH_LOG_LEVEL": "WARNING",
    }
    return subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "panjereh", "worker", "--lease-seconds", "600", "--no-proactive-feed",
         "--graceful-timeout", str(grace)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip


def _submitted(seeded: Session, settings: Settings, key: str) -> ServiceRequest:
    create_citizen(seeded, DEMO)
    request, _ = service.submit(
        seeded, settings, national_code=DEMO, slug="no-criminal-record", inputs={"purpose": "employment"},
        idempotency_key=key,
    )  # fmt: skip
    seeded.commit()
    return request


def _wait_until_running(session_factory: sessionmaker[Session], process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while True:
        with session_factory() as session:
            status = session.scalar(select(Job.status).where(Job.kind == service.PROCESS_JOB))
        if status == JobStatus.RUNNING:
            return
        assert process.poll() is None, process.stderr.read() if process.stderr else ""
        assert time.monotonic() < deadline, "the worker never started the job"
        time.sleep(0.1)


def _decided_once(session_factory: sessionmaker[Session], request_id: str) -> None:
    with session_factory() as session:
        stored = session.get(ServiceRequest, request_id)
        assert stored is not None and stored.state == RequestState.APPROVED
        documents = session.scalar(
            select(func.count())
            .select_from(IssuedDocument)
            .where(IssuedDocument.request_tracking_code == stored.tracking_code)
        )
        approvals = session.scalar(
            select(func.count())
            .select_from(RequestEvent)
            .where(RequestEvent.request_id == stored.id, RequestEvent.kind == "approved")
        )
    assert documents == 1 and approvals == 1


def test_sigterm_gives_a_hanging_request_job_back_and_the_next_worker_decides_it_once(
    seeded: Session,
    settings: Settings,
    committed_engine: Engine,
    session_factory: sessionmaker[Session],
    faults,
    worker,
) -> None:
    """`panjereh worker` gets SIGTERM while a registry hangs: after its grace period the job is queued
    again, due now (its lease was 600 s), and the next worker decides the request exactly once."""
    request = _submitted(seeded, settings, "sigterm-release")
    faults("judiciary", latency_ms=30_000)
    process = _worker_process(settings, committed_engine, grace=1)
    try:
        _wait_until_running(session_factory, process)
        time.sleep(0.5)  # the inquiry is in flight
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
    faults("judiciary", latency_ms=0)
    with session_factory() as session:
        job = session.scalar(select(Job).where(Job.kind == service.PROCESS_JOB))
        assert job is not None
        assert (job.status, job.locked_by, job.attempts) == (JobStatus.QUEUED, None, 0)
        assert session.get(ServiceRequest, request.id).state == RequestState.SUBMITTED  # type: ignore[union-attr]
    assert run_jobs(worker) >= 1  # at once: no lease to wait out
    _decided_once(session_factory, request.id)
    with session_factory() as session:
        job = session.scalar(select(Job).where(Job.kind == service.PROCESS_JOB))
    assert job is not None and job.status == JobStatus.DONE and job.attempts == 1


def test_sigterm_lets_a_request_job_in_flight_finish(
    seeded: Session,
    settings: Settings,
    committed_engine: Engine,
    session_factory: sessionmaker[Session],
    faults,
    worker,
) -> None:
    """Within the grace period the job in flight is finished by the stopping worker itself."""
    request = _submitted(seeded, settings, "sigterm-finish")
    faults("judiciary", latency_ms=2_000)
    process = _worker_process(settings, committed_engine, grace=60)
    try:
        _wait_until_running(session_factory, process)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 0
    finally:
        if process.poll() is None:
            process.kill()
    _decided_once(session_factory, request.id)
    with session_factory() as session:
        job = session.scalar(select(Job).where(Job.kind == service.PROCESS_JOB))
    assert job is not None and job.status == JobStatus.DONE and job.attempts == 1
    run_jobs(worker)  # whatever else is due (the recurring jobs the process queued) decides nothing again
    _decided_once(session_factory, request.id)


def test_a_turning_worker_touches_its_heartbeat_and_one_without_a_file_writes_nothing(
    session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    heartbeat = tmp_path / "worker.alive"
    worker = jobs.Worker(session_factory, name="beating", poll_interval=0.05, heartbeat_file=heartbeat)
    thread = worker.start_in_thread()
    try:
        deadline = time.monotonic() + 10
        while not heartbeat.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert heartbeat.exists()
        assert time.time() - heartbeat.stat().st_mtime < 10
    finally:
        worker.stop(grace=0)
        thread.join(timeout=10)
    heartbeat.unlink()
    silent = jobs.Worker(session_factory, name="silent", poll_interval=0.05)
    silent_thread = silent.start_in_thread()
    time.sleep(0.2)
    silent.stop(grace=0)
    silent_thread.join(timeout=10)
    assert list(tmp_path.iterdir()) == []
