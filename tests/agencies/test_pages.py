"""Agency pages: the tree with connection badges, and each agency's figures and services."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

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
