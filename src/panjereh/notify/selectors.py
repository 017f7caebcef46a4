"""Reading the inbox."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from panjereh.notify.models import InboxMessage, NotificationPreference


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


def wants_data_access_notices(session: Session, national_code: str) -> bool:
    """Whether the citizen asked to hear when an agency looks at their data."""
    preference = session.get(NotificationPreference, national_code)
    return bool(preference and preference.data_access)


def data_access_subscribers(session: Session, national_codes: Iterable[str]) -> set[str]:
    """Those of these citizens who asked to hear when an agency looks at their data."""
    codes = sorted(set(national_codes))
    if not codes:
        return set()
    query = select(NotificationPreference.national_code).where(
        NotificationPreference.national_code.in_(codes), NotificationPreference.data_access.is_(True)
    )
    return set(session.scalars(query))
