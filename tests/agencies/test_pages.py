"""Agency pages: the tree with connection badges, and each agency's figures and services."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from panjereh.agencies.service import load_agency_records

pytestmark = pytest.mark.usefixtures("flagship")


def test_agency_tree_shows_hierarchy_and_status(client: TestClient) -> None:
    html = client.get("/agencies").text
    assert "دستگاه‌های اجرایی" in html and "۴۱ دستگاه" in html
    assert 'href="/agencies/agriculture"' in html and 'href="/agencies/agri-ivo"' in html
    # The subsidiary is nested inside its ministry's list item.
    ministry = html.index('href="/agencies/agriculture"')
    assert ministry < html.index('href="/agencies/agri-ivo"') < html.index('href="/agencies/roads"')
    assert "text-bg-danger" in html and "قطع" in html  # welfare
    assert "خارج از استاندارد؛ در حال اتصال دوباره" in html


def test_agency_page_with_figures_and_services(client: TestClient) -> None:
    html = client.get("/agencies/police").text
    assert "فرماندهی انتظامی" in html and 'href="/services/vehicle-ownership"' in html
    assert "۱۰۰٪" in html  # both police cards are online
    ivo = client.get("/agencies/agri-ivo").text
    assert 'href="/agencies/agriculture"' in ivo and "text-bg-warning" in ivo
    assert "هنوز خدمتی از این دستگاه در فهرست ملی ثبت نشده است." in ivo


def test_agency_pages_in_english_and_unknown(client: TestClient) -> None:
    assert "Ministry of Agriculture Jihad" in client.get("/agencies/agriculture", params={"lang": "en"}).text
    client.cookies.clear()  # back to Persian
    response = client.get("/agencies/atlantis", headers={"accept": "text/html"})
    assert response.status_code == 404 and "چنین دستگاهی ثبت نشده است" in response.text


@pytest.mark.demo_catalog
def test_agency_page_shows_its_description_contacts_and_figures(client: TestClient) -> None:
    html = client.get("/agencies/ict", params={"lang": "fa"}).text
    assert "راه‌های ارتباط" in html and "دولت هوشمند و پنجرهٔ ملی خدمات" in html
    assert 'href="https://ict.gov.ir"' in html and ">ict.gov.ir</a>" in html
    assert 'href="mailto:info@ict.gov.ir"' in html
    assert 'href="tel:+982188111000"' in html and "+۹۸ ۲۱ ۸۸۱۱ ۱۰۰۰" in html
    english = client.get("/agencies/ict", params={"lang": "en"}).text
    assert "Contacts" in english and "Website" in english and "Phone" in english
    assert "+98 21 8811 1000" in english
    assert "97%" in english and "٪" not in english  # ICT's share through the window, with the English sign
    assert "۹۷٪" in html
    # The description is written in Persian only: it is marked so on the English page.
    assert '<p lang="fa" dir="rtl">ارتباطات، پست و فناوری اطلاعات' in english
    client.cookies.clear()


def test_every_demo_agency_has_a_website_and_a_description() -> None:
    records = load_agency_records()
    assert all(r.get("website", "").startswith("https://") and r.get("description_fa") for r in records)
    assert all(r.get("contact_email") and r.get("contact_phone") for r in records)
