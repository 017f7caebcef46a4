"""The job system: back-off, leases, and a worker killed mid-job (kill -9) resumed without doing twice."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from panjereh import jobs
from panjereh.core.config import Settings
from panjereh.core.db import utcnow
from panjereh.delivery import processing, service
from panjereh.delivery.constants import RequestState
from panjereh.delivery.models import RequestEvent, ServiceRequest
from panjereh.documents.models import IssuedDocument
from panjereh.exchange.tasks import DATA_ACCESS_NOTICES_JOB
from panjereh.jobs import Job, JobStatus, periodic, queue
from tests.delivery.conftest import DEMO, run_jobs
from tests.support.factories import create_citizen

CALLS: list[str] = []


@jobs.handler("test.flaky")
async def flaky(ctx: jobs.JobContext) -> None:
    CALLS.append(ctx.job.id)
    if ctx.job.attempts < 3:
        raise jobs.Retry("not yet", delay=0)


GAVE_UP: list[tuple[str, str]] = []


def _gave_up(session: Session, ctx: jobs.JobContext, reason: str) -> None:
    GAVE_UP.append((ctx.job.id, reason))
    jobs.enqueue(session, "test.flaky", {}, dedupe_key=f"after:{ctx.job.id}")  # in the failing transaction


@jobs.handler("test.doomed", on_failure=_gave_up)
async def doomed(ctx: jobs.JobContext) -> None:
    raise RuntimeError("never works")


def test_a_job_that_gives_up_tells_its_domain_in_the_same_transaction(db: Session, worker) -> None:
    GAVE_UP.clear()
    job = jobs.enqueue(db, "test.doomed", {}, max_attempts=2)
    db.commit()
    asyncio.run(worker.run_due())
    assert GAVE_UP == []  # a retry is still to come
    db.execute(update(Job).where(Job.id == job.id).values(run_at=utcnow()))
    db.commit()
    asyncio.run(worker.run_due())
    db.expire_all()
    stored = db.get(Job, job.id)
    assert stored is not None and stored.status == JobStatus.FAILED
    assert [(job.id, "RuntimeError: never works")] == GAVE_UP
    assert db.scalar(select(Job.status).where(Job.dedupe_key == f"after:{job.id}")) == JobStatus.QUEUED


def test_backoff_grows_and_is_capped() -> None:
    assert 0.8 <= jobs.backoff(1) <= 1.2
    assert 6.4 <= jobs.backoff(4) <= 9.6
    assert jobs.backoff(50) <= queue.BACKOFF_CAP_SECONDS * 1.2


def test_retries_until_success_then_done(db: Session, session_factory: sessionmaker[Session], worker) -> None:
    CALLS.clear()
    job = jobs.enqueue(db, "test.flaky", {})
    db.commit()
    for _ in range(3):
        asyncio.run(worker.run_due())
    db.expire_all()
    stored = db.get(Job, job.id)
    assert stored is not None and stored.status == JobStatus.DONE and stored.attempts == 3
    assert [job.id] * 3 == CALLS


def test_gives_up_after_max_attempts(db: Session, worker) -> None:
    job = jobs.enqueue(db, "test.flaky", {}, max_attempts=2)
    db.commit()
    for _ in range(3):
        asyncio.run(worker.run_due())
    db.expire_all()
    stored = db.get(Job, job.id)
    assert stored is not None and stored.status == JobStatus.FAILED and stored.last_error == "not yet"


def test_dedupe_key_queues_once(db: Session) -> None:
    first = jobs.enqueue(db, "test.flaky", {}, dedupe_key="only-once")
    second = jobs.enqueue(db, "test.flaky", {}, dedupe_key="only-once")
    assert first.id == second.id
    assert db.scalar(select(func.count()).select_from(Job)) == 1


def test_an_expired_lease_is_taken_over_and_the_old_owner_cannot_finish(db: Session, session_factory) -> None:
    job = jobs.enqueue(db, "test.flaky", {})
    db.commit()
    [mine] = queue.claim(session_factory, "worker-a", 10, lease_seconds=-1)  # already expired
    [theirs] = queue.claim(session_factory, "worker-b", 10, lease_seconds=60)
    assert mine.id == theirs.id == job.id and theirs.attempts == 2
    stale = jobs.JobContext(session_factory, "worker-a", mine)
    with session_factory() as session, session.begin():
        try:
            stale.complete(session)
            raise AssertionError("a lost lease must not complete the job")
        except jobs.LeaseLost:
            pass
    assert queue.claim(session_factory, "worker-c", 10, lease_seconds=60) == []  # b holds it


def _submitted(seeded: Session, settings: Settings, key: str) -> ServiceRequest:
    """A committed request for a smart certificate (its job queued)."""
    create_citizen(seeded, DEMO)
    request, _ = service.submit(
        seeded, settings, national_code=DEMO, slug="no-criminal-record", inputs={"purpose": "employment"},
        idempotency_key=key,
    )  # fmt: skip
    seeded.commit()
    return request


@pytest.mark.timeout(300)
def test_worker_killed_mid_job_is_resumed_and_nothing_is_done_twice(
    seeded: Session,
    settings: Settings,
    committed_engine: Engine,
    session_factory,
    faults,
    worker,
) -> None:
    request = _submitted(seeded, settings, "kill-9")
    faults("judiciary", latency_ms=30_000)  # the inquiry hangs: the worker is mid-job when killed
    env = {
        **os.environ,
        "PANJEREH_ENV": "test",
        "PANJEREH_SECRET_KEY": settings.secret_key,
        "PANJEREH_PUBLIC_URL": settings.base_url,
        "PANJEREH_HOME": str(settings.home),
        "PANJEREH_DATABASE_URL": committed_engine.url.render_as_string(hide_password=False),
        "PANJEREH_REGISTRIES_URL": settings.registries_url,
        "PANJEREH_REGISTRY_TOKEN": settings.registry_token,
        "PANJEREH_LOG_LEVEL": "WARNING",
    }
    process = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "panjereh", "worker", "--lease-seconds", "3", "--no-proactive-feed"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120  # a worker process importing the platform on a loaded CI machine
        while True:
            with session_factory() as session:
                job = session.scalar(select(Job).where(Job.kind == service.PROCESS_JOB))
                state = session.get(ServiceRequest, request.id).state
            # Mid-inquiry the request still reads as submitted: its "processing" line is written with
            # the outcome, so the job's lease is what shows the worker has it.
            if job is not None and job.status == JobStatus.RUNNING:
                assert state == RequestState.SUBMITTED
                break
            assert time.monotonic() < deadline, "the worker never started the job"
            time.sleep(0.1)
        time.sleep(0.5)  # the inquiry is in flight (the registry hangs for 30 s)
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
    faults("judiciary", latency_ms=0)
    with session_factory() as session:
        job = session.scalar(select(Job).where(Job.kind == service.PROCESS_JOB))
        assert job is not None and job.status == JobStatus.RUNNING  # orphaned, with its lease
        assert job.locked_until is not None and job.locked_until > utcnow() - __import__(
            "datetime"
        ).timedelta(seconds=5)
    assert run_jobs(worker) == 0  # the lease has not run out: nobody steals a live job
    time.sleep(3.2)
    # Resumed. The killed worker had also queued its recurring data-access notices job, which it may or
    # may not have finished before the kill: that one may run here too, so jobs are not counted.
    assert run_jobs(worker) >= 1
    with session_factory() as session:
        stored = session.get(ServiceRequest, request.id)
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
        job = session.scalar(select(Job).where(Job.kind == service.PROCESS_JOB))
    assert documents == 1 and approvals == 1
    assert job is not None and job.status == JobStatus.DONE and job.attempts == 2
    assert run_jobs(worker) == 0


def test_a_worker_that_lost_its_lease_decides_nothing(
    seeded: Session,
    settings: Settings,
    session_factory,
    worker,
) -> None:
    request = _submitted(seeded, settings, "lease-lost")
    [mine] = queue.claim(session_factory, "worker-a", 10, lease_seconds=-1)  # expired at once
    [theirs] = queue.claim(session_factory, "worker-b", 10, lease_seconds=60)
    assert mine.id == theirs.id
    stale = jobs.JobContext(session_factory, "worker-a", mine, worker.services)

    async def run() -> None:
        try:
            await processing.process_request(stale)
        finally:
            await worker.services["exchange"].aclose()

    try:
        asyncio.run(run())
        raise AssertionError("a lost lease must stop the job")
    except jobs.LeaseLost:
        pass
    with session_factory() as session:
        stored = session.get(ServiceRequest, request.id)
        assert stored is not None and stored.state == RequestState.SUBMITTED  # worker-b's to do
        assert session.scalar(select(func.count()).select_from(IssuedDocument)) == 0
        kinds = session.scalars(select(RequestEvent.kind).where(RequestEvent.request_id == request.id)).all()
        assert kinds == ["submitted"]


def test_periodic_work_runs_and_queues_its_next_run_even_when_a_run_fails(
    db: Session,
    worker,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(periodic, "PERIODIC", {})  # only this test's work
    monkeypatch.setattr(queue, "HANDLERS", dict(queue.HANDLERS))
    runs: list[str] = []

    @periodic.periodic("test.periodic", every_seconds=3600.0)
    def work(ctx: jobs.JobContext) -> None:
        runs.append(ctx.job.id)
        raise RuntimeError("a registry is down")

    periodic.ensure_periodic(db, worker.services["settings"])
    periodic.ensure_periodic(db, worker.services["settings"])  # a second worker starting: still one job
    db.commit()
    asyncio.run(worker.run_due())
    db.expire_all()
    rows = db.scalars(select(Job).where(Job.kind == "test.periodic").order_by(Job.run_at)).all()
    assert len(runs) == 1 and [row.status for row in rows] == [JobStatus.DONE, JobStatus.QUEUED]
    assert rows[1].run_at > utcnow() + timedelta(minutes=59)  # the next run, an hour on


def test_each_worker_queues_the_platforms_periodic_work_once(db: Session, settings: Settings) -> None:
    import panjereh.worker  # noqa: F401 - imports every domain's tasks, as the app and `panjereh worker` do

    periodic.ensure_periodic(db, settings)
    periodic.ensure_periodic(db, settings)
    kinds = db.scalars(select(Job.kind).where(Job.status == JobStatus.QUEUED)).all()
    expected = {
        DATA_ACCESS_NOTICES_JOB,
        "conformance.checks",
        "analytics.rollup",
        "analytics.measure",
        "delivery.sweep_stuck",
    }
    assert expected <= set(kinds) and len(kinds) == len(set(kinds))


def test_a_claim_never_takes_more_than_its_limit(db: Session, session_factory) -> None:
    """PostgreSQL may run an `IN (SELECT ... LIMIT n FOR UPDATE SKIP LOCKED)` subquery once per row it
    checks, each run skipping the rows the last one locked: without a materialized pick a claim of 4
    took 92 jobs, and a worker ran far more at once than its concurrency (and its connection pool) allows."""
    for _ in range(120):
        jobs.enqueue(db, "test.flaky", {})
    db.commit()
    taken = queue.claim(session_factory, "worker-a", 4, lease_seconds=60)
    assert len(taken) == 4
    assert len(queue.claim(session_factory, "worker-b", 200, lease_seconds=60)) == 116
