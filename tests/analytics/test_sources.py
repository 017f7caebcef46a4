"""Measured shares: the catalog inventory and the connection status, stored as dated rows of the month."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from panjereh.agencies.models import ConnectionStatus
from panjereh.agencies.selectors import get_agency_by_code
from panjereh.agencies.service import set_connection_status
from panjereh.analytics import selectors
from panjereh.analytics.models import AgencyShare
from panjereh.analytics.sources import month_start, refresh_measured_shares
from panjereh.catalog.seed import seed_catalog
from panjereh.catalog.selectors import agency_inventory_stats
from panjereh.core.config import Settings
from panjereh.core.jalali import from_jalali


def test_inventory_shares_become_dated_rows(agencies: Session, settings: Settings) -> None:
    seed_catalog(agencies, settings, lambda _n: None)
    today = date(2023, 12, 5)  # 14 Azar 1402
    result = refresh_measured_shares(agencies, today)
    assert result.period == from_jalali(1402, 9, 1) == month_start(today)
    stats = {s.agency_code: s for s in agency_inventory_stats(agencies)}
    rows = agencies.scalars(
        select(AgencyShare).where(
            AgencyShare.source == "catalog-inventory", AgencyShare.period == result.period
        )
    ).all()
    by_key = {(r.agency_code, r.metric): r for r in rows}
    for code, s in stats.items():
        assert by_key[(code, "through_window")].share == s.through_window / s.total
        assert by_key[(code, "through_window")].base == s.total
        assert by_key[(code, "smart")].share == s.derived_smart / s.total
    welfare = agencies.scalars(
        select(AgencyShare).where(AgencyShare.agency_code == "welfare", AgencyShare.metric == "connected")
    ).one()
    assert welfare.share == 0.0 and welfare.note == "disconnected"
    # Twice in the same month: replaced, not duplicated.
    refresh_measured_shares(agencies, today)
    assert len(
        agencies.scalars(select(AgencyShare).where(AgencyShare.source == "catalog-inventory")).all()
    ) == len(rows)


def test_running_year_uses_the_current_connection(agencies: Session) -> None:
    set_connection_status(agencies, get_agency_by_code(agencies, "justice"), ConnectionStatus.STANDARD_LOST)
    figures = selectors.year_figures(agencies, 1402, today=date(2023, 12, 5))
    assert figures[("justice", "connected")].value == 0.0
    assert figures[("energy", "connected")].value == 1.0
    # A past year is never judged on today's status.
    assert ("justice", "connected") not in selectors.year_figures(agencies, 1401, today=date(2023, 12, 5))
