"""Delivery pages: preview and apply, my requests with their timelines, the officers' work queue."""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from panjereh.core.config import Settings
from panjereh.core.db import utcnow
from panjereh.core.deps import AppSettings, DbSession
from panjereh.delivery import loading, selectors, service, tracking, workbench
from panjereh.delivery.constants import RequestState
from panjereh.delivery.exceptions import InvalidApplication, NotAnOfficer, OwnRequest
from panjereh.delivery.schemas import preview_of
from panjereh.identity.deps import CurrentCitizen, ensure_level
from panjereh.web.csrf import CsrfProtected

if TYPE_CHECKING:
    from panjereh.identity.models import Citizen

router = APIRouter(include_in_schema=False)

STATE_LABELS = {
    RequestState.SUBMITTED: "ثبت شد",
    RequestState.PROCESSING: "در حال استعلام",
    RequestState.WAITING: "در انتظار پاسخ دستگاه",
    RequestState.IN_QUEUE: "در کارتابل دستگاه",
    RequestState.IN_REVIEW: "در حال بررسی کارشناس",
    RequestState.NEEDS_INFO: "نیازمند پاسخ شما",
    RequestState.APPROVED: "انجام شد",
    RequestState.REFUSED: "رد شد",
}


def _render(request: Request, name: str, context: dict[str, object], status_code: int = 200) -> HTMLResponse:
    context.setdefault("state_labels", STATE_LABELS)
    context.setdefault("display_code", tracking.display)
    response: HTMLResponse = request.app.state.templates.render(
        request, name, context, status_code=status_code
    )
    return response


@router.get("/services/{slug}/apply", response_class=HTMLResponse)
def apply_page(slug: str, request: Request, db: DbSession, citizen: CurrentCitizen) -> HTMLResponse:
    """The preview (which registries are asked what, and why) and the one-step application form."""
    record = selectors.published_definition(db, slug)
    request.state.visit_agency, request.state.visit_service = record.agency_code, record.slug
    ensure_level(
        request, selectors.required_level(db, slug)
    )  # below the card's level: step-up, then back here
    return _apply_form(request, record, loading.loaded_from_record(record))


def _apply_form(
    request: Request,
    record: loading.DefinitionRecord,
    loaded: loading.LoadedDefinition,
    *,
    key: str | None = None,
    errors: object = None,
    values: dict[str, str] | None = None,
) -> HTMLResponse:
    """The preview and application form: fresh, or again with the refused answers and their errors."""
    return _render(
        request,
        "delivery/apply.html",
        {
            "preview": preview_of(loaded, derived_level=record.derived_level, flags=record.flags),
            "definition": loaded.definition,
            "idempotency_key": key or secrets.token_urlsafe(16),
            "errors": errors or {},
            "values": values or {},
        },
        status_code=422 if errors is not None else 200,
    )


@router.post("/services/{slug}/apply", response_model=None)
async def apply_submit(
    slug: str,
    request: Request,
    db: DbSession,
    settings: AppSettings,
    citizen: CurrentCitizen,
    _: CsrfProtected,
) -> RedirectResponse | HTMLResponse:
    """Apply; a double submission of the same form lands on the same request."""
    form = await request.form()  # read on the event loop; the database work runs in a worker thread
    return await run_in_threadpool(_apply, request, db, settings, citizen, slug, form)


def _apply(
    request: Request, db: Session, settings: Settings, citizen: Citizen, slug: str, form: FormData
) -> RedirectResponse | HTMLResponse:
    record = selectors.published_definition(db, slug)
    ensure_level(request, selectors.required_level(db, slug), return_to=f"/services/{slug}/apply")
    loaded = loading.loaded_from_record(record)
    inputs = {f.key: str(form.get(f.key, "")) for f in loaded.definition.inputs}
    key = str(form.get("idempotency_key", "")) or None
    try:
        created, _new = service.submit(
            db, settings, national_code=citizen.national_code, slug=slug, inputs=inputs, idempotency_key=key
        )
    except InvalidApplication as exc:
        return _apply_form(
            request, record, loaded, key=key, errors=exc.extra.get("errors", {}), values=inputs
        )
    return RedirectResponse(f"/account/requests/{created.tracking_code}", status_code=303)


@router.get("/account/requests", response_class=HTMLResponse)
def my_requests(request: Request, db: DbSession, citizen: CurrentCitizen) -> HTMLResponse:
    return _render(
        request, "delivery/requests.html", {"requests": selectors.requests_of(db, citizen.national_code)}
    )


@router.get("/account/requests/{code}", response_class=HTMLResponse)
def my_request(code: str, request: Request, db: DbSession, citizen: CurrentCitizen) -> HTMLResponse:
    item = selectors.request_of(db, citizen.national_code, code)
    request.state.visit_agency, request.state.visit_service = item.agency_code, item.slug
    return _render(request, "delivery/request.html", {"item": item, "definition": item.definition})


@router.post("/account/requests/{code}/review")
def review(
    code: str, db: DbSession, settings: AppSettings, citizen: CurrentCitizen, _: CsrfProtected
) -> RedirectResponse:
    """One click: send an automatic refusal to a human."""
    item = selectors.request_of(db, citizen.national_code, code)
    service.request_review(db, settings, item)
    return RedirectResponse(f"/account/requests/{item.tracking_code}", status_code=303)


@router.post("/account/requests/{code}/answer")
async def answer(
    code: str,
    request: Request,
    db: DbSession,
    settings: AppSettings,
    citizen: CurrentCitizen,
    _: CsrfProtected,
) -> RedirectResponse:
    form = await request.form()

    def answer_in_thread() -> RedirectResponse:
        item = selectors.request_of(db, citizen.national_code, code)
        service.answer_info(db, settings, item, str(form.get("answer", "")))
        return RedirectResponse(f"/account/requests/{item.tracking_code}", status_code=303)

    return await run_in_threadpool(answer_in_thread)


@router.get("/agency/queue", response_class=HTMLResponse)
def queue(
    request: Request,
    db: DbSession,
    citizen: CurrentCitizen,
    state: Annotated[str, Query(max_length=20)] = "",
    service_slug: Annotated[str, Query(alias="service", max_length=80)] = "",
    overdue: Annotated[bool, Query()] = False,
    mine: Annotated[bool, Query()] = False,
) -> HTMLResponse:
    """The officer's workbench: the agency's queue with age and deadline, filters and assignment."""
    officer = service.officer_of(db, citizen.national_code)
    items = workbench.workbench(
        db,
        officer.agency_code,
        officer.national_code,
        state=state or None,
        slug=service_slug or None,
        overdue=overdue,
        mine=mine,
    )
    return _render(
        request,
        "delivery/queue.html",
        {
            "officer": officer,
            "items": items,
            "filters": {"state": state, "service": service_slug, "overdue": overdue, "mine": mine},
            "queue_states": selectors.QUEUE_STATES,
            "services": [
                d for d in selectors.published_definitions(db) if d.agency_code == officer.agency_code
            ],
            "officer_names": {o.national_code: o.name for o in service.officers_of(db, officer.agency_code)},
            "span": _span,
        },
    )


def _span(seconds: float) -> tuple[int, int]:
    """Days and hours in a span of seconds (an age, the time left)."""
    hours = int(abs(seconds) // 3600)
    return hours // 24, hours % 24


@router.get("/agency/queue/{code}", response_class=HTMLResponse)
def queue_item(code: str, request: Request, db: DbSession, citizen: CurrentCitizen) -> HTMLResponse:
    officer = service.officer_of(db, citizen.national_code)
    item = selectors.request_by_tracking_code(db, code)
    if item.agency_code != officer.agency_code:
        raise NotAnOfficer()
    if officer.national_code in workbench.people_of(item):
        raise OwnRequest()
    loaded = loading.loaded_from_record(item.definition)
    return _render(
        request,
        "delivery/queue_item.html",
        {
            "officer": officer,
            "item": item,
            "definition": item.definition,
            "spec": loaded.definition,
            "applicant_name": workbench.applicant_name(item),
            "deadline": workbench.deadline_of(item),
            "now": utcnow(),
            "officers": [
                o
                for o in service.officers_of(db, officer.agency_code)
                if o.national_code not in workbench.people_of(item)
            ],
            "officer_names": {o.national_code: o.name for o in service.officers_of(db, officer.agency_code)},
        },
    )


@router.post("/agency/queue/{code}/{action}")
async def queue_action(
    code: str,
    action: str,
    request: Request,
    db: DbSession,
    settings: AppSettings,
    citizen: CurrentCitizen,
    _: CsrfProtected,
) -> RedirectResponse:
    """take · assign · approve · refuse · ask — each with the officer's reasons; `decide` is the one
    decision form, its choice in the `decision` field."""
    form = await request.form()
    text = str(form.get("text", ""))
    text_en = str(form.get("text_en", ""))
    if action == "decide":
        action = str(form.get("decision", ""))

    def act_in_thread() -> RedirectResponse:
        officer = service.officer_of(db, citizen.national_code)
        item = selectors.request_by_tracking_code(db, code)
        if action == "take":
            service.take(db, settings, officer, item)
        elif action == "assign":
            service.assign(db, settings, officer, item, str(form.get("officer", "")))
        elif action in ("approve", "refuse"):
            service.decide(
                db, settings, officer, item, approve=action == "approve", reason_fa=text, reason_en=text_en
            )
        elif action == "ask":
            service.ask_for_info(db, settings, officer, item, text)
        else:
            raise InvalidApplication(f"unknown action {action!r}", "کار ناشناخته")
        return RedirectResponse(f"/agency/queue/{item.tracking_code}", status_code=303)

    return await run_in_threadpool(act_in_thread)


def mount(app: FastAPI) -> None:
    app.include_router(router)
