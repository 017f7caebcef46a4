"""Where a request can be (public: other domains and the pages compare with it)."""

from __future__ import annotations

import enum


class RequestState(enum.StrEnum):
    """Where a request is; the allowed moves are in `service.TRANSITIONS`."""

    AWAITING_PAYMENT = "awaiting_payment"  # a fee-bearing service: nothing is asked until the fee is paid
    SUBMITTED = "submitted"
    PROCESSING = "processing"  # fetching evidence, deciding
    WAITING = "waiting"  # a registry did not answer; retried with back-off
    IN_QUEUE = "in_queue"  # waiting for an officer of the agency
    IN_REVIEW = "in_review"  # an officer took it
    NEEDS_INFO = "needs_info"  # the officer asked the citizen for more
    APPROVED = "approved"
    REFUSED = "refused"
    WITHDRAWN = "withdrawn"  # the citizen (or who applied for the subject) gave it up: final, not a decision


FINAL_STATES = frozenset({RequestState.APPROVED, RequestState.REFUSED, RequestState.WITHDRAWN})
# Where the citizen may still give a request up (`service.withdraw`): before the platform or an officer
# works on it, or while it waits for him. Never while the worker decides it (`processing`) or an officer
# holds it (`in_review`), and never once it is decided.
WITHDRAWABLE_STATES = frozenset(
    {
        RequestState.AWAITING_PAYMENT,
        RequestState.SUBMITTED,
        RequestState.WAITING,
        RequestState.IN_QUEUE,
        RequestState.NEEDS_INFO,
    }
)


class DefinitionStatus(enum.StrEnum):
    """Where a version of a service definition is in its life (`service.publish` and its siblings)."""

    DRAFT = "draft"  # being written; the only editable state
    IN_REVIEW = "in_review"  # submitted; waiting for a second person to publish or reject it
    PUBLISHED = "published"  # the version requests run on (one per slug); immutable
    RETIRED = "retired"  # replaced by a newer version, withdrawn, or discarded; immutable


# Each template's name for people, Persian and English (delivery.templates has the
# templates themselves; the duties' to-do list names the one it suggests).
TEMPLATE_TITLES: dict[str, tuple[str, str]] = {
    "certificate_from_registry": ("گواهی از پاسخ یک سامانه", "A certificate from one registry's answer"),
    "eligibility_from_answers": ("احراز شرایط از چند پاسخ", "Eligibility from several answers"),
    "change_in_registry": ("ثبت تغییر در یک سامانه", "A change recorded in a registry"),
}
