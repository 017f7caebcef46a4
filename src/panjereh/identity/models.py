"""Identity tables: citizens, login attempts, web sessions, login history, rate-limit counters."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from panjereh.core.db import Base, TimestampMixin, new_id, utcnow


class Citizen(TimestampMixin, Base):
    """A person who has logged in at least once; names and birth date come from the civil registry."""

    __tablename__ = "identity_citizen"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    national_code: Mapped[str] = mapped_column(String(10), unique=True)
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    father_name: Mapped[str] = mapped_column(String(100), default="")
    birth_date: Mapped[date] = mapped_column(Date)
    gender: Mapped[str] = mapped_column(String(10), default="")
    mobile: Mapped[str] = mapped_column(String(11), index=True)
    registry_checked_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The TOTP secret is encrypted with a key derived from the platform secret (see core.crypto).
    totp_secret: Mapped[str | None] = mapped_column(Text)
    totp_enabled_at: Mapped[datetime | None] = mapped_column()
    totp_last_step: Mapped[int | None] = mapped_column(Integer)

    @property
    def display_name(self) -> str:
        """The name shown on pages: first name and last name."""
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def has_second_factor(self) -> bool:
        return self.totp_enabled_at is not None


class LoginAttempt(Base):
    """One request for an SMS code: the code (hashed) is bound to it and to the browser that asked."""

    __tablename__ = "identity_login_attempt"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    purpose: Mapped[str] = mapped_column(String(20))  # login | register
    national_code: Mapped[str] = mapped_column(String(10), index=True)
    mobile: Mapped[str] = mapped_column(String(11))
    citizen_id: Mapped[str | None] = mapped_column(ForeignKey("identity_citizen.id", ondelete="CASCADE"))
    registry_data: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    code_hash: Mapped[str] = mapped_column(String(64))
    binding_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    failed_count: Mapped[int] = mapped_column(Integer, default=0)
    code_verified_at: Mapped[datetime | None] = mapped_column()
    completed_at: Mapped[datetime | None] = mapped_column()
    ip: Mapped[str] = mapped_column(String(64), default="")


class WebSession(Base):
    """A server-side session; the browser holds only a random token whose SHA-256 is `token_hash`."""

    __tablename__ = "identity_web_session"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    citizen_id: Mapped[str] = mapped_column(ForeignKey("identity_citizen.id", ondelete="CASCADE"), index=True)
    level: Mapped[int] = mapped_column(Integer)
    amr: Mapped[str] = mapped_column(String(100))  # space-separated RFC 8176 values
    auth_time: Mapped[datetime] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    revoked_at: Mapped[datetime | None] = mapped_column()
    ip: Mapped[str] = mapped_column(String(64), default="")
    user_agent: Mapped[str] = mapped_column(String(300), default="")


class LoginEvent(Base):
    """The citizen's login history (successes and failures), shown on the account page."""

    __tablename__ = "identity_login_event"
    __table_args__ = (Index("ix_identity_login_event_owner_at", "national_code", "at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    national_code: Mapped[str] = mapped_column(String(10))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    outcome: Mapped[str] = mapped_column(String(30))
    method: Mapped[str] = mapped_column(String(30))
    ip: Mapped[str] = mapped_column(String(64), default="")
    user_agent: Mapped[str] = mapped_column(String(300), default="")


class RateCounter(Base):
    """A fixed-window counter for rate limits when Redis is not configured."""

    __tablename__ = "identity_rate_counter"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)
    expires_at: Mapped[datetime] = mapped_column(index=True)
