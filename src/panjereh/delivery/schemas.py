"""API shapes of delivery: the preview, an application, a request with its timeline."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from panjereh.core.schemas import shape_of
from panjereh.delivery import tracking
from panjereh.delivery.definitions import LoadedDefinition
from panjereh.delivery.models import ServiceRequest


class PreviewItem(BaseModel):
    key: str
    source: str
    label_fa: str
    label_en: str
    why_fa: str
    data_service: str | None = None
    provider_agency: str | None = None


class Preview(BaseModel):
    """What will be asked, of whom, and why — shown before the citizen applies."""

    slug: str
    title_fa: str
    title_en: str
    agency: str
    smart: bool
    derived_level: int
    flags: list[str]
    inputs: list[dict[str, Any]]
    evidence: list[PreviewItem]
    legal_references: list[dict[str, Any]]
    time_objective_seconds: int


class Application(BaseModel):
    inputs: dict[str, Any] = Field(default_factory=dict)


class TimelineEntry(BaseModel):
    at: datetime
    state: str
    kind: str
    actor: str
    message_fa: str
    message_en: str


class RequestOut(BaseModel):
    tracking_code: str
    tracking_code_display: str
    slug: str
    state: str
    created_at: datetime
    decided_at: datetime | None
    decided_automatically: bool
    human_touched: bool
    document_number: str | None
    decision: dict[str, Any] | None
    timeline: list[TimelineEntry] = Field(default_factory=list)

    @classmethod
    def of(cls, request: ServiceRequest, *, with_timeline: bool = True) -> RequestOut:
        return shape_of(
            cls,
            request,
            tracking_code_display=tracking.display(request.tracking_code),
            state=request.state.value,
            timeline=[shape_of(TimelineEntry, e, state=e.state.value) for e in request.events]
            if with_timeline
            else [],
        )


PROVIDERS = {
    "civil-registry": "nocr",
    "shahkar": "cra",
    "post": "post",
    "tax": "tax",
    "police": "police",
    "judiciary": "judiciary",
    "health-insurance": "ihio",
    "education": "education",
    "welfare": "welfare",
    "deeds": "deeds",
    "social-security": "sso",
}


def preview_of(loaded: LoadedDefinition, *, derived_level: int, flags: list[str]) -> Preview:
    definition = loaded.definition
    return Preview(
        slug=definition.slug,
        title_fa=definition.title.fa,
        title_en=definition.title.en,
        agency=definition.agency,
        smart=definition.is_smart,
        derived_level=derived_level,
        flags=flags,
        inputs=[i.model_dump(mode="json") for i in definition.inputs],
        evidence=[
            PreviewItem(
                key=e.key,
                source=e.source.value,
                label_fa=e.label.fa,
                label_en=e.label.en,
                why_fa=e.why_fa,
                data_service=e.service,
                provider_agency=PROVIDERS.get((e.service or "").split(".")[0]) if e.service else None,
            )
            for e in definition.evidence
        ],
        legal_references=[r.model_dump() for r in definition.decision.legal_references],
        time_objective_seconds=definition.time_objective.seconds,
    )
