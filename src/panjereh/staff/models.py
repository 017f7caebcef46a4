"""Staff tables: memberships (a person, an agency or none, a role) and the audit trail of staff actions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from panjereh.core.db import Base, new_id, str_enum, utcnow
from panjereh.staff.constants import Role


class StaffMembership(Base):
    """One role of one person in one agency (or on the platform, for an operator: no agency).

    A revoked membership keeps its row (`revoked_at`), so the trail of who held what stays readable.
    """

    __tablename__ = "staff_membership"
    __table_args__ = (
        Index("ix_staff_membership_person", "national_code", "revoked_at"),
        Index("ix_staff_membership_agency", "agency_code", "revoked_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    national_code: Mapped[str] = mapped_column(String(10))
    agency_code: Mapped[str | None] = mapped_column(String(40))
    role: Mapped[Role] = mapped_column(str_enum(Role, 20))
    granted_by: Mapped[str] = mapped_column(String(40))  # a national code, or "system" (seed, CLI)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column()
    revoked_by: Mapped[str | None] = mapped_column(String(40))


class StaffAuditEntry(Base):
    """One staff action: who (`actor`, a national code) did what (`action`) to what (`target`), when."""

    __tablename__ = "staff_audit_entry"
    __table_args__ = (Index("ix_staff_audit_entry_agency_at", "agency_code", "at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    agency_code: Mapped[str | None] = mapped_column(String(40))  # None: a platform-wide operator action
    actor: Mapped[str] = mapped_column(String(40))
    action: Mapped[str] = mapped_column(String(80))
    target: Mapped[str] = mapped_column(Text, default="")
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    at: Mapped[datetime] = mapped_column(default=utcnow)
