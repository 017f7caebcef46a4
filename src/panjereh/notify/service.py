"""Sending notifications: inbox rows in the database; SMS and e-mail stored and sent by a job through the
configured provider (`notify.tasks`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.orm import Session

from panjereh import jobs
from panjereh.core.config import Settings
from panjereh.core.db import new_id, utcnow
from panjereh.notify.exceptions import NoRecipient, UnknownChannel
from panjereh.notify.models import InboxMessage, Notification, NotificationPreference
from panjereh.notify.tasks import MAX_ATTEMPTS, SEND_JOB

CHANNELS = frozenset({"inbox", "sms", "email"})


def send(
    session: Session,
    settings: Settings,
    *,
    national_code: str | None,
    mobile: str | None = None,
    email: str | None = None,
    channels: frozenset[str] = frozenset({"inbox"}),
    subject_fa: str,
    body_fa: str,
    kind: str,
    link: str | None = None,
    expires_at: datetime | None = None,
) -> None:
    """Send one message on each channel asked for; a channel without its address is an error.

    Everything is written in the caller's transaction: the inbox row, and for SMS and e-mail a
    notification row and the job that sends it, so a message leaves the platform only once that
    transaction commits (a code texted for a login attempt that was rolled back would point at nothing).
    A process with its own worker running starts the send at that commit (`jobs.enqueue`'s hand-over);
    otherwise a worker process finds it at its next poll. A message not sent by `expires_at` (a login
    code past its lifetime) is marked failed instead of sent late.
    """
    unknown = channels - CHANNELS
    if unknown:
        raise UnknownChannel(f"Unknown channels: {sorted(unknown)}", f"کانال ناشناخته: {sorted(unknown)}")
    if "inbox" in channels:
        if not national_code:
            raise NoRecipient("The inbox needs a national code", "صندوق پیام بدون کد ملی ممکن نیست")
        session.add(
            InboxMessage(
                national_code=national_code, kind=kind, subject_fa=subject_fa, body_fa=body_fa, link=link
            )
        )  # written with the caller's next flush: nothing here needs its row yet
    for channel, address in (("sms", mobile), ("email", email)):
        if channel not in channels:
            continue
        if not address:
            raise NoRecipient(f"No address for {channel}", f"نشانی برای کانال {channel} داده نشده است")
        notification = Notification(
            id=new_id(),
            channel=channel,
            recipient=address,
            national_code=national_code,
            kind=kind,
            subject_fa=subject_fa,
            body_sealed=Notification.seal(settings, body_fa),
            link=link,
            expires_at=expires_at,
        )
        session.add(notification)
        jobs.enqueue(session, SEND_JOB, {"notification_id": notification.id}, max_attempts=MAX_ATTEMPTS)


def mark_read(session: Session, national_code: str, message_id: str) -> bool:
    """Mark one of the citizen's own messages read; another citizen's message is never touched."""
    result = session.execute(
        update(InboxMessage)
        .where(
            InboxMessage.id == message_id,
            InboxMessage.national_code == national_code,
            InboxMessage.read_at.is_(None),
        )
        .values(read_at=utcnow())
    )
    return bool(getattr(result, "rowcount", 0))


def set_data_access_notices(session: Session, national_code: str, enabled: bool) -> None:
    """Turn on or off the message sent when an agency looks at this citizen's data."""
    preference = session.get(NotificationPreference, national_code)
    if preference is None:
        preference = NotificationPreference(national_code=national_code)
        session.add(preference)
    preference.data_access = enabled
    session.flush()
