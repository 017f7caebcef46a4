"""Sending notifications: inbox rows in the database; SMS and e-mail through the configured backend."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, update
from sqlalchemy.orm import Session, SessionTransaction

from panjereh.core.config import Settings
from panjereh.core.db import new_id, outermost_commit, utcnow
from panjereh.notify.backends import deliver_to_outbox
from panjereh.notify.exceptions import NoRecipient, UnknownChannel
from panjereh.notify.models import InboxMessage, NotificationPreference

CHANNELS = frozenset({"inbox", "sms", "email"})
_PENDING = "notify.pending"  # session.info key: messages waiting for their transaction to commit


def _deliver_after_commit(session: Session, settings: Settings, record: dict[str, Any]) -> None:
    """Hand an SMS or e-mail to its backend only once the transaction that made it commits.

    A code texted for a login attempt that was then rolled back (a failed commit, a crash mid-request)
    would point at nothing; a message leaves the platform only with the data it speaks of.
    """
    session.connection()  # the message belongs to a transaction: begin one if none has begun yet
    pending: list[tuple[Settings, dict[str, Any]]] | None = session.info.get(_PENDING)
    if pending is None:
        pending = session.info[_PENDING] = []
        event.listen(session, "after_commit", _deliver_pending)
        event.listen(session, "after_transaction_end", _forget_uncommitted)
    pending.append((settings, record))


def _deliver_pending(session: Session) -> None:
    if not outermost_commit(session):  # a savepoint's release: nothing is committed yet
        return
    pending = session.info.get(_PENDING) or []
    while pending:
        settings, record = pending.pop(0)
        deliver_to_outbox(settings, record)


def _forget_uncommitted(session: Session, transaction: SessionTransaction) -> None:
    # After a commit the list is already empty; after a rollback (or a close) what is left never leaves.
    if transaction.parent is None:
        session.info.get(_PENDING, []).clear()


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
