"""Measured shares: the catalog inventory and the connection status, stored as dated rows of the month."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from panjereh.agencies.constants import ConnectionStatus
from panjereh.agencies.selectors import get_agency_by_code
from panjereh.agencies.service import set_connection_status
from panjereh.analytics import selectors
from panjereh.analytics.models import AgencyDecisionTime, AgencyShare
from panjereh.analytics.sources import month_start, refresh_measured_shares
from panjereh.catalog.selectors import agency_inventory_stats
from panjereh.core.jalali import from_jalali
from tests.analytics.conftest import MEASURED_ON, add_request


@pytest.mark.demo_catalog
def test_inventory_shares_become_dated_rows(agencies: Session) -> None:
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
        assert by_key[(code, "smart")].share == s.smart / s.total
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


def _shares(db: Session, metric: str, source: str) -> dict[str, AgencyShare]:
    rows = db.scalars(select(AgencyShare).where(AgencyShare.metric == metric, AgencyShare.source == source))
    return {row.agency_code: row for row in rows}


def test_inquiry_share_counts_evidence_not_gateway_calls(measured: Session) -> None:
    shares = _shares(measured, "inquiries_online", "delivery-definitions")
    # Excavation permit: two inquiries, a site plan to upload, a site visit (the officer's decision is no
    # evidence): 2 of 4 pieces of evidence by inquiry, whatever the gateway's 50 calls (all online) say.
    heritage = shares["heritage"]
    assert (heritage.share, heritage.base) == (0.5, 4)
    assert heritage.period == from_jalali(1402, 9, 1)
    assert heritage.note == "50 inquiries through the gateway this month"
    assert (shares["industry"].share, shares["industry"].base) == (0.75, 4)  # business licence: one upload
    assert shares["tax"].share == 1.0 and shares["police"].base == 2  # two smart definitions
    assert "exchange-inquiries" not in {r.source for r in measured.scalars(select(AgencyShare))}
    # The 1402 duty "all inquiries online" now tells Cultural Heritage's 50% from Tax's 100%.
    report = selectors.mandate_report(measured, 1402, today=date(2026, 11, 28))
    results = {row.agency_code: row.results["inquiries_online"] for row in report.rows}
    assert results["heritage"].status == "not_met" and results["heritage"].value == 0.5
    assert results["tax"].status == "met"


def test_time_to_decision_is_measured_per_agency_in_seconds(measured: Session) -> None:
    times = {row.agency_code: row for row in measured.scalars(select(AgencyDecisionTime))}
    assert (times["heritage"].median_seconds, times["heritage"].decided) == (3_600.0, 3)  # the median hour
    assert (times["tax"].median_seconds, times["tax"].decided) == (3.0, 2)
    assert (
        times["heritage"].period == from_jalali(1402, 9, 1)
        and times["heritage"].source == "delivery-requests"
    )
    assert _shares(measured, "human_touched", "delivery-requests")["heritage"].share == 1.0
    assert _shares(measured, "smart_measured", "delivery-requests")["tax"].share == 1.0
    # The next hourly run corrects the month's figure in place.
    add_request(measured, "tax-clearance", after_seconds=10, automatic=True)
    refresh_measured_shares(measured, MEASURED_ON)
    rows = measured.scalars(select(AgencyDecisionTime).where(AgencyDecisionTime.agency_code == "tax")).all()
    assert [(row.median_seconds, row.decided) for row in rows] == [(4.0, 3)]
