"""What the accessibility statement (/accessibility) claims, checked in headless Chromium: the main pages in
Persian and English meet axe-core's WCAG 2.0/2.1/2.2 level A and AA rules with no violation, a service can
be rated with the keyboard alone, and the new pages fit a 390 px phone."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from panjereh.agencies import selectors as agency_selectors
from panjereh.core.config import Settings
from panjereh.core.cookies import SESSION_COOKIE
from panjereh.core.db import make_engine, make_sessionmaker, unit_of_work
from panjereh.feedback import selectors as feedback_selectors
from panjereh.identity import sessions
from panjereh.identity.selectors import get_citizen_by_national_code
from tests.support.factories import create_agency, create_card, create_citizen
from tests.web.csp import run_axe

pytestmark = pytest.mark.browser

CITIZEN = "1583250689"  # a registries persona of its own here: other browser tests sign in as others
SLUG = "a11y-permit"
WCAG = "['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa']"
PAGES = (
    "/",
    "/login",
    "/services",
    f"/services/{SLUG}",
    f"/services/{SLUG}/feedback",
    "/feedback",
    "/window",
    "/account/feedback",
    "/status",
    "/accessibility",
    "/no/such/page",
)


@pytest.fixture(scope="module")
def signed_in(live_server: str, live_settings: Settings) -> Iterator[dict[str, Any]]:
    """A service card of an agency of its own on the live server, and a session of a citizen."""
    engine = make_engine(live_settings.resolved_database_url)
    factory = make_sessionmaker(engine)
    with unit_of_work(factory) as session:
        if agency_selectors.find_agency_by_code(session, "a11y") is None:
            create_agency(session, "a11y")
            create_card(
                session, "a11y", slug=SLUG, title_fa="مجوز دسترس‌پذیری", title_en="Accessibility permit"
            )
        citizen = get_citizen_by_national_code(session, CITIZEN) or create_citizen(session, CITIZEN)
        token = sessions.open_session(session, citizen, level=2, amr=["otp"])[1]
    yield {"url": live_server, "token": token, "factory": factory}
    engine.dispose()


def _context(browser: Any, server: dict[str, Any], width: int = 1280) -> Any:
    context = browser.new_context(viewport={"width": width, "height": 900})
    context.add_cookies([{"name": SESSION_COOKIE, "value": server["token"], "url": server["url"]}])
    return context


@pytest.mark.parametrize("lang", ["fa", "en"])
def test_the_main_pages_meet_wcag_a_and_aa_rules(browser: Any, signed_in: dict[str, Any], lang: str) -> None:
    context = _context(browser, signed_in)
    page = context.new_page()
    found: dict[str, list[Any]] = {}
    for path in PAGES:
        separator = "&" if "?" in path else "?"
        response = page.goto(f"{signed_in['url']}{path}{separator}lang={lang}", wait_until="networkidle")
        assert response is not None and response.status in (200, 404), path
        assert page.get_attribute("html", "lang") == lang
        result = run_axe(
            page,
            f"axe.run(document, {{runOnly: {{type: 'tag', values: {WCAG}}}, resultTypes: ['violations']}})",
        )
        assert len(result["passes"]) > 10, path  # the rules ran (resultTypes trims only their details)
        violations = [
            (v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3]) for v in result["violations"]
        ]
        if violations:
            found[path] = violations
    assert found == {}
    context.close()


def test_a_service_is_rated_with_the_keyboard_alone(browser: Any, signed_in: dict[str, Any]) -> None:
    context = _context(browser, signed_in)
    page = context.new_page()
    page.goto(f"{signed_in['url']}/services/{SLUG}", wait_until="networkidle")
    for _ in range(120):  # Tab from the top of the page to the first star
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "stars-1":
            break
    assert page.evaluate("document.activeElement.id") == "stars-1"
    page.keyboard.press("Space")
    for _ in range(3):
        page.keyboard.press("ArrowDown")  # the next radio in the group, whatever the direction
    assert page.evaluate("document.activeElement.id") == "stars-4"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "rating-comment"
    page.keyboard.type("با صفحه‌کلید")
    page.keyboard.press("Tab")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "feedback=rated" in page.url
    assert page.locator("#feedback [role=status]").count() == 1
    with unit_of_work(signed_in["factory"], writes=False) as session:
        rating = feedback_selectors.rating_of(session, CITIZEN, SLUG)
        assert rating is not None and rating.stars == 4 and rating.comment == "با صفحه‌کلید"
    context.close()


def test_the_feedback_pages_fit_a_phone(browser: Any, signed_in: dict[str, Any]) -> None:
    context = _context(browser, signed_in, width=390)
    page = context.new_page()
    wide = {}
    for path in (
        f"/services/{SLUG}",
        f"/services/{SLUG}/feedback",
        "/feedback",
        "/account/feedback",
        "/status",
        "/accessibility",
    ):
        page.goto(signed_in["url"] + path, wait_until="load")
        width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        if width[0] > min(width[1], 390):
            wide[path] = width
    assert wide == {}
    context.close()
