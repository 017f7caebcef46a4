"""Delivery pages: preview and apply, my requests with their timelines, the officers' work queue."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from panjereh.agencies import selectors as agency_selectors
from panjereh.catalog import selectors as catalog_selectors
from panjereh.core.config import Settings
from panjereh.core.db import utcnow
from panjereh.core.deps import AppSettings, DbSession
from panjereh.core.errors import ProblemError
from panjereh.core.i18n import N_
from panjereh.delivery import loading, selectors, service, tracking, workbench
from panjereh.delivery.constants import WITHDRAWABLE_STATES, RequestState
from panjereh.delivery.exceptions import InvalidApplication, NotAnOfficer, OwnRequest, ServiceNotExecutable
from panjereh.delivery.schemas import Preview, preview_of
from panjereh.identity.deps import CurrentCitizen, ensure_level
from panjereh.payments import selectors as payments_selectors
from panjereh.payments.constants import PaymentState
from panjereh.web import feedback as web_feedback
from panjereh.web import representation as acting
from panjereh.web.csrf import CsrfProtected

if TYPE_CHECKING:
    from panjereh.identity.models import Citizen

router = APIRouter(include_in_schema=False)

STATE_LABELS = {
    RequestState.AWAITING_PAYMENT: N_("در انتظار پرداخت"),
    RequestState.SUBMITTED: N_("ثبت شد"),
    RequestState.PROCESSING: N_("در حال استعلام"),
    RequestState.WAITING: N_("در انتظار پاسخ دستگاه"),
    RequestState.IN_QUEUE: N_("در کارتابل دستگاه"),
    RequestState.IN_REVIEW: N_("در حال بررسی کارشناس"),
    RequestState.NEEDS_INFO: N_("نیازمند پاسخ شما"),
    RequestState.APPROVED: N_("انجام شد"),
    RequestState.REFUSED: N_("رد شد"),
    RequestState.WITHDRAWN: N_("انصراف داده شد"),
}

# A payment's state in words (the request page, «my window» and the operators' page).
PAYMENT_STATE_LABELS = {
    PaymentState.PENDING: N_("در انتظار پرداخت در درگاه"),
    PaymentState.PAID: N_("پرداخت شد؛ در حال تأیید"),
    PaymentState.SETTLED: N_("پرداخت و تسویه شد"),
    PaymentState.CANCELED: N_("در درگاه لغو شد"),
    PaymentState.DECLINED: N_("کارت پذیرفته نشد"),
    PaymentState.EXPIRED: N_("پرداخت نشد و مهلتش گذشت"),
    PaymentState.FAILED: N_("پرداخت تأیید نشد؛ مبلغی کسر نشد"),
    PaymentState.REVERSED: N_("مبلغ به کارت برگشت داده شد"),
}


@dataclass(frozen=True)
class EvidenceRow:
    """One thing a service needs, as both its card and its apply page list it (one source: the published
    definition), with the agency that answers an inquiry named rather than its data service's code."""

    label_fa: str
    label_en: str
    why_fa: str
    source: str
    provider_fa: str | None
    provider_en: str | None


def evidence_rows(db: Session, preview: Preview) -> list[EvidenceRow]:
    """The preview's evidence with each provider agency's name."""
    codes = {item.provider_agency for item in preview.evidence if item.provider_agency}
    agencies = agency_selectors.agencies_by_code(db, codes)
    rows = []
    for item in preview.evidence:
        agency = agencies.get(item.provider_agency or "")
        rows.append(
            EvidenceRow(
                label_fa=item.label_fa,
                label_en=item.label_en,
                why_fa=item.why_fa,
                source=item.source,
                provider_fa=agency.name_fa if agency else None,
                provider_en=agency.name_en if agency else None,
            )
        )
    return rows


def service_title(db: Session, slug: str, preview: Preview) -> tuple[str, str]:
    """The service's name as its catalog card gives it (the card and the apply page say the same)."""
    card = catalog_selectors.cards_by_slug(db, [slug]).get(slug)
    if card is None:
        return preview.title_fa, preview.title_en
    return card.title_fa, card.title_en or preview.title_en


def published_preview(db: Session, slug: str) -> Preview | None:
    """The preview of a service's published definition, if it has one (the card of an executable service)."""
    try:
        record = selectors.published_definition(db, slug)
    except ServiceNotExecutable:
        return None
    return preview_of(
        loading.loaded_from_record(record), derived_level=record.derived_level, flags=record.flags
    )


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
    return _apply_form(request, db, record, loading.loaded_from_record(record), citizen=citizen)


def _apply_form(
    request: Request,
    db: Session,
    record: loading.DefinitionRecord,
    loaded: loading.LoadedDefinition,
    *,
    key: str | None = None,
    errors: object = None,
    values: dict[str, str] | None = None,
    citizen: Citizen,
) -> HTMLResponse:
    """The preview and application form: fresh, or again with the refused answers and their errors."""
    preview = preview_of(loaded, derived_level=record.derived_level, flags=record.flags)
    on_behalf = acting.choices_for(request, db, citizen, loaded)
    if values and "on_behalf_of" in values:
        on_behalf["chosen"] = values["on_behalf_of"]
    return _render(
        request,
        "delivery/apply.html",
        {
            "preview": preview,
            "title": service_title(db, record.slug, preview),
            "evidence": evidence_rows(db, preview),
            "definition": loaded.definition,
            "idempotency_key": key or secrets.token_urlsafe(16),
            "errors": errors or {},
            "values": values or {},
            **web_feedback.banner_context(
                request, db, record.agency_code, [e.data_service for e in preview.evidence if e.data_service]
            ),
            "fee": selectors.fee_of(db, record.slug),
            "on_behalf": on_behalf,
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
    raw_on_behalf = str(form.get("on_behalf_of", ""))[:40]
    # Whom for is checked here, at the act, live from the registries: not trusted from the form or switch.
    subject_code, on_behalf, subject = acting.authorize_act(request, db, citizen, raw_on_behalf, loaded)
    try:
        created, new = service.submit(
            db,
            settings,
            national_code=subject_code,
            slug=slug,
            inputs=inputs,
            idempotency_key=key,
            on_behalf=on_behalf,
        )
    except InvalidApplication as exc:
        return _apply_form(
            request,
            db,
            record,
            loaded,
            key=key,
            errors=exc.extra.get("errors", {}),
            values={**inputs, "on_behalf_of": raw_on_behalf},
            citizen=citizen,
        )
    if subject is not None and new:
        acting.record(db, citizen, subject, slug, created.tracking_code)
    return RedirectResponse(f"/account/requests/{created.tracking_code}", status_code=303)


@router.get("/account/requests", response_class=HTMLResponse)
def my_requests(request: Request, db: DbSession, citizen: CurrentCitizen) -> HTMLResponse:
    return _render(
        request, "delivery/requests.html", {"requests": selectors.requests_of(db, citizen.national_code)}
    )


@router.get("/account/requests/{code}", response_class=HTMLResponse)
def my_request(code: str, request: Request, db: DbSession, citizen: CurrentCitizen) -> HTMLResponse:
    return request_page(request, db, citizen, code)


def request_page(
    request: Request,
    db: Session,
    citizen: Citizen,
    code: str,
    *,
    error: ProblemError | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    """One of the citizen's requests: state, fee and payments, decision, timeline (with a refused step's
    problem above it)."""
    item = acting.readable_request(request, db, citizen, code)
    request.state.visit_agency, request.state.visit_service = item.agency_code, item.slug
    context: dict[str, object] = {
        "item": item,
        # The actions (pay, answer, review, the issued document) while the viewer may act now: always for the
        # subject; for who made it for another, while his right holds; never on the read-only path.
        "may_act": item.national_code == citizen.national_code
        or (item.acted_by == citizen.national_code and acting.may_act_on(request, db, citizen, item)),
        "definition": item.definition,
        "fee": selectors.fee_of(db, item.slug),
        "payments": payments_selectors.payments_of_request(db, item.id),
        "payment_labels": PAYMENT_STATE_LABELS,
        "error": error,
        "review_open": selectors.review_can_be_asked(request.app.state.settings, item)
        and not selectors.fee_refunded(db, item),
        # Withdrawing is offered to who applied (the subject, or who made it for him): `request_of`'s people.
        "withdrawable": item.state in WITHDRAWABLE_STATES
        and citizen.national_code in (item.national_code, item.acted_by),
    }
    if item.state in (RequestState.APPROVED, RequestState.REFUSED):  # rated once decided
        context.update(
            web_feedback.feedback_context(
                request,
                db,
                item.slug,
                citizen,
                agency_code=item.agency_code,
                tracking_code=item.tracking_code,
            )
        )
    return _render(request, "delivery/request.html", context, status_code=status_code)


@router.post("/account/requests/{code}/review")
def review(
    code: str,
    request: Request,
    db: DbSession,
    settings: AppSettings,
    citizen: CurrentCitizen,
    _: CsrfProtected,
) -> RedirectResponse:
    """One click: send an automatic refusal to a human."""
    item = selectors.request_of(db, citizen.national_code, code)
    acting.ensure_may_act_on(request, db, citizen, item)
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
        item = selectors.request_of(db, citizen.national_code, code, for_update=True)
        acting.ensure_may_act_on(request, db, citizen, item)
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
        item = selectors.request_by_tracking_code(
            db, code, for_update=True
        )  # a withdrawal is seen, not undone
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
