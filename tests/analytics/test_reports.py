"""`panjereh report mandates` in every format, parsed back."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from panjereh.analytics import reports, selectors
from panjereh.analytics.exceptions import MandateYearUnknown, UnknownExportFormat
from panjereh.cli import app
from tests.support.markers import seeds_whole_demo

runner = CliRunner()


@pytest.fixture
def report(demo: Session) -> selectors.MandateReport:
    return selectors.mandate_report(demo, 1402, today=date(2026, 11, 1))


def test_csv_parses_back(report: selectors.MandateReport) -> None:
    rows = list(csv.DictReader(io.StringIO(reports.render_mandates(report, "csv"))))  # type: ignore[arg-type]
    assert rows[0]["agency_code"] in ("justice", "energy") and rows[0]["through_window_status"] == "met"
    ict = next(row for row in rows if row["agency_code"] == "ict")
    assert ict["through_window_percent"] == "97.0" and ict["through_window_margin_points"] == "-3.0"
    welfare = next(row for row in rows if row["agency_code"] == "welfare")
    assert welfare["connected"] == "no" and welfare["through_window_status"] == "not_met (not_connected)"
    assert welfare["agency_fa"] == "سازمان بهزیستی کشور"


def test_json_parses_back(report: selectors.MandateReport) -> None:
    data = json.loads(reports.render_mandates(report, "json"))
    assert data["fiscal_year"] == 1402 and len(data["duties"]) == 4
    assert data["summary"]["through_window"]["met"] == 2
    ict = next(a for a in data["agencies"] if a["agency_code"] == "ict")
    assert ict["results"]["through_window"] == {
        "status": "not_met", "value": 0.97, "target": 1.0, "margin": pytest.approx(-0.03),
        "reason": None, "source": "article-1402", "period": "2023-11-22",
    }  # fmt: skip


def test_xlsx_parses_back(report: selectors.MandateReport) -> None:
    body = reports.render_mandates(report, "xlsx")
    assert isinstance(body, bytes)
    sheet = load_workbook(io.BytesIO(body)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("rank", "agency_code", "agency_en")
    assert len(rows) == len(report.rows) + 1
    assert {rows[1][1], rows[2][1]} == {"justice", "energy"}
    # Percentages are numbers with a percent format, not text: a spreadsheet can sort and sum them.
    header = rows[0]
    ict = next(row for row in sheet.iter_rows(min_row=2) if row[1].value == "ict")
    value = ict[header.index("through_window_percent")]
    assert value.value == pytest.approx(0.97) and value.number_format == "0.0%"
    assert ict[header.index("through_window_target_percent")].value == pytest.approx(1.0)
    margin = ict[header.index("through_window_margin_points")]
    assert margin.value == pytest.approx(-3.0) and margin.data_type == "n"


def test_table_and_unknown_format(report: selectors.MandateReport) -> None:
    table = reports.render_mandates(report, "table")
    assert "Budget Law of 1402" in table and "ict" in table and "97.0% ✗" in table
    with pytest.raises(UnknownExportFormat):
        reports.render_mandates(report, "pdf")


@seeds_whole_demo
def test_command_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from panjereh.core.config import get_settings

    monkeypatch.setenv("PANJEREH_HOME", str(tmp_path))
    monkeypatch.delenv("PANJEREH_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    try:
        assert runner.invoke(app, ["seed"]).exit_code == 0
        result = runner.invoke(app, ["report", "mandates", "--year", "1402", "--format", "json"])
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout)["fiscal_year"] == 1402
        target = tmp_path / "m.xlsx"
        assert (
            runner.invoke(
                app, ["report", "mandates", "--year", "1402", "--format", "xlsx", "-o", str(target)]
            ).exit_code
            == 0
        )
        assert load_workbook(target).active.max_row > 10
        assert runner.invoke(app, ["report", "mandates", "--year", "1402", "--format", "doc"]).exit_code == 2
        unknown = runner.invoke(app, ["report", "mandates", "--year", "1399"])
        assert unknown.exit_code == 2, unknown.output
        assert "Traceback" not in unknown.output and not isinstance(unknown.exception, MandateYearUnknown)
        assert "No mandates on file for fiscal year 1399" in unknown.output
        assert "برای سال مالی ۱۳۹۹ تکلیفی ثبت نشده است" in unknown.output
        assert runner.invoke(app, ["report", "mandates", "--help"]).exit_code == 0
    finally:
        get_settings.cache_clear()
