"""Every main page runs under the content security policy in headless Chromium without a violation."""

from __future__ import annotations

import pytest

from tests.web.csp import Watch, run_axe

pytestmark = pytest.mark.browser

PAGES = [
    "/",
    "/?lang=en",
    "/login",
    "/services",
    "/services?q=گواهی",
    "/agencies",
    "/verify",
    "/verify?q=not-a-document",
    "/verify/keys",
    "/dashboard",
    "/dashboard/agencies",
    "/dashboard/mandates",
    "/exchange/services",
    "/no/such/page",
]


def test_the_main_pages_meet_no_policy_violation(browser, live_server: str) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    watch = Watch(page)
    met: dict[str, list[str]] = {}
    for path in PAGES:
        response = page.goto(live_server + path, wait_until="networkidle")
        assert response is not None
        assert "script-src 'self'" in response.headers["content-security-policy"], path
        assert page.evaluate("document.readyState") == "complete"
        if found := watch.violations():
            met[path] = found
    assert met == {}
    assert [text for text in watch.console if "Content Security Policy" in text or "Refused" in text] == []
    page.close()


def test_an_inline_script_would_be_refused_and_reported(browser, live_server: str) -> None:
    # The watch itself can fail: a script injected into the page is blocked and seen.
    page = browser.new_page()
    watch = Watch(page)
    page.goto(live_server + "/login", wait_until="networkidle")
    page.evaluate(
        """() => { const s = document.createElement("script"); s.textContent = "window.__ran = 1";
                   document.body.appendChild(s); }"""
    )
    page.wait_for_function("(window.__cspViolations || []).length > 0")
    assert page.evaluate("window.__ran") is None
    assert any(v.startswith("script-src") for v in watch.violations())
    page.close()


def test_axe_still_runs_under_the_policy(browser, live_server: str) -> None:
    page = browser.new_page()
    page.goto(live_server + "/verify", wait_until="networkidle")
    result = run_axe(page, "axe.run(document, {resultTypes: ['violations']})")
    assert "violations" in result
    page.close()
