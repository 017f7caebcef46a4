"""The national dashboard pages: overview, agencies table, agency scorecards, mandates; CSV/XLSX exports."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.responses import HTMLResponse, Response

from panjereh.analytics import duties, reports, selectors
from panjereh.analytics.cache import figures_of
from panjereh.analytics.exceptions import MandateYearUnknown, UnknownExportFormat
from panjereh.analytics.figures import JalaliMonth, growth, month_label
from panjereh.analytics.mandates import AgencyCompliance, available_years, dashboard_year
from panjereh.catalog import selectors as catalog_selectors
from panjereh.core.deps import DbSession
from panjereh.core.errors import ValidationFailed
from panjereh.core.jalali import fiscal_year_bounds, from_jalali
from panjereh.core.schemas import MAX_JALALI_YEAR, MIN_JALALI_YEAR, JalaliYear
from panjereh.feedback import selectors as feedback_selectors
from panjereh.feedback.constants import CATEGORY_LABELS, ProblemCategory
from panjereh.web.templating import format_date, format_number

router = APIRouter(prefix="/dashboard", include_in_schema=False)

SORTABLE = ("rank", "agency", "connected", "met")
# The scorecard's chart: the shares that move with the agency's work (the table has every figure).
CHART_METRICS = ("through_window", "smart", "smart_measured", "human_touched")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _parse_month(value: str | None) -> JalaliMonth | None:
    if not value:
        return None
    try:
        year, month = (int(part) for part in value.split("-"))
        if not MIN_JALALI_YEAR <= year <= MAX_JALALI_YEAR:
            raise ValueError(year)
        from_jalali(year, month, 1)
    except (ValueError, OverflowError) as exc:
        raise ValidationFailed("month must look like 1402-09", "ماه باید مانند ۱۴۰۲-۰۹ باشد") from exc
    return (year, month)


def _year_for(month: JalaliMonth | None) -> int:
    if month is not None and month[0] in available_years():
        return month[0]
    return dashboard_year()


def _check_year(year: int) -> int:
    if year not in available_years():
        raise MandateYearUnknown(f"No mandates for {year}.", f"برای سال {year} تکلیفی ثبت نشده است.")
    return year


@dataclass(frozen=True)
class SeriesView:
    """The overview's monthly series as the page shows it in one locale: formatted once per rollup change
    (a table and chart of every month since 1401 cost more to format than the rest of the page)."""

    chart: str  # the chart's JSON
    rows: list[tuple[str, str, str, str, str]]  # month, users, new users, visits, active users
    picker: list[tuple[str, str]]  # (1402-09, its label), newest first


def series_view(data: selectors.Overview, locale: str) -> SeriesView:
    labels = [month_label(m.month, locale) for m in data.series]
    chart = json.dumps(
        {
            "labels": labels,
            "users": [m.users_at_end for m in data.series],
            "visits": [m.visits for m in data.series],
            "rtl": locale == "fa",
        },
        ensure_ascii=False,
    )
    rows = [
        (
            label,
            format_number(m.users_at_end, locale),
            format_number(m.new_users, locale),
            format_number(m.visits, locale),
            format_number(m.active_users, locale),
        )
        for m, label in zip(data.series, labels, strict=True)
    ]
    picker = [(f"{m[0]}-{m[1]:02d}", month_label(m, locale)) for m in reversed(data.months)]
    return SeriesView(chart, rows, picker)


@router.get("", response_class=HTMLResponse)
def overview(request: Request, session: DbSession, month: str | None = Query(None)) -> HTMLResponse:
    """The big numbers, growth by Jalali month, leaders and laggards."""
    # The rollups' figures are computed once per change of the rollups (analytics/cache.py), not per view.
    figures = figures_of(request.app.state).current(session)
    chosen = _parse_month(month) or figures.default_month()
    data = figures.overview(chosen)
    locale = request.app.state.templates.locale_of(request)
    context: dict[str, Any] = {"data": data, "month": chosen}
    if data is not None:
        year = _year_for(data.month)
        fy_start, _ = fiscal_year_bounds(data.month[0])
        start_of_year = figures.users_ever(fy_start)
        view = figures.derived(("overview", data.month, locale), lambda: series_view(data, locale))
        context.update(
            year=year,
            report=figures.mandate_report(year),
            month_name=month_label(data.month, locale),
            year_growth=growth(start_of_year, data.current.users_at_end),
            start_of_year=start_of_year,
            chart=view.chart,
            rows=view.rows,
            picker=view.picker,
            selected=f"{data.month[0]}-{data.month[1]:02d}",
        )
    return request.app.state.templates.render(request, "dashboard/overview.html", context)


def default_order(sort: str) -> str:
    """Rank and name read best ascending (1, 2, 3 / a, b, c); a figure reads best highest first."""
    return "asc" if sort in ("rank", "agency") else "desc"


def sort_rows(
    rows: list[tuple[int, AgencyCompliance]], sort: str, order: str
) -> list[tuple[int, AgencyCompliance]]:
    """Rows ordered by one column: `asc` smallest first, `desc` largest first; an agency without that
    figure comes last either way, and equal values keep the year's rank order."""

    def value(row: AgencyCompliance) -> Any:
        if sort == "agency":
            return row.agency_code
        if sort == "connected":
            return None if row.connected is None else int(row.connected)
        if sort == "met":
            return row.met_count
        return row.results[sort].value

    by_rank = sorted(rows, key=lambda item: item[0])
    if sort == "rank":
        return by_rank if order == "asc" else by_rank[::-1]
    known = [item for item in by_rank if value(item[1]) is not None]
    unknown = [item for item in by_rank if value(item[1]) is None]
    # Python's sort is stable with reverse=True too: ties stay in rank order in both directions.
    return sorted(known, key=lambda item: value(item[1]), reverse=order == "desc") + unknown


@router.get("/agencies", response_class=HTMLResponse)
def agencies(
    request: Request,
    session: DbSession,
    year: JalaliYear = 1402,
    sort: str = Query("rank"),
    order: str | None = Query(None),
) -> HTMLResponse:
    """Every agency with its figures and badges, sortable (server-side, so it works without JavaScript)."""
    report = selectors.mandate_report(session, _check_year(year))
    sort = sort if sort in SORTABLE or any(d.code == sort for d in report.mandate.duties) else "rank"
    order = order if order in ("asc", "desc") else default_order(sort)
    rows = sort_rows(list(enumerate(report.rows, start=1)), sort, order)
    return request.app.state.templates.render(
        request,
        "dashboard/agencies.html",
        {
            "report": report,
            "rows": rows,
            "year": year,
            "sort": sort,
            "order": order,
            "default_order": default_order,
            "years": available_years(),
        },
    )


@router.get("/agencies/{code}", response_class=HTMLResponse)
def agency(request: Request, session: DbSession, code: str) -> HTMLResponse:
    """One agency's scorecard over time and against each year's duties."""
    # Not a visit to the agency: the scorecard is about the agency, read by analysts, not a citizen
    # using its services; counting it would let dashboard traffic inflate the agency's visit figures.
    card = selectors.scorecard(session, code, available_years())
    locale = request.app.state.templates.locale_of(request)
    table = card.by_period()
    chart: dict[str, Any] = {
        "labels": [format_date(month.period, locale) for month in table],
        "series": {},
        "rtl": locale == "fa",
    }
    # Shares only (a 0..100 axis): the time to decision is in seconds and stays in the table.
    for metric in CHART_METRICS:
        values = []
        for month in table:
            row = month.shares[metric]
            values.append(None if row is None else round(row.share * 100, 1))
        chart["series"][metric] = values
    return request.app.state.templates.render(
        request,
        "dashboard/agency.html",
        {
            "card": card,
            "table": table,
            "chart": json.dumps(chart, ensure_ascii=False),
            "duration": lambda seconds: duration_text(seconds, locale),
            "todo": duties.todo(session, card.agency.code, duties.current_year()),
            **feedback_view(request, session, card.agency.code),
        },
    )


def feedback_view(request: Request, session: DbSession, agency_code: str) -> dict[str, Any]:
    """The scorecard's citizens' feedback: ratings per service and for the agency (an average only from
    `PANJEREH_FEEDBACK_MIN_RATINGS` ratings), and the unanswered problem reports by category."""
    score = feedback_selectors.agency_score(
        session, agency_code, request.app.state.settings.feedback_min_ratings
    )
    titles = {
        slug: (card.title_fa, card.title_en or card.title_fa)
        for slug, card in catalog_selectors.cards_by_slug(
            session, [slug for slug, _ in score.services]
        ).items()
    }
    return {
        "feedback": score,
        "feedback_titles": titles,
        "feedback_categories": [(c, CATEGORY_LABELS[c]) for c in ProblemCategory],
    }


def duration_text(seconds: float, locale: str) -> str:
    """A time to decision in the largest unit that keeps it readable: seconds, minutes, hours or days."""
    units = ((86_400, "روز", "d"), (3_600, "ساعت", "h"), (60, "دقیقه", "min"), (1, "ثانیه", "s"))
    size, unit_fa, unit_en = next((unit for unit in units if seconds >= unit[0]), units[-1])
    amount = round(seconds / size, 1)
    shown = int(amount) if amount == int(amount) else amount
    return f"{format_number(shown, locale)} {unit_fa if locale != 'en' else unit_en}"


@router.get("/mandates", response_class=HTMLResponse)
def mandates_index(request: Request, session: DbSession, year: JalaliYear = 1402) -> HTMLResponse:
    """Compliance with one fiscal year's duties, and the summary for every year on file."""
    report = selectors.mandate_report(session, _check_year(year))
    summaries = {y: selectors.mandate_report(session, y).summary() for y in available_years()}
    return request.app.state.templates.render(
        request,
        "dashboard/mandates.html",
        {"report": report, "year": year, "years": available_years(), "summaries": summaries},
    )


@router.get("/export/months.{fmt}")
def export_months(request: Request, session: DbSession, fmt: str) -> Response:
    """The monthly series (users, visits, growth) as CSV or XLSX."""
    figures = figures_of(request.app.state).current(session)
    data = figures.overview(figures.default_month())
    header, rows = reports.series_rows(data.series if data else [])
    return _export(header, rows, fmt, "panjereh-months", "months")


@router.get("/export/mandates-{year}.{fmt}")
def export_mandates(session: DbSession, year: int, fmt: str) -> Response:
    """A fiscal year's mandate compliance per agency as CSV or XLSX."""
    header, rows = reports.mandate_rows(selectors.mandate_report(session, _check_year(year)))
    return _export(header, rows, fmt, f"panjereh-mandates-{year}", f"mandates {year}")


@router.get("/export/agency-{code}.{fmt}")
def export_agency(session: DbSession, code: str, fmt: str) -> Response:
    """One agency's scorecard over time (shares, connection, time to decision) as CSV or XLSX."""
    header, rows = reports.scorecard_rows(selectors.scorecard(session, code, available_years()))
    return _export(header, rows, fmt, f"panjereh-agency-{code}", f"agency {code}")


def _export(header: list[str], rows: list[list[Any]], fmt: str, name: str, title: str) -> Response:
    disposition = {"Content-Disposition": f'attachment; filename="{name}.{fmt}"'}
    if fmt == "csv":
        # A byte-order mark so spreadsheet programs read the Persian names as UTF-8.
        body = "\ufeff" + reports.to_csv(header, rows)
        return Response(body.encode("utf-8"), media_type="text/csv; charset=utf-8", headers=disposition)
    if fmt == "xlsx":
        return Response(reports.to_xlsx(header, rows, title, rtl=True), media_type=XLSX, headers=disposition)
    raise UnknownExportFormat("Choose csv or xlsx.", "قالب csv یا xlsx را برگزینید.")


def mount(app: FastAPI) -> None:
    app.include_router(router)
