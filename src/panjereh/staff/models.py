"""Staff tables: memberships (a person, an agency or none, a role) and the audit trail of staff actions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from panjereh.core.db import Base, new_id, str_enum, utcnow
from panjereh.staff.constants import Environment, RegistrationKind, RegistrationState, Role


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


class Registration(Base):
    """Something an agency registered from its workspace (a data service, an app, an exchange client), the
    environment it is for, and, for production, the operator's decision. The thing itself lives in its own
    domain (`reference`: the service code or client id); this row is the approval trail."""

    __tablename__ = "staff_registration"
    __table_args__ = (
        Index("ix_staff_registration_agency", "agency_code", "kind"),
        Index("ix_staff_registration_state", "state"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    agency_code: Mapped[str] = mapped_column(String(40))
    kind: Mapped[RegistrationKind] = mapped_column(str_enum(RegistrationKind, 30))
    reference: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(200), default="")
    environment: Mapped[Environment] = mapped_column(str_enum(Environment, 20))
    state: Mapped[RegistrationState] = mapped_column(str_enum(RegistrationState, 20))
    requested_by: Mapped[str] = mapped_column(String(40))
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_by: Mapped[str | None] = mapped_column(String(40))
    decided_at: Mapped[datetime | None] = mapped_column()
    note: Mapped[str] = mapped_column(Text, default="")
