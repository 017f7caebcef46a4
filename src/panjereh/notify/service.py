"""Sending notifications: inbox rows in the database; SMS and e-mail through the configured backend."""

from __future__ import annotations

from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from panjereh.core.config import Settings
from panjereh.core.db import new_id, on_commit, utcnow
from panjereh.notify.backends import deliver_to_outbox
from panjereh.notify.exceptions import NoRecipient, UnknownChannel
from panjereh.notify.models import InboxMessage, NotificationPreference

CHANNELS = frozenset({"inbox", "sms", "email"})


def _deliver_after_commit(session: Session, settings: Settings, record: dict[str, Any]) -> None:
    """Hand an SMS or e-mail to its backend only once the transaction that made it commits.

    A code texted for a login attempt that was then rolled back (a failed commit, a crash mid-request)
    would point at nothing; a message leaves the platform only with the data it speaks of.
    """
    on_commit(session, lambda: deliver_to_outbox(settings, record))


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
) -> None:
    """Send one message on each channel asked for; a channel without its address is an error."""
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
        _deliver_after_commit(
            session,
            settings,
            {
                "id": new_id(),
                "channel": channel,
                "to": address,
                "national_code": national_code,
                "kind": kind,
                "subject_fa": subject_fa,
                "body_fa": body_fa,
                "link": link,
                "at": utcnow(),
            },
        )


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
