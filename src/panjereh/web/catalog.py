"""Catalog pages: the service catalog by life event, search (with and without JavaScript), service cards."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from panjereh.agencies import selectors as agency_selectors
from panjereh.catalog import labels, selectors
from panjereh.catalog.constants import Channel, LifeEvent
from panjereh.catalog.search import SearchFilters, holder_of
from panjereh.core.deps import DbSession
from panjereh.core.persian import to_persian_digits
from panjereh.core.schemas import Page
from panjereh.identity.deps import OptionalCitizen
from panjereh.web import delivery as web_delivery
from panjereh.web import feedback as web_feedback

router = APIRouter(include_in_schema=False)
PER_PAGE = 20


def label_context(request: Request) -> dict[str, Any]:
    """Helpers every catalog and agency page uses to name codes in the reader's language."""
    locale = request.app.state.templates.locale_of(request)
    return {
        "label": lambda table, value: labels.label(table, value, locale),
        "actor": lambda value: labels.actor(value, locale),
        "duration": lambda minutes: _digits(labels.duration(minutes, locale), locale),
        "life_events": [event.value for event in LifeEvent],
        "channels": [channel.value for channel in Channel],
    }


def _digits(text: str, locale: str) -> str:
    return to_persian_digits(text) if locale != "en" else text


def _choice(value: str | None, allowed: list[str]) -> str | None:
    # A filter from a hand-edited URL that names nothing is ignored, not an error page.
    return value if value in allowed else None


@router.get("/services", response_class=HTMLResponse)
def catalog_page(
    request: Request,
    db: DbSession,
    q: Annotated[str, Query(max_length=200)] = "",
    agency: Annotated[str, Query(max_length=40)] = "",
    life_event: Annotated[str, Query(max_length=40)] = "",
    channel: Annotated[str, Query(max_length=40)] = "",
    smart: bool = False,
    online: bool = False,
    page: Page = 1,
) -> Response:
    """Browse by life event, or search with filters; htmx asks for the results fragment only."""
    templates = request.app.state.templates
    index = holder_of(request.app.state).get(db)
    agencies = agency_selectors.list_agencies(db)
    filters = SearchFilters(
        agency=_choice(agency, [a.code for a in agencies]),
        life_event=_choice(life_event, [e.value for e in LifeEvent]),
        channel=_choice(channel, [c.value for c in Channel]),
        smart_only=smart,
        online_only=online,
    )
    searching = bool(q.strip()) or filters != SearchFilters()
    result = index.search(q, filters, offset=(page - 1) * PER_PAGE, limit=PER_PAGE)
    pages = max(1, (result.total + PER_PAGE - 1) // PER_PAGE)
    params = {
        key: value
        for key, value in {
            "q": q,
            "agency": filters.agency,
            "life_event": filters.life_event,
            "channel": filters.channel,
            "smart": "true" if smart else None,
            "online": "true" if online else None,
        }.items()
        if value
    }
    context: dict[str, Any] = {
        **label_context(request),
        "q": q,
        "filters": filters,
        "searching": searching,
        "result": result,
        "page": page,
        "pages": pages,
        "params": params,
        "agencies": agencies,
    }
    if not searching:
        counts = selectors.life_event_counts(db)
        context["by_event"] = [
            (
                event.value,
                counts.get(event, 0),
                index.search("", SearchFilters(life_event=event.value), limit=4).hits,
            )
            for event in LifeEvent
            if counts.get(event, 0)
        ]
        context["total"] = len(index)
    if request.headers.get("hx-request") == "true":
        return templates.render(request, "catalog/_results.html", context)
    return templates.render(request, "catalog/home.html", context)


@router.get("/services/{slug}", response_class=HTMLResponse)
def service_page(slug: str, request: Request, db: DbSession, citizen: OptionalCitizen) -> HTMLResponse:
    """A service card: what it is, what it needs, what it costs, how long, how to get it."""
    card = selectors.find_service(db, slug)
    # The slug, not the 11-digit id: the apply and request pages of the same service know only the slug.
    request.state.visit_agency, request.state.visit_service = card.agency.code, card.slug
    # A service the window runs lists what it needs from its published definition, as its apply page does.
    preview = web_delivery.published_preview(db, card.slug) if card.is_executable else None
    asked = [item.data_service for item in preview.evidence if item.data_service] if preview else []
    context = {
        **label_context(request),
        "card": card,
        "versions": selectors.card_versions(db, card.service_id),
        "evidence": web_delivery.evidence_rows(db, preview) if preview else None,
        **web_feedback.feedback_context(request, db, card.slug, citizen, agency_code=card.agency.code),
        **web_feedback.banner_context(request, db, card.agency.code, asked),
    }
    response: HTMLResponse = request.app.state.templates.render(request, "catalog/card.html", context)
    return response
