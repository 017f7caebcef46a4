"""Dashboard pages: Persian RTL, charts backed by data tables, a sortable table, exports, open data."""

from __future__ import annotations

import csv
import io
import json
import re

from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy.orm import Session

from panjereh.analytics import selectors
from panjereh.catalog import service as catalog_service
from tests.support.factories import create_card


def give_cards(db: Session, cards: dict[str, tuple[int, int]]) -> None:
    """Per agency (smart, total): `total` cards, the first `smart` of them with a published definition
    deriving level 5 (as delivery records it), so the catalog badges them smart."""
    smart: dict[str, tuple[int, list[str]] | None] = {}
    for code, (smart_count, total) in cards.items():
        for number in range(total):
            card = create_card(db, code, slug=f"{code}-card-{number}")
            if number < smart_count:
                smart[card.slug] = (5, [])
    catalog_service.record_derived_maturities(db, smart, source="test")
    db.flush()


# Smart shares measured from the catalog: justice 40% (the highest), ict 25%, tax none of its three.
SMART_CARDS = {"justice": (2, 5), "ict": (1, 4), "tax": (0, 3)}


def found(pattern: str, html: str) -> re.Match[str]:
    """The first match of a pattern the page must have ('.' crosses lines)."""
    match = re.search(pattern, html, re.S)
    assert match, pattern
    return match


def test_overview_big_numbers_and_chart_fallback(client: TestClient, demo: Session) -> None:
    response = client.get("/dashboard")
    assert response.status_code == 200
    html = response.text
    assert '<html lang="fa" dir="rtl">' in html
    figures = dict(re.findall(r'data-figure="([^"]+)">([^<]+)<', html))
    assert figures["users"] == "۳۵٬۰۰۰"
    assert figures["growth"] == "۲٫۷ برابر (۱۶۹٪+)"
    assert "آذر ۱۴۰۲" in html
    # The chart library is served from the npm package, and the figures are also a real table.
    assert '<script src="/vendor/chart.js/chart.umd.min.js"' in html
    assert 'data-chart="growth-data"' in html and "<table" in html and "<caption>" in html
    assert client.get("/vendor/chart.js/chart.umd.min.js").status_code == 200
    assert client.get("/static/js/dashboard.js").status_code == 200
    leaders = found(r'data-list="leaders">(.*?)</ol>', html).group(1)
    laggards = found(r'data-list="laggards">(.*?)</ol>', html).group(1)
    assert "وزارت دادگستری" in leaders and "وزارت نیرو" in leaders
    assert "وزارت جهاد کشاورزی" in laggards and "وزارت نفت" in laggards
    assert "سازمان بهزیستی کشور" in found(r'data-list="not-connected">(.*?)</ul>', html).group(1)


def test_overview_in_english_and_for_another_month(client: TestClient, demo: Session) -> None:
    html = client.get("/dashboard?month=1402-01&lang=en").text
    assert '<html lang="en" dir="ltr">' in html and "1402-01" in html
    assert client.get("/dashboard?month=1402-13").status_code == 422


def test_empty_dashboard_says_so(client: TestClient) -> None:
    assert client.get("/dashboard").status_code == 200


def test_agencies_table_sorts_and_badges(client: TestClient, demo: Session) -> None:
    give_cards(demo, SMART_CARDS)
    html = client.get("/dashboard/agencies?year=1402").text
    order = re.findall(r'<tr data-agency="([^"]+)">', html)
    assert set(order[:2]) == {"justice", "energy"} and order[2] == "ict"
    assert "badge text-bg-danger" in html and "badge text-bg-success" in html
    by_smart = re.findall(
        r'<tr data-agency="([^"]+)">', client.get("/dashboard/agencies?year=1402&sort=smart").text
    )
    assert by_smart[:3] == ["justice", "ict", "tax"]  # 40%, 25%, 0%; agencies with no cards after them
    by_name = re.findall(
        r'<tr data-agency="([^"]+)">', client.get("/dashboard/agencies?sort=agency&order=desc").text
    )
    assert by_name == sorted(by_name, reverse=True)
    assert client.get("/dashboard/agencies?year=1390").status_code == 404


def test_agencies_table_sort_direction_and_aria_sort(client: TestClient, demo: Session) -> None:
    give_cards(demo, SMART_CARDS)
    smart = {row.agency_code: row.results["smart"].value for row in selectors.mandate_report(demo, 1402).rows}
    assert None in smart.values()  # agencies without a smart figure: they must come last both ways

    def page(query: str) -> tuple[list[float | None], str]:
        html = client.get(f"/dashboard/agencies?year=1402&{query}").text
        header = found(r'<th scope="col" aria-sort="([a-z]+)"><a href="\?year=1402&(?:amp;)?sort=smart', html)
        return [smart[code] for code in re.findall(r'<tr data-agency="([^"]+)">', html)], header.group(1)

    for query, direction in (("sort=smart&order=asc", "ascending"), ("sort=smart&order=desc", "descending")):
        values, aria = page(query)
        known = [v for v in values if v is not None]
        assert values[: len(known)] == known and all(v is None for v in values[len(known) :])
        assert known == sorted(known, reverse=direction == "descending")
        assert known[0] != known[-1] and aria == direction
    # A figure column opens highest first, and says so.
    values, aria = page("sort=smart")
    assert values[0] == max(v for v in values if v is not None) and aria == "descending"
    ranks = re.findall(r'<tr data-agency="([^"]+)">', client.get("/dashboard/agencies?order=desc").text)
    assert ranks == [row.agency_code for row in selectors.mandate_report(demo, 1402).rows][::-1]


def test_connection_is_named_not_coded_and_reconnecting_is_not_disconnected(
    client: TestClient, demo: Session
) -> None:
    html = client.get("/dashboard?month=1402-09").text
    listed = found(r'data-list="not-connected">(.*?)</ul>', html).group(1)
    badges = dict(
        re.findall(
            r'href="/dashboard/agencies/([^"]+)">[^<]+</a> <span[^>]+data-connection="([a-z_]+)"', listed
        )
    )
    assert badges["welfare"] == "disconnected"  # the article's State Welfare
    assert badges["agri-ivo"] == badges["agri-ppo"] == "standard_lost"  # Agriculture Jihad's subsidiaries
    assert "استاندارد اتصال از دست رفته (در حال اتصال مجدد)" in listed and "قطع اتصال" in listed
    welfare = client.get("/dashboard/agencies/welfare").text
    status = found(r'<span data-status="([a-z_]+)">([^<]+)</span>', welfare)
    assert status.group(1) == "disconnected" and status.group(2) == "قطع اتصال"
    english = client.get("/dashboard/agencies/welfare?lang=en").text
    assert re.search(r'<span data-status="disconnected">Disconnected</span>', english)
    assert ">disconnected<" not in welfare + english
    table = client.get("/dashboard/agencies?year=1402&lang=fa").text
    reconnecting = found(r'<tr data-agency="agri-ivo">(.*?)</tr>', table).group(1)
    assert 'data-connection="standard_lost"' in reconnecting
    assert "انجام نشد (متصل نیست)" in reconnecting and "قطع" not in reconnecting


def test_agency_scorecard_over_time(client: TestClient, demo: Session) -> None:
    html = client.get("/dashboard/agencies/ict").text
    assert "وزارت ارتباطات و فناوری اطلاعات" in html
    assert 'data-chart="agency-data"' in html and "<table" in html
    assert "۹۷٪" in html  # the article's 97%
    assert 'data-year="1401"' in html and 'data-year="1402"' in html
    assert client.get("/dashboard/agencies/no-such-agency").status_code == 404


def test_scorecard_shows_measured_smart_human_touched_and_time_to_decision(
    client: TestClient, measured: Session
) -> None:
    html = client.get("/dashboard/agencies/heritage").text
    azar = found(r'<tr data-period="2023-11-22">(.*?)</tr>', html).group(1)
    cells = dict(re.findall(r'<td data-metric="([a-z_]+)">(.*?)</td>', azar, re.S))
    assert cells["human_touched"] == "۱۰۰٪" and cells["smart_measured"] == "۰٪"
    assert cells["inquiries_online"] == "۵۰٪"  # measured from the definitions, beats the demo model
    assert cells["time_to_decision"].startswith("۱ ساعت") and "۳ درخواست" in cells["time_to_decision"]
    chart = json.loads(found(r'id="agency-data">(.*?)</script>', html).group(1))
    at = re.findall(r'<tr data-period="([0-9-]+)">', html).index("2023-11-22")
    assert chart["series"]["human_touched"][at] == 100.0 and chart["series"]["smart_measured"][at] == 0.0
    assert 'data-label-human-touched="' in html and 'data-label-smart-measured="' in html
    english = client.get("/dashboard/agencies/tax?lang=en").text
    assert re.search(r'<td data-metric="time_to_decision">3 s', english)
    assert 'href="/dashboard/export/agency-heritage.csv"' in html


def test_agency_export_parses_back(client: TestClient, measured: Session) -> None:
    response = client.get("/dashboard/export/agency-heritage.csv")
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    azar = next(row for row in rows if row["period"] == "2023-11-22")
    assert (azar["jalali_year"], azar["jalali_month"]) == ("1402", "9")
    assert azar["median_seconds_to_decision"] == "3600.0" and azar["decided_requests"] == "3"
    assert azar["human_touched_percent"] == "100.0" and azar["smart_measured_percent"] == "0.0"
    assert azar["inquiries_online_percent"] == "50.0" and "delivery-definitions" in azar["sources"]
    # Measured from the catalog, not the demo's dated 15%: the excavation permit, published, has its card
    # (made on publishing), offered through the window, and it is the only heritage card in this world.
    assert azar["through_window_percent"] == "100.0" and "catalog-inventory" in azar["sources"]
    sheet = load_workbook(io.BytesIO(client.get("/dashboard/export/agency-heritage.xlsx").content)).active
    header = [cell.value for cell in sheet[1]]
    line = next(row for row in sheet.iter_rows(min_row=2) if row[1].value == "2023-11-22")
    assert line[header.index("median_seconds_to_decision")].value == 3600.0
    assert line[header.index("human_touched_percent")].value == 1.0
    assert line[header.index("human_touched_percent")].number_format == "0.0%"
    welfare = list(csv.DictReader(io.StringIO(client.get("/dashboard/export/agency-welfare.csv").text)))
    assert {row["connection_status"] for row in welfare} >= {"disconnected"}
    assert client.get("/dashboard/export/agency-no-such-agency.csv").status_code == 404


def test_mandates_by_year(client: TestClient, demo: Session) -> None:
    html = client.get("/dashboard/mandates?year=1402").text
    assert "تبصرهٔ ۷" in html and 'data-table="compliance"' in html
    assert client.get("/dashboard/mandates?year=1401").status_code == 200


def test_exports_parse_back(client: TestClient, demo: Session) -> None:
    response = client.get("/dashboard/export/months.csv")
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    azar = next(row for row in rows if row["jalali_year"] == "1402" and row["jalali_month"] == "9")
    assert 34_000 <= int(azar["users_at_end"]) <= 36_000
    xlsx = client.get("/dashboard/export/mandates-1402.xlsx")
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet.sheet_view.rightToLeft
    assert next(sheet.iter_rows(values_only=True))[1] == "agency_code"
    assert client.get("/dashboard/export/months.pdf").status_code == 422


def test_open_data_is_aggregates_only(client: TestClient, demo: Session) -> None:
    response = client.get("/api/v1/open-data")
    assert response.status_code == 200
    data = response.json()
    assert data["licence"] == "CC-BY-4.0"
    assert {m["jalali_month"] for m in data["months"] if m["jalali_year"] == 1402} == set(range(1, 10))
    assert [m["fiscal_year"] for m in data["mandates"]][:3] == [1401, 1402, 1403]
    assert not re.search(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-", response.text)  # no pseudonyms
    assert "visitor" not in response.text
    assert client.get("/api/v1/open-data?year=1402").json()["mandates"][0]["fiscal_year"] == 1402
    assert "/api/v1/open-data" in client.get("/api/v1/openapi.json").json()["paths"]
