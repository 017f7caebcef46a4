"""Agency shapes for the API."""

from __future__ import annotations

from pydantic import BaseModel

from panjereh.agencies.constants import AgencyKind, ConnectionStatus


class AgencyOut(BaseModel):
    """An agency in a list."""

    code: str
    kind: AgencyKind
    name_fa: str
    name_en: str
    parent_code: str | None
    connection_status: ConnectionStatus
    website: str | None
    url: str


class AgencySystemOut(BaseModel):
    """One of an agency's systems the window talks to."""

    code: str
    name_fa: str
    base_url: str
    openapi_url: str | None


class AgencyDetailOut(AgencyOut):
    """An agency with its place in the hierarchy and its systems."""

    description_fa: str
    contact_email: str | None
    contact_phone: str | None
    ancestors: list[AgencyOut]
    children: list[AgencyOut]
    systems: list[AgencySystemOut]
