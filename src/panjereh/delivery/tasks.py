"""Delivery's jobs: processing a submitted request, and polling the civil registry's life events."""

from __future__ import annotations

from panjereh.delivery import proactive, processing, service
from panjereh.jobs import handler

handler(service.PROCESS_JOB)(processing.process_request)
handler(proactive.POLL_JOB)(proactive.poll_job)
