"""Measured figures from the other domains, stored as dated share rows for the current Jalali month.

Each figure comes from its domain's selectors: the catalog (inventory), the exchange (inquiries) and
delivery (requests); the agencies' connection status decides "connected".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy.orm import Session

from panjereh.agencies import selectors as agency_selectors
from panjereh.agencies.models import ConnectionStatus
from panjereh.analytics.shares import record_share
from panjereh.catalog import selectors as catalog_selectors
from panjereh.core.jalali import from_jalali, jalali_month_bounds, to_jalali
from panjereh.delivery import selectors as delivery_selectors
from panjereh.exchange import selectors as exchange_selectors


@dataclass
class RefreshResult:
    period: date
    rows: int = 0


def month_start(today: date) -> date:
    j = to_jalali(today)
    return from_jalali(int(j.year), int(j.month), 1)


def refresh_measured_shares(session: Session, today: date | None = None) -> RefreshResult:
    """Measure every agency now and store the figures for this Jalali month (idempotent per month)."""
    today = today or datetime.now(UTC).date()
    period = month_start(today)
    result = RefreshResult(period)
    for agency in agency_selectors.list_agencies(session):
        connected = agency.connection_status == ConnectionStatus.CONNECTED
        record_share(
            session,
            agency_code=agency.code,
            metric="connected",
            period=period,
            share=1.0 if connected else 0.0,
            source="agencies-status",
            note=agency.connection_status.value,
        )
        result.rows += 1

    for stats in catalog_selectors.agency_inventory_stats(session):
        total = int(stats.total)
        for metric, part in (
            ("through_window", stats.through_window),
            ("online", stats.online),
            ("smart", stats.derived_smart),
        ):
            record_share(
                session,
                agency_code=stats.agency_code,
                metric=metric,
                period=period,
                share=(int(part) / total) if total else 0.0,
                base=total,
                source="catalog-inventory",
            )
            result.rows += 1

    since, until = jalali_month_bounds(int(to_jalali(today).year), int(to_jalali(today).month))
    since_at = datetime.combine(since, datetime.min.time(), UTC)
    until_at = datetime.combine(until, datetime.min.time(), UTC)
    for inquiry in exchange_selectors.inquiry_stats(session, since_at, until_at):
        if inquiry.total:
            record_share(
                session,
                agency_code=inquiry.agency_code,
                metric="inquiries_online",
                period=period,
                share=inquiry.online / inquiry.total,
                base=inquiry.total,
                source="exchange-inquiries",
            )
            result.rows += 1

    per_agency: dict[str, list[int]] = {}
    for row in delivery_selectors.request_stats(session, since_at, until_at):
        sums = per_agency.setdefault(row.agency_code, [0, 0, 0])
        sums[0] += row.requests
        sums[1] += row.decided_automatically
        sums[2] += row.human_touched
    for code, (total, auto, human) in per_agency.items():
        if not total:
            continue
        for metric, part in (("smart_measured", auto), ("human_touched", human)):
            record_share(
                session,
                agency_code=code,
                metric=metric,
                period=period,
                share=part / total,
                base=total,
                source="delivery-requests",
            )
            result.rows += 1
    return result
