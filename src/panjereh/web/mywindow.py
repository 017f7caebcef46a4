"""«My window» (the landing page after login) and «my data» (what the registries hold about me)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from panjereh.core.deps import DbSession
from panjereh.core.i18n import N_
from panjereh.delivery import proactive, tracking
from panjereh.delivery import selectors as delivery_selectors
from panjereh.delivery.constants import FINAL_STATES, WITHDRAWABLE_STATES, RequestState
from panjereh.documents.selectors import documents_of
from panjereh.exchange import selectors as exchange_selectors
from panjereh.identity.deps import CurrentCitizen
from panjereh.notify import selectors as inbox_selectors
from panjereh.payments import selectors as payments_selectors
from panjereh.web import mydata
from panjereh.web.delivery import PAYMENT_STATE_LABELS, STATE_LABELS
from panjereh.web.exchange import ledger_rows_named
from panjereh.web.wallet import active_shares

router = APIRouter(include_in_schema=False)

WINDOW_PATH = "/window"
MY_DATA_PATH = "/account/my-data"
SHOWN = 5  # items per section; each section links to its full page

# What the citizen does next, by where the request is (Persian source text; translated in the page).
NEXT_STEPS = {
    RequestState.AWAITING_PAYMENT: N_("هزینهٔ خدمت را بپردازید: درخواست را باز کنید و «پرداخت» را بزنید."),
    RequestState.SUBMITTED: N_("کاری لازم نیست؛ پنجره استعلام‌ها را آغاز می‌کند."),
    RequestState.PROCESSING: N_("کاری لازم نیست؛ پنجره در حال استعلام است."),
    RequestState.WAITING: N_("کاری لازم نیست؛ پاسخ دستگاهی دیر رسیده و پنجره دوباره می‌پرسد."),
    RequestState.IN_QUEUE: N_("کاری لازم نیست؛ کارشناس دستگاه به‌زودی آن را برمی‌دارد."),
    RequestState.IN_REVIEW: N_("کاری لازم نیست؛ کارشناس دستگاه در حال بررسی است."),
    RequestState.NEEDS_INFO: N_("پاسخ شما لازم است: درخواست را باز کنید و به پرسش کارشناس پاسخ دهید."),
}

# The life events a proactive service starts on, in words.
EVENT_LABELS = {
    "birth_registered": N_("با ثبت ولادت فرزند"),
    "death_registered": N_("با ثبت فوت"),
    "turned_18": N_("وقتی هجده‌ساله می‌شوید"),
    "address_changed": N_("با تغییر نشانی"),
}


@dataclass(frozen=True)
class Suggested:
    """A proactive service as «my window» suggests it: its name and the life events that start it."""

    slug: str
    title_fa: str
    title_en: str
    events: tuple[str, ...]


# Finding the proactive services reads every published definition's body (hundreds in the demo): the
# answer is kept on the application for a minute, so a newly published one is suggested within a minute.
SUGGESTED_TTL_SECONDS = 60.0


def _suggested(request: Request, db: Session) -> list[Suggested]:
    cached: tuple[float, list[Suggested]] | None = getattr(request.app.state, "window_suggested", None)
    now = time.monotonic()
    if cached is not None and now - cached[0] < SUGGESTED_TTL_SECONDS:
        return cached[1]
    events_of: dict[str, list[str]] = {}
    for event, slugs in proactive.subscriptions(db).items():
        for slug in slugs:
            events_of.setdefault(slug, []).append(EVENT_LABELS.get(event, event))
    found = []
    for slug in sorted(events_of):
        record = delivery_selectors.published_definition(db, slug)
        found.append(Suggested(slug, record.title_fa, record.title_en, tuple(events_of[slug])))
    request.app.state.window_suggested = (now, found)
    return found


def _render(request: Request, name: str, context: dict[str, Any]) -> HTMLResponse:
    response: HTMLResponse = request.app.state.templates.render(request, name, context)
    response.headers["Cache-Control"] = "no-store"  # one person's page
    return response


@router.get(WINDOW_PATH, response_class=HTMLResponse)
def my_window(request: Request, db: DbSession, citizen: CurrentCitizen) -> HTMLResponse:
    """Everything of mine on one page: requests in progress, documents, inbox, payments, suggested
    services and the latest looks at my data; each section links to its full page."""
    code = citizen.national_code
    requests = delivery_selectors.requests_of(db, code, limit=50)
    in_progress = [item for item in requests if item.state not in FINAL_STATES]
    suggested = _suggested(request, db)
    return _render(
        request,
        "identity/window.html",
        {
            "in_progress": in_progress[:SHOWN],
            "in_progress_total": len(in_progress),
            "finished_total": len(requests) - len(in_progress),
            "next_steps": NEXT_STEPS,
            "withdrawable_states": WITHDRAWABLE_STATES,
            "state_labels": STATE_LABELS,
            "display_code": tracking.display,
            "documents": documents_of(db, code, limit=SHOWN),
            "shares": active_shares(db, code, limit=SHOWN),
            "unread": inbox_selectors.unread_count(db, code),
            "messages": inbox_selectors.inbox(db, code, limit=3),
            "suggested": suggested,
            "payments": payments_selectors.payments_of(db, code, limit=SHOWN),
            "payment_labels": PAYMENT_STATE_LABELS,
            "looks": ledger_rows_named(db, exchange_selectors.ledger_for_subject(db, code, limit=SHOWN)),
            "looks_total": exchange_selectors.ledger_count(db, code),
        },
    )


@router.get(MY_DATA_PATH, response_class=HTMLResponse)
async def my_data(request: Request, citizen: CurrentCitizen) -> HTMLResponse:
    """What the registries hold about me, asked now through the exchange (each inquiry is in my ledger)."""
    fa = request.app.state.templates.locale_of(request) == "fa"
    blocks = await mydata.fetch_all(request.app.state.exchange, citizen.national_code, fa=fa)
    return await run_in_threadpool(_render, request, "identity/my_data.html", {"blocks": blocks})


def mount(app: FastAPI) -> None:
    app.include_router(router)
