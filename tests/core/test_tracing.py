"""W3C traceparent: honoured when valid, started otherwise, in every log line of a request, carried on the
exchange's calls to the registries, and continued by the registries."""

from __future__ import annotations

import re

import pytest
import structlog
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from panjereh.core import tracing
from panjereh.core.requests import RequestIdMiddleware
from panjereh.exchange.pipeline import Caller
from panjereh.registries.app import create_app as create_registries
from tests.identity import helpers
from tests.support.factories import create_grant

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
INCOMING = f"00-{TRACE}-00f067aa0ba902b7-01"
HEADER = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        "00-" + "0" * 32 + "-00f067aa0ba902b7-01",  # all-zero trace id
        f"00-{TRACE}-" + "0" * 16 + "-01",  # all-zero parent id
        f"00-{TRACE.upper()}-00f067aa0ba902b7-01",  # upper-case hex
        f"ff-{TRACE}-00f067aa0ba902b7-01",  # the forbidden version
        f"00-{TRACE}-00f067aa0ba902b7-01-extra",  # version 00 has exactly four fields
        f"00-{TRACE[:-1]}-00f067aa0ba902b7-01",
        "garbage",
    ],
)
def test_invalid_traceparents_are_dropped(value: str | None) -> None:
    assert tracing.parse(value) is None


def test_a_valid_traceparent_and_a_later_version_are_read() -> None:
    parent = tracing.parse(INCOMING)
    assert parent == tracing.TraceParent(TRACE, "00f067aa0ba902b7", 1)
    assert parent.header() == INCOMING
    later = tracing.parse(f"01-{TRACE}-00f067aa0ba902b7-00-what-comes-next")
    assert later is not None and later.trace_id == TRACE and later.flags == 0


def _echo_app() -> FastAPI:
    app = FastAPI()

    @app.get("/context")
    def context() -> dict[str, object]:
        # What every log line of this request is given (structlog's merge_contextvars).
        return dict(structlog.contextvars.get_contextvars())

    app.add_middleware(RequestIdMiddleware)
    return app


def test_an_incoming_trace_is_continued_in_the_logs_and_the_response() -> None:
    with TestClient(_echo_app()) as client:
        response = client.get("/context", headers={"traceparent": INCOMING})
    logged = response.json()
    assert logged["trace_id"] == TRACE
    assert logged["span_id"] != "00f067aa0ba902b7"  # this server's own span, a child of the caller's
    match = HEADER.match(response.headers["traceresponse"])
    assert match and match.group(1) == TRACE and match.group(2) == logged["span_id"]


def test_without_a_valid_trace_one_is_started() -> None:
    with TestClient(_echo_app()) as client:
        first = client.get("/context", headers={"traceparent": "00-zz-bad-01"}).json()
        second = client.get("/context").json()
    assert re.fullmatch(r"[0-9a-f]{32}", first["trace_id"]) and first["trace_id"] != TRACE
    assert second["trace_id"] != first["trace_id"]  # each request its own trace


def test_the_portal_answers_with_its_span_of_the_callers_trace(client: TestClient) -> None:
    response = client.get("/healthz", headers={"traceparent": INCOMING})
    match = HEADER.match(response.headers["traceresponse"])
    assert match and match.group(1) == TRACE


def test_the_registries_continue_the_trace() -> None:
    with TestClient(create_registries()) as registries:
        response = registries.get("/healthz", headers={"traceparent": INCOMING})
    match = HEADER.match(response.headers["traceresponse"])
    assert match and match.group(1) == TRACE


def test_an_exchange_call_carries_a_child_span_of_the_request(app: FastAPI, seeded: Session) -> None:
    create_grant(seeded, "tax", "police.vehicles", ["tax-audit"])
    exchange = app.state.exchange.exchange
    tracing.enter(INCOMING)  # as the request middleware does
    call = exchange.prepare(
        Caller("tax-system", "tax", 100),
        "police.vehicles",
        path_params={"national_code": helpers.DEMO_CODE},
        subject=helpers.DEMO_CODE,
        purpose="tax-audit",
        case=None,
        timeout=None,
    )
    current = tracing.current()
    assert current is not None and call.traceparent is not None
    match = HEADER.match(call.traceparent)
    assert match and match.group(1) == TRACE and match.group(2) != current.span_id
    assert exchange._headers(call)["traceparent"] == call.traceparent
    # Outside any request or job, nothing is sent.
    tracing._current.set(None)
    assert tracing.outgoing() is None
