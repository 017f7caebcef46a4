"""The catalog API: search the national service inventory and read service cards."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from panjereh.catalog import selectors
from panjereh.catalog.constants import Channel, LifeEvent
from panjereh.catalog.models import ServiceCard
from panjereh.catalog.schemas import AgencyRef, CardVersionOut, ServiceCardOut, ServicePage, ServiceSummaryOut
from panjereh.catalog.search import CatalogIndex, SearchFilters, ServiceSummary, holder_of
from panjereh.core.deps import DbSession
from panjereh.core.schemas import Page, shape_of

router = APIRouter(prefix="/services", tags=["catalog"])
MAX_PER_PAGE = 100


def current_index(request: Request, db: DbSession) -> CatalogIndex:
    """The search index, fresh for this request."""
    return holder_of(request.app.state).get(db)


CurrentIndex = Annotated[CatalogIndex, Depends(current_index)]


def summary_out(hit: ServiceSummary) -> ServiceSummaryOut:
    """A search hit as the API shows it."""
    return shape_of(
        ServiceSummaryOut,
        hit,
        agency=AgencyRef(code=hit.agency_code, name_fa=hit.agency_name_fa, name_en=hit.agency_name_en),
        url=f"/services/{hit.slug}",
    )


def card_out(card: ServiceCard) -> ServiceCardOut:
    """A whole card as the API shows it."""
    return shape_of(
        ServiceCardOut,
        card,
        agency=AgencyRef(code=card.agency.code, name_fa=card.agency.name_fa, name_en=card.agency.name_en),
        online=card.is_online,
        smart=card.is_smart,
        executable=card.is_executable,
        url=f"/services/{card.slug}",
    )


@router.get("", response_model=ServicePage, summary="Search the national service inventory")
def list_services(
    index: CurrentIndex,
    q: Annotated[str, Query(max_length=200, description="Persian or English; folded, prefix, one typo")] = "",
    agency: Annotated[
        str | None, Query(max_length=40, description="agency code (takes its subsidiaries)")
    ] = None,
    life_event: LifeEvent | None = None,
    channel: Channel | None = None,
    smart: Annotated[bool, Query(description="only smart services (maturity 5)")] = False,
    online: Annotated[bool, Query(description="only online services (maturity ≥ 3)")] = False,
    page: Page = 1,
    per_page: Annotated[int, Query(ge=1, le=MAX_PER_PAGE)] = 20,
) -> ServicePage:
    """Services matching the query and filters, best first, one page at a time."""
    filters = SearchFilters(
        agency=agency or None,
        life_event=life_event.value if life_event else None,
        channel=channel.value if channel else None,
        smart_only=smart,
        online_only=online,
    )
    result = index.search(q, filters, offset=(page - 1) * per_page, limit=per_page)
    return ServicePage(
        total=result.total,
        page=page,
        per_page=per_page,
        pages=(result.total + per_page - 1) // per_page,
        items=[summary_out(hit) for hit in result.hits],
    )


@router.get("/{service_id}", response_model=ServiceCardOut, summary="One service card")
def get_service(service_id: str, db: DbSession) -> ServiceCardOut:
    """The card by its 11-digit id (or its slug)."""
    return card_out(selectors.find_service(db, service_id))


@router.get("/{service_id}/versions", response_model=list[CardVersionOut], summary="Every change of a card")
def service_versions(service_id: str, db: DbSession) -> list[CardVersionOut]:
    """Who changed the card and when, newest first."""
    card = selectors.find_service(db, service_id)
    return [
        CardVersionOut(version=v.version, changed_at=v.changed_at, changed_by=v.changed_by, note=v.note)
        for v in selectors.card_versions(db, card.service_id)
    ]
