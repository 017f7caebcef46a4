"""A service card's assurance level is enforced at applying: step-up in the browser, a problem in the API."""

from __future__ import annotations

import re
from urllib.parse import unquote

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from panjereh.catalog import selectors as catalog_selectors
from panjereh.core.config import Settings
from panjereh.delivery import definitions, loading
from panjereh.identity import totp
from tests.identity.helpers import csrf, enrol_totp, signed_in

HTML = {"accept": "text/html"}
LEVEL_2_SERVICE = "property-ownership"  # the deeds a citizen owns: level 2 in the demo catalog
# The flagship services at level 2: the deeds one owns, and a company's good standing (a company act, G2B).
LEVEL_2_FLAGSHIP = ["company-good-standing", LEVEL_2_SERVICE]


pytestmark = pytest.mark.demo_catalog


@pytest.fixture
def catalog(seeded: Session) -> Session:
    loading.sync_definitions(seeded)
    seeded.commit()
    return seeded


def _step_up_target(response: object) -> str:
    location: str = response.headers["location"]  # type: ignore[attr-defined]
    assert location.startswith("/login/step-up?next="), location
    return unquote(location.split("next=", 1)[1])


def test_the_flagship_services_are_usable_with_the_national_sms_login(catalog: Session) -> None:
    levels = {card.slug: card.assurance_level for card in catalog_selectors.all_cards(catalog)}
    flagship = [slug for slug in levels if slug in definitions.bundled()]
    assert len(flagship) >= 10
    at_two = [slug for slug in flagship if levels[slug] == 2]
    assert sorted(at_two) == LEVEL_2_FLAGSHIP  # they show step-up; the rest need the SMS login only
    assert all(levels[slug] == 1 for slug in flagship if slug not in LEVEL_2_FLAGSHIP)


def test_a_level_1_service_opens_at_level_1(client: TestClient, catalog: Session) -> None:
    signed_in(client, catalog, level=1)
    page = client.get("/services/no-criminal-record/apply", headers=HTML, follow_redirects=False)
    assert page.status_code == 200 and 'action="/services/no-criminal-record/apply"' in page.text


def test_a_level_2_service_sends_the_browser_to_step_up_and_back(
    client: TestClient, catalog: Session, settings: Settings
) -> None:
    signed_in(client, catalog, level=1)
    page = client.get(f"/services/{LEVEL_2_SERVICE}/apply", headers=HTML, follow_redirects=False)
    assert page.status_code == 303 and _step_up_target(page) == f"/services/{LEVEL_2_SERVICE}/apply"
    # A form posted from a page opened earlier comes back to the apply page (a GET), not to the POST.
    posted = client.post(
        f"/services/{LEVEL_2_SERVICE}/apply",
        data={"csrf_token": csrf(client, "/account"), "idempotency_key": "lvl-1"},
        headers=HTML,
        follow_redirects=False,
    )
    assert posted.status_code == 303 and _step_up_target(posted) == f"/services/{LEVEL_2_SERVICE}/apply"

    secret = enrol_totp(catalog, settings)
    back = _step_up_target(page)
    stepped = client.post(
        "/login/step-up",
        data={"csrf_token": csrf(client, "/account"), "code": totp.code_for(secret), "next": back},
        follow_redirects=False,
    )
    assert stepped.status_code == 303 and stepped.headers["location"] == back
    form = client.get(back, headers=HTML)
    assert form.status_code == 200
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token
    applied = client.post(
        back,
        data={"csrf_token": token.group(1), "idempotency_key": "lvl-2"},
        headers=HTML,
        follow_redirects=False,
    )
    assert applied.status_code == 303 and applied.headers["location"].startswith("/account/requests/")


def test_the_api_says_which_level_a_service_needs(client: TestClient, catalog: Session) -> None:
    signed_in(client, catalog, level=1)
    refused = client.post(
        f"/api/v1/services/{LEVEL_2_SERVICE}/requests",
        json={"inputs": {}},
        headers={"Idempotency-Key": "a-1"},
    )
    assert refused.status_code == 403
    assert refused.headers["content-type"] == "application/problem+json"
    problem = refused.json()
    assert problem["code"] == "identity.step_up_required"
    assert (problem["required_level"], problem["current_level"]) == (2, 1)
    assert problem["required_acr"] == "urn:panjereh:loa:2"
    allowed = client.post(
        "/api/v1/services/no-criminal-record/requests",
        json={"inputs": {"purpose": "employment"}},
        headers={"Idempotency-Key": "a-2"},
    )
    assert allowed.status_code == 201, allowed.text


def test_a_level_2_session_applies_through_the_api(client: TestClient, catalog: Session) -> None:
    signed_in(client, catalog, level=2)
    response = client.post(
        f"/api/v1/services/{LEVEL_2_SERVICE}/requests",
        json={"inputs": {}},
        headers={"Idempotency-Key": "b-1"},
    )
    assert response.status_code == 201, response.text


def test_a_level_no_login_here_reaches_is_refused_not_stepped_up(
    client: TestClient, catalog: Session
) -> None:
    catalog_selectors.get_service_by_slug(catalog, "tax-clearance").assurance_level = 3
    catalog.commit()
    signed_in(client, catalog, level=2)
    response = client.post(
        "/api/v1/services/tax-clearance/requests", json={"inputs": {}}, headers={"Idempotency-Key": "c-1"}
    )
    assert response.status_code == 403 and response.json()["code"] == "identity.level_not_offered"
    page = client.get("/services/tax-clearance/apply", headers=HTML, follow_redirects=False)
    assert page.status_code == 403 and "identity.level_not_offered" in page.text
