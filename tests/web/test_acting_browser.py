"""In headless Chromium: the demo citizen switches to his daughter, applies for a service for her, and sees
it on his window marked as done for her (issue 14 item 5); the acting pages fit a phone and obey the CSP."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from panjereh.app import create_app
from panjereh.core.config import Settings
from panjereh.core.cookies import SESSION_COOKIE
from panjereh.core.db import make_sessionmaker, unit_of_work
from panjereh.delivery import loading
from panjereh.identity import sessions
from tests.support import databases
from tests.support.factories import DEMO_CITIZEN, create_citizen, seed_exchange_data
from tests.support.servers import free_port, running_server
from tests.web.csp import Watch

pytestmark = pytest.mark.browser

DAUGHTER = "0790419904"
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def acting_server(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The portal with the registries' data services, the service definitions and an in-process worker."""
    home = tmp_path_factory.mktemp("acting-home")
    port = free_port()
    acting = settings.model_copy(
        update={
            "home": home,
            "database_url": databases.fresh_database("acting", str(home)),
            "port": port,
            "public_url": f"http://127.0.0.1:{port}",
            "inprocess_worker": True,
        }
    )
    engine = databases.migrated_engine(acting.resolved_database_url)
    factory = make_sessionmaker(engine)
    with unit_of_work(factory) as session:
        seed_exchange_data(session, acting)
        loading.sync_definitions(session)
        citizen = create_citizen(session, DEMO_CITIZEN)
        token = sessions.open_session(session, citizen, level=2, amr=["otp"])[1]
    with running_server(create_app(acting), port=port) as url:
        yield {"url": url, "token": token}
    engine.dispose()


def _signed_in(browser: Any, server: dict[str, Any], **options: Any) -> Any:
    context = browser.new_context(**options)
    context.add_cookies([{"name": SESSION_COOKIE, "value": server["token"], "url": server["url"]}])
    return context


def test_a_father_applies_for_his_daughter_and_sees_it_on_his_window(
    browser: Any, acting_server: dict[str, Any]
) -> None:
    url = acting_server["url"]
    context = _signed_in(browser, acting_server, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    watch = Watch(page)

    page.goto(url + "/window")
    page.locator("#acting-switch").click()
    page.wait_for_url(re.compile(r"/account/acting"))
    daughter = page.locator(f"input[name=on_behalf_of][value='person:{DAUGHTER}']")
    assert "زهرا رضایی" in page.locator("main").inner_text()
    daughter.check()
    page.locator("main form button[type=submit]").first.click()
    page.wait_for_url(re.compile(r"/account/acting"))
    assert "اکنون از طرف زهرا رضایی" in page.locator("#acting-now").inner_text()

    page.goto(url + "/services/student-enrollment/apply")
    chosen = page.locator("#on-behalf-of").input_value()
    assert chosen == f"person:{DAUGHTER}"  # the switch's choice is preselected
    page.locator("main form button[type=submit]").first.click()
    page.wait_for_url(re.compile(r"/account/requests/[0-9]+"))
    page.wait_for_selector("[data-state=approved]", timeout=30_000)
    assert "ثبت‌شده توسط علی رضایی از طرف زهرا رضایی" in page.locator("#on-behalf").inner_text()
    code = page.url.rsplit("/", 1)[-1]

    page.goto(url + "/account/requests")
    assert (
        code in page.locator("main").inner_text().replace("-", "")
        or page.locator(f"a[href='/account/requests/{code}']").count() == 1
    )
    page.goto(url + "/account/acting")
    mine = page.locator("#acts-by-me").inner_text()
    assert "از طرف زهرا رضایی" in mine and "گواهی اشتغال به تحصیل" in mine
    assert page.locator(f"#subject-requests a[href='/account/requests/{code}']").count() == 1
    page.goto(url + "/window")
    assert page.locator("#acting-switch").count() == 1
    assert errors == []
    assert watch.violations() == []
    context.close()


def test_the_acting_pages_fit_a_phone(browser: Any, acting_server: dict[str, Any]) -> None:
    context = _signed_in(browser, acting_server, viewport=PHONE, has_touch=True)
    page = context.new_page()
    watch = Watch(page)
    wide = {}
    for path in (
        "/account/acting",
        "/account/delegations",
        "/services/student-enrollment/apply",
        "/account/acting?lang=en",
    ):
        response = page.goto(acting_server["url"] + path, wait_until="load")
        assert response is not None and response.status == 200, path
        width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        if width[0] > min(width[1], PHONE["width"]):
            wide[path] = width
    assert wide == {}
    assert watch.violations() == []
    context.close()
