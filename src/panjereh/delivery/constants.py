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


class DefinitionStatus(enum.StrEnum):
    """Where a version of a service definition is in its life (`service.publish` and its siblings)."""

    DRAFT = "draft"  # being written; the only editable state
    IN_REVIEW = "in_review"  # submitted; waiting for a second person to publish or reject it
    PUBLISHED = "published"  # the version requests run on (one per slug); immutable
    RETIRED = "retired"  # replaced by a newer version, withdrawn, or discarded; immutable
