"""Delivery API (under /api/v1): preview, apply, my requests, review; the agency queue."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Request, Response

from panjereh.core.deps import AppSettings, DbSession
from panjereh.delivery import loading, selectors, service
from panjereh.delivery.exceptions import NotTheSubject
from panjereh.delivery.schemas import Application, Preview, RequestOut, preview_of
from panjereh.identity.deps import CurrentCitizen, ensure_level

router = APIRouter(tags=["delivery"])


@router.get("/services/{slug}/preview", response_model=Preview)
def preview(slug: str, db: DbSession) -> Preview:
    """Which registries will be asked for what and why, before applying."""
    record = selectors.published_definition(db, slug)
    return preview_of(
        loading.loaded_from_record(record), derived_level=record.derived_level, flags=record.flags
    )


@router.post("/services/{slug}/requests", response_model=RequestOut, status_code=201)
def apply(
    slug: str,
    body: Application,
    citizen: CurrentCitizen,
    db: DbSession,
    settings: AppSettings,
    response: Response,
    http_request: Request,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", max_length=80)] = None,
) -> RequestOut:
    """Apply in one step; the same Idempotency-Key again answers 200 with the first request.

    A session below the level the service card requires gets 403 `identity.step_up_required`, naming
    `required_level` and `required_acr`.
    """
    ensure_level(http_request, selectors.required_level(db, slug))
    request, created = service.submit(
        db,
        settings,
        national_code=citizen.national_code,
        slug=slug,
        inputs=body.inputs,
        idempotency_key=idempotency_key,
    )
    if not created:
        response.status_code = 200
    response.headers["Location"] = f"/api/v1/requests/{request.tracking_code}"
    return RequestOut.of(request)


@router.get("/requests", response_model=list[RequestOut])
def my_requests(citizen: CurrentCitizen, db: DbSession) -> list[RequestOut]:
    """The signed-in citizen's requests (never anyone else's)."""
    return [RequestOut.of(r, with_timeline=False) for r in selectors.requests_of(db, citizen.national_code)]


@router.get("/requests/{tracking_code}", response_model=RequestOut)
def my_request(tracking_code: str, citizen: CurrentCitizen, db: DbSession) -> RequestOut:
    """One of the citizen's requests with its timeline and the decision's explanation."""
    return RequestOut.of(selectors.request_of(db, citizen.national_code, tracking_code))


@router.post("/requests/{tracking_code}/review", response_model=RequestOut)
def ask_for_review(
    tracking_code: str, citizen: CurrentCitizen, db: DbSession, settings: AppSettings
) -> RequestOut:
    """Send an automatic refusal to a human for review."""
    request = selectors.request_of(db, citizen.national_code, tracking_code)
    if request.national_code != citizen.national_code:  # made for another: the portal checks his right live
        raise NotTheSubject()
    service.request_review(db, settings, request)
    return RequestOut.of(request)
