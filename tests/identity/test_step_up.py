"""Assurance levels: a login with the second factor, `require_level`, step-up and its new session token."""

from __future__ import annotations

import re
import time
from typing import Any
from urllib.parse import unquote

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from panjereh.core.config import Settings
from panjereh.core.cookies import SESSION_COOKIE
from panjereh.identity import totp
from panjereh.identity.models import WebSession
from tests.identity.helpers import (
    DEMO_CODE,
    DEMO_MOBILE,
    attempt_of,
    citizen,
    csrf,
    enrol_totp,
    last_code,
    signed_in,
    start,
    submit_code,
)

HTML = {"accept": "text/html"}


def _level(client: TestClient) -> str:
    found = re.search(r'id="session-level">\s*([^<\s]+)', client.get("/account").text)
    assert found
    return found.group(1)


def _next_code(secret: str) -> str:
    """The authenticator's code one step ahead (accepted within the drift window, not yet used)."""
    return totp.code_for(secret, time.time() + totp.STEP_SECONDS)


def test_a_login_with_sms_and_totp_opens_a_level_2_session(
    client: TestClient, seeded: Session, settings: Settings
) -> None:
    secret = enrol_totp(seeded, settings)
    started = start(client, DEMO_CODE, DEMO_MOBILE, next="/account/sessions")
    after_sms = submit_code(client, attempt_of(started), last_code(client, DEMO_MOBILE), "/account/sessions")
    assert after_sms.status_code == 303 and after_sms.headers["location"].startswith("/login/totp?")
    attempt = attempt_of(after_sms)
    wrong = client.post(
        "/login/totp",
        data={"csrf_token": csrf(client), "attempt": attempt, "code": "12345", "next": "/account/sessions"},
        follow_redirects=False,
    )
    assert wrong.status_code == 400 and "identity.second_factor_invalid" in wrong.text
    done = client.post(
        "/login/totp",
        data={
            "csrf_token": csrf(client),
            "attempt": attempt,
            "code": totp.code_for(secret),
            "next": "/account/sessions",
        },
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"] == "/account/sessions"
    row = seeded.scalars(select(WebSession).where(WebSession.revoked_at.is_(None))).one()
    assert row.level == 2 and row.amr.split() == ["sms", "otp", "mfa"]
    assert _level(client) == "۲"


def test_require_level_sends_a_post_back_to_a_page_it_can_get(
    client: TestClient, seeded: Session, settings: Settings
) -> None:
    signed_in(client, seeded, level=1)
    enrol_totp(seeded, settings)
    response = client.post(
        "/account/security/totp/disable",
        data={"csrf_token": csrf(client, "/account/security")},
        headers=HTML,
        follow_redirects=False,
    )
    assert response.status_code == 303
    location = response.headers["location"]
    assert location.startswith("/login/step-up?next=")
    back = unquote(location.split("next=", 1)[1])
    assert back == "/account/security"  # not the POST-only action, which would answer 405
    assert client.get(back, follow_redirects=False).status_code == 200
    assert 'id="totp-status"' in client.get(back).text and "فعال است" in client.get(back).text  # still on


def test_require_level_answers_an_api_caller_with_the_level_it_needs(
    client: TestClient, seeded: Session, settings: Settings
) -> None:
    signed_in(client, seeded, level=1)
    token = csrf(client, "/account/security")
    response = client.post(
        "/account/security/totp/disable", data={"csrf_token": token}, headers={"accept": "application/json"}
    )
    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == "identity.step_up_required"
    assert (problem["required_level"], problem["current_level"]) == (2, 1)
    assert problem["required_acr"] == "urn:panjereh:loa:2"
    assert "۲" in problem["detail_fa"] and "2" not in problem["detail_fa"]


def test_step_up_raises_the_level_under_a_new_session_token(
    client: TestClient, app: Any, seeded: Session, settings: Settings
) -> None:
    old_token = signed_in(client, seeded, level=1)
    secret = enrol_totp(seeded, settings)
    page = client.get("/login/step-up?next=/account/security", follow_redirects=False)
    assert page.status_code == 200 and 'action="/login/step-up"' in page.text
    token = csrf(client, "/login/step-up?next=/account/security")
    wrong = client.post(
        "/login/step-up",
        data={"csrf_token": token, "code": "000000", "next": "/account/security"},
        follow_redirects=False,
    )
    assert wrong.status_code == 400 and client.cookies.get(SESSION_COOKIE) == old_token
    response = client.post(
        "/login/step-up",
        data={"csrf_token": token, "code": totp.code_for(secret), "next": "/account/security"},
        follow_redirects=False,
    )
    assert response.status_code == 303 and response.headers["location"] == "/account/security"
    new_token = client.cookies.get(SESSION_COOKIE)
    assert new_token and new_token != old_token  # ASVS 5.0 V7.2.4
    row = seeded.scalars(select(WebSession)).one()
    seeded.refresh(row)
    assert row.level == 2 and row.revoked_at is None and "mfa" in row.amr.split()
    assert _level(client) == "۲"
    with TestClient(app, base_url="http://testserver") as stale:
        stale.cookies.set(SESSION_COOKIE, old_token)
        assert stale.get("/account", headers=HTML, follow_redirects=False).status_code == 303
    # Now the level-2 action goes through.
    disabled = client.post(
        "/account/security/totp/disable",
        data={"csrf_token": csrf(client, "/account/security")},
        follow_redirects=False,
    )
    assert disabled.status_code == 303 and disabled.headers["location"] == "/account/security"


def test_step_up_refuses_a_replayed_code(client: TestClient, seeded: Session, settings: Settings) -> None:
    signed_in(client, seeded, level=1)
    secret = enrol_totp(seeded, settings)
    enrolled = citizen(seeded)
    assert enrolled.totp_last_step is not None
    used = totp.code_for(secret, enrolled.totp_last_step * totp.STEP_SECONDS)  # what the enrolment consumed
    response = client.post(
        "/login/step-up",
        data={"csrf_token": csrf(client, "/login/step-up"), "code": used, "next": "/account"},
        follow_redirects=False,
    )
    assert response.status_code == 400 and "identity.second_factor_invalid" in response.text
    assert seeded.scalar(select(WebSession.level)) == 1


def test_confirming_a_new_second_factor_rotates_the_token_and_returns_to_what_asked(
    client: TestClient, seeded: Session, settings: Settings
) -> None:
    old_token = signed_in(client, seeded, level=1)
    step_up = client.get("/login/step-up?next=/account/sessions")
    assert 'href="/account/security?next=/account/sessions"' in step_up.text  # no second factor yet
    started = client.post(
        "/account/security/totp/start",
        data={"csrf_token": csrf(client, "/account/security"), "next": "/account/sessions"},
        follow_redirects=False,
    )
    assert started.headers["location"] == "/account/security?next=%2Faccount%2Fsessions"
    page = client.get(started.headers["location"])
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', page.text)
    assert secret and 'name="next" value="/account/sessions"' in page.text
    confirmed = client.post(
        "/account/security/totp/confirm",
        data={
            "csrf_token": csrf(client, "/account/security"),
            "code": totp.code_for(secret.group(1)),
            "next": "/account/sessions",
        },
        follow_redirects=False,
    )
    assert confirmed.status_code == 303 and confirmed.headers["location"] == "/account/sessions"
    assert client.cookies.get(SESSION_COOKIE) not in (None, old_token)
    assert _level(client) == "۲"


def test_a_next_off_this_site_is_not_followed_after_enrolment(
    client: TestClient, seeded: Session, settings: Settings
) -> None:
    signed_in(client, seeded, level=1)
    client.post("/account/security/totp/start", data={"csrf_token": csrf(client, "/account/security")})
    page = client.get("/account/security?next=//evil.example/")
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', page.text)
    assert secret
    confirmed = client.post(
        "/account/security/totp/confirm",
        data={
            "csrf_token": csrf(client, "/account/security"),
            "code": totp.code_for(secret.group(1)),
            "next": "//evil.example/",
        },
        follow_redirects=False,
    )
    assert confirmed.headers["location"] == "/window"  # safe_next's default, never the other host


def test_the_next_step_code_is_accepted_once(client: TestClient, seeded: Session, settings: Settings) -> None:
    signed_in(client, seeded, level=1)
    secret = enrol_totp(seeded, settings)
    code = _next_code(secret)
    first = client.post(
        "/login/step-up",
        data={"csrf_token": csrf(client, "/login/step-up"), "code": code, "next": "/account"},
        follow_redirects=False,
    )
    assert first.status_code == 303
    again = client.post(
        "/login/step-up",
        data={"csrf_token": csrf(client, "/login/step-up"), "code": code, "next": "/account"},
        follow_redirects=False,
    )
    assert again.status_code == 400
