"""Agency tables: who the government's bodies are and where their systems answer."""

from __future__ import annotations

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from panjereh.agencies.constants import AgencyKind, ConnectionStatus
from panjereh.core.db import Base, TimestampMixin, new_id, str_enum


class Agency(TimestampMixin, Base):
    """A government body that offers services or answers inquiries."""

    __tablename__ = "agency"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    parent_id: Mapped[str | None] = mapped_column(ForeignKey("agency.id"), index=True)
    kind: Mapped[AgencyKind] = mapped_column(str_enum(AgencyKind, 20))
    name_fa: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    description_fa: Mapped[str] = mapped_column(Text, default="")
    website: Mapped[str | None] = mapped_column(String(300))
    contact_email: Mapped[str | None] = mapped_column(String(200))
    contact_phone: Mapped[str | None] = mapped_column(String(40))
    connection_status: Mapped[ConnectionStatus] = mapped_column(
        str_enum(ConnectionStatus, 20), default=ConnectionStatus.NOT_CONNECTED
    )

    parent: Mapped[Agency | None] = relationship(remote_side="Agency.id", back_populates="children")
    children: Mapped[list[Agency]] = relationship(back_populates="parent", order_by="Agency.code")
    systems: Mapped[list[AgencySystem]] = relationship(back_populates="agency", cascade="all, delete-orphan")


class AgencySystem(TimestampMixin, Base):
    """One of an agency's information systems that the window talks to (its registry, its portal)."""

    __tablename__ = "agency_system"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    agency_id: Mapped[str] = mapped_column(ForeignKey("agency.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(60), unique=True)
    name_fa: Mapped[str] = mapped_column(String(200))
    base_url: Mapped[str] = mapped_column(String(300))
    openapi_url: Mapped[str | None] = mapped_column(String(300))
    health_url: Mapped[str | None] = mapped_column(String(300))

    agency: Mapped[Agency] = relationship(back_populates="systems")
