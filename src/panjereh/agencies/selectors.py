"""Reads of agencies, for other domains and the pages."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from panjereh.agencies.exceptions import AgencyNotFound
from panjereh.agencies.models import Agency, AgencySystem
from panjereh.core.db import already_loaded


def get_agency_by_code(session: Session, code: str) -> Agency:
    """The agency with this code, or AgencyNotFound."""
    agency = session.scalars(select(Agency).where(Agency.code == code)).one_or_none()
    if agency is None:
        raise AgencyNotFound(f"No agency with code {code!r}.", f"دستگاهی با کد «{code}» ثبت نشده است.")
    return agency


def find_agency_by_code(session: Session, code: str) -> Agency | None:
    """The agency with this code, or None (one already loaded in this session is not read again)."""
    loaded = already_loaded(session, Agency, code=code)
    if loaded is not None:
        return loaded
    return session.scalars(select(Agency).where(Agency.code == code)).one_or_none()


def list_agencies(session: Session) -> Sequence[Agency]:
    """Every agency, ministries first, then by code."""
    return session.scalars(select(Agency).order_by(Agency.parent_id.is_not(None), Agency.code)).all()


def list_systems(session: Session, agency_id: str | None = None) -> Sequence[AgencySystem]:
    """Agency systems, of one agency or of all."""
    query = select(AgencySystem).order_by(AgencySystem.code)
    if agency_id is not None:
        query = query.where(AgencySystem.agency_id == agency_id)
    return session.scalars(query).all()


def get_system_by_code(session: Session, code: str) -> AgencySystem | None:
    """The system with this code, or None."""
    return session.scalars(select(AgencySystem).where(AgencySystem.code == code)).one_or_none()
