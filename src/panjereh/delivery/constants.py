"""Where a request can be (public: other domains and the pages compare with it)."""

from __future__ import annotations

import enum


class RequestState(enum.StrEnum):
    """Where a request is; the allowed moves are in `service.TRANSITIONS`."""

    SUBMITTED = "submitted"
    PROCESSING = "processing"  # fetching evidence, deciding
    WAITING = "waiting"  # a registry did not answer; retried with back-off
    IN_QUEUE = "in_queue"  # waiting for an officer of the agency
    IN_REVIEW = "in_review"  # an officer took it
    NEEDS_INFO = "needs_info"  # the officer asked the citizen for more
    APPROVED = "approved"
    REFUSED = "refused"


FINAL_STATES = frozenset({RequestState.APPROVED, RequestState.REFUSED})
