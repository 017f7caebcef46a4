"""Notify tables: the citizen's in-portal inbox, each SMS or e-mail with its delivery status, the
channels each citizen chose per kind of notice, and their e-mail address (used once verified)."""

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
    """Where an SMS or e-mail is: queued → sending → sent → delivered, or back to queued to retry, or
    failed (refused for good, every attempt failed, or reported undelivered)."""

    QUEUED = "queued"
    SENDING = "sending"  # handed to the provider; no answer recorded yet
    SENT = "sent"  # the provider accepted it
    DELIVERED = "delivered"  # the provider's delivery report says it reached the phone
    FAILED = "failed"


class InboxMessage(Base):
    """One message in a citizen's inbox (keyed by national code, so it can arrive before first login)."""

    __tablename__ = "notify_inbox_message"
    __table_args__ = (Index("ix_notify_inbox_message_owner_created", "national_code", "created_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    national_code: Mapped[str] = mapped_column(String(10))
    kind: Mapped[str] = mapped_column(String(60))
    subject_fa: Mapped[str] = mapped_column(String(300))
    body_fa: Mapped[str] = mapped_column(Text)
    # The English alternative, shown to a citizen reading in English (none: the Persian is shown).
    subject_en: Mapped[str | None] = mapped_column(String(300))
    body_en: Mapped[str | None] = mapped_column(Text)
    link: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column()

    def subject_in(self, locale: str) -> str:
        """The subject in the reader's language when it was given in it, else the Persian."""
        return self.subject_en if locale == "en" and self.subject_en else self.subject_fa

    def body_in(self, locale: str) -> str:
        """The body in the reader's language when it was given in it, else the Persian."""
        return self.body_en if locale == "en" and self.body_en else self.body_fa


class NotificationPreference(Base):
    """A citizen's e-mail address for notices: used only once verified (a link sent to it was opened by
    the citizen, signed in); a new address waits as `email_pending` until then."""

    __tablename__ = "notify_preference"

    national_code: Mapped[str] = mapped_column(String(10), primary_key=True)
    email: Mapped[str | None] = mapped_column(String(254))  # verified
    email_verified_at: Mapped[datetime | None] = mapped_column()
    email_pending: Mapped[str | None] = mapped_column(String(254))
    email_token_hash: Mapped[str | None] = mapped_column(String(64))  # SHA-256 of the link's token
    email_token_expires_at: Mapped[datetime | None] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class TopicPreference(Base):
    """The channels a citizen chose for one kind of notice (no row: the topic's default)."""

    __tablename__ = "notify_topic_preference"
    __table_args__ = (Index("ix_notify_topic_preference_topic", "topic", "national_code"),)

    national_code: Mapped[str] = mapped_column(String(10), primary_key=True)
    topic: Mapped[str] = mapped_column(String(40), primary_key=True)
    channels: Mapped[str] = mapped_column(String(40))  # comma separated, "" for none
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Notification(Base):
    """One SMS or e-mail leaving the platform through a provider, with what became of it."""

    __tablename__ = "notify_notification"
    __table_args__ = (
        Index("ix_notify_notification_status_created", "status", "created_at"),
        # A delivery-report callback names the message by the provider's id.
        Index("ix_notify_notification_provider_reference", "provider", "provider_reference"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    channel: Mapped[str] = mapped_column(String(10))  # sms | email
    recipient: Mapped[str] = mapped_column(String(320))  # a mobile number or an e-mail address
    national_code: Mapped[str | None] = mapped_column(String(10))
    kind: Mapped[str] = mapped_column(String(60))
    # The inbox message sent with it (the inbox shows how each channel went), if the inbox was a channel.
    inbox_id: Mapped[str | None] = mapped_column(String(32), index=True)
    subject_fa: Mapped[str] = mapped_column(String(300))
    subject_en: Mapped[str | None] = mapped_column(String(300))  # the e-mail's English alternative
    # The body, encrypted (it may carry a login code, which the platform otherwise keeps only as a keyed
    # hash); emptied once the notification is settled: the row keeps who, what kind, when and how it went.
    body_sealed: Mapped[str] = mapped_column(Text)
    body_en_sealed: Mapped[str | None] = mapped_column(Text)
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
    delivered_at: Mapped[datetime | None] = mapped_column()
    failed_at: Mapped[datetime | None] = mapped_column()
    # The provider's last word on delivery (its status text), and when it was last asked.
    report: Mapped[str | None] = mapped_column(String(200))
    report_checked_at: Mapped[datetime | None] = mapped_column()

    @staticmethod
    def seal(settings: Settings, body: str) -> str:
        """A body as stored: encrypted under the notifications' own key."""
        return fernet(settings.secret_key, BODY_PURPOSE).encrypt(body.encode()).decode()

    def open_body(self, settings: Settings) -> str:
        """The body to send (a settled notification's body is gone: it is never sent again)."""
        return fernet(settings.secret_key, BODY_PURPOSE).decrypt(self.body_sealed.encode()).decode()

    def open_body_en(self, settings: Settings) -> str | None:
        """The English alternative of the body, if one was given."""
        if not self.body_en_sealed:
            return None
        return fernet(settings.secret_key, BODY_PURPOSE).decrypt(self.body_en_sealed.encode()).decode()

    def take_report(self, delivered: bool | None, text: str, at: datetime) -> bool:
        """Record the provider's word on delivery (polled or called back); whether the status changed.

        Only a `sent` message moves: delivered and undelivered are final, so a report repeated (a callback
        replayed, a poll crossing a callback) or contradicting the first final word changes nothing.
        """
        if self.status is not NotificationStatus.SENT:
            return False
        self.report = text[:200]
        if delivered is True:
            self.status = NotificationStatus.DELIVERED
            self.delivered_at = at
        elif delivered is False:
            self.status = NotificationStatus.FAILED
            self.failed_at = at
            self.last_error = f"undelivered: {text}"[:2000]
        return delivered is not None

    def settle(self, status: NotificationStatus) -> None:
        """Sent or failed for good: the body is dropped, the record of what happened stays."""
        self.status = status
        self.body_sealed = ""
        self.body_en_sealed = None
        if status is NotificationStatus.SENT:
            self.sent_at = utcnow()
            self.last_error = None
        else:
            self.failed_at = utcnow()
