"""Exchange tables: data services, clients and their keys, grants, the message log, the ledger, the stats."""

from __future__ import annotations

import enum
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
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from panjereh.core.db import Base, TimestampMixin, new_id, str_enum, utcnow

if TYPE_CHECKING:
    from panjereh.agencies.models import Agency, AgencySystem

LATENCY_BOUNDS_MS = (5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000)
"""Upper bounds of the stored latency histogram (ms); a twelfth bucket holds everything slower."""


class DataService(TimestampMixin, Base):
    """What a provider's registry answers: one operation on one of its systems."""

    __tablename__ = "exchange_service"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    code: Mapped[str] = mapped_column(String(80), unique=True)
    provider_agency_id: Mapped[str] = mapped_column(ForeignKey("agency.id"), index=True)
    system_id: Mapped[str] = mapped_column(ForeignKey("agency_system.id"), index=True)
    title_fa: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str] = mapped_column(String(200))
    method: Mapped[str] = mapped_column(String(10))
    path: Mapped[str] = mapped_column(String(200))
    personal_data: Mapped[bool] = mapped_column(Boolean, default=True)
    subject_field: Mapped[str | None] = mapped_column(String(60))
    latency_objective_ms: Mapped[int] = mapped_column(Integer, default=1000)
    timeout_ms: Mapped[int] = mapped_column(Integer, default=5000)
    request_schema: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    response_schema: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # How many different people of the provider approve a grant before it is active (1 or 2; a second
    # approver only where the service releases personal data: see `exchange.service.approve_grant`).
    grant_approvals: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    provider: Mapped[Agency] = relationship()
    system: Mapped[AgencySystem] = relationship()


class ExchangeClient(TimestampMixin, Base):
    """An agency system's credentials to call the gateway (OAuth 2 client credentials)."""

    __tablename__ = "exchange_client"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    client_id: Mapped[str] = mapped_column(String(80), unique=True)
    agency_id: Mapped[str] = mapped_column(ForeignKey("agency.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    rate_per_second: Mapped[int] = mapped_column(Integer, default=200)
    # A sandbox client calls with sandbox grants only, and only about the test personas (exchange.pipeline).
    sandbox: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    agency: Mapped[Agency] = relationship()
    keys: Mapped[list[ClientKey]] = relationship(
        back_populates="client", cascade="all, delete-orphan", order_by="ClientKey.created_at"
    )


class ClientKey(Base):
    """One public key of a client; several may be active at once so keys rotate without downtime."""

    __tablename__ = "exchange_client_key"
    __table_args__ = (UniqueConstraint("client_pk", "kid"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    client_pk: Mapped[str] = mapped_column(ForeignKey("exchange_client.id", ondelete="CASCADE"), index=True)
    kid: Mapped[str] = mapped_column(String(100))
    public_jwk: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    retired_at: Mapped[datetime | None] = mapped_column()

    client: Mapped[ExchangeClient] = relationship(back_populates="keys")


class GrantStatus(enum.StrEnum):
    """A grant's life: requested by the client, decided by the provider, revocable once approved."""

    REQUESTED = "requested"
    APPROVED = "approved"
    REFUSED = "refused"
    REVOKED = "revoked"


class Grant(TimestampMixin, Base):
    """Client agency X may call service S for purposes P on legal basis L within a validity window."""

    __tablename__ = "exchange_grant"
    __table_args__ = (Index("ix_exchange_grant_lookup", "client_agency_code", "service_code", "status"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    client_agency_id: Mapped[str] = mapped_column(ForeignKey("agency.id"), index=True)
    service_id: Mapped[str] = mapped_column(ForeignKey("exchange_service.id"), index=True)
    # Codes are copied so the gateway's per-call check is one indexed query without joins.
    client_agency_code: Mapped[str] = mapped_column(String(40))
    service_code: Mapped[str] = mapped_column(String(80))
    purposes: Mapped[list[str]] = mapped_column(JSON)
    legal_basis: Mapped[str] = mapped_column(Text)
    valid_from: Mapped[datetime] = mapped_column()
    valid_until: Mapped[datetime | None] = mapped_column()
    status: Mapped[GrantStatus] = mapped_column(str_enum(GrantStatus, 20), default=GrantStatus.REQUESTED)
    standing: Mapped[bool] = mapped_column(Boolean, default=False)
    requested_note: Mapped[str] = mapped_column(Text, default="")
    decided_at: Mapped[datetime | None] = mapped_column()
    decision_note: Mapped[str] = mapped_column(Text, default="")
    revoked_at: Mapped[datetime | None] = mapped_column()
    # Four eyes: who asked, and who approved (a person's national code, or `client:<id>` for a system).
    approvals_required: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    requested_by: Mapped[str | None] = mapped_column(String(80))
    first_approved_by: Mapped[str | None] = mapped_column(String(80))
    first_approved_at: Mapped[datetime | None] = mapped_column()
    approved_by: Mapped[str | None] = mapped_column(String(80))
    # A sandbox grant serves sandbox clients only; a production client never uses one (and the reverse).
    sandbox: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    client_agency: Mapped[Agency] = relationship()
    service: Mapped[DataService] = relationship()


class LogEntry(Base):
    """One message of the log: append-only, each entry's hash covers the previous entry's hash."""

    __tablename__ = "exchange_log"

    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    message_id: Mapped[str] = mapped_column(String(32), unique=True)
    at: Mapped[datetime] = mapped_column(index=True)
    client_agency_code: Mapped[str] = mapped_column(String(40))
    client_id: Mapped[str] = mapped_column(String(80))
    service_code: Mapped[str] = mapped_column(String(80))
    provider_agency_code: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str | None] = mapped_column(String(20))
    purpose: Mapped[str] = mapped_column(String(200))
    case_ref: Mapped[str | None] = mapped_column(String(200))
    method: Mapped[str] = mapped_column(String(10))
    path: Mapped[str] = mapped_column(String(300))
    status: Mapped[int] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(60))
    duration_ms: Mapped[float] = mapped_column()
    request_digest: Mapped[str] = mapped_column(String(64))
    response_digest: Mapped[str] = mapped_column(String(64))
    request_body: Mapped[str | None] = mapped_column(Text)
    response_body: Mapped[str | None] = mapped_column(Text)
    # A sandbox call: hashed into the chain (exchange.chain), kept out of the ledger and the figures.
    sandbox: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # The W3C trace id of the request that made the call (core.tracing), hashed into the chain when set;
    # None for a call made outside a request (a job, a command) and for entries older than the column.
    trace_id: Mapped[str | None] = mapped_column(String(32), index=True)
    prev_hash: Mapped[str] = mapped_column(String(64))
    entry_hash: Mapped[str] = mapped_column(String(64))


class LogHead(Base):
    """The chain's head (one row), locked by the writer so every worker extends the same chain."""

    __tablename__ = "exchange_log_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), default=0)
    last_hash: Mapped[str] = mapped_column(String(64))
    # After archiving, the chain in the table starts after this anchor.
    anchor_seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), default=0)
    anchor_hash: Mapped[str] = mapped_column(String(64))


class LogSeal(Base):
    """A periodic signature over the chain head: proves what the log held at that moment."""

    __tablename__ = "exchange_log_seal"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), index=True)
    head_hash: Mapped[str] = mapped_column(String(64))
    sealed_at: Mapped[datetime] = mapped_column()
    key_id: Mapped[str] = mapped_column(String(64))
    signature: Mapped[str] = mapped_column(String(200))


class LedgerEntry(Base):
    """One look at a citizen's data, as the citizen's «my data» page shows it."""

    __tablename__ = "exchange_ledger"
    __table_args__ = (Index("ix_exchange_ledger_subject_at", "subject", "at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    message_id: Mapped[str] = mapped_column(String(32), unique=True)
    subject: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column()
    client_agency_code: Mapped[str] = mapped_column(String(40))
    service_code: Mapped[str] = mapped_column(String(80))
    provider_agency_code: Mapped[str] = mapped_column(String(40))
    purpose: Mapped[str] = mapped_column(String(200))
    case_ref: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[int] = mapped_column(Integer)


class InquiryStat(Base):
    """Hourly aggregates per client agency and service: counts, errors by side, a latency histogram."""

    __tablename__ = "exchange_stat"
    __table_args__ = (UniqueConstraint("bucket", "client_agency_code", "service_code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    bucket: Mapped[datetime] = mapped_column(index=True)
    client_agency_code: Mapped[str] = mapped_column(String(40))
    service_code: Mapped[str] = mapped_column(String(80))
    provider_agency_code: Mapped[str] = mapped_column(String(40))
    count: Mapped[int] = mapped_column(Integer, default=0)
    ok: Mapped[int] = mapped_column(Integer, default=0)
    client_errors: Mapped[int] = mapped_column(Integer, default=0)
    provider_errors: Mapped[int] = mapped_column(Integer, default=0)
    platform_errors: Mapped[int] = mapped_column(Integer, default=0)
    total_ms: Mapped[float] = mapped_column(default=0.0)
    max_ms: Mapped[float] = mapped_column(default=0.0)
    h0: Mapped[int] = mapped_column(Integer, default=0)
    h1: Mapped[int] = mapped_column(Integer, default=0)
    h2: Mapped[int] = mapped_column(Integer, default=0)
    h3: Mapped[int] = mapped_column(Integer, default=0)
    h4: Mapped[int] = mapped_column(Integer, default=0)
    h5: Mapped[int] = mapped_column(Integer, default=0)
    h6: Mapped[int] = mapped_column(Integer, default=0)
    h7: Mapped[int] = mapped_column(Integer, default=0)
    h8: Mapped[int] = mapped_column(Integer, default=0)
    h9: Mapped[int] = mapped_column(Integer, default=0)
    h10: Mapped[int] = mapped_column(Integer, default=0)
    h11: Mapped[int] = mapped_column(Integer, default=0)


class LedgerNoticeCursor(Base):
    """How far the data-access notices have read the ledger (one row)."""

    __tablename__ = "exchange_ledger_notice_cursor"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_at: Mapped[datetime] = mapped_column()
