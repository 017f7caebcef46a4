"""Home and error pages in headless Chromium: right-to-left, no console errors, no serious axe violations."""

from __future__ import annotations

import pytest

from tests.web.csp import run_axe

pytestmark = pytest.mark.browser


def _open(browser, url: str, width: int = 1280):
    page = browser.new_page(viewport={"width": width, "height": 900})
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(url, wait_until="networkidle")
    return page, errors


def _serious_axe_violations(page) -> list[dict]:
    result = run_axe(page, "axe.run(document, {resultTypes: ['violations']})")
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:3]}
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def test_home_page_is_rtl_clean_and_accessible(browser, live_server: str) -> None:
    page, errors = _open(browser, live_server + "/")
    assert page.get_attribute("html", "dir") == "rtl"
    assert page.get_attribute("html", "lang") == "fa"
    font = page.evaluate("getComputedStyle(document.body).fontFamily")
    assert "Vazirmatn" in font
    assert errors == []
    assert _serious_axe_violations(page) == []
    page.close()


@pytest.mark.parametrize("lang", ["fa", "en"])
def test_error_page_is_accessible(browser, live_server: str, lang: str) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    response = page.goto(f"{live_server}/no/such/page?lang={lang}", wait_until="networkidle")
    assert response is not None and response.status == 404
    assert page.locator("code").count() == 2  # the error code and the request id, on the alert's colour
    assert errors == []
    assert _serious_axe_violations(page) == []
    page.close()


def test_home_page_fits_a_phone(browser, live_server: str) -> None:
    page, errors = _open(browser, live_server + "/", width=360)
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"page scrolls sideways by {overflow}px on a 360px phone"
    assert errors == []
    page.close()


def test_skip_link_moves_focus_to_main(browser, live_server: str) -> None:
    page, _errors = _open(browser, live_server + "/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    page.close()
