"""API shapes of the exchange."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from panjereh.core.schemas import Moment
from panjereh.exchange.models import GrantStatus


class ServiceOut(BaseModel):
    """A data service in the directory."""

    code: str
    title_fa: str
    title_en: str
    provider: str
    provider_fa: str
    system: str
    method: str
    path: str
    personal_data: bool
    subject_field: str | None
    latency_objective_ms: int
    openapi_url: str | None
    gateway_path: str
    request_schema: dict[str, Any] | None = Field(
        None, description="JSON schema of the request body (from the provider's OpenAPI document)"
    )
    response_schema: dict[str, Any] | None = Field(
        None, description="JSON schema of a successful (200) answer (from the provider's OpenAPI document)"
    )


class GrantIn(BaseModel):
    """A client agency's request for access to a data service."""

    model_config = ConfigDict(extra="forbid")

    service_code: str = Field(max_length=80)
    purposes: list[str] = Field(min_length=1, max_length=20)
    legal_basis: str = Field(min_length=3, max_length=2000)
    valid_from: Moment | None = None
    valid_until: Moment | None = None
    note: str = Field(default="", max_length=2000)


class DecisionIn(BaseModel):
    """The provider's decision note (a reason is required to refuse)."""

    model_config = ConfigDict(extra="forbid")

    note: str = Field(default="", max_length=2000)


class GrantOut(BaseModel):
    """A grant as both sides see it."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    client_agency_code: str
    service_code: str
    provider_agency_code: str
    purposes: list[str]
    legal_basis: str
    valid_from: datetime
    valid_until: datetime | None
    status: GrantStatus
    standing: bool
    sandbox: bool = Field(False, description="A sandbox grant: it serves the agency's sandbox clients only")
    requested_note: str
    decided_at: datetime | None
    decision_note: str
    revoked_at: datetime | None
    created_at: datetime
    approvals_required: int = Field(1, description="Different approvers needed before the grant is active")
    first_approved_at: datetime | None = Field(None, description="When the first of two approvers approved")


class KeyIn(BaseModel):
    """A public key (JWK) to add to the calling client."""

    model_config = ConfigDict(extra="forbid")

    jwk: dict[str, Any]


class KeyOut(BaseModel):
    kid: str
    created_at: datetime
    retired_at: datetime | None


class LedgerOut(BaseModel):
    """One look at the citizen's data."""

    model_config = ConfigDict(from_attributes=True)

    message_id: str
    at: datetime
    client_agency_code: str
    client_agency_fa: str
    service_code: str
    service_title_fa: str
    purpose: str
    case_ref: str | None
    count: int = Field(1, description="How many times this look was made (an inquiry retried for one case)")
    first_at: datetime | None = Field(None, description="The first of those times (`at` is the newest)")


class HealthOut(BaseModel):
    """Monitoring figures for one provider, service or client."""

    key: str
    count: int
    ok: int
    client_errors: int
    provider_errors: int
    platform_errors: int
    availability: float | None
    mean_ms: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float


class HeadsOut(BaseModel):
    """A page of the witness file's lines (format `panjereh-witness/1`, docs/protocols/message-log.md)."""

    format: str
    lines: list[dict[str, Any]]
    next: str | None
    keys: str
