"""Catalog tables: service cards and every version of each card."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from panjereh.catalog.constants import Initiation, LifeEvent, ServiceKind
from panjereh.core.db import Base, TimestampMixin, new_id, str_enum, utcnow

if TYPE_CHECKING:
    from panjereh.agencies.models import Agency


class ServiceCard(TimestampMixin, Base):
    """One government service as the national inventory knows it (ARAO's service card)."""

    __tablename__ = "service_card"

    service_id: Mapped[str] = mapped_column(String(11), primary_key=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    agency_id: Mapped[str] = mapped_column(ForeignKey("agency.id"), index=True)
    title_fa: Mapped[str] = mapped_column(String(300))
    title_en: Mapped[str] = mapped_column(String(300), default="")
    description_fa: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[ServiceKind] = mapped_column(str_enum(ServiceKind, 5), default=ServiceKind.G2C)
    life_event: Mapped[LifeEvent] = mapped_column(str_enum(LifeEvent, 20), index=True)
    category: Mapped[str] = mapped_column(String(120), default="")
    initiation: Mapped[Initiation] = mapped_column(
        str_enum(Initiation, 20), default=Initiation.CITIZEN_REQUEST
    )
    required_documents: Mapped[list[str]] = mapped_column(JSON, default=list)
    in_person_visits: Mapped[int] = mapped_column(Integer, default=0)
    cost_rials: Mapped[int] = mapped_column(BigInteger, default=0)
    channels: Mapped[list[str]] = mapped_column(JSON, default=list)
    duration_minutes: Mapped[int] = mapped_column(Integer, default=0)  # average, 0 = instant
    offered_through_window: Mapped[bool] = mapped_column(default=False)
    window_url: Mapped[str | None] = mapped_column(String(300))
    legal_basis: Mapped[str] = mapped_column(Text, default="")
    keywords: Mapped[list[str]] = mapped_column(JSON, default=list)
    assurance_level: Mapped[int] = mapped_column(Integer, default=1)
    yearly_requests: Mapped[int] = mapped_column(BigInteger, default=0)
    declared_maturity_level: Mapped[int] = mapped_column(Integer, default=0)
    # Set by delivery from an executable definition; once set it is the level the card shows.
    derived_maturity_level: Mapped[int | None] = mapped_column(Integer)
    derived_source: Mapped[str | None] = mapped_column(String(200))
    derived_flags: Mapped[list[str]] = mapped_column(JSON, default=list)
    derived_at: Mapped[datetime | None] = mapped_column()
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_by: Mapped[str] = mapped_column(String(120), default="system")

    agency: Mapped[Agency] = relationship(lazy="joined")
    versions: Mapped[list[ServiceCardVersion]] = relationship(
        back_populates="card", order_by="ServiceCardVersion.version", cascade="all, delete-orphan"
    )

    @property
    def maturity_level(self) -> int:
        """The level shown: derived from the executable definition when there is one, else declared."""
        if self.derived_maturity_level is not None:
            return self.derived_maturity_level
        return self.declared_maturity_level

    @property
    def is_online(self) -> bool:
        """Transactional or better (maturity ≥ 3): the article's "electronic" services."""
        return self.maturity_level >= 3

    @property
    def is_smart(self) -> bool:
        """Smart (the badge): a published service definition derives maturity 5 (no visit, no document,
        instant, no human). What the agency declares is data, not a badge."""
        return self.derived_maturity_level == 5

    @property
    def is_executable(self) -> bool:
        """Whether a service definition runs it (delivery has recorded a derived level)."""
        return self.derived_maturity_level is not None

    @property
    def agency_code(self) -> str:
        return self.agency.code


class ServiceCardVersion(Base):
    """A snapshot of a card after one change: what it said, who changed it and when."""

    __tablename__ = "service_card_version"
    __table_args__ = (UniqueConstraint("service_id", "version", name="uq_service_card_version_number"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    service_id: Mapped[str] = mapped_column(
        ForeignKey("service_card.service_id", ondelete="CASCADE"), index=True
    )
    version: Mapped[int] = mapped_column(Integer)
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    changed_by: Mapped[str] = mapped_column(String(120))
    note: Mapped[str] = mapped_column(String(300), default="")
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON)

    card: Mapped[ServiceCard] = relationship(back_populates="versions")
