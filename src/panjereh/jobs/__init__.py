"""The job platform beneath the domains: durable jobs on the database, a worker, periodic jobs.

A domain queues work with `enqueue`, registers handlers with `@handler(kind)` and periodic jobs with
`periodic.periodic`, in its own `tasks.py`; the edge (the app factory, `panjereh worker`) imports those
modules and runs a `Worker`. This package knows no domain.
"""

from panjereh.jobs.models import Job, JobStatus
from panjereh.jobs.queue import (
    ClaimedJob,
    JobContext,
    LeaseLost,
    Retry,
    backoff,
    enqueue,
    handler,
    wake_workers,
)
from panjereh.jobs.worker import Worker

__all__ = [
    "ClaimedJob",
    "Job",
    "JobContext",
    "JobStatus",
    "LeaseLost",
    "Retry",
    "Worker",
    "backoff",
    "enqueue",
    "handler",
    "wake_workers",
]
