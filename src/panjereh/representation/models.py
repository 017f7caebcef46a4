"""Representation tables: the delegations citizens grant each other, and the trail of acts for another."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from panjereh.core.db import Base, new_id, str_enum, utcnow
from panjereh.representation.constants import DelegationStatus


class Delegation(Base):
    """A «وکالت‌نامه» on the portal: the grantor lets the delegate apply for some services for him, from
    `valid_from` until `valid_until` (bounded), once the delegate accepts, until either ends it."""

    __tablename__ = "representation_delegation"
    __table_args__ = (
        Index("ix_representation_delegation_delegate", "delegate_code", "status"),
        Index("ix_representation_delegation_grantor", "grantor_code", "status"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    grantor_code: Mapped[str] = mapped_column(String(10))
    grantor_name: Mapped[str] = mapped_column(String(200))
    delegate_code: Mapped[str] = mapped_column(String(10))
    delegate_name: Mapped[str] = mapped_column(String(200), default="")
    slugs: Mapped[list[str]] = mapped_column(JSON)
    valid_from: Mapped[datetime] = mapped_column()
    valid_until: Mapped[datetime] = mapped_column()
    status: Mapped[DelegationStatus] = mapped_column(str_enum(DelegationStatus, 20))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    accepted_at: Mapped[datetime | None] = mapped_column()
    ended_at: Mapped[datetime | None] = mapped_column()
    ended_by: Mapped[str | None] = mapped_column(String(10))


class RepresentationAct(Base):
    """One act for another, allowed or refused: who acted, for whom, on what ground, for which service."""

    __tablename__ = "representation_act"
    __table_args__ = (
        Index("ix_representation_act_subject", "subject_code", "at"),
        Index("ix_representation_act_actor", "actor_code", "at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_code: Mapped[str] = mapped_column(String(10))
    actor_name: Mapped[str] = mapped_column(String(200), default="")
    subject_kind: Mapped[str] = mapped_column(String(10))
    subject_code: Mapped[str] = mapped_column(String(20))
    subject_name: Mapped[str] = mapped_column(String(200), default="")
    relation: Mapped[str | None] = mapped_column(String(20))
    action: Mapped[str] = mapped_column(String(40))  # apply | refused
    slug: Mapped[str] = mapped_column(String(80), default="")
    reference: Mapped[str | None] = mapped_column(String(40))  # the request's tracking code
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
