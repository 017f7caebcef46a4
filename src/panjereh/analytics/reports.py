"""Reports and exports: the mandate report and the monthly series as table, CSV, JSON and XLSX."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from typing import Any

from openpyxl import Workbook

from panjereh.analytics.exceptions import UnknownExportFormat
from panjereh.analytics.figures import MonthFigures
from panjereh.analytics.mandates import connection_status
from panjereh.analytics.selectors import SCORECARD_METRICS, MandateReport, Scorecard
from panjereh.core.jalali import to_jalali

FORMATS = ("table", "csv", "json", "xlsx")


# Columns named `…_percent` hold percentages (97.0 = 97%) and `…_points` percentage points: numbers in
# every format, so a spreadsheet can sum and sort them (XLSX adds a percent number format).
PERCENT_SUFFIX, POINTS_SUFFIX = "_percent", "_points"
XLSX_PERCENT, XLSX_POINTS = "0.0%", "+0.0;-0.0;0.0"


def _pct(value: float | None) -> float | str:
    """A fraction as a percentage to one decimal ("" when unknown)."""
    return "" if value is None else round(value * 100, 1)


def mandate_rows(report: MandateReport) -> tuple[list[str], list[list[Any]]]:
    """Flat rows: one per agency, per duty the value (%), the status and the margin in points."""
    header = ["rank", "agency_code", "agency_en", "agency_fa", "connected"]
    for duty in report.mandate.duties:
        header += [
            f"{duty.code}_percent",
            f"{duty.code}_target_percent",
            f"{duty.code}_status",
            f"{duty.code}_margin_points",
        ]
    header += ["duties_met", "duties_evaluated"]
    rows = []
    for rank, row in enumerate(report.rows, start=1):
        line: list[Any] = [rank, row.agency_code, row.name_en, row.name_fa, _yes_no(row.connected)]
        for duty in report.mandate.duties:
            result = row.results[duty.code]
            line += [
                _pct(result.value),
                _pct(duty.target),
                result.status + (f" ({result.reason})" if result.reason else ""),
                _pct(result.margin),
            ]
        line += [row.met_count, row.evaluated_count]
        rows.append(line)
    return header, rows


def _yes_no(value: bool | None) -> str:
    return "unknown" if value is None else ("yes" if value else "no")


def mandate_json(report: MandateReport) -> dict[str, Any]:
    mandate = report.mandate
    return {
        "fiscal_year": mandate.fiscal_year,
        "version": mandate.version,
        "title_en": mandate.title_en,
        "title_fa": mandate.title_fa,
        "law_en": mandate.law_en,
        "law_fa": mandate.law_fa,
        "duties": [
            {
                "code": d.code,
                "metric": d.metric,
                "target": d.target,
                "due": d.due.isoformat(),
                "title_en": d.title_en,
                "reference_en": d.reference_en,
                "reference_fa": d.reference_fa,
            }
            for d in mandate.duties
        ],
        "summary": report.summary(),
        # A live year's national smart share: the catalog's smart cards over all its cards, now.
        "national": None
        if report.national_smart is None
        else {
            "smart": {
                "share": report.national_smart.share,
                "smart_cards": report.national_smart.smart,
                "cards": report.national_smart.total,
            }
        },
        "agencies": [
            {
                "rank": rank,
                "agency_code": row.agency_code,
                "name_en": row.name_en,
                "name_fa": row.name_fa,
                "connected": row.connected,
                "duties_met": row.met_count,
                "duties_evaluated": row.evaluated_count,
                "results": {
                    code: {
                        "status": result.status,
                        "value": result.value,
                        "target": result.duty.target,
                        "margin": result.margin,
                        "reason": result.reason,
                        "source": result.figure.source if result.figure else None,
                        "period": result.figure.period.isoformat() if result.figure else None,
                    }
                    for code, result in row.results.items()
                },
            }
            for rank, row in enumerate(report.rows, start=1)
        ],
    }


def mandate_table(report: MandateReport) -> str:
    """A plain-text table for a terminal (English; the pages show Persian)."""
    mandate = report.mandate
    lines = [f"{mandate.title_en} — {mandate.law_en}"]
    for duty in mandate.duties:
        lines.append(
            f"  {duty.code}: {duty.title_en} "
            f"(target {duty.target * 100:.0f}%, due {duty.due}; {duty.reference_en})"
        )
    codes = [duty.code for duty in mandate.duties]
    widths = [4, 16, 10] + [max(18, len(code) + 2) for code in codes] + [6]
    head = ["#", "agency", "link", *codes, "met"]
    lines.append("  ".join(h.ljust(w) for h, w in zip(head, widths, strict=True)))
    for rank, row in enumerate(report.rows, start=1):
        cells = [str(rank), row.agency_code, _yes_no(row.connected)]
        for code in codes:
            result = row.results[code]
            shown = "—" if result.value is None else f"{result.value * 100:.1f}%"
            mark = {"met": "✓", "not_met": "✗", "no_data": "?", "not_applicable": "n/a"}[result.status]
            cells.append(f"{shown} {mark}")
        cells.append(f"{row.met_count}/{row.evaluated_count}")
        lines.append("  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)))
    for code, counts in report.summary().items():
        lines.append(
            f"{code}: {counts['met']} met, {counts['not_met']} not met, "
            f"{counts['no_data']} no data, {counts['not_applicable']} n/a"
        )
    return "\n".join(lines) + "\n"


def to_csv(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def to_xlsx(header: Sequence[str], rows: Sequence[Sequence[Any]], title: str, rtl: bool = False) -> bytes:
    """One sheet; percentages become fractions shown with a percent format (97.0 → 0.97 as 97.0%)."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = title[:31]
    sheet.sheet_view.rightToLeft = rtl
    sheet.append(list(header))
    percent = {i for i, name in enumerate(header) if name.endswith(PERCENT_SUFFIX)}
    points = {i for i, name in enumerate(header) if name.endswith(POINTS_SUFFIX)}
    for row in rows:
        sheet.append(
            [value / 100 if i in percent and _is_number(value) else value for i, value in enumerate(row)]
        )
        for cell in sheet[sheet.max_row]:
            index = cell.column - 1
            if _is_number(cell.value) and index in percent:
                cell.number_format = XLSX_PERCENT
            elif _is_number(cell.value) and index in points:
                cell.number_format = XLSX_POINTS
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def render_mandates(report: MandateReport, fmt: str) -> str | bytes:
    """The mandate report in one of FORMATS."""
    if fmt == "table":
        return mandate_table(report)
    if fmt == "json":
        return json.dumps(mandate_json(report), ensure_ascii=False, indent=2) + "\n"
    header, rows = mandate_rows(report)
    if fmt == "csv":
        return to_csv(header, rows)
    if fmt == "xlsx":
        return to_xlsx(header, rows, f"mandates {report.mandate.fiscal_year}")
    raise UnknownExportFormat(
        f"Choose one of {', '.join(FORMATS)}.", f"یکی از {'، '.join(FORMATS)} را برگزینید."
    )


def scorecard_rows(card: Scorecard) -> tuple[list[str], list[list[Any]]]:
    """One agency's figures per month: the shares (%), connection, time to decision, and who gave them."""
    shares = [metric for metric in SCORECARD_METRICS if metric != "connected"]
    header = ["agency_code", "period", "jalali_year", "jalali_month"]
    header += [f"{metric}{PERCENT_SUFFIX}" for metric in shares]
    header += ["connected", "connection_status", "median_seconds_to_decision", "decided_requests", "sources"]
    rows = []
    for month in card.by_period():
        jalali = to_jalali(month.period)
        line: list[Any] = [card.agency.code, month.period.isoformat(), int(jalali.year), int(jalali.month)]
        for metric in shares:
            row = month.shares[metric]
            line.append(_pct(None if row is None else row.share))
        connected = month.shares["connected"]
        line += [
            "" if connected is None else _yes_no(connected.share >= 1.0),
            "" if connected is None else connection_status(connected.share, connected.note) or "",
            "" if month.decision_time is None else round(month.decision_time.median_seconds, 1),
            "" if month.decision_time is None else month.decision_time.decided,
            " ".join(month.sources),
        ]
        rows.append(line)
    return header, rows


def series_rows(series: Sequence[MonthFigures]) -> tuple[list[str], list[list[Any]]]:
    header = [
        "jalali_year",
        "jalali_month",
        "users_at_start",
        "users_at_end",
        "new_users",
        "active_users",
        "visits",
        "visits_per_user",
        "user_growth_percent",
    ]
    rows = []
    for m in series:
        rows.append(
            [
                m.month[0],
                m.month[1],
                m.users_at_start,
                m.users_at_end,
                m.new_users,
                m.active_users if m.active_users is not None else "",
                m.visits,
                "" if m.visits_per_user is None else round(m.visits_per_user, 3),
                "" if m.user_growth.percent is None else round(m.user_growth.percent, 2),
            ]
        )
    return header, rows
