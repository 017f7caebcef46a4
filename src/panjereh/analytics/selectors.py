"""Reads for the dashboard, the reports and the open-data endpoint."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from sqlalchemy.orm import Session

from panjereh.agencies import selectors as agency_selectors
from panjereh.agencies.constants import ConnectionStatus
from panjereh.analytics import figures as fig
from panjereh.analytics import shares
from panjereh.analytics.exceptions import AgencyNotOnDashboard
from panjereh.analytics.mandates import (
    AgencyCompliance,
    AgencyRef,
    Mandate,
    dashboard_year,
    evaluate,
    load_mandate,
)
from panjereh.analytics.models import AgencyDecisionTime, AgencyShare
from panjereh.analytics.shares import Figure
from panjereh.analytics.sources import month_start
from panjereh.catalog import selectors as catalog_selectors
from panjereh.core.jalali import fiscal_year_bounds, fiscal_year_of, jalali_month_bounds, to_tehran


def agency_refs(session: Session) -> list[AgencyRef]:
    return [AgencyRef(a.code, a.name_fa, a.name_en) for a in agency_selectors.list_agencies(session)]


# The smart share as the catalog badges it: a published definition deriving level 5 (source of the figure).
SMART_SOURCE = "catalog-inventory"


def smart_is_live(year: int, today: date) -> bool:
    """Whether a year's smart share is read from the published definitions now: the year the dashboard
    opens on (the demo's 1402) and the running fiscal year. Earlier years keep their dated measurements."""
    return year in (dashboard_year(), fiscal_year_of(today))


def smart_figures(
    session: Session, today: date, counts: dict[str, tuple[int, int]] | None = None
) -> dict[str, Figure]:
    """Per agency with cards: smart cards (a published definition derives level 5, as the badge) over all."""
    period = month_start(today)
    counts = catalog_selectors.smart_counts(session) if counts is None else counts
    return {
        code: Figure(smart / total, total, period, SMART_SOURCE, f"{smart}/{total}")
        for code, (smart, total) in counts.items()
        if total
    }


@dataclass(frozen=True)
class NationalSmart:
    """The national smart share: every smart card over every card (the catalog's own count)."""

    smart: int
    total: int

    @property
    def share(self) -> float | None:
        return self.smart / self.total if self.total else None


def national_smart(session: Session, counts: dict[str, tuple[int, int]] | None = None) -> NationalSmart:
    counts = catalog_selectors.smart_counts(session) if counts is None else counts
    return NationalSmart(
        sum(smart for smart, _ in counts.values()), sum(total for _, total in counts.values())
    )


def standings_signature(session: Session, year: int, today: date) -> tuple[object, ...]:
    """What `mandate_report` reads besides the mandate files, fingerprinted in three small queries: the
    year's dated figures, the agencies (names, connection status) and, for a live year, the catalog."""
    since, until = fiscal_year_bounds(year)
    live = catalog_selectors.index_signature(session) if smart_is_live(year, today) else None
    return (shares.signature(session, since, until), tuple(agency_selectors.agency_states(session)), live)


def year_figures(
    session: Session,
    year: int,
    today: date | None = None,
    *,
    smart_counts: dict[str, tuple[int, int]] | None = None,
) -> dict[tuple[str, str], Figure]:
    """The newest figure per agency and metric inside a fiscal year.

    The smart share of a live year (`smart_is_live`) is the catalog's count now, the badge's own source,
    so the dashboard, the API and the catalog agree. For the running year, an agency with no dated
    connection figure yet is judged on its current connection status (what the connection standard last
    found)."""
    since, until = fiscal_year_bounds(year)
    figures = shares.latest_figures(session, since, until)
    today = today or datetime.now(UTC).date()
    if smart_is_live(year, today):
        figures = {key: figure for key, figure in figures.items() if key[1] != "smart"}
        for code, figure in smart_figures(session, today, smart_counts).items():
            figures[(code, "smart")] = figure
    if fiscal_year_of(today) == year:
        for agency in agency_selectors.list_agencies(session):
            if (agency.code, "connected") not in figures:
                connected = agency.connection_status == ConnectionStatus.CONNECTED
                figures[(agency.code, "connected")] = Figure(
                    1.0 if connected else 0.0, None, today, "agencies-status", agency.connection_status.value
                )
    return figures


@dataclass
class MandateReport:
    mandate: Mandate
    rows: list[AgencyCompliance]
    national_smart: NationalSmart | None = None  # a live year's (None: the year keeps dated figures)

    @property
    def leaders(self) -> list[AgencyCompliance]:
        return [row for row in self.rows if row.connected is not False and self._headline(row) is not None][
            :5
        ]

    @property
    def laggards(self) -> list[AgencyCompliance]:
        """The lowest connected agencies by the headline figure, lowest first."""
        ranked = [row for row in self.rows if row.connected is not False and self._headline(row) is not None]
        return list(reversed(ranked[-5:])) if len(ranked) > 5 else list(reversed(ranked))

    @property
    def not_connected(self) -> list[AgencyCompliance]:
        return [row for row in self.rows if row.connected is False]

    def _headline(self, row: AgencyCompliance) -> float | None:
        return row.results[self.mandate.headline].value

    def summary(self) -> dict[str, dict[str, int]]:
        """Per duty: how many agencies met it, failed it, had no data, or had nothing to deliver."""
        out: dict[str, dict[str, int]] = {}
        for duty in self.mandate.duties:
            counts = {"met": 0, "not_met": 0, "no_data": 0, "not_applicable": 0}
            for row in self.rows:
                counts[row.results[duty.code].status] += 1
            out[duty.code] = counts
        return out


def mandate_report(
    session: Session, year: int, today: date | None = None, *, with_data_only: bool = True
) -> MandateReport:
    """Every agency against the year's duties (by default without agencies with no dated figure that year)."""
    mandate = load_mandate(year)
    today = today or datetime.now(UTC).date()
    counts = catalog_selectors.smart_counts(session) if smart_is_live(year, today) else None
    figures = year_figures(session, year, today, smart_counts=counts)
    agencies = agency_refs(session)
    if with_data_only:
        with_figures = {
            code for (code, _metric), figure in figures.items() if figure.source != "agencies-status"
        }
        agencies = [a for a in agencies if a.code in with_figures]
    national = None if counts is None else national_smart(session, counts)
    return MandateReport(mandate, evaluate(mandate, agencies, figures), national)


# The scorecard's figures over time, in the order its table and export show them.
SCORECARD_METRICS = (
    "through_window",
    "online",
    "smart",
    "smart_measured",
    "human_touched",
    "inquiries_online",
    "connected",
)


@dataclass(frozen=True)
class ScorecardPeriod:
    """One month of an agency's scorecard: the newest row per metric, and the time to decision."""

    period: date
    shares: dict[str, AgencyShare | None]
    decision_time: AgencyDecisionTime | None

    @property
    def sources(self) -> list[str]:
        """Who measured or reported this month's figures, each once, in the metrics' order."""
        found = [row.source for row in self.shares.values() if row is not None]
        if self.decision_time is not None:
            found.append(self.decision_time.source)
        return list(dict.fromkeys(found))


@dataclass
class Scorecard:
    agency: AgencyRef
    connection_status: str
    parent_code: str | None
    history: list[AgencyShare]
    by_year: dict[int, AgencyCompliance]
    decision_times: list[AgencyDecisionTime] = field(default_factory=list)

    def series(self, metric: str) -> list[AgencyShare]:
        return [row for row in self.history if row.metric == metric]

    def by_period(self) -> list[ScorecardPeriod]:
        """Every month with a figure, oldest first (a measurement beats a report of the same month)."""
        periods = sorted({row.period for row in self.history} | {row.period for row in self.decision_times})
        table = []
        for period in periods:
            shares: dict[str, AgencyShare | None] = {}
            for metric in SCORECARD_METRICS:
                rows = [r for r in self.history if r.period == period and r.metric == metric]
                shares[metric] = max(rows, key=_measured_first) if rows else None
            times = [t for t in self.decision_times if t.period == period]
            table.append(ScorecardPeriod(period, shares, times[-1] if times else None))
        return table


def _measured_first(row: AgencyShare) -> tuple[int, str]:
    return (1 if row.source in shares.MEASURED_SOURCES else 0, row.source)


def scorecard(session: Session, agency_code: str, years: list[int]) -> Scorecard:
    agency = agency_selectors.find_agency_by_code(session, agency_code)
    if agency is None:
        raise AgencyNotOnDashboard(f"No agency {agency_code!r}.", f"دستگاه «{agency_code}» پیدا نشد.")
    ref = AgencyRef(agency.code, agency.name_fa, agency.name_en)
    by_year = {}
    for year in years:
        mandate = load_mandate(year)
        by_year[year] = evaluate(mandate, [ref], year_figures(session, year))[0]
    return Scorecard(
        ref,
        agency.connection_status.value,
        agency.parent.code if agency.parent is not None else None,
        list(shares.history(session, agency_code)),
        by_year,
        list(shares.decision_time_history(session, agency_code)),
    )


def default_month(session: Session, today: date | None = None) -> fig.JalaliMonth | None:
    """The month the overview opens on: the newest complete month, else the newest with visits.

    Complete: the month has ended and every one of its days has visits. A month still running, or one
    with days missing (a demo that ran a few days of live traffic past its history), would show a
    fraction of a month's visits as if it were the whole: a drop, and growth that means nothing. Any
    month stays one choice away."""
    today = today or to_tehran(datetime.now(UTC)).date()
    latest = fig.latest_month(session)
    month = latest
    for _ in range(COMPLETE_MONTH_LOOKBACK):
        if month is None:
            break
        if fig.is_complete(session, month, today):
            return month
        month = fig.previous_month(month)
    return latest


# How far back the overview looks for a complete month before it settles for the newest one.
COMPLETE_MONTH_LOOKBACK = 24


@dataclass
class Overview:
    month: fig.JalaliMonth
    current: fig.MonthFigures
    series: list[fig.MonthFigures]
    since_first: fig.Growth
    by_channel: dict[str, int]
    by_agency: dict[str, int]
    months: list[fig.JalaliMonth]  # every month with data, oldest first: the month picker


def overview(session: Session, month: fig.JalaliMonth | None = None) -> Overview | None:
    """The big numbers for a month (default: the newest with visits) and the monthly series up to it."""
    span = fig.data_span(session)
    month = month or fig.latest_month(session)
    if span is None or month is None:
        return None
    first = span[0]
    series = fig.monthly_series(session, first, month)
    current = series[-1] if series else fig.month_figures(session, month)
    start, end = jalali_month_bounds(*month)
    return Overview(
        month=month,
        current=current,
        series=series,
        since_first=fig.growth(series[0].users_at_start if series else 0, current.users_at_end),
        by_channel=fig.visits_by_channel(session, start, end),
        by_agency=fig.visits_by_agency(session, start, end),
        months=list(fig.months_between(first, max(span[1], month))),
    )
