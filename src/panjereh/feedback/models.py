"""Feedback tables: one rating per citizen per service, and problem reports with the agency's reply."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from panjereh.core.db import Base, new_id, str_enum, utcnow
from panjereh.feedback.constants import ProblemCategory, ReportState


class Rating(Base):
    """A citizen's rating of a service (1–5 stars), changed in place when they rate again.

    Keyed by the service's slug and its agency's code, as requests are: the card may be re-versioned, the
    rating stays. `tracking_code` names the request it was given after, when it was.
    """

    __tablename__ = "feedback_rating"
    __table_args__ = (
        UniqueConstraint("national_code", "service_slug"),
        Index("ix_feedback_rating_agency_service", "agency_code", "service_slug"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    national_code: Mapped[str] = mapped_column(String(10))
    service_slug: Mapped[str] = mapped_column(String(80))
    agency_code: Mapped[str] = mapped_column(String(40))
    stars: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text)
    tracking_code: Mapped[str | None] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class ProblemReport(Base):
    """A citizen's report of a problem with a service, and what the agency made of it.

    The reporter's national code is always kept (abuse handling, the reply in their inbox); `anonymous`
    hides it from the agency's staff, never from the platform.
    """

    __tablename__ = "feedback_problem_report"
    __table_args__ = (
        Index("ix_feedback_problem_report_agency_state", "agency_code", "state"),
        Index("ix_feedback_problem_report_reporter", "national_code", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    national_code: Mapped[str] = mapped_column(String(10))
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
    service_slug: Mapped[str] = mapped_column(String(80))
    agency_code: Mapped[str] = mapped_column(String(40))
    tracking_code: Mapped[str | None] = mapped_column(String(12))
    category: Mapped[ProblemCategory] = mapped_column(str_enum(ProblemCategory, 30))
    text: Mapped[str] = mapped_column(Text)
    state: Mapped[ReportState] = mapped_column(str_enum(ReportState, 20), default=ReportState.OPEN)
    reply: Mapped[str | None] = mapped_column(Text)
    handled_by: Mapped[str | None] = mapped_column(String(10))  # the staff member who last answered
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    acknowledged_at: Mapped[datetime | None] = mapped_column()
    resolved_at: Mapped[datetime | None] = mapped_column()
