"""Payments by outcome for Prometheus (`panjereh_payments_total{outcome=...}`), counted in this process."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily
from prometheus_client.registry import Collector, CollectorRegistry

NAME = "panjereh_payments"
_counts: Counter[str] = Counter()
_lock = threading.Lock()


def count(outcome: str) -> None:
    """One payment event: started, settled, canceled, declined, refused_<why>, refunded_<why>, …"""
    with _lock:
        _counts[outcome] += 1


def snapshot() -> dict[str, int]:
    with _lock:
        return dict(_counts)


class PaymentsCollector(Collector):
    """Reads the process's counts at each scrape (one collector per application's registry)."""

    def collect(self) -> Iterator[CounterMetricFamily]:
        family = CounterMetricFamily(
            NAME, "Payments by outcome (started, settled, refused callbacks, …).", labels=["outcome"]
        )
        for outcome, value in sorted(snapshot().items()):
            family.add_metric([outcome], value)
        yield family


def register(registry: CollectorRegistry) -> None:
    registry.register(PaymentsCollector())
