"""Exchange pages: the data-service directory, grants of an agency (both sides), monitoring, «my data»."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.orm import Session

from panjereh.agencies import selectors as agency_selectors
from panjereh.catalog import selectors as catalog_selectors
from panjereh.catalog.exceptions import ServiceNotFound
from panjereh.core import jalali
from panjereh.core.db import utcnow
from panjereh.core.deps import DbSession
from panjereh.core.identifiers import fold_digits
from panjereh.exchange import selectors
from panjereh.exchange.models import GrantStatus
from panjereh.exchange.schemas import LedgerOut
from panjereh.identity.deps import CurrentCitizen
from panjereh.notify import selectors as notify_selectors
from panjereh.notify import service as notify_service
from panjereh.web.csrf import CsrfProtected

router = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/exchange", tags=["exchange"])

PAGE_SIZE = 50


def _render(request: Request, name: str, context: dict[str, Any]) -> HTMLResponse:
    response: HTMLResponse = request.app.state.templates.render(request, name, context)
    return response


@router.get("/exchange/services", response_class=HTMLResponse)
def directory(request: Request, db: DbSession, provider: str | None = None) -> HTMLResponse:
    """Which data, from whom: every data service published on the exchange."""
    services = selectors.list_services(db, provider or None)
    providers = sorted(
        {item.provider.code: item.provider for item in selectors.list_services(db)}.values(),
        key=lambda agency: agency.code,
    )
    return _render(
        request,
        "exchange/services.html",
        {"services": services, "providers": providers, "provider": provider},
    )


@router.get("/exchange/grants/{agency_code}", response_class=HTMLResponse)
def agency_grants(request: Request, agency_code: str, db: DbSession) -> HTMLResponse:
    """An agency's grants from both sides: what it may ask others, and what others may ask it."""
    agency = agency_selectors.get_agency_by_code(db, agency_code)
    return _render(
        request,
        "exchange/grants.html",
        {
            "agency": agency,
            "as_client": selectors.list_grants(db, client_agency_code=agency.code, include_standing=False),
            "as_provider": selectors.list_grants(
                db, provider_agency_code=agency.code, include_standing=False
            ),
            "pending": GrantStatus.REQUESTED,
        },
    )


@router.get("/exchange/monitoring", response_class=HTMLResponse)
def monitoring_page(request: Request, db: DbSession, by: str = "provider", hours: int = 24) -> HTMLResponse:
    """Counts, latency, errors and availability per provider, service or client."""
    by = by if by in selectors.GROUPS else "provider"
    hours = min(max(hours, 1), 24 * 366)
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
    except (ValueError, TypeError):
        return None
    moment = datetime.combine(gregorian + timedelta(days=1 if end else 0), time(), tzinfo=jalali.TEHRAN)
    return moment


# The platform's own purposes, in words a citizen reads; agencies' purposes are shown as they sent them.
PLATFORM_PURPOSES = {
    "identity.registration": "بررسی هویت شما هنگام ثبت‌نام یا ورود به پنجره",
}
SERVICE_PURPOSE_PREFIX = "delivery:"


def _purpose_label(db: Session, purpose: str) -> str:
    """Why the data was read, in Persian: the service the citizen applied for, or the platform's reason."""
    if purpose in PLATFORM_PURPOSES:
        return PLATFORM_PURPOSES[purpose]
    if purpose.startswith(SERVICE_PURPOSE_PREFIX):
        try:
            card = catalog_selectors.get_service_by_slug(db, purpose.removeprefix(SERVICE_PURPOSE_PREFIX))
        except ServiceNotFound:
            return purpose
        return f"درخواست شما برای «{card.title_fa}»"
    return purpose


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
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> HTMLResponse:
    """«My data»: every time an agency, or the window itself, looked at this citizen's data."""
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
            "rows": rows[:PAGE_SIZE],
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
            "purpose_label": lambda purpose: _purpose_label(db, purpose),
            "notices_on": notify_selectors.wants_data_access_notices(db, citizen.national_code),
        },
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@api.get("/my-data", response_model=list[LedgerOut], summary="The signed-in citizen's data-access ledger")
def my_data_api(
    citizen: CurrentCitizen,
    db: DbSession,
    agency: str | None = None,
    service: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[LedgerOut]:
    rows = selectors.ledger_for_subject(
        db,
        citizen.national_code,
        agency=agency,
        service=service,
        since=since,
        until=until,
        limit=limit,
        offset=offset,
    )
    return [LedgerOut.model_validate(row) for row in rows]
