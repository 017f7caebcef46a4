"""Measured figures from the other domains, stored as dated rows for the current Jalali month.

Each figure comes from its domain's selectors: the catalog (inventory), delivery (the executable
definitions' evidence, and requests) and the exchange (inquiries carried); the agencies' connection
status decides "connected".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy.orm import Session

from panjereh.agencies import selectors as agency_selectors
from panjereh.agencies.constants import ConnectionStatus
from panjereh.analytics.shares import record_decision_time, record_share
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
            ("smart", stats.smart),
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
    result.rows += _record_inquiry_shares(session, period, since_at, until_at)

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
    for times in delivery_selectors.decision_times(session, since_at, until_at):
        record_decision_time(
            session,
            agency_code=times.agency_code,
            period=period,
            median_seconds=times.median_seconds,
            decided=times.decided,
            source="delivery-requests",
        )
        result.rows += 1
    return result


# Evidence the platform obtains itself, and evidence asked of the citizen: a document to upload, a visit
# in person (a counter, or a site inspection), a field to fill in. An officer's decision ("human") is a
# step, not evidence, and counts in neither.
BY_INQUIRY = ("inquiry",)
FROM_THE_CITIZEN = ("upload", "in_person", "citizen")


def _record_inquiry_shares(session: Session, period: date, since: datetime, until: datetime) -> int:
    """The share of evidence obtained by inquiry, per agency, from its executable service definitions.

    Not from the exchange's counts: every inquiry that goes through the gateway is online by definition,
    so its online/total is 100% whatever the agency does. An offline inquiry never reaches the gateway:
    a letter or a fax to another agency, a clerk reading another agency's system, or — what the
    definitions show — the citizen sent to fetch the document and upload it or bring it in person.
    The gateway's count of the month's inquiries is kept in the note, as a volume.
    """
    carried = {row.agency_code: row.online for row in exchange_selectors.inquiry_stats(session, since, until)}
    rows = 0
    for agency in delivery_selectors.evidence_sources(session):
        inquiries = agency.count(*BY_INQUIRY)
        base = inquiries + agency.count(*FROM_THE_CITIZEN)
        if not base:
            continue
        gateway = carried.get(agency.agency_code)
        record_share(
            session,
            agency_code=agency.agency_code,
            metric="inquiries_online",
            period=period,
            share=inquiries / base,
            base=base,
            source="delivery-definitions",
            note=None if gateway is None else f"{gateway} inquiries through the gateway this month",
        )
        rows += 1
    return rows
