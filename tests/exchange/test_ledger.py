"""The citizen's data-access ledger: every look at their data, and only theirs."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
import redis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from panjereh.core.config import Settings
from panjereh.core.db import utcnow
from panjereh.exchange import selectors
from tests.identity import helpers
from tests.support.factories import create_grant


@pytest.fixture
def clean_login_counters(settings: Settings) -> Iterator[None]:
    """Logging in counts against Redis rate limits that outlive the test's transaction: clear them."""
    yield
    if settings.redis_url:
        client = redis.Redis.from_url(settings.redis_url)
        for key in client.scan_iter(f"{settings.redis_prefix}rl:*"):
            client.delete(key)


def _look(
    app: FastAPI, code: str, purpose: str, service: str = "police.vehicles", case: str | None = None
) -> str:
    result = app.state.exchange.inquire(
        service, subject=code, purpose=purpose, case=case, path_params={"national_code": code}
    )
    assert result.status in (200, 404)
    return str(result.message_id)


def test_each_citizen_sees_only_their_own_ledger(
    app: FastAPI, client: TestClient, seeded: Session, settings: Settings, clean_login_counters: None
) -> None:
    mine = _look(app, helpers.DEMO_CODE, "vehicle-ownership", case="TRK-1")
    theirs = _look(app, helpers.CONVICTED_CODE, "someone-else")
    helpers.login(
        client, settings
    )  # the login's own Shahkar and civil-registry checks land in the ledger too
    page = client.get("/account/data-access")
    assert page.status_code == 200
    # The case column is shown in Persian digits on a Persian page (issue 14, item 9).
    assert mine in page.text and "TRK-۱" in page.text
    assert theirs not in page.text and "someone-else" not in page.text
    api = client.get("/api/v1/exchange/my-data").json()
    ids = {row["message_id"] for row in api}
    assert mine in ids and theirs not in ids
    services = {row["service_code"] for row in api}
    assert {"shahkar.match", "civil-registry.person"} & services  # the platform's own login checks
    assert all(row["client_agency_code"] == "ito" for row in api)


def test_the_ledger_page_needs_a_signed_in_citizen(client: TestClient) -> None:
    page = client.get("/account/data-access", headers={"accept": "text/html"}, follow_redirects=False)
    assert page.status_code in (302, 303, 307) and "/login" in page.headers["location"]
    assert client.get("/api/v1/exchange/my-data").status_code == 401


def test_filters_by_agency_service_and_time(app: FastAPI, seeded: Session, client: TestClient) -> None:
    code = helpers.DEMO_CODE
    _look(app, code, "a", service="police.vehicles")
    _look(app, code, "b", service="police.driving-licence")
    create_grant(seeded, "tax", "police.vehicles", ["tax-audit"])
    from panjereh.exchange.pipeline import Caller

    exchange = app.state.exchange.exchange
    call = exchange.prepare(
        Caller("tax-system", "tax", 100),
        "police.vehicles",
        path_params={"national_code": code},
        subject=code,
        purpose="tax-audit",
        case=None,
        timeout=None,
    )
    exchange.finish(call, exchange.forward_sync(call))
    everything = selectors.ledger_for_subject(seeded, code)
    assert [row.purpose for row in everything][:3] == ["tax-audit", "b", "a"]
    by_agency = selectors.ledger_for_subject(seeded, code, agency="tax")
    assert [row.purpose for row in by_agency] == ["tax-audit"]
    assert by_agency[0].client_agency_fa.startswith("سازمان امور مالیاتی")
    by_service = selectors.ledger_for_subject(seeded, code, service="police.driving-licence")
    assert [row.purpose for row in by_service] == ["b"]
    later = selectors.ledger_for_subject(seeded, code, since=utcnow() + timedelta(minutes=1))
    assert later == []
    assert selectors.ledger_for_subject(seeded, "۰۴۹۹۳۷۰۸۹۹")[0].purpose == "tax-audit"  # Persian digits


def test_the_account_page_links_to_the_ledger(
    client: TestClient, seeded: Session, settings: Settings, clean_login_counters: None
) -> None:
    helpers.login(client, settings)
    page = client.get("/account")
    assert page.status_code == 200
    assert 'href="/account/data-access"' in page.text


def test_out_of_range_paging_and_dates_are_refused_or_ignored_not_overflowed(
    client: TestClient, seeded: Session, settings: Settings, clean_login_counters: None
) -> None:
    helpers.login(client, settings)
    for query in (
        "offset=9223372036854775808",
        "offset=1000001",
        "since=9999-12-31T00:00:00",
        "until=0001-01-01",
        # Numbers pydantic would read as seconds since 1970 (the signed-in fuzz run found `until=0.5`).
        "until=0.5",
        "since=1700000000",
        "since=1e3",
    ):
        response = client.get(f"/api/v1/exchange/my-data?{query}")
        assert response.status_code == 422 and response.json()["code"] == "client.validation", query
    assert client.get("/api/v1/exchange/my-data?since=2024-01-01T00:00:00").status_code == 200  # naive is UTC
    # The page's filters are typed by hand (Jalali or Gregorian): a date past 2200 is not understood.
    for day in ("9999-12-31", "1300-01-01", "99999999999999999999-01-01"):
        page = client.get(f"/account/data-access?from={day}&to={day}")
        assert page.status_code == 200, day
    assert client.get("/account/data-access?page=9223372036854775808").status_code == 422


def test_an_inquiry_retried_for_one_case_is_one_look_with_its_count(
    app: FastAPI, client: TestClient, seeded: Session, settings: Settings, clean_login_counters: None
) -> None:
    code = helpers.DEMO_CODE
    retried = [_look(app, code, "delivery:farmer-card", case="TRK-9") for _ in range(3)]
    _look(app, code, "delivery:farmer-card", case="TRK-10")  # another case: another look
    _look(app, code, "no-case")
    _look(app, code, "no-case")  # without a case, each is a look of its own
    app.state.exchange.flush()
    rows = [row for row in selectors.ledger_for_subject(seeded, code) if row.client_agency_code == "ito"]
    by_case = [row for row in rows if row.case_ref == "TRK-9"]
    assert len(by_case) == 1 and by_case[0].count == 3
    first_at = by_case[0].first_at
    assert by_case[0].message_id == retried[-1] and first_at is not None and first_at <= by_case[0].at
    assert [row.count for row in rows if row.case_ref == "TRK-10"] == [1]
    assert [row.count for row in rows if row.purpose == "no-case"] == [1, 1]
    assert selectors.ledger_count(seeded, code) == len(selectors.ledger_for_subject(seeded, code))
    assert len(selectors.ledger_for_subject(seeded, code, limit=2)) == 2  # pages count looks, not entries
    helpers.login(client, settings)
    api = client.get("/api/v1/exchange/my-data").json()
    assert [row["count"] for row in api if row["case_ref"] == "TRK-9"] == [3]
    page = client.get("/account/data-access").text
    assert "۳ بار" in page
