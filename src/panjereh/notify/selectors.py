"""Reading the inbox."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from panjereh.notify.models import InboxMessage


def inbox(session: Session, national_code: str, limit: int = 50) -> Sequence[InboxMessage]:
    """The citizen's newest messages first."""
    return session.scalars(
        select(InboxMessage)
        .where(InboxMessage.national_code == national_code)
        .order_by(InboxMessage.created_at.desc(), InboxMessage.id)
        .limit(limit)
    ).all()


def unread_count(session: Session, national_code: str) -> int:
    """How many of the citizen's messages are unread."""
    return int(
        session.scalar(
            select(func.count())
            .select_from(InboxMessage)
            .where(InboxMessage.national_code == national_code, InboxMessage.read_at.is_(None))
        )
        or 0
    )
