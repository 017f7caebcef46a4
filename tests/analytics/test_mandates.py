"""Mandates as data, evaluated per agency: edge cases and the article's 1402 standings."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.orm import Session

from panjereh.analytics import selectors
from panjereh.analytics.exceptions import InvalidMandateFile, InvalidShare, MandateYearUnknown
from panjereh.analytics.mandates import (
    AgencyRef,
    available_years,
    evaluate,
    evaluate_duty,
    load_mandate,
    parse_mandate,
)
from panjereh.analytics.shares import Figure, record_share
from panjereh.core.jalali import from_jalali

AZAR_1402 = from_jalali(1402, 9, 1)


def _fig(value: float, base: int | None = None) -> Figure:
    return Figure(value, base, AZAR_1402, "test")


def test_every_year_is_a_versioned_file_with_legal_references() -> None:
    assert available_years()[:3] == [1401, 1402, 1403]
    y1401, y1402 = load_mandate(1401), load_mandate(1402)
    assert {d.code: d.target for d in y1401.duties}["through_window"] == 0.30
    assert {d.code: d.target for d in y1402.duties} == {
        "connected": 1.0,
        "through_window": 1.0,
        "inquiries_online": 1.0,
        "smart": 0.20,
    }
    assert "تبصرهٔ ۷" in y1402.law_fa and "«ج»" in y1402.law_fa
    assert {d.code: d.due for d in y1402.duties}["through_window"] == from_jalali(1402, 8, 30)  # end of Aban
    assert {d.code: d.due for d in y1402.duties}["smart"] == from_jalali(1402, 10, 30)  # end of Dey
    for year in available_years():
        for duty in load_mandate(year).duties:
            assert duty.reference_fa and duty.reference_en


def test_unknown_year_and_broken_files_are_refused() -> None:
    with pytest.raises(MandateYearUnknown):
        load_mandate(1390)
    duty: dict[str, object] = {
        "code": "s", "metric": "smart", "target": 0.2, "due": "1402-10-30",
        "title_fa": "x", "title_en": "x", "reference": {"fa": "x", "en": "x"},
    }  # fmt: skip
    good = {
        "fiscal_year": 1402,
        "version": 1,
        "title_fa": "x",
        "title_en": "x",
        "law": {"fa": "x", "en": "x"},
        "duties": [duty],
    }
    assert parse_mandate(good).headline == "s"
    for broken in (
        {**good, "duties": [{**duty, "metric": "happiness"}]},
        {**good, "duties": [{**duty, "target": 20}]},  # a percentage where a fraction belongs
        {**good, "duties": [{**duty, "due": "1402-07-31"}]},  # Mehr has 30 days
        {**good, "headline": "nope"},
        {k: v for k, v in good.items() if k != "law"},
    ):
        with pytest.raises(InvalidMandateFile):
            parse_mandate(broken)


def test_exactly_thirty_percent_meets_at_least_thirty() -> None:
    duty = {d.code: d for d in load_mandate(1401).duties}["through_window"]
    assert evaluate_duty(duty, _fig(0.30), True).status == "met"
    assert evaluate_duty(duty, _fig(0.1 + 0.2), True).status == "met"  # 0.30000000000000004 and 0.3 alike
    assert evaluate_duty(duty, _fig(3 / 10 - 1e-12), True).status == "met"  # float noise, not a shortfall
    short = evaluate_duty(duty, _fig(0.299), True)
    assert short.status == "not_met" and short.margin == pytest.approx(-0.001)
    above = evaluate_duty(duty, _fig(0.45), True)
    assert above.met and above.margin == pytest.approx(0.15)


def test_agency_with_no_services_has_nothing_to_deliver() -> None:
    duty = {d.code: d for d in load_mandate(1402).duties}["smart"]
    result = evaluate_duty(duty, _fig(0.0, base=0), True)
    assert result.status == "not_applicable" and result.reason == "no_services" and result.value is None
    # ... but it must still be connected.
    connected = {d.code: d for d in load_mandate(1402).duties}["connected"]
    assert evaluate_duty(connected, _fig(0.0), False).status == "not_met"


def test_disconnected_agency_delivers_nothing_whatever_its_inventory_says() -> None:
    mandate = load_mandate(1402)
    figures = {
        ("welfare", "connected"): _fig(0.0),
        ("welfare", "through_window"): _fig(0.9, base=40),
        ("welfare", "smart"): _fig(0.5, base=40),
        ("justice", "connected"): _fig(1.0),
        ("justice", "through_window"): _fig(1.0, base=40),
    }
    refs = [AgencyRef("welfare", "بهزیستی", "Welfare"), AgencyRef("justice", "دادگستری", "Justice")]
    justice, welfare = evaluate(mandate, refs, figures)
    assert welfare.agency_code == "welfare" and welfare.connected is False
    assert all(result.status == "not_met" for result in welfare.results.values())
    assert welfare.results["through_window"].reason == "not_connected"
    assert welfare.results["through_window"].value == 0.0
    assert justice.results["through_window"].met
    assert justice.results["smart"].status == "no_data"  # unknown is not zero
    assert justice.evaluated_count == 2 and justice.all_met


def test_shares_are_dated_rows_and_validated(db: Session) -> None:
    record_share(db, agency_code="ict", metric="through_window", period=AZAR_1402, share=0.9, source="a")
    record_share(db, agency_code="ict", metric="through_window", period=AZAR_1402, share=0.97, source="a")
    record_share(
        db, agency_code="ict", metric="through_window", period=from_jalali(1402, 1, 1), share=0.8, source="a"
    )
    from panjereh.analytics.shares import history, latest_figures

    assert [row.share for row in history(db, "ict")] == [0.8, 0.97]  # corrected, not duplicated
    assert (
        latest_figures(db, from_jalali(1402, 1, 1), from_jalali(1403, 1, 1))[("ict", "through_window")].value
        == 0.97
    )
    with pytest.raises(InvalidShare):
        record_share(db, agency_code="ict", metric="through_window", period=AZAR_1402, share=97, source="a")
    with pytest.raises(InvalidShare):
        record_share(db, agency_code="ict", metric="vibes", period=AZAR_1402, share=0.5, source="a")


def test_measured_figure_beats_a_report_of_the_same_month(db: Session) -> None:
    from panjereh.analytics.shares import latest_figures

    record_share(db, agency_code="tax", metric="smart", period=AZAR_1402, share=0.4, source="article-1402")
    record_share(
        db, agency_code="tax", metric="smart", period=AZAR_1402, share=0.1, source="catalog-inventory"
    )
    figures = latest_figures(db, from_jalali(1402, 1, 1), from_jalali(1403, 1, 1))
    assert figures[("tax", "smart")].source == "catalog-inventory"


def test_the_1402_report_shows_the_articles_standings(demo: Session) -> None:
    report = selectors.mandate_report(demo, 1402, today=date(2026, 11, 1))
    codes = [row.agency_code for row in report.rows]
    assert set(codes[:2]) == {"justice", "energy"}
    ict = next(row for row in report.rows if row.agency_code == "ict")
    assert ict.results["through_window"].value == pytest.approx(0.97)
    assert codes.index("ict") == 2
    assert {row.agency_code for row in report.laggards[:3]} == {"agriculture", "heritage", "petroleum"}
    assert {row.agency_code for row in report.leaders[:3]} == {"justice", "energy", "ict"}
    welfare = next(row for row in report.rows if row.agency_code == "welfare")
    assert welfare.connected is False and welfare in report.not_connected
    assert {"agri-ivo", "agri-ppo"} <= {row.agency_code for row in report.not_connected}
    for code in ("education", "health", "sport"):
        share = next(r for r in report.rows if r.agency_code == code).results["through_window"].value
        assert share is not None and share > 0.70
    assert report.summary()["through_window"]["met"] == 2  # only Justice and Energy reached 100%
    # The same agencies a year earlier: 1401's 30% duty, and the shares moved.
    report_1401 = selectors.mandate_report(demo, 1401, today=date(2026, 11, 1))
    by_code = {row.agency_code: row for row in report_1401.rows}
    assert by_code["welfare"].connected is True  # "one of the first to connect"
    assert not by_code["petroleum"].results["through_window"].met
    assert by_code["justice"].results["through_window"].met
