"""Payments tables: a fee paid for a service request, and the reconciliation against the gateway's report."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Date, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from panjereh.core.db import Base, TimestampMixin, new_id, str_enum, utcnow
from panjereh.payments.constants import MismatchKind, PaymentState


class Payment(TimestampMixin, Base):
    """One attempt to pay one request's fee at the gateway (amounts in rials).

    Never charged twice, by the database: at most one live payment per request (the partial unique
    index: pending, paid, settled); a gateway token and a gateway reference each belong to one payment;
    every change of state is a conditional UPDATE from the state it expects (`service._move`)."""

    __tablename__ = "payment"
    __table_args__ = (
        Index(
            "uq_payment_live_request",
            "request_id",
            unique=True,
            sqlite_where=text("state IN ('pending', 'paid', 'settled')"),
            postgresql_where=text("state IN ('pending', 'paid', 'settled')"),
        ),
        Index("ix_payment_state_updated", "state", "updated_at"),
        # The refund sweep's open payments: settled, their refund not yet decided (`refund_checked_at`).
        Index(
            "ix_payment_refund_open",
            "request_id",
            sqlite_where=text("state = 'settled' AND refund_checked_at IS NULL"),
            postgresql_where=text("state = 'settled' AND refund_checked_at IS NULL"),
        ),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    request_id: Mapped[str] = mapped_column(ForeignKey("delivery_request.id"), index=True)
    tracking_code: Mapped[str] = mapped_column(String(12))
    national_code: Mapped[str] = mapped_column(
        String(10), index=True
    )  # the payer (a citizen), not the subject
    agency_code: Mapped[str] = mapped_column(String(40))
    slug: Mapped[str] = mapped_column(String(80))
    amount_rials: Mapped[int] = mapped_column(BigInteger)
    provider: Mapped[str] = mapped_column(String(40))
    order_id: Mapped[str] = mapped_column(String(64), unique=True)  # our invoice number at the gateway
    token: Mapped[str | None] = mapped_column(String(64), unique=True)
    reference: Mapped[str | None] = mapped_column(String(40), unique=True)  # the gateway's RRN
    card_mask: Mapped[str | None] = mapped_column(String(20))
    state: Mapped[PaymentState] = mapped_column(str_enum(PaymentState, 20), default=PaymentState.PENDING)
    failure: Mapped[str | None] = mapped_column(String(60))  # why it ended without money moving
    refund_reason: Mapped[str | None] = mapped_column(String(60))
    receipt_number: Mapped[str | None] = mapped_column(String(40))
    paid_at: Mapped[datetime | None] = mapped_column()  # the gateway's callback said paid
    settled_at: Mapped[datetime | None] = mapped_column()
    reversed_at: Mapped[datetime | None] = mapped_column()
    # When the refund sweep decided this settled payment for good: kept (its request approved) or refunded
    # (refused for good, withdrawn). Null while its request can still go either way.
    refund_checked_at: Mapped[datetime | None] = mapped_column()


class ReconciliationRun(Base):
    """One day's report from the gateway matched against the platform's payments."""

    __tablename__ = "payment_reconciliation"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    day: Mapped[date] = mapped_column(Date, index=True)
    provider: Mapped[str] = mapped_column(String(40))
    trigger: Mapped[str] = mapped_column(String(20))  # schedule | manual
    ran_at: Mapped[datetime] = mapped_column(default=utcnow)
    gateway_count: Mapped[int] = mapped_column(Integer, default=0)
    platform_count: Mapped[int] = mapped_column(Integer, default=0)
    matched: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)  # the report could not be fetched

    mismatches: Mapped[list[Mismatch]] = relationship(
        back_populates="run", cascade="all, delete-orphan", order_by="Mismatch.kind"
    )


class Mismatch(Base):
    """A difference between the gateway's report and the platform's records («مغایرت»)."""

    __tablename__ = "payment_mismatch"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    run_id: Mapped[str] = mapped_column(
        ForeignKey("payment_reconciliation.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[MismatchKind] = mapped_column(str_enum(MismatchKind, 30))
    token: Mapped[str | None] = mapped_column(String(64))
    order_id: Mapped[str | None] = mapped_column(String(64))
    payment_id: Mapped[str | None] = mapped_column(String(32))
    gateway_amount: Mapped[int | None] = mapped_column(BigInteger)
    platform_amount: Mapped[int | None] = mapped_column(BigInteger)
    gateway_state: Mapped[str | None] = mapped_column(String(20))
    platform_state: Mapped[str | None] = mapped_column(String(20))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    run: Mapped[ReconciliationRun] = relationship(back_populates="mismatches")
