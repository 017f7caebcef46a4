"""Conformance tables: runs, results with reasons, each agency's streaks, and its status history."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from panjereh.agencies.constants import ConnectionStatus
from panjereh.conformance.constants import CheckStatus, RunTrigger, RunVerdict
from panjereh.core.db import Base, new_id, str_enum, utcnow


class ConformanceRun(Base):
    """One pass of the suite over one agency's systems."""

    __tablename__ = "conformance_run"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    agency_id: Mapped[str] = mapped_column(ForeignKey("agency.id", ondelete="CASCADE"), index=True)
    trigger: Mapped[RunTrigger] = mapped_column(str_enum(RunTrigger, 20))
    started_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    finished_at: Mapped[datetime] = mapped_column(default=utcnow)
    verdict: Mapped[RunVerdict] = mapped_column(str_enum(RunVerdict, 20))
    passed: Mapped[int] = mapped_column(Integer, default=0)
    warned: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    status_before: Mapped[ConnectionStatus] = mapped_column(str_enum(ConnectionStatus, 20))
    status_after: Mapped[ConnectionStatus] = mapped_column(str_enum(ConnectionStatus, 20))

    results: Mapped[list[ConformanceResult]] = relationship(
        back_populates="run", cascade="all, delete-orphan", order_by="ConformanceResult.position"
    )


class ConformanceResult(Base):
    """One check's finding on one system (or on the agency, for agency-wide checks), with its reason."""

    __tablename__ = "conformance_result"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    run_id: Mapped[str] = mapped_column(ForeignKey("conformance_run.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    system_code: Mapped[str | None] = mapped_column(String(60))
    check_id: Mapped[str] = mapped_column(String(40))
    status: Mapped[CheckStatus] = mapped_column(str_enum(CheckStatus, 20))
    reason_en: Mapped[str] = mapped_column(Text, default="")
    reason_fa: Mapped[str] = mapped_column(Text, default="")
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    duration_ms: Mapped[float] = mapped_column(Float, default=0.0)

    run: Mapped[ConformanceRun] = relationship(back_populates="results")


class ConformanceState(Base):
    """Each agency's streaks and suspension: what the status machine needs between runs."""

    __tablename__ = "conformance_state"

    agency_id: Mapped[str] = mapped_column(ForeignKey("agency.id", ondelete="CASCADE"), primary_key=True)
    failing_streak: Mapped[int] = mapped_column(Integer, default=0)
    unreachable_streak: Mapped[int] = mapped_column(Integer, default=0)
    passing_streak: Mapped[int] = mapped_column(Integer, default=0)
    suspended: Mapped[bool] = mapped_column(Boolean, default=False)
    suspended_reason: Mapped[str] = mapped_column(Text, default="")
    last_run_at: Mapped[datetime | None] = mapped_column(index=True)


class StatusChange(Base):
    """One move of an agency's connection status, with the reason and the run that caused it."""

    __tablename__ = "connection_status_change"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    agency_id: Mapped[str] = mapped_column(ForeignKey("agency.id", ondelete="CASCADE"), index=True)
    run_id: Mapped[str | None] = mapped_column(ForeignKey("conformance_run.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    from_status: Mapped[ConnectionStatus | None] = mapped_column(str_enum(ConnectionStatus, 20))
    to_status: Mapped[ConnectionStatus] = mapped_column(str_enum(ConnectionStatus, 20))
    reason_en: Mapped[str] = mapped_column(Text, default="")
    reason_fa: Mapped[str] = mapped_column(Text, default="")
