"""Catalog pages: life events, search without JavaScript and with htmx, the service card, both languages."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from panjereh.catalog import service
from panjereh.catalog.seed import load_flagship
from panjereh.core.persian import to_persian_digits
from tests.support.factories import create_card

pytestmark = pytest.mark.usefixtures("flagship")
FLAGSHIP = load_flagship()


def test_catalog_home_groups_services_by_life_event(client: TestClient) -> None:
    html = client.get("/services").text
    assert '<html lang="fa" dir="rtl">' in html
    assert (
        "خدمات به ترتیب رویدادهای زندگی" in html
        and f"{to_persian_digits(str(len(FLAGSHIP)))} خدمت در فهرست ملی ثبت شده است." in html
    )
    assert 'href="/services?life_event=documents"' in html and "مدارک و گواهی‌ها" in html
    assert 'href="/services/no-criminal-record"' in html
    assert 'role="search"' in html and 'hx-get="/services"' in html and 'for="catalog-q"' in html


@pytest.mark.usefixtures("smart_flagship")
def test_search_works_without_javascript(client: TestClient) -> None:
    html = client.get("/services", params={"q": "كارت کشاورزي"}).text
    assert "۱ خدمت پیدا شد" in html and 'href="/services/farmer-card"' in html
    assert 'value="كارت کشاورزي"' in html  # the query is kept in the box
    html = client.get("/services", params={"smart": "true", "life_event": "property"}).text
    assert "۱ خدمت پیدا شد" in html and "vehicle-ownership" in html and "checked" in html
    html = client.get("/services", params={"q": "هیچ‌چیز-ناموجود"}).text
    assert "خدمتی با این مشخصات پیدا نشد" in html


def test_htmx_gets_only_the_results_fragment(client: TestClient) -> None:
    response = client.get("/services", params={"q": "سيم"}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<div id="results"') and "<html" not in response.text
    assert "my-sim-cards" in response.text


def test_results_are_paged_with_links(client: TestClient) -> None:
    online = sum(record["maturity_level"] >= 3 for record in FLAGSHIP)
    assert online <= 20  # fits on one page
    html = client.get("/services", params={"online": "true"}).text
    assert f"{to_persian_digits(str(online))} خدمت پیدا شد" in html and 'rel="next"' not in html
    html = client.get("/services", params={"page": "0"}).text
    assert "درخواست معتبر نیست" in html


def test_junk_filters_in_a_url_are_ignored(client: TestClient) -> None:
    response = client.get(
        "/services", params={"agency": "<script>", "life_event": "x", "channel": "fax", "q": "<b>"}
    )
    assert response.status_code == 200 and "<b>" not in response.text and "&lt;b&gt;" in response.text


def test_service_card_page(client: TestClient, db: Session) -> None:
    html = client.get("/services/no-criminal-record").text
    assert "گواهی عدم سوء پیشینهٔ کیفری" in html and "۱۱۰۳۰۱۰۰۰۰۱" in html
    # Declared smart, but no published definition derives it yet: no badge, no start button.
    assert "badge-smart" not in html and "badge-online" in html
    assert "آنچه لازم است" in html and "سجل کیفری" in html and "مبنای قانونی" in html
    assert "۱٬۱۵۰٬۰۰۰" in html and "بی‌درنگ" in html and "پیشخوان دولت" in html
    assert "/services/no-criminal-record/apply" not in html  # not executable until delivery derives a level
    service.record_derived_maturity(db, "no-criminal-record", 5, source="delivery", flags=[])
    html = client.get("/services/no-criminal-record").text
    assert 'href="/services/no-criminal-record/apply"' in html and "شروع خدمت" in html
    assert "badge-smart" in html
    farmer = client.get("/services/farmer-card").text
    assert "حضوری" in farmer and "badge-smart" not in farmer and "۱ بار" in farmer


def test_service_card_in_english(client: TestClient) -> None:
    html = client.get("/services/no-criminal-record", params={"lang": "en"}).text
    assert '<html lang="en" dir="ltr">' in html
    assert "Certificate of no criminal record" in html and "What it needs" in html and "Legal basis" in html
    assert "1,150,000" in html and "Instant" in html
    # English commas, also between the day and the clock in the history (the Persian ones are for fa).
    assert "Web, Mobile app, Government counter" in html
    assert re.search(r"Version 1 — \d+ [A-Z][a-z]+ \d{4}, \d\d:\d\d —", html)
    assert '<p lang="fa" dir="rtl">گواهی رسمی قوه قضاییه' in html  # Persian-only text, marked so


def test_service_card_lists_channels_with_the_persian_comma(client: TestClient) -> None:
    assert "وب، اپلیکیشن، پیشخوان دولت" in client.get("/services/no-criminal-record").text


def test_unknown_service_page_is_a_persian_error(client: TestClient) -> None:
    response = client.get("/services/nothing-here", headers={"accept": "text/html"})
    assert response.status_code == 404 and "چنین خدمتی در فهرست ملی خدمات نیست" in response.text


def test_card_history_names_who_changed_it(client: TestClient, db: Session) -> None:
    service.record_derived_maturity(db, "no-criminal-record", 5, source="delivery-definition", flags=[])
    fa = client.get("/services/no-criminal-record", params={"lang": "fa"}).text
    assert "derived:" not in fa
    assert "بارگذاری دادهٔ نمونه" in fa and "سامانه: سطح بلوغ برگرفته از تعریف اجرایی خدمت" in fa
    en = client.get("/services/no-criminal-record", params={"lang": "en"}).text
    assert "derived:" not in en
    assert "Demo data load" in en and "System: maturity derived from the executable service definition" in en
    client.cookies.clear()


def test_card_history_shows_a_persons_id_as_it_is(client: TestClient, db: Session) -> None:
    card = create_card(db, title_fa="خدمت ویرایش‌شده")
    assert '<span class="ltr">test</span>' in client.get(f"/services/{card.slug}").text
