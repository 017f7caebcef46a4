"""Reads of agencies, for other domains and the pages."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from panjereh.agencies.constants import ConnectionStatus
from panjereh.agencies.exceptions import AgencyNotFound
from panjereh.agencies.models import Agency, AgencySystem
from panjereh.core.db import already_loaded


def get_agency(session: Session, agency_id: str) -> Agency:
    """The agency with this id (it must exist: ids come from rows that reference it)."""
    return session.get_one(Agency, agency_id)


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


def agencies_by_code(session: Session, codes: Collection[str]) -> dict[str, Agency]:
    """The agencies with these codes, by code (unknown codes are left out)."""
    if not codes:
        return {}
    return {agency.code: agency for agency in session.scalars(select(Agency).where(Agency.code.in_(codes)))}


def agency_codes(session: Session) -> dict[str, str]:
    """Every agency's code by its id."""
    return dict(session.execute(select(Agency.id, Agency.code)).all())


def agency_states(session: Session) -> list[tuple[str, str, str, str, str | None]]:
    """Every agency's (code, Persian name, English name, connection status, parent id), by code: a cheap
    fingerprint for caches of figures that show agencies (the national dashboard's standings)."""
    rows = session.execute(
        select(
            Agency.code, Agency.name_fa, Agency.name_en, Agency.connection_status, Agency.parent_id
        ).order_by(Agency.code)
    ).all()
    return [(code, fa, en, str(status), parent) for code, fa, en, status, parent in rows]


def agencies_with_systems(session: Session) -> Sequence[Agency]:
    """Every agency that has at least one registered system, by code."""
    has_system = select(AgencySystem.agency_id).distinct()
    return session.scalars(select(Agency).where(Agency.id.in_(has_system)).order_by(Agency.code)).all()


def system_counts(session: Session) -> dict[str, int]:
    """How many systems each agency has, by agency id (agencies without one are left out)."""
    rows = session.execute(select(AgencySystem.agency_id, func.count()).group_by(AgencySystem.agency_id))
    return dict(rows.all())


def status_counts(session: Session) -> dict[ConnectionStatus, int]:
    """How many agencies are in each connection status (the dashboard's figure)."""
    rows = session.execute(select(Agency.connection_status, func.count()).group_by(Agency.connection_status))
    counts = dict(rows.all())
    return {status: counts.get(status, 0) for status in ConnectionStatus}
