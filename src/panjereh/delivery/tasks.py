"""Delivery's jobs: processing a submitted request, polling the civil registry's life events, and the
sweep that hands to people any request the platform has held too long."""

from __future__ import annotations

from panjereh.delivery import proactive, processing, service
from panjereh.jobs import JobContext, handler
from panjereh.jobs.periodic import periodic

SWEEP_JOB = "delivery.sweep_stuck"

handler(service.PROCESS_JOB, on_failure=processing.on_job_failed)(processing.process_request)
handler(proactive.POLL_JOB)(proactive.poll_job)


@periodic(
    SWEEP_JOB, every_seconds=lambda settings: settings.delivery_sweep_every_seconds, first_after_seconds=60.0
)
def sweep_stuck(ctx: JobContext) -> None:
    """Hand to people the requests the platform has held too long (`processing.sweep_stuck`)."""
    processing.sweep_stuck(ctx.sessionmaker, ctx.services["settings"])
