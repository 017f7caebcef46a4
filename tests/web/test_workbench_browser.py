"""The officer's workbench in headless Chromium at 390 px: the queue, the case, taking it and deciding
with reasons in Persian and English, on a page never wider than the phone (issue 16, item 6)."""

from __future__ import annotations

import random
from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session

from panjereh.core.config import Settings
from panjereh.core.cookies import SESSION_COOKIE
from panjereh.core.db import make_engine, make_sessionmaker
from panjereh.core.identifiers import make_national_code
from panjereh.delivery import loading, selectors, service
from panjereh.delivery.constants import RequestState
from panjereh.identity import sessions
from tests.support.factories import create_citizen, create_demo_agencies, create_officer, seed_exchange_data
from tests.web.csp import run_axe

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def live_db(live_settings: Settings, live_server: str) -> Iterator[Session]:
    engine = make_engine(live_settings.resolved_database_url)
    session = make_sessionmaker(engine)()
    yield session
    session.close()
    engine.dispose()


def _overflow(page) -> int:
    return int(page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth"))


def test_an_officer_works_a_case_on_a_phone(
    browser, live_server: str, live_db: Session, live_settings
) -> None:
    db = live_db
    rng = random.Random()
    applicant_code, officer_code = make_national_code(rng), make_national_code(rng)
    create_demo_agencies(db)  # an upsert: other browser tests may have made them
    # The directory first, as the seed does: publishing the definitions needs their agencies' grants for
    # the data services they read (the import records the demo's agreements). Idempotent as well.
    seed_exchange_data(db, live_settings)
    loading.sync_definitions(db)
    create_citizen(db, applicant_code, first="زهرا", last="کشاورز")
    create_officer(db, officer_code, "agriculture")
    officer_citizen = create_citizen(db, officer_code, first="مریم", last="کارشناس")
    request, _ = service.submit(
        db, live_settings, national_code=applicant_code, slug="farmer-card",
        inputs={"crop": "گندم", "area_hectares": "12"}, idempotency_key=f"browser-{applicant_code}",
    )  # fmt: skip
    # As the engine leaves a farmer card: evidence fetched, waiting for an officer.
    request.state = RequestState.IN_QUEUE
    request.facts = {
        "person": {"found": True, "first_name": "زهرا", "alive": True},
        "properties": {"found": False},
    }
    _, token = sessions.open_session(db, officer_citizen, level=2, amr=["otp"])
    db.commit()
    code = request.tracking_code

    context = browser.new_context(viewport=PHONE)
    context.add_cookies([{"name": SESSION_COOKIE, "value": token, "url": live_server}])
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{live_server}/agency/queue", wait_until="networkidle")
    item = page.locator(f'[data-code="{code}"]')
    assert item.count() == 1 and "زهرا کشاورز" in item.inner_text()
    assert _overflow(page) <= 0
    item.locator("a").click()
    page.wait_for_url(f"**/agency/queue/{code}")
    assert page.locator('[data-input="area_hectares"]').inner_text() == "۱۲"
    assert page.locator('[data-evidence="person"]').count() == 1
    assert _overflow(page) <= 0
    page.click("#take")
    page.wait_for_selector("#decision-form")
    assert _overflow(page) <= 0
    page.check("#decision-approve")
    page.fill("#text", "زمین و محصول تأیید شد")
    page.fill("#text-en", "Land and crop checked")
    page.click("#decision-form button[type=submit]")
    page.wait_for_selector('[data-state="approved"]')
    page.goto(f"{live_server}/agency/queue/{code}?lang=en", wait_until="networkidle")
    assert "Cultivated area (ha)" in page.content() and _overflow(page) <= 0
    critical = run_axe(page, "axe.run(document).then(r => r.violations.filter(v => v.impact === 'critical'))")
    assert critical == [] and errors == []
    context.close()
    db.expire_all()
    decided = selectors.request_by_tracking_code(db, code)
    assert decided.state == RequestState.APPROVED and decided.officer_national_code == officer_code
    assert decided.decision is not None and decided.decision["officer_reason_en"] == "Land and crop checked"
