"""OpenTelemetry tracing, off unless `PANJEREH_OPENTELEMETRY` is on: server spans from FastAPI's native
instrumentation, client spans from aiohttp's (the exchange's one outbound path) and httpx's (timestamps,
mirrors), database spans from SQLAlchemy's, exported as the standard
OTEL_* variables say (OTEL_TRACES_EXPORTER, OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_SERVICE_NAME, …).

One trace, not two: when it is on, `core.tracing` takes the server span OpenTelemetry started from the
incoming `traceparent` as the request's span, so the logs' `trace_id`/`span_id`, the `traceresponse`
header and the exported spans name the same ids (docs/protocols/tracing.md). Imported only when on:
`panjereh.cli` stays light (tests/test_cli.py).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from panjereh.core import tracing

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter

_installed: TracerProvider | None = None


def install(provider: TracerProvider | None = None) -> TracerProvider:
    """Trace this process (once; later calls return the same provider).

    Without a provider: one built from the OTEL_* variables, made the global provider. A test passes its
    own (with an in-memory exporter), which is not made global and is removed by `uninstall`.
    """
    global _installed
    if _installed is not None:
        return _installed
    from opentelemetry.instrumentation.aiohttp_client import AioHttpClientInstrumentor
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
    from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor

    if provider is None:
        from opentelemetry import trace

        provider = provider_from_environment()
        trace.set_tracer_provider(provider)
    AioHttpClientInstrumentor().instrument(tracer_provider=provider)
    HTTPXClientInstrumentor().instrument(tracer_provider=provider)
    # Its declared range stops below SQLAlchemy 2.1, which it traces all the same (tests/core/test_otel.py).
    SQLAlchemyInstrumentor().instrument(tracer_provider=provider, skip_dep_check=True)
    tracing.adopt(_current_span)
    tracing.open_resumed_with(_resumed_span)
    _installed = provider
    return provider


def uninstall() -> None:
    """Undo `install` (tests): aiohttp, httpx and SQLAlchemy untraced, the logs' spans our own again."""
    global _installed
    if _installed is None:
        return
    from opentelemetry.instrumentation.aiohttp_client import AioHttpClientInstrumentor
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
    from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor

    AioHttpClientInstrumentor().uninstrument()
    HTTPXClientInstrumentor().uninstrument()
    SQLAlchemyInstrumentor().uninstrument()
    tracing.adopt(None)
    tracing.open_resumed_with(None)
    _installed = None


def _current_span() -> tracing.TraceParent | None:
    """OpenTelemetry's current span as a trace parent (None when there is none)."""
    from opentelemetry import trace

    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return None
    return tracing.TraceParent(
        format(context.trace_id, "032x"), format(context.span_id, "016x"), int(context.trace_flags)
    )


@contextmanager
def _resumed_span(parent: tracing.TraceParent | None, name: str) -> Iterator[tracing.TraceParent]:
    """A span of work resumed later (a job), the child of its stored parent, current while it runs: the
    client spans of its calls (and the traceparent they send) are of the parent's trace."""
    from opentelemetry import context, trace
    from opentelemetry.trace import NonRecordingSpan, SpanContext, SpanKind, TraceFlags

    assert _installed is not None  # opened only while installed
    if parent is None:
        # A root span: never one under whatever context the work happened to inherit.
        under = context.Context()
    else:
        remote = SpanContext(
            int(parent.trace_id, 16),
            int(parent.span_id, 16),
            is_remote=True,
            trace_flags=TraceFlags(parent.flags),
        )
        under = trace.set_span_in_context(NonRecordingSpan(remote), context.Context())
    tracer = _installed.get_tracer("panjereh.jobs")
    with tracer.start_as_current_span(name, context=under, kind=SpanKind.CONSUMER):
        span = _current_span()
        assert span is not None
        yield span


def provider_from_environment() -> TracerProvider:
    """A tracer provider as the OTEL_* variables describe it (service name, exporters, sampler)."""
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    # OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES are read by Resource.create; "panjereh" only when
    # they name no service (attributes passed to create would win over them). The sampler comes from
    # OTEL_TRACES_SAMPLER, the batching from OTEL_BSP_*.
    resource = Resource.create()
    if str(resource.attributes.get(SERVICE_NAME, "")).startswith("unknown_service"):
        resource = resource.merge(Resource({SERVICE_NAME: "panjereh"}))
    provider = TracerProvider(resource=resource)
    for exporter in exporters(os.environ.get("OTEL_TRACES_EXPORTER", "otlp")):
        provider.add_span_processor(BatchSpanProcessor(exporter))
    return provider


def exporters(names: str) -> list[SpanExporter]:
    """The exporters OTEL_TRACES_EXPORTER names (comma-separated: `otlp`, `console`, `none`).

    `otlp` is OTLP over HTTP with protobuf (the gRPC exporter is not installed); its endpoint and
    headers come from OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT and _HEADERS. An unknown name refuses to start.
    """
    chosen: list[SpanExporter] = []
    for name in (part.strip() for part in names.split(",")):
        if name in ("", "none"):
            continue
        if name == "otlp":
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            chosen.append(OTLPSpanExporter())
        elif name == "console":
            from opentelemetry.sdk.trace.export import ConsoleSpanExporter

            chosen.append(ConsoleSpanExporter())
        else:
            raise ValueError(f"OTEL_TRACES_EXPORTER: unknown exporter {name!r} (otlp, console or none)")
    return chosen
