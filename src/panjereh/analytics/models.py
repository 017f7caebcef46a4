"""Analytics tables: raw visit events (pseudonymous), daily and monthly rollups, dated agency figures."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    Float,
    Index,
    Integer,
    String,
    Table,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from panjereh.core.db import Base, UTCDateTime, new_id, utcnow

# Raw page visits. No surrogate key on purpose: 80 M rows a month stay narrow, and PostgreSQL
# partitions the table by day range (one partition per Jalali month, plus a default one), which a
# primary key would have to include. `visitor` is the pseudonym (an HMAC of the citizen id), never
# the citizen id, national code, IP address or user agent.
visit_event = Table(
    "visit_event",
    Base.metadata,
    Column("day", Date, nullable=False),  # the Tehran calendar day (rollups and Jalali months use it)
    Column("occurred_at", UTCDateTime(), nullable=False),
    Column("visitor", Uuid, nullable=True),  # None for a visit without a signed-in citizen
    Column("agency_code", String(40), nullable=True),
    Column("service", String(80), nullable=True),
    Column("channel", String(12), nullable=False),
    Index("ix_visit_event_day", "day", postgresql_using="brin"),
    postgresql_partition_by="RANGE (day)",
)


class PseudonymousUser(Base):
    """A citizen who has signed in at least once, known only by pseudonym and the day first seen."""

    __tablename__ = "analytics_user"

    visitor: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    first_seen_on: Mapped[date] = mapped_column(Date, index=True)


class VisitDaily(Base):
    """Visits of one Tehran day, per agency and channel (agency '' = pages of no agency)."""

    __tablename__ = "analytics_visit_daily"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    agency_code: Mapped[str] = mapped_column(String(40), primary_key=True)
    channel: Mapped[str] = mapped_column(String(12), primary_key=True)
    visits: Mapped[int] = mapped_column(BigInteger, default=0)
    authenticated_visits: Mapped[int] = mapped_column(BigInteger, default=0)


class UserDaily(Base):
    """How many citizens signed in for the first time on one Tehran day."""

    __tablename__ = "analytics_user_daily"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    new_users: Mapped[int] = mapped_column(BigInteger, default=0)


class MonthActive(Base):
    """Distinct signed-in citizens and visits in one Jalali month (exact counts, computed once)."""

    __tablename__ = "analytics_month_active"

    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    month: Mapped[int] = mapped_column(Integer, primary_key=True)
    active_users: Mapped[int] = mapped_column(BigInteger)
    visits: Mapped[int] = mapped_column(BigInteger)
    source: Mapped[str] = mapped_column(String(40))  # EVENTS (rolled up) or DEMO_HISTORY
    computed_at: Mapped[datetime] = mapped_column(default=utcnow)


EVENTS, DEMO_HISTORY = "events", "demo-history"  # MonthActive.source: counted from events, or modelled


class RollupVersion(Base):
    """One row: how many times the rollups have changed. Each web process keeps the dashboard's figures
    computed from the rollups until this number moves, so every process drops them at the same commit."""

    __tablename__ = "analytics_rollup_version"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)  # always ROLLUP_VERSION_ID
    generation: Mapped[int] = mapped_column(BigInteger, default=0)
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)


ROLLUP_VERSION_ID = 1


class AgencyShare(Base):
    """One dated measurement of an agency's figure: reported shares move over time, so never one number.

    `metric` is one of METRICS; `share` is a fraction 0..1 (for `connected`, 1 or 0). `period` is the
    Gregorian first day of the Jalali month the figure describes; `source` says who measured or
    reported it (e.g. "article-1402", "catalog-inventory").
    """

    __tablename__ = "analytics_agency_share"
    __table_args__ = (UniqueConstraint("agency_code", "metric", "period", "source"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    agency_code: Mapped[str] = mapped_column(String(40), index=True)
    metric: Mapped[str] = mapped_column(String(30))
    period: Mapped[date] = mapped_column(Date)
    share: Mapped[float] = mapped_column(Float)
    base: Mapped[int | None] = mapped_column(Integer)  # the denominator when known (0 = no services)
    source: Mapped[str] = mapped_column(String(60))
    note: Mapped[str | None] = mapped_column(String(300))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)


class AgencyDecisionTime(Base):
    """One dated measurement of an agency's time to decision: seconds, not a share, so not an AgencyShare.

    `median_seconds` is the median from submission to decision over the `decided` requests created in the
    Jalali month starting `period`; `source` as for shares (e.g. "delivery-requests").
    """

    __tablename__ = "analytics_agency_decision_time"
    __table_args__ = (UniqueConstraint("agency_code", "period", "source"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    agency_code: Mapped[str] = mapped_column(String(40), index=True)
    period: Mapped[date] = mapped_column(Date)
    median_seconds: Mapped[float] = mapped_column(Float)
    decided: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(60))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)


METRICS = (
    "connected",  # 1 connected, 0 not (standard lost / disconnected count as 0)
    "through_window",  # share of the agency's inventory offered through the window
    "online",  # share at maturity >= 3
    "inquiries_online",  # share of evidence obtained by (online) inquiry rather than from the citizen
    "smart",  # share at maturity 5 (derived from definitions)
    "smart_measured",  # share of requests decided automatically (what requests actually did)
    "human_touched",  # share of requests a human touched
)
