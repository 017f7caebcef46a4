"""Exchange pages: the data-service directory, grants of an agency (both sides), monitoring, «my data»."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.orm import Session

from panjereh.agencies import selectors as agency_selectors
from panjereh.agencies.exceptions import AgencyNotFound
from panjereh.catalog import selectors as catalog_selectors
from panjereh.catalog.exceptions import ServiceNotFound
from panjereh.core import jalali
from panjereh.core.db import utcnow
from panjereh.core.deps import DbSession
from panjereh.core.errors import ProblemError
from panjereh.core.persian import fold_digits
from panjereh.core.schemas import Hours, Page, within_years
from panjereh.delivery import service as delivery_service
from panjereh.delivery.exceptions import NotAnOfficer
from panjereh.exchange import selectors, service
from panjereh.exchange.exceptions import GrantNotFound, InvalidInquiry
from panjereh.exchange.selectors import LedgerRow
from panjereh.identity.deps import CurrentCitizen
from panjereh.notify import selectors as notify_selectors
from panjereh.notify import service as notify_service
from panjereh.oidc import release as oidc_release
from panjereh.oidc import selectors as oidc_selectors
from panjereh.web.csrf import CsrfProtected

if TYPE_CHECKING:
    from panjereh.agencies.models import Agency
    from panjereh.identity.models import Citizen

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 50


def _render(request: Request, name: str, context: dict[str, Any]) -> HTMLResponse:
    response: HTMLResponse = request.app.state.templates.render(request, name, context)
    return response


@router.get("/exchange/services", response_class=HTMLResponse)
def directory(request: Request, db: DbSession, provider: str | None = None) -> HTMLResponse:
    """Which data, from whom: every data service published on the exchange, with its schemas."""
    services = selectors.list_services(db, provider or None)
    providers = sorted(
        {item.provider.code: item.provider for item in selectors.list_services(db)}.values(),
        key=lambda agency: agency.code,
    )
    return _render(
        request,
        "exchange/services.html",
        {"services": services, "providers": providers, "provider": provider, "as_json": _as_json},
    )


def _as_json(schema: dict[str, Any]) -> str:
    return json.dumps(schema, ensure_ascii=False, indent=2, sort_keys=True)


# --- Grants: the agency's officers request (client side) and decide (provider side) ---------------

GRANT_ACTIONS = ("approve", "refuse", "revoke")
MAX_PURPOSES = 20


def _officers_agency(db: Session, citizen: Citizen, agency_code: str) -> Agency:
    """The agency, when the signed-in citizen is one of its officers; anyone else gets 404 (as the API)."""
    try:
        officer = delivery_service.officer_of(db, citizen.national_code, agency_code)
    except NotAnOfficer:
        officer = None
    if officer is None:
        raise AgencyNotFound(f"No agency {agency_code!r} for this user.", "چنین دستگاهی پیدا نشد.")
    return agency_selectors.get_agency_by_code(db, agency_code)


def _grants_page(
    request: Request,
    db: Session,
    agency: Agency,
    *,
    error: ProblemError | None = None,
    form: dict[str, str] | None = None,
) -> HTMLResponse:
    context: dict[str, Any] = {
        "agency": agency,
        "as_client": selectors.list_grants(db, client_agency_code=agency.code, include_standing=False),
        "as_provider": selectors.list_grants(db, provider_agency_code=agency.code, include_standing=False),
        "services": [item for item in selectors.list_services(db) if item.provider.code != agency.code],
        "form": form or {},
        "error": None,
    }
    if error is not None:
        fa = request.app.state.templates.locale_of(request) == "fa"
        context["error"] = {
            "title": error.title_fa if fa else error.title_en,
            "detail": (error.detail_fa if fa else error.detail_en) or "",
            "code": error.code,
        }
    response: HTMLResponse = request.app.state.templates.render(
        request, "exchange/grants.html", context, status_code=error.status if error else 200
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@router.get("/exchange/grants/{agency_code}", response_class=HTMLResponse)
def agency_grants(request: Request, agency_code: str, db: DbSession, citizen: CurrentCitizen) -> HTMLResponse:
    """An agency's grants from both sides, for its officers: what it may ask, what others may ask it."""
    return _grants_page(request, db, _officers_agency(db, citizen, agency_code))


def _purposes(text: str) -> list[str]:
    return [part.strip() for part in re.split(r"[,،\n]", text) if part.strip()]


def _date_field(value: str, *, end: bool, label_en: str, label_fa: str) -> datetime | None:
    if not value.strip():
        return None
    moment = _day(value, end=end)
    if moment is None:
        raise InvalidInquiry(
            f"The {label_en} date is not understood; write it as 1404-01-15 or 2025-04-04.",
            f"تاریخ {label_fa} خوانا نیست؛ آن را مانند ۱۴۰۴-۰۱-۱۵ بنویسید.",
        )
    return moment


@router.post("/exchange/grants/{agency_code}/request", response_model=None)
def request_grant_form(
    request: Request,
    agency_code: str,
    db: DbSession,
    citizen: CurrentCitizen,
    _: CsrfProtected,
    service_code: Annotated[str, Form(max_length=80)] = "",
    purposes: Annotated[str, Form(max_length=2000)] = "",
    legal_basis: Annotated[str, Form(max_length=2000)] = "",
    valid_from: Annotated[str, Form(max_length=20)] = "",
    valid_until: Annotated[str, Form(max_length=20)] = "",
    note: Annotated[str, Form(max_length=2000)] = "",
    environment: Annotated[str, Form(max_length=20)] = "production",
) -> HTMLResponse | RedirectResponse:
    """The client agency's officer asks a provider for access to one of its data services, for its
    production clients or for its sandbox clients (`environment`)."""
    agency = _officers_agency(db, citizen, agency_code)
    form = {
        "service_code": service_code,
        "purposes": purposes,
        "legal_basis": legal_basis,
        "valid_from": valid_from,
        "valid_until": valid_until,
        "note": note,
        "environment": environment,
    }
    try:
        named = _purposes(purposes)
        if len(named) > MAX_PURPOSES:
            raise InvalidInquiry(
                f"Name at most {MAX_PURPOSES} purposes.", f"حداکثر {MAX_PURPOSES} هدف را نام ببرید."
            )
        service.request_grant(
            db,
            client_agency=agency,
            service=selectors.get_service_by_code(db, service_code.strip()),
            purposes=named,
            legal_basis=legal_basis,
            valid_from=_date_field(valid_from, end=False, label_en="start", label_fa="آغاز"),
            valid_until=_date_field(valid_until, end=True, label_en="end", label_fa="پایان"),
            note=note.strip(),
            requested_by=citizen.national_code,
            sandbox=environment == "sandbox",  # anything else is production's, as the form's default
        )
    except ProblemError as error:
        db.rollback()
        return _grants_page(request, db, agency, error=error, form=form)
    return RedirectResponse(f"/exchange/grants/{agency.code}#as-client", status_code=303)


@router.post("/exchange/grants/{agency_code}/{grant_id}/{action}", response_model=None)
def decide_grant_form(
    request: Request,
    agency_code: str,
    grant_id: str,
    action: str,
    db: DbSession,
    citizen: CurrentCitizen,
    _: CsrfProtected,
    note: Annotated[str, Form(max_length=2000)] = "",
) -> HTMLResponse | RedirectResponse:
    """The provider agency's officer approves, refuses (with a reason) or revokes a grant."""
    agency = _officers_agency(db, citizen, agency_code)
    if action not in GRANT_ACTIONS:
        raise GrantNotFound(f"No action {action!r}.", "چنین کاری نیست.")
    grant = selectors.get_grant(db, grant_id)
    if agency.code not in (grant.client_agency_code, grant.service.provider.code):
        raise GrantNotFound(f"No grant {grant_id!r}.", "چنین مجوزی پیدا نشد.")  # others' grants stay hidden
    try:
        if action == "approve":
            service.approve_grant(
                db, grant, provider_agency_code=agency.code, note=note.strip(), by=citizen.national_code
            )
        elif action == "refuse":
            service.refuse_grant(db, grant, provider_agency_code=agency.code, note=note.strip())
        else:
            service.revoke_grant(db, grant, provider_agency_code=agency.code, note=note.strip())
    except ProblemError as error:
        db.rollback()
        return _grants_page(request, db, agency, error=error)
    return RedirectResponse(f"/exchange/grants/{agency.code}#grant-{grant.id}", status_code=303)


@router.get("/exchange/monitoring", response_class=HTMLResponse)
def monitoring_page(request: Request, db: DbSession, by: str = "provider", hours: Hours = 24) -> HTMLResponse:
    """Counts, latency, errors and availability per provider, service or client."""
    by = by if by in selectors.GROUPS else "provider"
    until = utcnow() + timedelta(hours=1)
    rows = selectors.monitoring(db, by, until - timedelta(hours=hours + 1), until)
    return _render(request, "exchange/monitoring.html", {"rows": rows, "by": by, "hours": hours})


def _day(value: str | None, end: bool = False) -> datetime | None:
    """A Jalali (1403-01-15) or Gregorian (2024-04-03) date from a filter, as a Tehran day boundary."""
    if not value:
        return None
    try:
        year, month, day = (int(part) for part in fold_digits(value).strip().replace("/", "-").split("-"))
        gregorian = jalali.from_jalali(year, month, day) if year < 1700 else datetime(year, month, day).date()
    except (ValueError, TypeError, OverflowError):
        return None
    if not within_years(gregorian):  # 9999-12-31 and its next day would overflow
        return None
    moment = datetime.combine(gregorian + timedelta(days=1 if end else 0), time(), tzinfo=jalali.TEHRAN)
    return moment


# The platform's own purposes, in words a citizen reads (Persian, English); agencies' purposes are shown
# as they sent them.
PLATFORM_PURPOSES = {
    "identity.registration": (
        "بررسی هویت شما هنگام ثبت‌نام یا ورود به پنجره",
        "Checking who you are when you register or sign in to the window",
    ),
    "portal:my-data": (
        "نمایش داده‌های شما به خودتان در «داده‌های من»",
        "Showing you your own data on “My data”",
    ),
    "portal:wallet": (
        "دریافت رونوشت مدارک شما برای «کیف مدارک»، به درخواست خودتان",
        "Fetching a copy of your documents for your “Document wallet”, at your request",
    ),
    "delivery:proactive": (
        "خواندن رویدادهای ثبت احوال برای خدمات بی‌درخواست",
        "Reading the civil registry's events for services that start without an application",
    ),
}
SERVICE_PURPOSE_PREFIX = "delivery:"


def _purpose_label(db: Session, purpose: str, locale: str = "fa") -> str:
    """Why the data was read, in the page's language: the service the citizen applied for, or the
    platform's reason."""
    fa = locale == "fa"
    if purpose in PLATFORM_PURPOSES:
        return PLATFORM_PURPOSES[purpose][0 if fa else 1]
    released_to = oidc_release.client_of_purpose(purpose)
    if released_to is not None:
        names = oidc_selectors.client_names(db, [released_to]).get(released_to, (released_to, released_to))
        return (
            f"فرستادن به «{names[0]}» با اجازهٔ شما (ورود با پنجره)"
            if fa
            else f"Sent to “{names[1]}” with your consent (sign-in with the window)"
        )
    if purpose.startswith(SERVICE_PURPOSE_PREFIX):
        try:
            card = catalog_selectors.get_service_by_slug(db, purpose.removeprefix(SERVICE_PURPOSE_PREFIX))
        except ServiceNotFound:
            return purpose
        return f"درخواست شما برای «{card.title_fa}»" if fa else f"Your application for “{card.title_en}”"
    return purpose


@dataclass(frozen=True)
class NamedLook:
    """A ledger row as the citizen reads it: who asked (the agency whose service it was, not the window
    that carried the inquiry) and which registry answered."""

    row: LedgerRow
    asker_fa: str
    asker_en: str
    answerer_fa: str
    answerer_en: str


def ledger_rows_named(db: Session, rows: list[LedgerRow]) -> list[NamedLook]:
    """Name each row's asker and answerer: an inquiry the window made for a service is the service's
    agency asking; the window's own inquiries (sign-in, «my data») stay the window's."""
    for_services = {
        row.message_id: row.purpose.removeprefix(SERVICE_PURPOSE_PREFIX)
        for row in rows
        if row.client_agency_code == service.PLATFORM_AGENCY
        and row.purpose.startswith(SERVICE_PURPOSE_PREFIX)
        and row.purpose not in PLATFORM_PURPOSES
    }
    cards = catalog_selectors.cards_by_slug(db, list(for_services.values()))
    providers = agency_selectors.agencies_by_code(db, {row.provider_agency_code for row in rows})
    # A release of verified attributes to an app signed in with the window: that app's organisation asked.
    released = {
        row.message_id: client_id
        for row in rows
        if row.client_agency_code == service.PLATFORM_AGENCY
        and (client_id := oidc_release.client_of_purpose(row.purpose)) is not None
    }
    apps = oidc_selectors.client_names(db, set(released.values()))
    named = []
    for row in rows:
        card = cards.get(for_services.get(row.message_id, ""))
        provider = providers.get(row.provider_agency_code)
        asker = card.agency if card is not None else None
        app = apps.get(released.get(row.message_id, ""))
        asker_fa = asker.name_fa if asker else app[0] if app else row.client_agency_fa
        asker_en = asker.name_en if asker else app[1] if app else row.client_agency_en
        named.append(
            NamedLook(
                row=row,
                asker_fa=asker_fa,
                asker_en=asker_en,
                answerer_fa=provider.name_fa if provider else row.provider_agency_code,
                answerer_en=provider.name_en if provider else row.provider_agency_code,
            )
        )
    return named


@router.post("/account/data-access/notices")
def set_data_access_notices(
    citizen: CurrentCitizen, db: DbSession, _: CsrfProtected, enabled: Annotated[str, Form()] = "0"
) -> RedirectResponse:
    """Turn on or off the inbox message sent when an agency looks at the citizen's data."""
    notify_service.set_data_access_notices(db, citizen.national_code, enabled == "1")
    return RedirectResponse("/account/data-access", status_code=303)


@router.get("/account/data-access", response_class=HTMLResponse)
def my_data(
    request: Request,
    citizen: CurrentCitizen,
    db: DbSession,
    agency: str | None = None,
    service: str | None = None,
    since: str | None = Query(None, alias="from"),
    until: str | None = Query(None, alias="to"),
    page: Page = 1,
) -> HTMLResponse:
    """The data-access ledger: every time an agency, or the window itself, looked at this citizen's data."""
    locale = request.app.state.templates.locale_of(request)
    rows = selectors.ledger_for_subject(
        db,
        citizen.national_code,
        agency=agency or None,
        service=service or None,
        since=_day(since),
        until=_day(until, end=True),
        limit=PAGE_SIZE + 1,
        offset=(page - 1) * PAGE_SIZE,
    )
    response = _render(
        request,
        "exchange/data_access.html",
        {
            "rows": ledger_rows_named(db, rows[:PAGE_SIZE]),
            "has_more": len(rows) > PAGE_SIZE,
            "page": page,
            "total": selectors.ledger_count(db, citizen.national_code),
            "filters": {
                "agency": agency or "",
                "service": service or "",
                "from": since or "",
                "to": until or "",
            },
            "agencies": agency_selectors.list_agencies(db),
            "services": selectors.list_services(db),
            "purpose_label": lambda purpose: _purpose_label(db, purpose, locale),
            "notices_on": notify_selectors.wants_data_access_notices(db, citizen.national_code),
        },
    )
    response.headers["Cache-Control"] = "no-store"
    return response
