"""A citizen's whole journey in headless Chromium, on the demo data and the real registries and worker.

Search in Persian → log in with an SMS code → apply for a smart service → the request is decided with no
human → open the signed document → verify it publicly by its number → see in «my data» who read what.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from panjereh import seeding
from panjereh.app import create_app
from panjereh.core.config import Settings
from panjereh.core.db import make_sessionmaker, unit_of_work
from panjereh.registries.services import published_services
from tests.support import databases
from tests.support.markers import seeds_whole_demo
from tests.support.servers import free_port, running_server
from tests.web.csp import Watch, run_axe

pytestmark = [pytest.mark.browser, seeds_whole_demo]

DEMO_CITIZEN = ("0499370899", "09121234567")


@pytest.fixture(scope="module")
def demo_server(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """The portal on a fresh database with the whole demo dataset and an in-process job worker."""
    home = tmp_path_factory.mktemp("journey-home")
    port = free_port()
    journey = settings.model_copy(
        update={
            "home": home,
            "database_url": databases.fresh_database("journey", str(home)),
            "port": port,
            "public_url": f"http://127.0.0.1:{port}",
            "inprocess_worker": True,
        }
    )
    engine = databases.migrated_engine(journey.resolved_database_url)
    factory = make_sessionmaker(engine)
    for step in seeding.demo_steps(published_services(), "demo"):
        with unit_of_work(factory) as session:
            step.run(session, journey, lambda _n: None)
    engine.dispose()
    with running_server(create_app(journey), port=port) as url:
        yield url, home


def _arrive(page, pattern: str) -> None:
    """Wait for the page to reach `pattern`; if it stays elsewhere, say where and what it shows."""
    try:
        page.wait_for_url(re.compile(pattern))
    except PlaywrightTimeout:
        shown = page.locator("body").inner_text()[:800]
        raise AssertionError(f"expected {pattern}, stayed on {page.url}:\n{shown}") from None


def _last_code(home: Path) -> str:
    """The login code in the outbox: the portal's own worker sends it just after the request commits, so
    it may land a moment after the page that asks for it."""
    outbox, deadline = home / "outbox.jsonl", time.monotonic() + 10
    while True:
        lines = outbox.read_text(encoding="utf-8").splitlines() if outbox.exists() else []
        codes = [json.loads(line) for line in lines if '"identity.login_code"' in line]
        if codes:
            break
        assert time.monotonic() < deadline, "no login code reached the outbox"
        time.sleep(0.05)
    match = re.search(r"[0-9]{6,8}", codes[-1]["body_fa"])
    assert match, codes[-1]
    return match.group(0)


def test_a_citizen_gets_a_smart_certificate_end_to_end(browser, demo_server) -> None:
    url, home = demo_server
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    # Every page of the journey (signed in, a request deciding itself, the document) under the policy.
    watch = Watch(page)

    # Typed with Arabic Yeh and Kaf, as many keyboards do: still found.
    page.goto(url + "/services?q=" + "سوء پيشينه")
    assert page.locator("a[href='/services/no-criminal-record']").count() >= 1

    page.goto(url + "/login")
    page.fill("input[name=national_code]", DEMO_CITIZEN[0])
    page.fill("input[name=mobile]", DEMO_CITIZEN[1])
    page.locator("main form button[type=submit]").first.click()
    _arrive(page, r"/login/verify")
    page.fill("input[name=code]", _last_code(home))
    page.locator("main form button[type=submit]").first.click()
    _arrive(page, r"/window")  # the login lands on «my window»

    page.goto(url + "/services/no-criminal-record/apply")
    assert page.locator("main").inner_text().count("قوه قضاییه") >= 1  # the preview names who is asked
    assert "۱٬۱۵۰٬۰۰۰ ریال" in page.locator("#apply-fee").inner_text()  # the fee, in rials and tomans
    page.locator("main form button[type=submit]").first.click()
    _arrive(page, r"/account/requests/[0-9]+")
    request_url = page.url
    # A fee first: nothing is asked of the registries until it is paid at the gateway.
    page.wait_for_selector("[data-state=awaiting_payment]")
    page.set_viewport_size({"width": 390, "height": 844})  # the pay button on a phone: no sideways scroll
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.set_viewport_size({"width": 1280, "height": 900})
    callbacks: list[str] = []
    page.on("request", lambda sent: callbacks.append(sent.url) if "/payments/callback" in sent.url else None)
    page.locator("#pay").click()
    _arrive(page, r"/ipg/pay/")  # the simulated gateway's page
    assert "۱٬۱۵۰٬۰۰۰ ریال" in page.locator("#amount").inner_text()
    page.locator("button[value=pay]").click()
    _arrive(page, re.escape(request_url) + "$")  # back from the gateway, through the callback
    # The page refreshes itself while the platform decides; no human is involved.
    page.wait_for_selector("[data-state=approved]", timeout=30_000)
    page.wait_for_selector("[data-payment-state=settled] a.payment-receipt")
    assert len(callbacks) == 1
    # The same callback loaded a second time (a back button, a replay) is refused, and changes nothing.
    replay = browser.new_page()
    answer = replay.goto(callbacks[0])
    assert answer is not None and answer.status == 409
    assert "پیش‌تر" in replay.locator("#callback-refused").inner_text()
    replay.close()
    receipt_href = page.locator("a.payment-receipt").get_attribute("href")
    assert receipt_href and receipt_href.startswith("/documents/")
    # The timeline counts ۱. ۲. ۳., in the digits of every other number on a Persian page.
    marker = page.evaluate(
        "getComputedStyle(document.querySelector('.list-group-numbered > li'), '::before').content"
    )
    assert "persian" in marker, marker
    page.locator("a[href^='/documents/']:not(.payment-receipt)").first.click()
    page.wait_for_url(re.compile(r"/documents/[0-9]+"))
    number = page.url.rsplit("/", 1)[-1]
    assert page.locator("svg, img").count() >= 1  # the QR code

    # Anyone can check the document by its number; the national code is masked for the public.
    public = browser.new_page()
    public.goto(url + "/verify")
    public.fill("#verify-q", number)
    public.locator("#verify-form button[type=submit]").click()
    public.wait_for_load_state("networkidle")
    verdict = public.locator("main").inner_text()
    assert "معتبر" in verdict and DEMO_CITIZEN[0] not in verdict
    public.close()

    page.goto(url + "/account/data-access")
    ledger = page.locator("main table").inner_text()
    assert "گواهی عدم سوء پیشینه" in ledger  # why the judiciary's data was read
    violations = run_axe(page, "axe.run().then(r => r.violations.filter(v => v.impact === 'critical'))")
    assert violations == []
    assert errors == []
    for path in ("/dashboard", "/dashboard/agencies", "/account", "/account/requests", "/documents"):
        page.goto(url + path, wait_until="networkidle")
        assert watch.violations() == [], path
    assert [text for text in watch.console if "Content Security Policy" in text] == []
    page.close()


def test_a_citizen_withdraws_a_request_waiting_for_its_fee(browser, demo_server) -> None:
    """«انصراف از درخواست»: from the request page, through the confirmation step, to a closed request."""
    url, home = demo_server
    page = browser.new_page(viewport={"width": 390, "height": 844})  # on a phone
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    watch = Watch(page)
    page.goto(url + "/login")
    page.fill("input[name=national_code]", DEMO_CITIZEN[0])
    page.fill("input[name=mobile]", DEMO_CITIZEN[1])
    page.locator("main form button[type=submit]").first.click()
    _arrive(page, r"/login/verify")
    page.fill("input[name=code]", _last_code(home))
    page.locator("main form button[type=submit]").first.click()
    _arrive(page, r"/window")
    page.goto(url + "/services/no-criminal-record/apply")
    page.locator("main form button[type=submit]").first.click()
    _arrive(page, r"/account/requests/[0-9]+$")
    request_url = page.url
    page.wait_for_selector("[data-state=awaiting_payment]")
    page.locator("#withdraw").click()
    _arrive(page, r"/withdraw$")  # the confirmation step changes nothing yet
    assert "برگشت‌پذیر نیست" in page.locator("#withdraw-confirm").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.locator("#withdraw-submit").click()
    _arrive(page, re.escape(request_url) + "$")
    page.wait_for_selector("[data-state=withdrawn]")
    assert "انصراف" in page.locator("#withdrawn").inner_text()
    assert page.locator("#withdraw, #pay").count() == 0
    assert errors == [] and watch.violations() == []
    assert [text for text in watch.console if "Content Security Policy" in text] == []
