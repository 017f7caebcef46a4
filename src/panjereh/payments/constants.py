"""Where a payment can be, and the kinds of reconciliation mismatch (public: the pages compare with them)."""

from __future__ import annotations

import enum


class PaymentState(enum.StrEnum):
    """A payment's life; every move is a conditional UPDATE from the state it expects (`service._move`)."""

    PENDING = "pending"  # a token was issued; the citizen is (or may be) at the gateway
    PAID = (
        "paid"  # the gateway's callback said paid; verifying or settling did not finish (the sweep reverses)
    )
    SETTLED = "settled"  # verified and settled: the money is the agency's; the request went on
    CANCELED = "canceled"  # the citizen cancelled at the gateway
    DECLINED = "declined"  # the card was declined
    EXPIRED = "expired"  # the token was never paid in time
    FAILED = "failed"  # the gateway refused to verify: no money moved
    REVERSED = "reversed"  # the money went back to the card (برگشت وجه): unverified in time, or refunded


LIVE_STATES = frozenset({PaymentState.PENDING, PaymentState.PAID, PaymentState.SETTLED})

# The job a withdrawal queues for each of its request's live payments: void, reverse or refund it at the
# gateway once the withdrawal has committed (`service.give_back_withdrawn`).
GIVE_BACK_JOB = "payments.give_back"


class MismatchKind(enum.StrEnum):
    """What reconciliation («مغایرت‌گیری») finds between the gateway's report and the platform."""

    UNKNOWN_HERE = "unknown_here"  # money moved at the gateway for an order the platform never made
    UNSETTLED_HERE = "unsettled_here"  # settled at the gateway, not settled here
    AMOUNT_DIFFERS = "amount_differs"
    MISSING_THERE = "missing_there"  # settled here, absent from (or not settled in) the gateway's report
