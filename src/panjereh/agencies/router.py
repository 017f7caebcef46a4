"""The agencies API: the hierarchy of government bodies and their connection to the window."""

from __future__ import annotations

from fastapi import APIRouter

from panjereh.agencies import selectors
from panjereh.agencies.constants import ConnectionStatus
from panjereh.agencies.models import Agency
from panjereh.agencies.schemas import AgencyDetailOut, AgencyOut, AgencySystemOut
from panjereh.core.deps import DbSession
from panjereh.core.schemas import shape_of

router = APIRouter(prefix="/agencies", tags=["agencies"])


def agency_out(agency: Agency) -> AgencyOut:
    """An agency as the API lists it."""
    return shape_of(
        AgencyOut,
        agency,
        parent_code=agency.parent.code if agency.parent else None,
        url=f"/agencies/{agency.code}",
    )


@router.get("", response_model=list[AgencyOut], summary="Every agency, ministries first")
def list_agencies(db: DbSession, status: ConnectionStatus | None = None) -> list[AgencyOut]:
    """All agencies (optionally only those in one connection status)."""
    agencies = selectors.list_agencies(db)
    return [agency_out(a) for a in agencies if status is None or a.connection_status == status]


@router.get("/{code}", response_model=AgencyDetailOut, summary="One agency")
def get_agency(code: str, db: DbSession) -> AgencyDetailOut:
    """An agency with its parents, subsidiaries and systems."""
    agency = selectors.get_agency_by_code(db, code)
    ancestors: list[AgencyOut] = []
    node = agency.parent
    while node is not None:
        ancestors.insert(0, agency_out(node))
        node = node.parent
    return AgencyDetailOut(
        **agency_out(agency).model_dump(),
        description_fa=agency.description_fa,
        contact_email=agency.contact_email,
        contact_phone=agency.contact_phone,
        ancestors=ancestors,
        children=[agency_out(child) for child in agency.children],
        systems=[
            AgencySystemOut(code=s.code, name_fa=s.name_fa, base_url=s.base_url, openapi_url=s.openapi_url)
            for s in agency.systems
        ],
    )
