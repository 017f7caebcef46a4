"""Delivery tables: loaded definitions, requests with their timelines, officers, feed cursors."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from panjereh.core.db import Base, TimestampMixin, new_id, str_enum, utcnow
from panjereh.delivery.constants import DefinitionStatus, RequestState

if TYPE_CHECKING:
    from panjereh.agencies.models import Agency
    from panjereh.identity.models import Citizen


class DefinitionRecord(Base):
    """A version of a service definition: drafted, reviewed, published, retired; requests point at the
    version that decided them.

    The database is the source of truth (files are import and export, `delivery.store`). A published or
    retired version never changes; at most one version of a slug is published at a time (the partial
    unique index), and that is the one citizens apply to."""

    __tablename__ = "delivery_definition"
    __table_args__ = (
        UniqueConstraint("slug", "version", name="uq_delivery_definition_slug_version"),
        Index(
            "uq_delivery_definition_published_slug",
            "slug",
            unique=True,
            sqlite_where=text("status = 'published'"),
            postgresql_where=text("status = 'published'"),
        ),
        Index("ix_delivery_definition_agency_status", "agency_code", "status"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    slug: Mapped[str] = mapped_column(String(80), index=True)
    version: Mapped[int] = mapped_column(Integer)
    digest: Mapped[str] = mapped_column(String(64))
    agency_code: Mapped[str] = mapped_column(String(40))
    title_fa: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str] = mapped_column(String(200))
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    model: Mapped[dict[str, Any]] = mapped_column(JSON)
    derived_level: Mapped[int] = mapped_column(Integer)
    flags: Mapped[list[str]] = mapped_column(JSON, default=list)
    is_smart: Mapped[bool] = mapped_column(Boolean)
    status: Mapped[DefinitionStatus] = mapped_column(
        str_enum(DefinitionStatus, 20), default=DefinitionStatus.DRAFT
    )
    # Who: the author, the last editor (four eyes: the publisher is neither), the submitter, the reviewer
    # who last rejected it, the publisher, whoever retired it. National codes, or "import:<who>".
    created_by: Mapped[str] = mapped_column(String(120))
    updated_by: Mapped[str] = mapped_column(String(120))
    submitted_by: Mapped[str | None] = mapped_column(String(120))
    reviewed_by: Mapped[str | None] = mapped_column(String(120))
    review_note: Mapped[str | None] = mapped_column(Text)
    published_by: Mapped[str | None] = mapped_column(String(120))
    retired_by: Mapped[str | None] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column()
    reviewed_at: Mapped[datetime | None] = mapped_column()
    published_at: Mapped[datetime | None] = mapped_column()
    retired_at: Mapped[datetime | None] = mapped_column()

    @property
    def editable(self) -> bool:
        return self.status == DefinitionStatus.DRAFT


class ServiceRequest(TimestampMixin, Base):
    """One application by (or, proactively, for) one citizen."""

    __tablename__ = "delivery_request"
    __table_args__ = (
        UniqueConstraint("national_code", "idempotency_key", name="uq_delivery_request_idempotency"),
        Index("ix_delivery_request_agency_state", "agency_code", "state"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    tracking_code: Mapped[str] = mapped_column(String(12), unique=True)
    slug: Mapped[str] = mapped_column(String(80), index=True)
    definition_id: Mapped[str] = mapped_column(ForeignKey("delivery_definition.id"), index=True)
    agency_code: Mapped[str] = mapped_column(String(40))
    # Whose request it is (the subject): a person's national code, or a company's legal-entity ID (11 digits).
    national_code: Mapped[str] = mapped_column(String(11), index=True)
    subject_kind: Mapped[str] = mapped_column(String(10), default="person", server_default="person")
    # Who applied, when someone acted for the subject (a parent, a company's signatory, a delegate).
    acted_by: Mapped[str | None] = mapped_column(String(10), index=True)
    representation: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # names and ground, as applied
    idempotency_key: Mapped[str] = mapped_column(String(80))
    submission_digest: Mapped[str] = mapped_column(String(64))
    origin: Mapped[str] = mapped_column(String(20), default="citizen")  # citizen | proactive
    inputs: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    facts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    state: Mapped[RequestState] = mapped_column(str_enum(RequestState, 20), default=RequestState.SUBMITTED)
    decision: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    recommendation: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    decided_automatically: Mapped[bool] = mapped_column(Boolean, default=False)
    human_touched: Mapped[bool] = mapped_column(Boolean, default=False)
    officer_national_code: Mapped[str | None] = mapped_column(String(10))
    document_number: Mapped[str | None] = mapped_column(String(40))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    decided_at: Mapped[datetime | None] = mapped_column()
    # A request made in the sandbox (an authoring dry run): never in the citizen's list or the figures.
    sandbox: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    definition: Mapped[DefinitionRecord] = relationship()
    # Read-only links by code, for loading a request with its citizen and agency in one statement
    # (`processing._load_for_decision`); the other domains' tables are named, never imported.
    citizen: Mapped[Citizen | None] = relationship(
        primaryjoin="foreign(ServiceRequest.national_code) == Citizen.national_code", viewonly=True
    )
    agency: Mapped[Agency | None] = relationship(
        primaryjoin="foreign(ServiceRequest.agency_code) == Agency.code", viewonly=True
    )
    events: Mapped[list[RequestEvent]] = relationship(
        back_populates="request", order_by="RequestEvent.seq", cascade="all, delete-orphan"
    )


class RequestEvent(Base):
    """One line of the timeline the citizen sees."""

    __tablename__ = "delivery_request_event"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    request_id: Mapped[str] = mapped_column(ForeignKey("delivery_request.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    state: Mapped[RequestState] = mapped_column(str_enum(RequestState, 20))
    kind: Mapped[str] = mapped_column(String(40))
    actor: Mapped[str] = mapped_column(String(20), default="system")  # system | citizen | officer
    message_fa: Mapped[str] = mapped_column(Text)
    message_en: Mapped[str] = mapped_column(Text, default="")
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    request: Mapped[ServiceRequest] = relationship(back_populates="events")


class FeedCursor(Base):
    """How far a poller has read an event feed (the life-events feed of the civil registry)."""

    __tablename__ = "delivery_feed_cursor"

    name: Mapped[str] = mapped_column(String(80), primary_key=True)
    since: Mapped[datetime] = mapped_column(default=utcnow)  # read from here until the first event
    last_id: Mapped[int | None] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
