"""A job continues the trace of the request that queued it: a smart request's registry calls, made by the
worker, are in the apply's trace (its message-log entries and `panjereh exchange trace`); retries keep it; a
malformed stored value or a schedule's run starts a trace of its own (docs/protocols/tracing.md)."""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import structlog
from sqlalchemy import select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from panjereh import jobs
from panjereh.core import tracing
from panjereh.core.config import Settings, get_settings
from panjereh.core.logging import configure_logging
from panjereh.delivery import service
from panjereh.delivery.models import ServiceRequest
from panjereh.exchange import selectors as exchange_selectors
from panjereh.jobs import Job, JobStatus, periodic, queue
from tests.delivery.conftest import DEMO, run_jobs

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER_SPAN = "00f067aa0ba902b7"
INCOMING = f"00-{TRACE}-{CALLER_SPAN}-01"
HEX_TRACE = re.compile(r"^[0-9a-f]{32}$")

# What each run of the test handlers below saw: (job id, attempt, the current span, the log context).
RUNS: list[tuple[str, int, tracing.TraceParent | None, dict[str, Any]]] = []


def _note(ctx: jobs.JobContext) -> None:
    RUNS.append((ctx.job.id, ctx.job.attempts, tracing.current(), structlog.contextvars.get_contextvars()))


@jobs.handler("test.trace.note")
async def note(ctx: jobs.JobContext) -> None:
    _note(ctx)


@jobs.handler("test.trace.flaky")
async def flaky(ctx: jobs.JobContext) -> None:
    _note(ctx)
    if ctx.job.attempts < 3:
        raise jobs.Retry("not yet", delay=0)


@pytest.fixture(autouse=True)
def untraced() -> Iterator[None]:
    """This thread starts each test outside any trace (another test may have left one current)."""
    RUNS.clear()
    token = tracing._current.set(None)
    yield
    tracing._current.reset(token)


@contextmanager
def in_request(header: str) -> Iterator[tracing.TraceParent]:
    """This thread inside a request that came with `header`, as the request middleware makes it."""
    token = tracing._current.set(None)
    try:
        yield tracing.enter(header)
    finally:
        tracing._current.reset(token)


def _eventually(check: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def _stored(session_factory: sessionmaker[Session], job_id: str) -> Job:
    with session_factory() as session:
        job = session.get(Job, job_id)
    assert job is not None
    return job


# --- a smart request, from the apply to the registries -----------------------------------------------------


def test_a_smart_requests_registry_calls_are_in_the_apply_requests_trace(
    login, worker, seeded: Session, committed_engine: Engine, settings: Settings, monkeypatch
) -> None:
    client = login(DEMO)
    response = client.post(
        "/api/v1/services/no-criminal-record/requests",
        json={"inputs": {"purpose": "employment"}},
        headers={"Idempotency-Key": "traced", "traceparent": INCOMING},
    )
    assert response.status_code == 201, response.text
    code = response.json()["tracking_code"]
    request_span = tracing.parse(response.headers["traceresponse"])
    assert request_span is not None and request_span.trace_id == TRACE
    seeded.commit()  # end this session's read: the worker writes next
    request_id = seeded.scalars(select(ServiceRequest.id).where(ServiceRequest.tracking_code == code)).one()
    processing = seeded.scalars(select(Job).where(Job.dedupe_key == f"process:{request_id}")).one()
    # The job keeps the apply request's own span: its run is that span's child.
    assert processing.traceparent == request_span.header()
    before = set(seeded.scalars(select(Job.id)))
    seeded.commit()

    assert run_jobs(worker) == 2  # the request's job, then the job that texts its decision
    seeded.expire_all()
    assert seeded.get(ServiceRequest, request_id).state.value == "approved"  # type: ignore[union-attr]

    # Every registry call the worker made for the request is in the message log under the apply's trace.
    calls = exchange_selectors.log_entries_of(seeded, TRACE)
    assert {entry.service_code for entry in calls} == {"civil-registry.person", "judiciary.criminal-record"}
    assert all(entry.case_ref == code for entry in calls)
    # The decision's notice was queued by the job's run, so it continues the same trace (in the run's span).
    queued_by_the_run = seeded.scalars(select(Job).where(Job.id.not_in(before))).all()
    assert queued_by_the_run and {job.kind for job in queued_by_the_run} != {service.PROCESS_JOB}
    assert all(tracing.trace_id_of(job.traceparent) == TRACE for job in queued_by_the_run)
    assert all(job.traceparent != processing.traceparent for job in queued_by_the_run)
    seeded.commit()

    # And the operator finds them from the trace id the portal answered with.
    monkeypatch.setenv("PANJEREH_DATABASE_URL", committed_engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("PANJEREH_HOME", str(settings.home))
    get_settings.cache_clear()
    try:
        from panjereh.cli import app as cli_app

        listed = CliRunner().invoke(cli_app, ["exchange", "trace", TRACE])
    finally:
        get_settings.cache_clear()
    assert listed.exit_code == 0, listed.output
    for entry in calls:
        assert entry.message_id in listed.output
    assert "civil-registry.person" in listed.output and "judiciary.criminal-record" in listed.output


# --- the job platform ---------------------------------------------------------------------------------------


def test_a_job_runs_as_a_new_span_of_the_trace_that_queued_it_and_logs_under_it(db: Session, worker) -> None:
    with in_request(INCOMING) as request_span:
        job = jobs.enqueue(db, "test.trace.note", {})
    db.commit()
    assert job.traceparent == request_span.header()
    assert asyncio.run(worker.run_due()) == 1
    [(_, _, span, logged)] = RUNS
    assert span is not None and span.trace_id == TRACE
    assert span.span_id not in (request_span.span_id, CALLER_SPAN)
    assert (logged["trace_id"], logged["span_id"]) == (span.trace_id, span.span_id)
    assert tracing.current() is None  # the run's span stayed in the run


def test_retries_of_a_job_keep_its_trace(db: Session, worker, session_factory) -> None:
    with in_request(INCOMING):
        job = jobs.enqueue(db, "test.trace.flaky", {})
    db.commit()
    for _ in range(3):
        asyncio.run(worker.run_due())
    assert _stored(session_factory, job.id).status == JobStatus.DONE
    assert [attempt for _, attempt, _, _ in RUNS] == [1, 2, 3]
    spans = [span for _, _, span, _ in RUNS]
    assert all(span is not None and span.trace_id == TRACE for span in spans)
    assert len({span.span_id for span in spans if span is not None}) == 3  # each attempt a span of its own


@pytest.fixture
def debug_logs(capsys: pytest.CaptureFixture[str]) -> Iterator[Any]:
    """Log at DEBUG for this test, read back as the JSON lines written."""
    configure_logging("DEBUG")
    capsys.readouterr()

    def read() -> list[dict[str, Any]]:
        err = capsys.readouterr().err
        return [json.loads(line) for line in err.splitlines() if line.startswith("{")]

    try:
        yield read
    finally:
        configure_logging("WARNING")  # as the test settings have it


@pytest.mark.parametrize(
    "stored",
    ["not-a-traceparent", f"00-{TRACE.upper()}-{CALLER_SPAN}-01", f"00-{'0' * 32}-{CALLER_SPAN}-01", ""],
)
def test_a_job_with_a_malformed_stored_traceparent_runs_in_a_new_trace_and_says_why(
    db: Session, worker, session_factory, debug_logs, stored: str
) -> None:
    with in_request(INCOMING):
        job = jobs.enqueue(db, "test.trace.note", {})
    db.commit()
    db.execute(update(Job).where(Job.id == job.id).values(traceparent=stored))  # a hand-edited row
    db.commit()
    assert asyncio.run(worker.run_due()) == 1
    assert _stored(session_factory, job.id).status == JobStatus.DONE
    [(_, _, span, _)] = RUNS
    assert span is not None and HEX_TRACE.match(span.trace_id) and span.trace_id != TRACE
    [line] = [line for line in debug_logs() if line["event"] == "job.trace_started"]
    assert line["job"] == job.id and line["level"] == "debug"
    assert "not a valid W3C traceparent" in line["reason"] and line["trace_id"] == span.trace_id


def test_a_job_queued_outside_a_trace_starts_one_of_its_own_each_run(db: Session, worker, debug_logs) -> None:
    first = jobs.enqueue(db, "test.trace.note", {})  # a command's, or a job from before traces were kept
    second = jobs.enqueue(db, "test.trace.note", {})
    db.commit()
    assert first.traceparent is None and second.traceparent is None
    assert asyncio.run(worker.run_due()) == 2
    traces = {span.trace_id for _, _, span, _ in RUNS if span is not None}
    assert len(traces) == 2 and all(HEX_TRACE.match(trace) for trace in traces)
    reasons = {line["reason"] for line in debug_logs() if line["event"] == "job.trace_started"}
    assert reasons == {"queued outside a trace"}


def test_a_scheduled_job_gets_a_fresh_trace_each_run(
    db: Session, worker, session_factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(periodic, "PERIODIC", {})  # only this test's work
    monkeypatch.setattr(queue, "HANDLERS", dict(queue.HANDLERS))
    seen: list[tracing.TraceParent | None] = []

    @periodic.periodic("test.trace.periodic", every_seconds=3600.0)
    def work(ctx: jobs.JobContext) -> None:
        seen.append(tracing.current())

    with in_request(INCOMING):  # even queued while a trace is current (an operator's request, say)
        periodic.ensure_periodic(db, worker.services["settings"])
    db.commit()
    asyncio.run(worker.run_due())
    db.execute(update(Job).where(Job.status == JobStatus.QUEUED).values(run_at=Job.created_at))  # due now
    db.commit()
    asyncio.run(worker.run_due())
    rows = db.scalars(select(Job).where(Job.kind == "test.trace.periodic").order_by(Job.created_at)).all()
    # The second run was queued by the first, in the first's span: it is not that run's child.
    assert [row.traceparent for row in rows] == [None, None, None]
    assert len(seen) == 2 and all(span is not None for span in seen)
    first, second = (span.trace_id for span in seen if span is not None)
    assert first != second and TRACE not in (first, second)


def test_a_job_handed_over_at_commit_continues_the_trace_and_not_the_commits_context(
    session_factory: sessionmaker[Session],
) -> None:
    running = jobs.Worker(session_factory, concurrency=1, poll_interval=60)
    running.start_in_thread()
    try:
        _eventually(lambda: running in queue._running)  # registered: a job queued now is handed to it
        with in_request(INCOMING) as request_span, session_factory() as session:
            structlog.contextvars.bind_contextvars(request_id="the-committing-request")
            try:
                job = jobs.enqueue(session, "test.trace.note", {})
                session.commit()  # handed over here: started from this thread's context
            finally:
                structlog.contextvars.unbind_contextvars("request_id")
        _eventually(lambda: len(RUNS) == 1)
    finally:
        running.stop()
        running.join(timeout=60)
    [(job_id, _, span, logged)] = RUNS
    assert job_id == job.id and span is not None
    assert span.trace_id == TRACE and span.span_id != request_span.span_id
    assert logged == {"trace_id": TRACE, "span_id": span.span_id}  # the request's own id stayed behind
