"""A sandbox app (OIDC client) signs in the test personas only; a real person is refused before any
consent screen, and a production app signs in anyone as before (docs/protocols/oidc.md)."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from panjereh.core.config import Settings
from panjereh.oidc import clients
from panjereh.oidc.models import OidcAuthorizationCode, OidcConsent
from tests.identity.helpers import DEMO_CODE, signed_in
from tests.oidc.helpers import authorize_url, browse, pkce, query_of, register

REAL_PERSON = "8580435994"  # a valid national code that is no test persona


def _authorize(client: TestClient, client_id: str, **extra: str) -> dict[str, str]:
    _verifier, challenge = pkce()
    response = client.get(authorize_url(client_id, challenge, **extra), follow_redirects=False)
    assert response.status_code == 303, response.text[:1000]
    return query_of(response.headers["location"]) | {"_location": response.headers["location"]}


def test_a_sandbox_app_refuses_a_real_person_before_consent(client: TestClient, seeded: Session) -> None:
    register(seeded, "sandbox.app", sandbox=True)
    seeded.commit()
    signed_in(client, seeded, national_code=REAL_PERSON)
    answer = _authorize(client, "sandbox.app")
    assert answer["_location"].startswith("https://rp.example.ir/callback")
    assert answer["error"] == "access_denied" and "sandbox" in answer["error_description"]
    assert "code" not in answer
    # prompt=none is refused the same way, and nothing was issued or consented to.
    assert _authorize(client, "sandbox.app", prompt="none")["error"] == "access_denied"
    assert (
        seeded.scalars(
            select(OidcAuthorizationCode).where(OidcAuthorizationCode.client_id == "sandbox.app")
        ).all()
        == []
    )
    assert seeded.scalars(select(OidcConsent).where(OidcConsent.client_id == "sandbox.app")).all() == []


def test_a_real_persons_consent_post_to_a_sandbox_app_is_refused(client: TestClient, seeded: Session) -> None:
    register(seeded, "sandbox.app", sandbox=True)
    seeded.commit()
    signed_in(client, seeded, national_code=REAL_PERSON)
    _verifier, challenge = pkce()
    params = query_of(authorize_url("sandbox.app", challenge))
    page = client.get("/account/data-access")
    token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    response = client.post(
        "/oauth2/consent", data={**params, "decision": "allow", "csrf_token": token}, follow_redirects=False
    )
    assert response.status_code == 303
    assert query_of(response.headers["location"])["error"] == "access_denied"
    assert seeded.scalars(select(OidcConsent).where(OidcConsent.client_id == "sandbox.app")).all() == []


def test_a_sandbox_app_signs_in_a_test_persona(
    client: TestClient, seeded: Session, settings: Settings
) -> None:
    register(seeded, "sandbox.app", sandbox=True)
    seeded.commit()
    _verifier, challenge = pkce()
    location = browse(client, settings, authorize_url("sandbox.app", challenge), national_code=DEMO_CODE)
    assert query_of(location)["code"]


def test_a_production_app_signs_in_a_real_person(client: TestClient, seeded: Session) -> None:
    register(seeded, "production.app")
    seeded.commit()
    signed_in(client, seeded, national_code=REAL_PERSON)
    response = client.get(authorize_url("production.app", pkce()[1]), follow_redirects=False)
    assert response.status_code == 200 and 'action="/oauth2/consent"' in response.text


def test_the_registration_says_sandbox(seeded: Session) -> None:
    register(seeded, "sandbox.app", sandbox=True)
    register(seeded, "production.app")
    described = {
        client_id: clients.describe(clients.get_client(seeded, client_id))  # type: ignore[arg-type]
        for client_id in ("sandbox.app", "production.app")
    }
    assert (described["sandbox.app"]["sandbox"], described["production.app"]["sandbox"]) == (True, False)
