"""Reading the inbox."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from panjereh.notify.constants import DATA_ACCESS, TOPIC_BY_CODE, TOPICS
from panjereh.notify.models import (
    InboxMessage,
    Notification,
    NotificationPreference,
    NotificationStatus,
    TopicPreference,
)


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


def topic_rows(session: Session, national_code: str) -> Sequence[TopicPreference]:
    """The citizen's own choices (topics left at their default have no row)."""
    return session.scalars(
        select(TopicPreference).where(TopicPreference.national_code == national_code)
    ).all()


def _split(channels: str) -> frozenset[str]:
    return frozenset(channel for channel in channels.split(",") if channel)


def channels_for(session: Session, national_code: str, topic_code: str) -> frozenset[str]:
    """The channels the citizen chose for a kind of notice, or its default."""
    row = session.get(TopicPreference, (national_code, topic_code))
    if row is None:
        return TOPIC_BY_CODE[topic_code].default
    return _split(row.channels)


def preferences(session: Session, national_code: str) -> dict[str, frozenset[str]]:
    """Every kind of notice with the channels the citizen has for it (chosen or default)."""
    chosen = {row.topic: _split(row.channels) for row in topic_rows(session, national_code)}
    return {topic.code: chosen.get(topic.code, topic.default) for topic in TOPICS}


def email_state(session: Session, national_code: str) -> NotificationPreference | None:
    """The citizen's e-mail record: verified address, pending address and when its link expires."""
    return session.get(NotificationPreference, national_code)


def verified_email(session: Session, national_code: str) -> str | None:
    """The citizen's verified e-mail address, if any (an unverified one is never used)."""
    preference = session.get(NotificationPreference, national_code)
    if preference is None or preference.email_verified_at is None:
        return None
    return preference.email


def wants_data_access_notices(session: Session, national_code: str) -> bool:
    """Whether the citizen asked to hear when an agency looks at their data."""
    return bool(channels_for(session, national_code, DATA_ACCESS))


def data_access_subscribers(session: Session, national_codes: Iterable[str]) -> set[str]:
    """Those of these citizens who asked to hear when an agency looks at their data."""
    codes = sorted(set(national_codes))
    if not codes:
        return set()
    query = select(TopicPreference.national_code).where(
        TopicPreference.topic == DATA_ACCESS,
        TopicPreference.national_code.in_(codes),
        TopicPreference.channels != "",
    )
    return set(session.scalars(query))


def notifications(
    session: Session,
    *,
    status: NotificationStatus | None = None,
    national_code: str | None = None,
    limit: int = 100,
) -> Sequence[Notification]:
    """SMS and e-mail newest first, by status (the operator's list of failures) or by citizen."""
    query = select(Notification).order_by(Notification.created_at.desc(), Notification.id)
    if status is not None:
        query = query.where(Notification.status == status)
    if national_code is not None:
        query = query.where(Notification.national_code == national_code)
    return session.scalars(query.limit(limit)).all()


def delivery_of(
    session: Session, national_code: str, inbox_ids: Iterable[str]
) -> dict[str, list[Notification]]:
    """The SMS and e-mail that went with these inbox messages of the citizen's (the inbox shows how each
    went), by inbox message."""
    ids = sorted(set(inbox_ids))
    found: dict[str, list[Notification]] = {}
    if not ids:
        return found
    rows = session.scalars(
        select(Notification)
        .where(Notification.national_code == national_code, Notification.inbox_id.in_(ids))
        .order_by(Notification.channel)
    )
    for row in rows:
        found.setdefault(row.inbox_id or "", []).append(row)
    return found


def status_counts(session: Session) -> dict[tuple[str, str], int]:
    """How many notifications per (channel, status)."""
    rows = session.execute(
        select(Notification.channel, Notification.status, func.count()).group_by(
            Notification.channel, Notification.status
        )
    )
    return {(channel, NotificationStatus(state).value): int(count) for channel, state, count in rows}
