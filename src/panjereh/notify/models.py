"""Notify tables: the citizen's in-portal inbox and what else they asked to be told."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from panjereh.core.db import Base, new_id, utcnow


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
