"""Notify tables: the citizen's in-portal inbox, each SMS or e-mail with its delivery status, and what
else citizens asked to be told."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from panjereh.core.config import Settings
from panjereh.core.crypto import fernet
from panjereh.core.db import Base, new_id, str_enum, utcnow

BODY_PURPOSE = "notify-body"  # the key a stored body is encrypted under


class NotificationStatus(enum.StrEnum):
    """Where an SMS or e-mail is: queued → sending → sent, or back to queued to retry, or failed."""

    QUEUED = "queued"
    SENDING = "sending"  # handed to the provider; no answer recorded yet
    SENT = "sent"
    FAILED = "failed"  # the provider refused every attempt


class InboxMessage(Base):
    """One message in a citizen's inbox (keyed by national code, so it can arrive before first login)."""

    __tablename__ = "notify_inbox_message"
    __table_args__ = (Index("ix_notify_inbox_message_owner_created", "national_code", "created_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    national_code: Mapped[str] = mapped_column(String(10))
    kind: Mapped[str] = mapped_column(String(60))
    subject_fa: Mapped[str] = mapped_column(String(300))
    body_fa: Mapped[str] = mapped_column(Text)
    link: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column()


class NotificationPreference(Base):
    """What a citizen asked to be told about beyond their own requests (off unless they turn it on)."""

    __tablename__ = "notify_preference"

    national_code: Mapped[str] = mapped_column(String(10), primary_key=True)
    data_access: Mapped[bool] = mapped_column(default=False)  # an agency looked at my data
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Notification(Base):
    """One SMS or e-mail leaving the platform through a provider, with what became of it."""

    __tablename__ = "notify_notification"
    __table_args__ = (Index("ix_notify_notification_status_created", "status", "created_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    channel: Mapped[str] = mapped_column(String(10))  # sms | email
    recipient: Mapped[str] = mapped_column(String(320))  # a mobile number or an e-mail address
    national_code: Mapped[str | None] = mapped_column(String(10))
    kind: Mapped[str] = mapped_column(String(60))
    subject_fa: Mapped[str] = mapped_column(String(300))
    # The body, encrypted (it may carry a login code, which the platform otherwise keeps only as a keyed
    # hash); emptied once the notification is settled: the row keeps who, what kind, when and how it went.
    body_sealed: Mapped[str] = mapped_column(Text)
    link: Mapped[str | None] = mapped_column(String(500))
    expires_at: Mapped[datetime | None] = mapped_column()  # not sent after this (a login code's lifetime)
    status: Mapped[NotificationStatus] = mapped_column(
        str_enum(NotificationStatus, 20), default=NotificationStatus.QUEUED
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    provider: Mapped[str | None] = mapped_column(String(40))  # which provider sent it
    provider_reference: Mapped[str | None] = mapped_column(String(120))  # the provider's id of the message
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column()
    failed_at: Mapped[datetime | None] = mapped_column()

    @staticmethod
    def seal(settings: Settings, body: str) -> str:
        """A body as stored: encrypted under the notifications' own key."""
        return fernet(settings.secret_key, BODY_PURPOSE).encrypt(body.encode()).decode()

    def open_body(self, settings: Settings) -> str:
        """The body to send (a settled notification's body is gone: it is never sent again)."""
        return fernet(settings.secret_key, BODY_PURPOSE).decrypt(self.body_sealed.encode()).decode()

    def settle(self, status: NotificationStatus) -> None:
        """Sent or failed for good: the body is dropped, the record of what happened stays."""
        self.status = status
        self.body_sealed = ""
        if status is NotificationStatus.SENT:
            self.sent_at = utcnow()
            self.last_error = None
        else:
            self.failed_at = utcnow()
