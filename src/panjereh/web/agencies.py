"""Agency pages: the hierarchy of government bodies, and each agency's services and figures."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from panjereh.agencies import selectors as agency_selectors
from panjereh.catalog import selectors as catalog_selectors
from panjereh.core.deps import DbSession
from panjereh.web.catalog import label_context

if TYPE_CHECKING:
    from panjereh.agencies.models import Agency

router = APIRouter(include_in_schema=False)


@router.get("/agencies", response_class=HTMLResponse)
def agencies_page(request: Request, db: DbSession) -> HTMLResponse:
    """Every agency as a tree (ministry → organizations → subsidiaries), with its connection status."""
    agencies = agency_selectors.list_agencies(db)
    stats = {row.agency_code: row for row in catalog_selectors.agency_inventory_stats(db)}
    roots = [agency for agency in agencies if agency.parent_id is None]
    context = {**label_context(request), "roots": roots, "stats": stats, "count": len(agencies)}
    response: HTMLResponse = request.app.state.templates.render(request, "agencies/list.html", context)
    return response


@router.get("/agencies/{code}", response_class=HTMLResponse)
def agency_page(code: str, request: Request, db: DbSession) -> HTMLResponse:
    """One agency: where it sits, its subsidiaries, its figures and its services."""
    agency = agency_selectors.get_agency_by_code(db, code)
    request.state.visit_agency = agency.code
    ancestors: list[Agency] = []
    node = agency.parent
    while node is not None:
        ancestors.insert(0, node)
        node = node.parent
    stats = {row.agency_code: row for row in catalog_selectors.agency_inventory_stats(db)}
    context = {
        **label_context(request),
        "agency": agency,
        "ancestors": ancestors,
        "stats": stats.get(agency.code),
        "all_stats": stats,
        "services": catalog_selectors.services_of_agency(db, agency.id),
    }
    response: HTMLResponse = request.app.state.templates.render(request, "agencies/detail.html", context)
    return response
