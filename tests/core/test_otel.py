"""OpenTelemetry, when on: the server span continues the incoming traceparent with the same ids the logs
and `traceresponse` carry, an exchange call is a client span of that trace, queries are database spans;
when off, nothing of it is loaded."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import ConsoleSpanExporter, SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from panjereh.app import create_app
from panjereh.core import otel, tracing
from panjereh.core.config import Settings
from panjereh.core.db import make_engine
from tests.identity import helpers
from tests.support.factories import create_grant

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER_SPAN = "00f067aa0ba902b7"
INCOMING = f"00-{TRACE}-{CALLER_SPAN}-01"
HEADER = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    """OpenTelemetry installed with an in-memory exporter for this test only (then uninstalled)."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    otel.install(provider)
    try:
        yield exporter
    finally:
        otel.uninstall()
        provider.shutdown()


@pytest.fixture
def traced_app(
    spans: InMemorySpanExporter, settings: Settings, session_factory: sessionmaker[Session]
) -> FastAPI:
    application = create_app(settings.model_copy(update={"opentelemetry": True}))
    application.state.sessionmaker = session_factory

    @application.get("/probe/exchange")
    def probe(request: Request) -> dict[str, object]:
        result = request.app.state.exchange.inquire(
            "police.vehicles",
            subject=helpers.DEMO_CODE,
            purpose="tax-audit",
            case=None,
            path_params={"national_code": helpers.DEMO_CODE},
        )
        return {"status": result.status}

    return application


def _hex(span: ReadableSpan) -> tuple[str, str]:
    context = span.get_span_context()
    assert context is not None
    return format(context.trace_id, "032x"), format(context.span_id, "016x")


def _server_spans(spans: InMemorySpanExporter) -> list[ReadableSpan]:
    return [span for span in spans.get_finished_spans() if span.kind is SpanKind.SERVER]


def test_the_server_span_continues_the_incoming_trace_with_the_logs_ids(
    traced_app: FastAPI, spans: InMemorySpanExporter
) -> None:
    with TestClient(traced_app) as client:
        response = client.get("/healthz", headers={"traceparent": INCOMING})
    assert response.status_code == 200
    (server,) = _server_spans(spans)
    trace_id, span_id = _hex(server)
    assert trace_id == TRACE
    assert server.parent is not None and format(server.parent.span_id, "016x") == CALLER_SPAN
    # The span the logs and the traceresponse name is the exported server span: one trace, not two.
    match = HEADER.match(response.headers["traceresponse"])
    assert match and match.groups() == (TRACE, span_id, "01")


def test_an_invalid_traceparent_starts_one_trace_for_both(
    traced_app: FastAPI, spans: InMemorySpanExporter
) -> None:
    with TestClient(traced_app) as client:
        response = client.get("/healthz", headers={"traceparent": f"00-{TRACE.upper()}-{CALLER_SPAN}-01"})
    (server,) = _server_spans(spans)
    trace_id, span_id = _hex(server)
    assert trace_id != TRACE.upper().lower() and server.parent is None
    match = HEADER.match(response.headers["traceresponse"])
    assert match and match.group(1) == trace_id and match.group(2) == span_id


def test_an_exchange_call_is_a_client_span_of_the_request(
    traced_app: FastAPI, spans: InMemorySpanExporter, seeded: Session
) -> None:
    create_grant(seeded, "ito", "police.vehicles", ["tax-audit"])
    with TestClient(traced_app) as client:
        response = client.get("/probe/exchange", headers={"traceparent": INCOMING})
    assert response.status_code == 200, response.text
    assert response.json()["status"] in (200, 404)
    (server,) = _server_spans(spans)
    # The exchange's call to the police registry (the others: the start-up mirrors the documents).
    calls = [
        span
        for span in spans.get_finished_spans()
        if span.kind is SpanKind.CLIENT
        and "/police/vehicles/" in str((span.attributes or {}).get("http.url"))
    ]
    assert len(calls) == 1, _dump(spans)
    (call,) = calls
    assert _hex(call)[0] == TRACE
    # Its ancestors lead to the server span (FastAPI's endpoint span stands between them).
    by_id = {_hex(span)[1]: span for span in spans.get_finished_spans()}
    ancestors, parent = [], call.parent
    while parent is not None and format(parent.span_id, "016x") in by_id:
        ancestors.append(format(parent.span_id, "016x"))
        parent = by_id[format(parent.span_id, "016x")].parent
    assert _hex(server)[1] in ancestors


def test_a_job_is_a_span_of_the_trace_that_queued_it_and_its_calls_are_under_it(
    traced_app: FastAPI, spans: InMemorySpanExporter, seeded: Session
) -> None:
    create_grant(seeded, "ito", "police.vehicles", ["tax-audit"])
    seeded.commit()
    # As the worker runs a job whose row keeps the queuing request's span (jobs/worker.py).
    with tracing.resumed(INCOMING, "job test.queued") as resumed:
        assert tracing.current() == resumed
        traced_app.state.exchange.inquire(
            "police.vehicles",
            subject=helpers.DEMO_CODE,
            purpose="tax-audit",
            path_params={"national_code": helpers.DEMO_CODE},
        )
    with tracing.resumed(None, "job test.scheduled") as fresh:
        pass
    assert tracing.current() is None
    by_name = {span.name: span for span in spans.get_finished_spans() if span.kind is SpanKind.CONSUMER}
    job, scheduled = by_name["job test.queued"], by_name["job test.scheduled"]
    # The logs' span is the exported one, the child of the span that queued the job.
    assert _hex(job) == (TRACE, resumed.span_id)
    assert job.parent is not None and format(job.parent.span_id, "016x") == CALLER_SPAN
    calls = [
        span
        for span in spans.get_finished_spans()
        if span.kind is SpanKind.CLIENT
        and "/police/vehicles/" in str((span.attributes or {}).get("http.url"))
    ]
    assert len(calls) == 1, _dump(spans)
    assert calls[0].parent is not None and _hex(calls[0])[0] == TRACE
    assert format(calls[0].parent.span_id, "016x") == resumed.span_id
    # Queued outside a trace: a root span of a trace of its own.
    assert scheduled.parent is None and _hex(scheduled) == (fresh.trace_id, fresh.span_id)
    assert fresh.trace_id != TRACE


def test_an_engine_made_while_on_traces_its_queries(spans: InMemorySpanExporter) -> None:
    engine = make_engine("sqlite://")
    try:
        with engine.connect() as connection:
            assert connection.execute(text("SELECT 41 + 1")).scalar() == 42
    finally:
        engine.dispose()
    statements = [span for span in spans.get_finished_spans() if span.kind is SpanKind.CLIENT]
    assert any("SELECT" in span.name for span in statements), [s.name for s in statements]


def test_when_off_the_logs_keep_their_own_span_and_no_span_is_made(
    app: FastAPI, spans: InMemorySpanExporter
) -> None:
    otel.uninstall()
    with TestClient(app) as client:
        response = client.get("/healthz", headers={"traceparent": INCOMING})
    match = HEADER.match(response.headers["traceresponse"])
    assert match and match.group(1) == TRACE and match.group(2) != CALLER_SPAN
    assert spans.get_finished_spans() == ()
    assert tracing._adopted is None


def test_the_exporters_are_chosen_by_otel_traces_exporter() -> None:
    assert otel.exporters("none") == []
    assert [type(e) for e in otel.exporters("console")] == [ConsoleSpanExporter]
    assert [type(e).__name__ for e in otel.exporters("otlp, console")] == [
        "OTLPSpanExporter",
        "ConsoleSpanExporter",
    ]
    with pytest.raises(ValueError, match="zipkin"):
        otel.exporters("zipkin")


def _dump(spans: InMemorySpanExporter) -> str:
    return "\n".join(
        f"{s.name} {s.kind} {_hex(s)} {s.parent and s.parent.span_id:x} {dict(s.attributes or {})}"
        for s in spans.get_finished_spans()
    )


@pytest.mark.parametrize(
    ("environment", "service"),
    [
        ({}, "panjereh"),
        ({"OTEL_SERVICE_NAME": "panjereh-web"}, "panjereh-web"),
        (
            {"OTEL_RESOURCE_ATTRIBUTES": "service.name=panjereh-worker,deployment.environment=prod"},
            "panjereh-worker",
        ),
    ],
)
def test_the_service_is_named_by_the_otel_variables(
    monkeypatch: pytest.MonkeyPatch, environment: dict[str, str], service: str
) -> None:
    for name in ("OTEL_SERVICE_NAME", "OTEL_RESOURCE_ATTRIBUTES"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "none")
    provider = otel.provider_from_environment()
    try:
        assert provider.resource.attributes["service.name"] == service
    finally:
        provider.shutdown()
