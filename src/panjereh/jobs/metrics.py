"""The job queue's age for Prometheus: how long the oldest job due has waited (read at each scrape)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector, CollectorRegistry
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from panjereh.core.db import utcnow
from panjereh.jobs.models import Job, JobStatus

QUEUE_AGE = "panjereh_jobs_queue_age_seconds"


class QueueAgeCollector(Collector):
    """Seconds the oldest queued job has been due (0 when none is): a stuck or missing worker shows here."""

    def __init__(self, sessions: Callable[[], Session]) -> None:
        self.sessions = sessions

    def collect(self) -> Iterator[GaugeMetricFamily]:
        now = utcnow()
        with self.sessions() as session:
            oldest: datetime | None = session.scalar(
                select(func.min(Job.run_at)).where(Job.status == JobStatus.QUEUED, Job.run_at <= now)
            )
        age = max(0.0, (now - oldest).total_seconds()) if oldest is not None else 0.0
        yield GaugeMetricFamily(QUEUE_AGE, "Seconds the oldest due job has waited in the queue.", value=age)


def register(registry: CollectorRegistry, sessions: Callable[[], Session]) -> None:
    registry.register(QueueAgeCollector(sessions))
