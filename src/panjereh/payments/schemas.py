"""Payments API shapes."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from panjereh.core.schemas import shape_of
from panjereh.payments.models import Payment


class PaymentOut(BaseModel):
    """One payment of a request, as its owner sees it (amounts in rials)."""

    tracking_code: str
    amount_rials: int = Field(description="Rials (a toman is ten)")
    state: str = Field(
        description="pending | paid | settled | canceled | declined | expired | failed | reversed"
    )
    reference: str | None = Field(description="The gateway's reference (RRN), once paid")
    receipt_number: str | None = Field(description="The signed receipt's document number, once settled")
    refund_reason: str | None = Field(
        description="request_refused | request_withdrawn | operator | not_verified | not_needed | "
        "amount_mismatch"
    )
    created_at: datetime
    settled_at: datetime | None
    reversed_at: datetime | None

    @classmethod
    def of(cls, payment: Payment) -> PaymentOut:
        return shape_of(cls, payment, state=payment.state.value)


class WithdrawalOut(BaseModel):
    """A withdrawn request and what became of its fee (the same answer however often it is asked)."""

    tracking_code: str
    state: str = Field(description="withdrawn")
    payments: list[PaymentOut] = Field(
        description="The request's payments, newest first: an open one canceled or reversed, a settled "
        "one reversed (refund_reason request_withdrawn); one the gateway did not answer for is refunded "
        "by the sweep"
    )
