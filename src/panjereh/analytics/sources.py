"""Measured figures from the other domains, stored as dated share rows for the current Jalali month.

The catalog (inventory), exchange (inquiries) and delivery (requests) domains are built in parallel;
each is used through its contract function (docs: contracts.md) when its branch has been merged, and
skipped, with a note in the result, when it is not there yet.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy.orm import Session

from panjereh.agencies import selectors as agency_selectors
from panjereh.agencies.models import ConnectionStatus
from panjereh.analytics.shares import record_share
from panjereh.core.jalali import from_jalali, jalali_month_bounds, to_jalali


def _contract(module: str, name: str) -> Any | None:
    """A contract function of another domain, or None while that domain is not merged."""
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        return None


@dataclass
class RefreshResult:
    period: date
    rows: int = 0
    skipped: list[str] = field(default_factory=list)


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

    inventory = _contract("panjereh.catalog.selectors", "agency_inventory_stats")
    if inventory is None:
        result.skipped.append("catalog (agency_inventory_stats) not merged yet")
    else:
        for stats in inventory(session):
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

    inquiries = _contract("panjereh.exchange.selectors", "inquiry_stats")
    since, until = jalali_month_bounds(int(to_jalali(today).year), int(to_jalali(today).month))
    since_at = datetime.combine(since, datetime.min.time(), UTC)
    until_at = datetime.combine(until, datetime.min.time(), UTC)
    if inquiries is None:
        result.skipped.append("exchange (inquiry_stats) not merged yet")
    else:
        for row in inquiries(session, since_at, until_at):
            code, total, online = _fields(row, "agency_code", "total", "online")
            if total:
                record_share(
                    session,
                    agency_code=code,
                    metric="inquiries_online",
                    period=period,
                    share=online / total,
                    base=total,
                    source="exchange-inquiries",
                )
                result.rows += 1

    requests = _contract("panjereh.delivery.selectors", "request_stats")
    if requests is None:
        result.skipped.append("delivery (request_stats) not merged yet")
    else:
        per_agency: dict[str, list[int]] = {}
        for row in requests(session, since_at, until_at):
            code, total, auto, human = _fields(
                row, "agency_code", "requests", "decided_automatically", "human_touched"
            )
            if code is None:
                continue
            sums = per_agency.setdefault(code, [0, 0, 0])
            sums[0], sums[1], sums[2] = sums[0] + total, sums[1] + auto, sums[2] + human
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


def _fields(row: Any, *names: str) -> tuple[Any, ...]:
    """Read fields from a dataclass, a mapping or a named tuple alike (contracts name fields, not types)."""
    if isinstance(row, dict):
        return tuple(row.get(name) for name in names)
    return tuple(getattr(row, name, None) for name in names)
