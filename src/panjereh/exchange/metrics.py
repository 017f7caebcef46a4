"""Prometheus metrics of the gateway: calls by client, service and outcome; latency; circuits; log queue."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from panjereh.core.metrics import LATENCY_BUCKETS


def environment_of(sandbox: bool) -> str:
    """The `environment` label's value for a call."""
    return "sandbox" if sandbox else "production"


class ExchangeMetrics:
    """The exchange's collectors, on the application's registry."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self.inquiries = Counter(
            "panjereh_exchange_inquiries_total",
            "Inquiries through the exchange by client agency, data service, outcome and environment.",
            # environment: production or sandbox, so a national figure or an alert sums production only.
            ["client", "service", "outcome", "environment"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "panjereh_exchange_inquiry_duration_seconds",
            "Inquiry latency through the exchange, by data service and environment.",
            ["service", "environment"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.circuit_open = Gauge(
            "panjereh_exchange_circuit_open",
            "1 while the circuit to a provider system is open.",
            ["provider_system"],
            registry=self.registry,
        )
        self.log_queue = Gauge(
            "panjereh_exchange_log_queue",
            "Message-log records waiting to be written.",
            registry=self.registry,
        )
