"""Feedback pages: rating a service and reporting a problem (from its card or a decided request), the
citizen's reports with the agencies' replies, the status banner, the platform's status page and the
accessibility statement."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.orm import Session

from panjereh.catalog import labels
from panjereh.catalog import selectors as catalog_selectors
from panjereh.core.deps import DbSession
from panjereh.feedback import selectors, service, status
from panjereh.feedback.constants import (
    CATEGORY_LABELS,
    COMMENT_MAX,
    MAX_STARS,
    MIN_STARS,
    PLATFORM_SLUG,
    REPORT_MAX,
    STATE_LABELS,
    ProblemCategory,
)
from panjereh.feedback.deps import throttle
from panjereh.feedback.exceptions import InvalidFeedback
from panjereh.identity.deps import CurrentCitizen
from panjereh.web.csrf import CsrfProtected

if TYPE_CHECKING:
    from panjereh.identity.models import Citizen

router = APIRouter(include_in_schema=False)
STATEMENT_REVIEWED = date(2026, 12, 6)  # the accessibility statement's last review (change with its text)

FormText = Annotated[str | None, Form()]


def breaker_state(request: Request) -> status.BreakerState:
    """This process's exchange circuit breakers, by provider system code."""
    return request.app.state.exchange.exchange.breaker.state


def banner_context(
    request: Request, db: Session, agency_code: str, data_services: list[str]
) -> dict[str, Any]:
    """`outages`: the systems a service depends on that are not answering (the status banner)."""
    return {"outages": status.service_outages(db, agency_code, data_services, breaker_state(request))}


def feedback_context(
    request: Request,
    db: Session,
    slug: str,
    citizen: Citizen | None,
    *,
    agency_code: str | None = None,
    tracking_code: str | None = None,
) -> dict[str, Any]:
    """What the rating and problem forms of a card or a decided request need."""
    minimum = request.app.state.settings.feedback_min_ratings
    platform = slug == PLATFORM_SLUG
    return {
        "feedback": {
            "slug": slug,
            "platform": platform,
            "tracking_code": tracking_code,
            "mine": selectors.rating_of(db, citizen.national_code, slug)
            if citizen and not platform
            else None,
            "average": None if platform else selectors.service_average(db, slug, minimum, agency_code),
            "stars": list(range(MIN_STARS, MAX_STARS + 1)),
            "categories": [(category.value, CATEGORY_LABELS[category]) for category in ProblemCategory],
            "comment_max": COMMENT_MAX,
            "report_max": REPORT_MAX,
            "signed_in": citizen is not None,
        }
    }


def _back(slug: str, tracking_code: str | None, done: str) -> str:
    if slug == PLATFORM_SLUG:
        return f"/feedback?feedback={done}#feedback"
    if tracking_code:
        return f"/account/requests/{tracking_code}?feedback={done}#feedback"
    return f"/services/{slug}?feedback={done}#feedback"


def _form_page(
    request: Request,
    db: Session,
    slug: str,
    citizen: Citizen,
    *,
    tracking_code: str | None = None,
    error: InvalidFeedback | None = None,
    values: dict[str, Any] | None = None,
) -> HTMLResponse:
    """The rating and report forms on a page of their own: reached from the accessibility statement, and
    shown again with a refused form's problem and what the citizen typed (nothing typed is lost)."""
    card = catalog_selectors.find_service(db, slug) if slug != PLATFORM_SLUG else None
    fa = request.app.state.templates.locale_of(request) == "fa"
    context = {
        **feedback_context(
            request, db, card.slug if card else PLATFORM_SLUG, citizen, tracking_code=tracking_code
        ),
        "card": card,
        "values": values or {},
        "error": None
        if error is None
        else {
            "title": error.title_fa if fa else error.title_en,
            "detail": (error.detail_fa if fa else error.detail_en) or "",
        },
    }
    response: HTMLResponse = request.app.state.templates.render(
        request, "feedback/form.html", context, status_code=error.status if error else 200
    )
    return response


@router.get("/services/{slug}/feedback", response_class=HTMLResponse)
def feedback_page(
    slug: str, request: Request, db: DbSession, citizen: CurrentCitizen, category: str = ""
) -> HTMLResponse:
    """Rate a service or report a problem with it (a category may be chosen in advance)."""
    chosen = category if category in {c.value for c in ProblemCategory} else ""
    return _form_page(request, db, slug, citizen, values={"category": chosen})


@router.get("/feedback", response_class=HTMLResponse)
def platform_feedback_page(
    request: Request, db: DbSession, citizen: CurrentCitizen, category: str = ""
) -> HTMLResponse:
    """Report a problem with the window itself (a page that is no service's, an accessibility barrier)."""
    chosen = category if category in {c.value for c in ProblemCategory} else ""
    return _form_page(request, db, PLATFORM_SLUG, citizen, values={"category": chosen})


@router.post("/feedback/problems", response_model=None)
def report_platform(
    request: Request,
    db: DbSession,
    citizen: CurrentCitizen,
    _: CsrfProtected,
    category: FormText = None,
    text: FormText = None,
    anonymous: FormText = None,
) -> RedirectResponse | HTMLResponse:
    """Report a problem with the window itself, to the platform's operating agency."""
    return report(PLATFORM_SLUG, request, db, citizen, None, category, text, anonymous, None)


@router.post("/services/{slug}/rating", response_model=None)
def rate(
    slug: str,
    request: Request,
    db: DbSession,
    citizen: CurrentCitizen,
    _: CsrfProtected,
    stars: FormText = None,
    comment: FormText = None,
    tracking_code: FormText = None,
) -> RedirectResponse | HTMLResponse:
    """Rate the service (once per citizen; rating again changes it)."""
    code = (tracking_code or "").strip()[:20] or None
    values = {"stars": stars, "comment": comment}
    try:
        throttle(request, "rating", citizen.national_code)
        rating = service.rate(
            db,
            national_code=citizen.national_code,
            slug=slug,
            stars=stars,
            comment=comment,
            tracking_code=code,
        )
    except InvalidFeedback as error:
        return _form_page(request, db, slug, citizen, tracking_code=code, error=error, values=values)
    return RedirectResponse(_back(rating.service_slug, code, "rated"), status_code=303)


@router.post("/services/{slug}/problems", response_model=None)
def report(
    slug: str,
    request: Request,
    db: DbSession,
    citizen: CurrentCitizen,
    _: CsrfProtected,
    category: FormText = None,
    text: FormText = None,
    anonymous: FormText = None,
    tracking_code: FormText = None,
) -> RedirectResponse | HTMLResponse:
    """Report a problem with the service; the agency sees it in its workspace and may reply."""
    code = (tracking_code or "").strip()[:20] or None
    values = {"category": category, "text": text, "anonymous": bool(anonymous)}
    try:
        throttle(request, "report", citizen.national_code)
        row = service.report_problem(
            db,
            national_code=citizen.national_code,
            slug=slug,
            category=category,
            text=text,
            anonymous=bool(anonymous),
            tracking_code=code,
        )
    except InvalidFeedback as error:
        return _form_page(request, db, slug, citizen, tracking_code=code, error=error, values=values)
    return RedirectResponse(_back(row.service_slug, code, "reported"), status_code=303)


@router.get("/account/feedback", response_class=HTMLResponse)
def my_feedback(request: Request, db: DbSession, citizen: CurrentCitizen) -> HTMLResponse:
    """The citizen's problem reports, each with its state and the agency's reply."""
    reports = selectors.reports_of_citizen(db, citizen.national_code)
    cards = catalog_selectors.cards_by_slug(db, [r.service_slug for r in reports])
    response: HTMLResponse = request.app.state.templates.render(
        request,
        "feedback/mine.html",
        {
            "reports": reports,
            "cards": cards,
            "category_labels": CATEGORY_LABELS,
            "state_labels": STATE_LABELS,
        },
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@router.get("/status", response_class=HTMLResponse)
def status_page(request: Request, db: DbSession) -> HTMLResponse:
    """The platform's status: each agency's systems, answering or not, and how the platform knows."""
    agencies = status.platform_status(db, breaker_state(request))
    response: HTMLResponse = request.app.state.templates.render(
        request, "feedback/status.html", {"agencies": agencies, "label": _labeller(request)}
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def _labeller(request: Request) -> Any:
    locale = request.app.state.templates.locale_of(request)
    return lambda table, value: labels.label(table, value, locale)


@router.get("/accessibility", response_class=HTMLResponse)
def accessibility(request: Request) -> HTMLResponse:
    """The accessibility statement («بیانیهٔ دسترس‌پذیری»)."""
    response: HTMLResponse = request.app.state.templates.render(
        request, "feedback/accessibility.html", {"reviewed": STATEMENT_REVIEWED}
    )
    return response


def mount(app: FastAPI) -> None:
    app.include_router(router)
