"""The 1402 smart duty is measured from the published definitions, the catalog badge's own source: the
catalog API, the open data and the dashboard count the same smart cards, per agency and nationally."""

from __future__ import annotations

import re
from collections import Counter
from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from panjereh.analytics import selectors
from panjereh.analytics.seed import share_rows
from panjereh.analytics.shares import record_share
from panjereh.catalog import service as catalog_service
from panjereh.catalog.seed import load_flagship
from panjereh.core.jalali import from_jalali
from tests.analytics.test_pages import give_cards
from tests.support.factories import create_flagship_cards, derive_declared_smart


def _catalog(client: TestClient, **params: str) -> tuple[int, Counter[str]]:
    """How many cards the catalog API lists (with these filters), and how many per agency."""
    items: list[dict[str, object]] = []
    page = 1
    while True:
        body = client.get("/api/v1/services", params={**params, "per_page": "100", "page": str(page)}).json()
        items += body["items"]
        if page >= body["pages"]:
            return body["total"], Counter(str(item["agency"]["code"]) for item in items)  # type: ignore[index]
        page += 1


def _open_data(client: TestClient) -> dict[str, object]:
    [mandate] = client.get("/api/v1/open-data", params={"year": "1402"}).json()["mandates"]
    return mandate


def _assert_all_agree(client: TestClient) -> int:
    smart_total, smart_by_agency = _catalog(client, smart="true")
    cards_total, cards_by_agency = _catalog(client)
    mandate = _open_data(client)
    national = mandate["national"]["smart"]  # type: ignore[index]
    assert (national["smart_cards"], national["cards"]) == (smart_total, cards_total)
    assert national["share"] == pytest.approx(smart_total / cards_total)
    dashboard = {
        row["agency_code"]: row["results"]["smart"]
        for row in mandate["agencies"]  # type: ignore[attr-defined]
    }
    for code, cards in cards_by_agency.items():
        result = dashboard[code]
        assert result["source"] == "catalog-inventory", code
        assert round(result["value"] * cards) == smart_by_agency.get(code, 0), code
    html = client.get("/dashboard/mandates?year=1402").text
    shown = re.search(r'id="national-smart" data-smart="(\d+)" data-total="(\d+)"', html)
    assert shown and (int(shown.group(1)), int(shown.group(2))) == (smart_total, cards_total)
    return smart_total


def test_the_catalog_api_and_the_dashboard_count_the_same_smart_cards(
    client: TestClient, demo: Session
) -> None:
    create_flagship_cards(demo)
    derive_declared_smart(demo)
    give_cards(demo, {"justice": (2, 5), "ict": (1, 4)})
    demo.flush()
    before = _assert_all_agree(client)
    declared_smart = sum(record["maturity_level"] == 5 for record in load_flagship())
    assert (
        before == declared_smart + 3
    )  # the flagship cards declared smart and given a definition, and three more

    # Another card's definition derives level 5: the badge, the API and the dashboard move together.
    catalog_service.record_derived_maturities(demo, {"tax-card-0": (5, [])}, source="test")
    give_cards(demo, {"tax": (0, 2)})
    catalog_service.record_derived_maturities(demo, {"tax-card-1": (5, [])}, source="test")
    demo.flush()
    assert _assert_all_agree(client) == before + 1


def test_no_smart_share_is_modelled_and_a_stray_report_does_not_count_for_a_live_year(
    demo: Session,
) -> None:
    assert not [row for row in share_rows() if row["metric"] == "smart"]
    give_cards(demo, {"justice": (1, 4)})
    record_share(
        demo, agency_code="justice", metric="smart", period=from_jalali(1402, 9, 1), share=0.9, source="x"
    )
    report = selectors.mandate_report(demo, 1402, today=date(2026, 11, 1))
    justice = next(row for row in report.rows if row.agency_code == "justice")
    assert justice.results["smart"].value == pytest.approx(0.25)
    assert justice.results["smart"].figure is not None
    assert justice.results["smart"].figure.source == "catalog-inventory"
    assert report.national_smart is not None and report.national_smart.smart == 1


def test_an_earlier_year_keeps_its_dated_measurement(demo: Session) -> None:
    give_cards(demo, {"justice": (1, 4)})
    record_share(
        demo,
        agency_code="justice",
        metric="smart",
        period=from_jalali(1403, 9, 1),
        share=0.1,
        source="catalog-inventory",
    )
    report = selectors.mandate_report(demo, 1403, today=date(2026, 11, 1))
    justice = next(row for row in report.rows if row.agency_code == "justice")
    assert justice.results["smart"].value == pytest.approx(0.1)
    assert report.national_smart is None
