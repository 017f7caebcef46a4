"""Payments reads: a citizen's payments, a request's, the reconciliation runs and their mismatches."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from panjereh.payments.models import Payment, ReconciliationRun


def payments_of(session: Session, national_code: str, limit: int = 50) -> list[Payment]:
    """The citizen's payments, newest first (another citizen's never)."""
    return list(
        session.scalars(
            select(Payment)
            .where(Payment.national_code == national_code)
            .order_by(Payment.created_at.desc(), Payment.id)
            .limit(limit)
        )
    )


def payments_of_request(session: Session, request_id: str) -> list[Payment]:
    """A request's payments, newest first (the owner check is the request's)."""
    return list(
        session.scalars(
            select(Payment)
            .where(Payment.request_id == request_id)
            .order_by(Payment.created_at.desc(), Payment.id)
        )
    )


def reconciliation_runs(session: Session, limit: int = 20) -> list[ReconciliationRun]:
    """The latest reconciliation runs with their mismatches, newest first."""
    return list(
        session.scalars(
            select(ReconciliationRun)
            .options(selectinload(ReconciliationRun.mismatches))
            .order_by(ReconciliationRun.ran_at.desc(), ReconciliationRun.id)
            .limit(limit)
        )
    )


def recent_payments(session: Session, limit: int = 50) -> list[Payment]:
    """The platform's latest payments (the operators' page)."""
    return list(session.scalars(select(Payment).order_by(Payment.created_at.desc(), Payment.id).limit(limit)))
