"""The wallet and sharing in headless Chromium, on a phone-sized screen, over real HTTP and the registries.

The demo citizen fetches his civil-registry record into the wallet, shares only «over 18» from it (the link
shown once on the share's page; a reload shows the share, not a second one, and not the link); a second
browser (a bank, signed out) opens the link and sees the claim; the citizen sees the opening, revokes the
share, and the bank sees it revoked. Every page stays within 390 px and meets no CSP violation.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from panjereh.app import create_app
from panjereh.core.config import Settings
from panjereh.core.cookies import SESSION_COOKIE
from panjereh.core.db import make_sessionmaker, unit_of_work
from panjereh.identity import sessions
from tests.support import databases
from tests.support.factories import DEMO_CITIZEN, create_citizen, seed_exchange_data
from tests.support.servers import free_port, running_server
from tests.web.csp import Watch, run_axe

pytestmark = [pytest.mark.browser]

PHONE = {"width": 390, "height": 844}
WCAG = "['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa']"


@pytest.fixture(scope="module")
def wallet_server(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The portal on a fresh database with the agencies, the data services and the demo citizen."""
    home = tmp_path_factory.mktemp("wallet-home")
    port = free_port()
    live = settings.model_copy(
        update={
            "home": home,
            "database_url": databases.fresh_database("wallet_browser", str(home)),
            "port": port,
            "public_url": f"http://127.0.0.1:{port}",
        }
    )
    engine = databases.migrated_engine(live.resolved_database_url)
    factory = make_sessionmaker(engine)
    with unit_of_work(factory) as session:
        seed_exchange_data(session, live)
    with unit_of_work(factory) as session:
        citizen = create_citizen(session, DEMO_CITIZEN)
        token = sessions.open_session(session, citizen, level=2, amr=["otp"])[1]
    with running_server(create_app(live), port=port) as url:
        yield {"url": url, "token": token}
    engine.dispose()


def _fits(page: Any) -> None:
    """No horizontal scroll at 390 px, and axe-core finds no WCAG A/AA violation."""
    width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= min(width[1], PHONE["width"]), (page.url, width)
    result = run_axe(page, f"axe.run(document, {{runOnly: {{type: 'tag', values: {WCAG}}}}})")
    assert len(result["passes"]) > 10, page.url
    assert [(v["id"], [n["target"] for n in v["nodes"]][:3]) for v in result["violations"]] == [], page.url


def test_share_over_18_open_it_as_a_bank_then_revoke(browser: Any, wallet_server: dict[str, Any]) -> None:
    url = wallet_server["url"]
    citizen_context = browser.new_context(viewport=PHONE, has_touch=True)
    citizen_context.add_cookies([{"name": SESSION_COOKIE, "value": wallet_server["token"], "url": url}])
    citizen = citizen_context.new_page()
    watch = Watch(citizen)

    citizen.goto(f"{url}/documents", wait_until="load")
    _fits(citizen)
    citizen.locator("#wallet-pull-identity").click()
    citizen.wait_for_selector("#wallet-pulled[data-result='issued']")
    _fits(citizen)
    citizen.locator(".wallet-item[data-type='wallet.identity'] a.fw-bold").click()
    citizen.wait_for_selector("#document-share")
    assert "تاریخ تولد" in citizen.content()
    citizen.locator("#document-share").click()
    citizen.wait_for_selector("#share-form")
    _fits(citizen)
    citizen.locator("#claim-over_18").check()
    citizen.locator("#share-recipient").fill("بانک ملت")
    citizen.locator("#share-form button[type='submit']").click()
    citizen.wait_for_selector("#share-link")  # after the redirect: the share's own page, the link once
    _fits(citizen)
    link = citizen.locator("#share-link").input_value()
    assert link.startswith(f"{url}/shared/")
    share_page = citizen.url
    assert "/shares/" in share_page and citizen.locator("#share-link-once").count() == 1
    citizen.reload(wait_until="load")  # a reload: the same share, not a second one, and not its link
    assert citizen.url == share_page and citizen.locator("#share-link").count() == 0
    assert citizen.locator("#share-link-hidden").count() == 1
    citizen.goto(share_page.rsplit("/shares/", 1)[0] + "/share", wait_until="load")
    assert citizen.locator(".share-item").count() == 1  # one share made, however often the page reloads

    bank_context = browser.new_context(viewport=PHONE)  # a second browser: no session, no cookies
    bank = bank_context.new_page()
    bank_watch = Watch(bank)
    response = bank.goto(link, wait_until="load")
    assert response is not None and response.status == 200
    assert bank.locator("#shared-status").get_attribute("data-status") == "valid"
    claims = bank.locator(".shared-claims").inner_text()
    assert "بالای ۱۸ سال" in claims and "بله" in claims
    body = bank.locator("main").inner_text() if bank.locator("main").count() else bank.content()
    assert "۱۳۶۴" not in body and "1985" not in body and "علی" not in claims  # the birth date stays hidden
    _fits(bank)
    english = bank.goto(f"{link}?lang=en", wait_until="load")
    assert english is not None and english.status == 200
    assert "Over 18" in bank.locator(".shared-claims").inner_text()

    citizen.goto(share_page, wait_until="load")
    citizen.wait_for_selector("#share-openings")
    assert citizen.locator(".share-opening").count() == 2  # the Persian and the English look
    citizen.locator("#share-revoke").click()
    citizen.wait_for_selector("#share-revoked-at")
    _fits(citizen)
    citizen.goto(f"{url}/window", wait_until="load")
    assert citizen.locator("#window-shares").count() == 0  # no active share left

    refused = bank.goto(link, wait_until="load")
    assert refused is not None and refused.status == 410
    assert bank.locator("#shared-status").get_attribute("data-status") == "revoked"
    assert bank.locator(".shared-claims").count() == 0

    assert watch.violations() == [] and bank_watch.violations() == []
    assert [line for line in watch.console + bank_watch.console if "Content Security Policy" in line] == []
    citizen_context.close()
    bank_context.close()
