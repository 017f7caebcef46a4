"""The home page: Persian and right-to-left by default, English on request, accessible landmarks."""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

from fastapi.testclient import TestClient


def test_home_is_persian_rtl_with_landmarks(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    html = response.text
    assert '<html lang="fa" dir="rtl">' in html
    assert 'class="skip-link" href="#main"' in html
    assert '<main id="main"' in html and 'role="banner"' in html and 'role="contentinfo"' in html
    assert "پنجره ملی خدمات دولت هوشمند" in html
    for target in ('href="/services"', 'href="/login"', 'href="/dashboard"'):
        assert target in html


def test_english_locale_through_the_message_catalog(client: TestClient) -> None:
    response = client.get("/?lang=en")
    assert '<html lang="en" dir="ltr">' in response.text
    assert "National Window of Smart Government Services" in response.text
    assert response.cookies.get("lang") == "en"
    # The choice is remembered on the next page.
    assert '<html lang="en" dir="ltr">' in client.get("/").text


def test_english_browser_still_gets_persian_by_default(client: TestClient) -> None:
    response = client.get("/", headers={"accept-language": "en-US,en;q=0.9"})
    assert 'lang="fa"' in response.text


def test_unknown_locale_falls_back_to_persian(client: TestClient) -> None:
    assert 'lang="fa"' in client.get("/?lang=xx").text


def test_the_language_switch_keeps_the_search(client: TestClient) -> None:
    def switch_link(html: str, hreflang: str) -> str:
        match = re.search(rf'href="([^"]*)" lang="{hreflang}" hreflang="{hreflang}"', html)
        assert match is not None
        return unescape(match.group(1))

    html = client.get("/services", params={"q": "گواهی", "smart": "true", "lang": "fa"}).text
    link = switch_link(html, "en")
    assert parse_qs(urlsplit(link).query) == {"q": ["گواهی"], "smart": ["true"], "lang": ["en"]}
    english = client.get("/services" + link).text
    assert '<html lang="en" dir="ltr">' in english and 'value="گواهی"' in english
    back = switch_link(english, "fa")
    assert parse_qs(urlsplit(back).query) == {"q": ["گواهی"], "smart": ["true"], "lang": ["fa"]}
