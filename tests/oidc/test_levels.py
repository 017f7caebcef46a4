"""Assurance levels at the provider: `acr_values` (voluntary), a client's `min_level` (enforced), step-up."""

from __future__ import annotations

import base64
import re
from typing import Any
from urllib.parse import unquote

from fastapi.testclient import TestClient
from joserfc import jwk, jwt
from sqlalchemy.orm import Session

from panjereh.core.config import Settings
from panjereh.identity import totp
from tests.identity.helpers import csrf, enrol_totp, signed_in
from tests.oidc.helpers import REDIRECT_URI, authorize_url, browse, pkce, query_of, register

LOA_1, LOA_2 = "urn:panjereh:loa:1", "urn:panjereh:loa:2"


def _id_token(client: TestClient, secret: str, location: str, verifier: str) -> dict[str, Any]:
    basic = base64.b64encode(f"my.tax:{secret}".encode()).decode()
    response = client.post(
        "/oauth2/token",
        data={
            "grant_type": "authorization_code",
            "code": query_of(location)["code"],
            "redirect_uri": REDIRECT_URI,
            "code_verifier": verifier,
        },
        headers={"Authorization": f"Basic {basic}"},
    )
    assert response.status_code == 200, response.text
    keys = jwk.KeySet.import_key_set(client.get("/oauth2/jwks").json())
    return dict(jwt.decode(response.json()["id_token"], keys, algorithms=["RS256"]).claims)


def _step_up_next(response: Any) -> str:
    location: str = response.headers["location"]
    assert location.startswith("/login/step-up?next="), location
    return unquote(location.split("next=", 1)[1])


def test_acr_values_are_voluntary_without_a_second_factor(
    client: TestClient, seeded: Session, settings: Settings
) -> None:
    secret = register(seeded)
    signed_in(client, seeded, level=1)
    verifier, challenge = pkce()
    location = browse(client, settings, authorize_url("my.tax", challenge, acr_values=LOA_2))
    claims = _id_token(client, secret, location, verifier)
    assert claims["acr"] == LOA_1 and claims["amr"] == ["sms"]  # the token says what was done


def test_acr_values_step_up_a_citizen_who_has_a_second_factor(
    client: TestClient, seeded: Session, settings: Settings
) -> None:
    secret = register(seeded)
    signed_in(client, seeded, level=1)
    authenticator = enrol_totp(seeded, settings)
    verifier, challenge = pkce()
    url = authorize_url("my.tax", challenge, acr_values=f"{LOA_2} {LOA_1}")
    asked = client.get(url, follow_redirects=False)
    back = _step_up_next(asked)
    assert back.startswith("/oauth2/authorize?") and "acr_values=" in back
    stepped = client.post(
        "/login/step-up",
        data={"csrf_token": csrf(client, "/account"), "code": totp.code_for(authenticator), "next": back},
        follow_redirects=False,
    )
    assert stepped.status_code == 303 and stepped.headers["location"] == back
    claims = _id_token(client, secret, browse(client, settings, back), verifier)
    assert claims["acr"] == LOA_2 and {"otp", "mfa"} <= set(claims["amr"])


def test_a_client_min_level_is_enforced_and_reached_by_enrolling_a_second_factor(
    client: TestClient, seeded: Session, settings: Settings
) -> None:
    secret = register(seeded, min_level=2)
    signed_in(client, seeded, level=1)
    verifier, challenge = pkce()
    url = authorize_url("my.tax", challenge)
    silent = client.get(authorize_url("my.tax", challenge, prompt="none"), follow_redirects=False)
    assert silent.headers["location"].startswith(REDIRECT_URI)
    assert query_of(silent.headers["location"])["error"] == "interaction_required"

    back = _step_up_next(client.get(url, follow_redirects=False))
    page = client.get("/login/step-up", params={"next": back})
    link = re.search(r'id="enrol-second-factor" href="([^"]+)"', page.text)
    assert link  # no second factor yet: the page leads to setting one up, and back here afterwards
    enrol = link.group(1).replace("&amp;", "&")
    started = client.post(
        "/account/security/totp/start",
        data={"csrf_token": csrf(client, enrol), "next": unquote(enrol.split("next=", 1)[1])},
        follow_redirects=False,
    )
    security = client.get(started.headers["location"])
    found = re.search(r'id="totp-secret">([A-Z2-7]+)<', security.text)
    assert found
    confirmed = client.post(
        "/account/security/totp/confirm",
        data={"csrf_token": csrf(client, enrol), "code": totp.code_for(found.group(1)), "next": back},
        follow_redirects=False,
    )
    assert confirmed.status_code == 303 and confirmed.headers["location"] == back
    claims = _id_token(client, secret, browse(client, settings, back), verifier)
    assert claims["acr"] == LOA_2
