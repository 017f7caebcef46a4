"""The per-attribute consent screen in a real browser on a phone (390 px, headless Chromium): a checkbox per
attribute with its reason and registry, one unticked is not released, no horizontal scroll, no CSP
violation; then the attribute withdrawn from "Connected apps"."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from panjereh.app import create_app
from panjereh.core.config import Settings
from panjereh.core.cookies import SESSION_COOKIE
from panjereh.core.db import make_sessionmaker, unit_of_work
from panjereh.identity import sessions
from panjereh.oidc import clients
from tests.oidc.helpers import REDIRECT_URI, authorize_url, pkce
from tests.support import databases
from tests.support.factories import DEMO_CITIZEN, create_citizen, seed_exchange_data
from tests.support.servers import free_port, running_server
from tests.web.csp import Watch

pytestmark = [pytest.mark.browser]

PHONE = {"width": 390, "height": 844}
SCOPE = "openid profile address education vehicles"


@pytest.fixture(scope="module")
def bank_server(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The portal with the exchange seeded, a bank client with approved attributes, the demo citizen."""
    home = tmp_path_factory.mktemp("consent-home")
    port = free_port()
    live = settings.model_copy(
        update={
            "home": home,
            "database_url": databases.fresh_database("consent", str(home)),
            "port": port,
            "public_url": f"http://127.0.0.1:{port}",
        }
    )
    engine = databases.migrated_engine(live.resolved_database_url)
    factory = make_sessionmaker(engine)
    with unit_of_work(factory) as session:
        seed_exchange_data(session, live)
        citizen = create_citizen(session, DEMO_CITIZEN)
        _client, secret = clients.register(
            session,
            client_id="bank.browser",
            name_fa="بانک نمونه",
            redirect_uris=[REDIRECT_URI],
            scopes=SCOPE.split(),
            attribute_purposes={
                "address": "برای فرستادن کارت بانکی به نشانی شما",
                "education": "برای سنجش شرایط وام دانشجویی",
                "vehicles": "برای وام با وثیقهٔ خودرو",
            },
            approve_attributes=True,
        )
        token = sessions.open_session(session, citizen, level=1, amr=["sms"])[1]
    with running_server(create_app(live), port=port) as url:
        yield {"url": url, "secret": secret, "session": token}
    engine.dispose()


def test_the_consent_screen_asks_attribute_by_attribute_on_a_phone(
    browser: Any, bank_server: dict[str, Any]
) -> None:
    url = bank_server["url"]
    context = browser.new_context(viewport=PHONE, has_touch=True)
    context.add_cookies([{"name": SESSION_COOKIE, "value": bank_server["session"], "url": url}])
    page = context.new_page()
    watch = Watch(page)
    verifier, challenge = pkce()
    page.goto(url + authorize_url("bank.browser", challenge, scope=SCOPE), wait_until="load")
    boxes = page.locator('#consent-attributes input[type="checkbox"]')
    assert boxes.count() == 3 and all(boxes.nth(i).is_checked() for i in range(3))
    vehicles = page.locator('[data-attribute="vehicles"]')
    assert "برای وام با وثیقهٔ خودرو" in vehicles.inner_text()
    assert "از سامانهٔ فراجا استعلام می‌شود" in vehicles.inner_text()
    width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= min(width[1], PHONE["width"]), width
    assert watch.violations() == [] and watch.console == []
    page.locator("#attribute-vehicles").uncheck()
    # The answer sends the browser to the bank (which does not exist here: the redirect is read instead).
    with page.expect_response(lambda response: response.url.endswith("/oauth2/consent")) as answered:
        page.locator('button[name="decision"][value="allow"]').click()
    location = answered.value.headers["location"]
    assert location.startswith(REDIRECT_URI)
    code = parse_qs(urlsplit(location).query)["code"][0]

    basic = base64.b64encode(f"bank.browser:{bank_server['secret']}".encode()).decode()
    tokens = httpx.post(
        url + "/oauth2/token",
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI,
              "code_verifier": verifier},
        headers={"Authorization": f"Basic {basic}"},
        timeout=60,
    ).json()  # fmt: skip
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    claims = httpx.get(url + "/oauth2/userinfo", headers=bearer, timeout=20).json()
    released = {name for item in claims["verified_claims"] for name in item["claims"]}
    assert released == {"address", "degrees"}

    # Connected apps: withdraw education, on the phone too.
    page.goto(url + "/account/apps", wait_until="load")
    width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= min(width[1], PHONE["width"]), width
    page.locator('[data-app-attribute="education"] button').click()
    page.wait_for_load_state("load")
    assert page.locator('[data-app-attribute="education"]').count() == 0
    assert page.locator('[data-app-attribute="address"]').count() == 1
    claims = httpx.get(url + "/oauth2/userinfo", headers=bearer, timeout=20).json()
    assert {name for item in claims["verified_claims"] for name in item["claims"]} == {"address"}
    assert watch.violations() == []
    context.close()
