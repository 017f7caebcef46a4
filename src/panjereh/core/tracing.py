"""W3C Trace Context (https://www.w3.org/TR/trace-context/): the `traceparent` header, honoured when it
comes in valid, started otherwise, bound to every log line of the request and carried on every call the
request makes (the exchange's calls to the registries), and on through the jobs it queues (`resumed`).

    traceparent: 00-<trace-id: 32 hex>-<parent-id: 16 hex>-<trace-flags: 2 hex>

§3.2.2: version 00 has exactly four fields; an id of all zeros is invalid; upper-case hex is invalid;
a version other than ff may carry more fields after the flags (read, then ignored). An invalid header
is dropped and a new trace started (§3.2.2.1: "the vendor ... MUST create a new traceparent").
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from contextvars import ContextVar
from dataclasses import dataclass

TRACEPARENT_HEADER = "traceparent"
_TRACEPARENT = re.compile(r"^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$")
_ZERO_TRACE, _ZERO_SPAN = "0" * 32, "0" * 16
SAMPLED = 0x01


@dataclass(frozen=True)
class TraceParent:
    """One span's place in a trace: the trace id, this span's id and the flags."""

    trace_id: str
    span_id: str
    flags: int = SAMPLED

    def header(self) -> str:
        return f"00-{self.trace_id}-{self.span_id}-{self.flags:02x}"

    def child(self) -> TraceParent:
        """The next span of the same trace (an outgoing call is its own span)."""
        return TraceParent(self.trace_id, new_span_id(), self.flags)


def new_span_id() -> str:
    return secrets.token_hex(8)


def start() -> TraceParent:
    """A new trace (no valid traceparent came in)."""
    return TraceParent(secrets.token_hex(16), new_span_id())


def parse(value: str | None) -> TraceParent | None:
    """The header's trace parent, or None if it is absent or invalid."""
    if not value:
        return None
    match = _TRACEPARENT.match(value.strip())
    if match is None:
        return None
    version, trace_id, span_id, flags, rest = match.groups()
    if version == "ff" or (version == "00" and rest) or trace_id == _ZERO_TRACE or span_id == _ZERO_SPAN:
        return None
    return TraceParent(trace_id, span_id, int(flags, 16))


_current: ContextVar[TraceParent | None] = ContextVar("panjereh_traceparent", default=None)


def current() -> TraceParent | None:
    """The span of the request (or job) this code runs for, if any."""
    return _current.get()


# When OpenTelemetry is on (core/otel.py), its server span, already started from the same incoming
# header, is the request's span: one trace id in the logs and in the exported spans, not two.
_adopted: Callable[[], TraceParent | None] | None = None


def adopt(source: Callable[[], TraceParent | None] | None) -> None:
    """Take the request's span from `source` when it has one (OpenTelemetry's current span); None: our own."""
    global _adopted
    _adopted = source


def enter(incoming: str | None) -> TraceParent:
    """Continue the incoming trace as a new span of this server (or start one); make it current."""
    span = _adopted() if _adopted is not None else None
    if span is None:
        parent = parse(incoming)
        span = parent.child() if parent is not None else start()
    _current.set(span)
    return span


# When OpenTelemetry is on, work resumed later (a job) is a span it exports, opened under the stored
# parent: the job's registry calls are then client spans of the same exported trace, not of a new one.
Opener = Callable[["TraceParent | None", str], AbstractContextManager["TraceParent"]]
_opener: Opener | None = None


def open_resumed_with(opener: Opener | None) -> None:
    """Open the span of resumed work with `opener` (OpenTelemetry's); None: our own span, exported nowhere."""
    global _opener
    _opener = opener


@contextmanager
def resumed(stored: str | None, name: str) -> Iterator[TraceParent]:
    """Continue, later and elsewhere, the trace a stored traceparent names (a job queued by a request):
    a new span that is the stored one's child, current for the block. A new trace when `stored` is None or
    invalid. `name` names the span where one is exported (OpenTelemetry)."""
    parent = parse(stored)
    if _opener is not None:
        opened = _opener(parent, name)
    else:
        opened = nullcontext(parent.child() if parent is not None else start())
    with opened as span:
        token = _current.set(span)
        try:
            yield span
        finally:
            _current.reset(token)


def trace_id_of(header: str | None) -> str | None:
    """The trace id a traceparent header names (None if absent or invalid)."""
    parent = parse(header)
    return parent.trace_id if parent is not None else None


def outgoing() -> str | None:
    """The traceparent header for a call made now: a child span of the current one (None outside one)."""
    span = _current.get()
    return span.child().header() if span is not None else None
