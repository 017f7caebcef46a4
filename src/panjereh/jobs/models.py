"""The job table: one row per unit of work, durable in the database."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from panjereh.core.db import Base, new_id, str_enum, utcnow


class JobStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"  # gave up after max attempts (kept, visible, re-queueable)


class Job(Base):
    """A unit of background work, durable in the database: claimed with a lease, retried with back-off."""

    # The table keeps the name it was created with when jobs were delivery's own: renaming it would be a
    # migration that moves every queued job for a word.
    __tablename__ = "delivery_job"
    __table_args__ = (Index("ix_delivery_job_status_run_at", "status", "run_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    kind: Mapped[str] = mapped_column(String(60))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    dedupe_key: Mapped[str | None] = mapped_column(String(120), unique=True)
    status: Mapped[JobStatus] = mapped_column(str_enum(JobStatus, 20), default=JobStatus.QUEUED)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=25)
    run_at: Mapped[datetime] = mapped_column(default=utcnow)
    locked_by: Mapped[str | None] = mapped_column(String(80))
    locked_until: Mapped[datetime | None] = mapped_column()
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column()
    # The W3C traceparent of the request (or job) that queued it: each run is a new span of that trace,
    # so a request's later work is found under its trace id (docs/protocols/tracing.md). None: queued
    # outside a trace (a schedule, a command), and each run starts a trace of its own.
    traceparent: Mapped[str | None] = mapped_column(String(55))
