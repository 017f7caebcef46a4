"""An agency authors a smart service in the browser and the demo citizen uses it, in headless Chromium:
a designer starts a definition from a template, its tests pass on the real engine as the page checks it
live, a reviewer (a second person, level 2) publishes it, the demo citizen applies, and the published
version decides (the request records it)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from sqlalchemy import Engine

from panjereh.app import create_app
from panjereh.core.config import Settings
from panjereh.core.cookies import SESSION_COOKIE
from panjereh.core.db import make_sessionmaker, unit_of_work
from panjereh.delivery import selectors as delivery_selectors
from panjereh.exchange import service as exchange_service
from panjereh.exchange.seed import seed_exchange
from panjereh.identity import sessions
from panjereh.registries.services import published_services
from panjereh.staff.constants import Role
from panjereh.web.authoring.pages import JDM_BUNDLE
from tests.support import databases
from tests.support.factories import create_citizen, create_demo_agencies, create_staff
from tests.support.servers import free_port, running_server
from tests.web.conftest import AXE

pytestmark = pytest.mark.browser

AGENCY = "police"
DESIGNER, REVIEWER, CITIZEN = "0067749828", "0076229645", "0499370899"
SLUG = "driving-licence-certificate"


@dataclass
class Workspace:
    url: str
    engine: Engine
    tokens: dict[str, str]


@pytest.fixture(scope="module")
def workspace(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    """The portal on a fresh database: the demo agencies, the registries' data services, a designer and a
    reviewer of the police, the demo citizen, each with a level-2 session; an in-process job worker."""
    home = tmp_path_factory.mktemp("authoring-home")
    port = free_port()
    live = settings.model_copy(
        update={
            "home": home,
            "database_url": databases.fresh_database("authoring", str(home)),
            "port": port,
            "public_url": f"http://127.0.0.1:{port}",
            "inprocess_worker": True,
        }
    )
    engine = databases.migrated_engine(live.resolved_database_url)
    factory = make_sessionmaker(engine)
    tokens = {}
    with unit_of_work(factory) as session:
        create_demo_agencies(session)
        seed_exchange(session, live, lambda _n: None, published=published_services())
        create_staff(session, DESIGNER, AGENCY, Role.DESIGNER)
        create_staff(session, REVIEWER, AGENCY, Role.REVIEWER)
        # The template asks the civil registry who the applicant is: publishing needs the police to hold
        # that grant (police.driving-licence is its own).
        exchange_service.record_agreements(
            session, {(AGENCY, "civil-registry.person"): [f"delivery:{SLUG}"]}, legal_basis="test", by="test"
        )
        for code in (DESIGNER, REVIEWER, CITIZEN):
            _, tokens[code] = sessions.open_session(
                session, create_citizen(session, code), level=2, amr=["otp"]
            )
    with running_server(create_app(live), port=port) as url:
        yield Workspace(url, engine, tokens)
    engine.dispose()


# Every content-security-policy violation a page meets, kept on the window for the test to read.
WATCH_CSP = (
    "window.cspViolations = [];"
    "document.addEventListener('securitypolicyviolation',"
    " e => window.cspViolations.push(e.violatedDirective + ' ' + e.blockedURI));"
)


def _page(browser, workspace: Workspace, who: str, errors: list[str], **options):
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="fa-IR", **options)
    context.add_cookies([{"name": SESSION_COOKIE, "value": workspace.tokens[who], "url": workspace.url}])
    context.add_init_script(WATCH_CSP)
    page = context.new_page()
    page.on("pageerror", lambda error: errors.append(f"{who}: {error}"))
    return page


def _arrive(page, pattern: str) -> None:
    try:
        page.wait_for_url(re.compile(pattern))
    except PlaywrightTimeout:
        raise AssertionError(
            f"expected {pattern}, stayed on {page.url}:\n{page.locator('body').inner_text()[:800]}"
        ) from None


def test_a_designer_authors_a_reviewer_publishes_and_the_citizen_is_decided_by_it(browser, workspace) -> None:
    url, errors = workspace.url, list[str]()

    # The designer: a certificate from one registry's answer, from the template's form.
    designer = _page(browser, workspace, DESIGNER, errors)
    designer.goto(f"{url}/workspace/{AGENCY}/services/new")
    form = designer.locator("form[data-template=certificate_from_registry]")
    fill_certificate_form(form)
    form.locator("button[type=submit]").click()
    _arrive(designer, rf"/workspace/{AGENCY}/services/[0-9a-f]+$")
    editor_url = designer.url
    designer.wait_for_selector("[data-check=pass]")
    assert designer.locator("#derived-level").get_attribute("data-level") == "5"
    if JDM_BUNDLE.is_file():  # built by `make assets`: the GoRules editor replaces the JSON text
        designer.wait_for_selector("#jdm-editor .react-flow__node")
        assert designer.locator("[data-jdm-fallback]").is_hidden()
        # It runs under the page's policy: no inline script, no eval, styles only by nonce.
        assert designer.evaluate("window.cspViolations") == []

    # The tests run as the designer types (debounced), nothing saved: break the YAML, then mend it.
    document = designer.locator("#document")
    original = document.input_value()
    document.fill(original + "\n  : [")
    designer.wait_for_selector("[data-check=invalid]")
    document.fill(original)
    designer.wait_for_selector("[data-check=pass]")

    # A dry run for the demo persona, through the exchange in the sandbox.
    designer.select_option("#persona", "demo")
    designer.locator("#dry-run-button").click()
    designer.wait_for_selector("[data-dry-run=approve]")

    designer.locator("#submit-review").click()
    designer.wait_for_selector("#status[data-status=in_review]")

    # The reviewer, a second person at level 2, sees the tests pass and publishes.
    reviewer = _page(browser, workspace, REVIEWER, errors)
    reviewer.goto(editor_url + "/review")
    assert reviewer.locator("#review-tests").get_attribute("data-pass") == "yes"
    reviewer.locator("#publish").click()
    reviewer.wait_for_selector("#status[data-status=published]")

    # The demo citizen applies; the published version decides, with no human.
    citizen = _page(browser, workspace, CITIZEN, errors)
    citizen.goto(f"{url}/services/{SLUG}/apply")
    citizen.locator("main form button[type=submit]").first.click()
    _arrive(citizen, r"/account/requests/[0-9]+")
    citizen.wait_for_selector("[data-state=approved]", timeout=30_000)

    with unit_of_work(make_sessionmaker(workspace.engine)) as session:
        published = delivery_selectors.published_definition(session, SLUG)
        requests = delivery_selectors.requests_of(session, CITIZEN)
        assert [(r.slug, r.definition_id) for r in requests] == [(SLUG, published.id)]
        assert (published.created_by, published.published_by) == (DESIGNER, REVIEWER)

    # The editor fits a phone: nothing wider than the 390 px viewport; no critical accessibility fault
    # (axe is injected as an inline script, so this look at the page sets the policy aside).
    designer.goto(editor_url)
    assert designer.evaluate("document.documentElement.scrollWidth") <= 390
    assert designer.evaluate("window.cspViolations") == []
    checker = _page(browser, workspace, DESIGNER, errors, bypass_csp=True)
    checker.goto(editor_url)
    checker.add_script_tag(path=str(AXE))
    violations = checker.evaluate(
        "async () => (await axe.run()).violations.filter(v => v.impact === 'critical')"
    )
    assert violations == []
    assert errors == []


def fill_certificate_form(form) -> None:
    """The certificate template's form: the police's driving-licence data service, one claim."""
    values = {
        "slug": SLUG,
        "title.fa": "گواهی گواهینامهٔ رانندگی",
        "title.en": "Driving licence certificate",
        "answer.key": "licence",
        "answer.service": "police.driving-licence",
        "answer.label.fa": "گواهینامهٔ رانندگی",
        "answer.label.en": "Driving licence",
        "answer.why_fa": "گواهی بر پایهٔ پروندهٔ گواهینامهٔ شما صادر می‌شود",
    }
    for name, value in values.items():
        form.locator(f'[name="{name}"]').fill(value)


__all__ = ["Path"]
