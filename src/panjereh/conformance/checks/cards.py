"""Services carded: the agency's services are in the national inventory (service cards)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from panjereh.catalog import selectors as catalog_selectors
from panjereh.conformance.checks.base import AgencyCheck, Outcome, passed, warned
from panjereh.conformance.checks.suite import register
from panjereh.core.config import Settings

if TYPE_CHECKING:
    from panjereh.agencies.models import Agency


@register
class ServicesCarded(AgencyCheck):
    """The agency has service cards; a data provider with no citizen-facing service is flagged, not failed."""

    id = "services-carded"
    name_en = "Services carded"
    name_fa = "ثبت شناسنامهٔ خدمات"
    order = 80

    def run(self, session: Session, agency: Agency, settings: Settings) -> Outcome:
        cards = catalog_selectors.services_of_agency(session, agency.id)
        if not cards:
            return warned(
                "No service card in the national inventory: the agency's services are not carded "
                "(a pure data provider may have none).",
                "هیچ شناسنامهٔ خدمتی از این دستگاه در فهرست ملی ثبت نشده است.",
                cards=0,
            )
        return passed(
            f"{len(cards)} service card(s) in the national inventory.",
            f"{len(cards)} شناسنامهٔ خدمت در فهرست ملی ثبت شده است.",
            cards=len(cards),
        )
