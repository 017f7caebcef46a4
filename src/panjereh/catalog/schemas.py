"""Catalog shapes: the card as written (import, API) and as read (API responses)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

from panjereh.catalog.constants import Channel, Initiation, LifeEvent, ServiceKind
from panjereh.core.persian import fold_digits, search_key

SERVICE_ID = re.compile(r"^[0-9]{11}$")
SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


class ServiceCardIn(BaseModel):
    """A service card as an agency writes it (the spreadsheet row, the flagship file)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    service_id: str | None = Field(default=None, description="11 digits; assigned when empty")
    slug: str = Field(min_length=2, max_length=120)
    title_fa: str = Field(min_length=2, max_length=300)
    title_en: str = Field(default="", max_length=300)
    description_fa: str = ""
    kind: ServiceKind = ServiceKind.G2C
    life_event: LifeEvent
    category: str = Field(default="", max_length=120)
    initiation: Initiation = Initiation.CITIZEN_REQUEST
    required_documents: list[str] = Field(default_factory=list)
    in_person_visits: int = Field(default=0, ge=0, le=50)
    cost_rials: int = Field(default=0, ge=0)
    channels: list[Channel] = Field(default_factory=list)
    duration_minutes: int = Field(default=0, ge=0)
    offered_through_window: bool = False
    window_url: str | None = None
    legal_basis: str = ""
    keywords: list[str] = Field(default_factory=list)
    assurance_level: int = Field(default=1, ge=1, le=4)
    yearly_requests: int = Field(default=0, ge=0)
    maturity_level: int = Field(default=0, ge=0, le=5, description="the declared maturity level")

    @field_validator("service_id", mode="before")
    @classmethod
    def _service_id(cls, value: Any) -> str | None:
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        text = fold_digits(str(value).strip())
        if not SERVICE_ID.match(text):
            raise PydanticCustomError("service_id_format", "service id must be exactly 11 digits")
        return text

    @field_validator("slug")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not SLUG.match(value):
            raise PydanticCustomError(
                "slug_format", "slug must be lower-case Latin letters, digits and single hyphens"
            )
        return value

    @field_validator("title_fa")
    @classmethod
    def _title_fa(cls, value: str) -> str:
        if not search_key(value).strip():
            raise PydanticCustomError("title_empty_folded", "the Persian title is empty once folded")
        if not any("\u0600" <= ch <= "\u06ff" for ch in value):
            raise PydanticCustomError("title_not_persian", "the Persian title has no Persian letters")
        return value


class AgencyRef(BaseModel):
    """The agency that offers a service, by code and name."""

    code: str
    name_fa: str
    name_en: str


class ServiceSummaryOut(BaseModel):
    """One search hit or list row."""

    service_id: str
    slug: str
    title_fa: str
    title_en: str
    agency: AgencyRef
    life_event: LifeEvent
    kind: ServiceKind
    channels: list[str]
    maturity_level: int
    online: bool
    smart: bool
    offered_through_window: bool
    url: str


class ServiceCardOut(ServiceSummaryOut):
    """The whole card."""

    description_fa: str
    category: str
    initiation: Initiation
    required_documents: list[str]
    in_person_visits: int
    cost_rials: int
    duration_minutes: int
    window_url: str | None
    legal_basis: str
    keywords: list[str]
    assurance_level: int
    yearly_requests: int
    declared_maturity_level: int
    derived_maturity_level: int | None
    derived_flags: list[str]
    executable: bool
    version: int
    updated_at: datetime
    updated_by: str


class ServicePage(BaseModel):
    """A page of services."""

    total: int
    page: int
    per_page: int
    pages: int
    items: list[ServiceSummaryOut]


class CardVersionOut(BaseModel):
    """One recorded change of a card."""

    version: int
    changed_at: datetime
    changed_by: str
    note: str
