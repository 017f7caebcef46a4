"""Sessions: revoke, logout everywhere, timeouts, CSRF, and never another citizen's session or data."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from panjereh.core.config import Settings
from panjereh.identity import policy, selectors, totp
from panjereh.identity.models import WebSession
from panjereh.identity.service import pending_totp_secret
from panjereh.notify import service as notify_service
from tests.identity.helpers import CONVICTED_CODE, CONVICTED_MOBILE, DEMO_CODE, csrf, login

HTML = {"accept": "text/html"}


def test_anonymous_pages_redirect_and_api_callers_get_401(client: TestClient) -> None:
    page = client.get("/account/sessions?x=1", headers=HTML, follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"] == "/login?next=%2Faccount%2Fsessions%3Fx%3D1"
    api = client.get("/account", headers={"accept": "application/json"})
    assert api.status_code == 401 and api.json()["code"] == "identity.login_required"


def test_post_without_csrf_is_refused(client: TestClient, seeded: Session, settings: Settings) -> None:
    login(client, settings)
    response = client.post("/account/sessions/revoke-all", data={})
    assert response.status_code == 403
    assert selectors.active_sessions(seeded, selectors.get_citizen_by_national_code(seeded, DEMO_CODE))  # type: ignore[arg-type]


def test_revoke_another_session_and_logout_everywhere(
    client: TestClient, app: Any, seeded: Session, settings: Settings
) -> None:
    login(client, settings)
    with TestClient(app, base_url="http://testserver") as phone:
        login(phone, settings)
        citizen = selectors.get_citizen_by_national_code(seeded, DEMO_CODE)
        assert citizen is not None
        rows = selectors.active_sessions(seeded, citizen)
        assert len(rows) == 2
        page = client.get("/account/sessions")
        other = next(
            row for row in rows if row.id in page.text and f"/account/sessions/{row.id}/revoke" in page.text
        )
        client.post(
            f"/account/sessions/{other.id}/revoke", data={"csrf_token": csrf(client, "/account/sessions")}
        )
        assert phone.get("/account", headers=HTML, follow_redirects=False).status_code == 303
        client.post("/account/sessions/revoke-all", data={"csrf_token": csrf(client, "/account/sessions")})
        assert client.get("/account", headers=HTML, follow_redirects=False).status_code == 303


def test_another_citizens_session_cannot_be_revoked_or_read(
    client: TestClient, app: Any, seeded: Session, settings: Settings
) -> None:
    login(client, settings)
    with TestClient(app, base_url="http://testserver") as other:
        login(other, settings, CONVICTED_CODE, CONVICTED_MOBILE)
        theirs = seeded.scalars(select(WebSession).order_by(WebSession.created_at.desc())).first()
        assert theirs is not None
        response = client.post(
            f"/account/sessions/{theirs.id}/revoke", data={"csrf_token": csrf(client, "/account/sessions")}
        )
        assert response.status_code == 404
        assert other.get("/account").status_code == 200  # still signed in
        assert theirs.id not in client.get("/account/sessions").text
        notify_service.send(
            seeded,
            settings,
            national_code=CONVICTED_CODE,
            subject_fa="محرمانه",
            body_fa="فقط برای او",
            kind="test",
        )
        seeded.commit()
        assert "فقط برای او" not in client.get("/account/inbox").text
        assert "فقط برای او" in other.get("/account/inbox").text


def test_idle_timeout_ends_the_session(client: TestClient, seeded: Session, settings: Settings) -> None:
    login(client, settings)
    row = seeded.scalars(select(WebSession)).one()
    row.last_seen_at = row.last_seen_at - policy.SESSION_TIMEOUTS[1].idle - timedelta(seconds=1)
    seeded.commit()
    assert client.get("/account", headers=HTML, follow_redirects=False).status_code == 303


def test_absolute_timeout_ends_the_session(client: TestClient, seeded: Session, settings: Settings) -> None:
    login(client, settings)
    row = seeded.scalars(select(WebSession)).one()
    row.expires_at = row.created_at
    seeded.commit()
    assert client.get("/account", headers=HTML, follow_redirects=False).status_code == 303


def test_totp_enrolment_raises_level_and_is_then_required_at_login(
    client: TestClient, app: Any, seeded: Session, settings: Settings
) -> None:
    login(client, settings)
    client.post("/account/security/totp/start", data={"csrf_token": csrf(client, "/account/security")})
    citizen = selectors.get_citizen_by_national_code(seeded, DEMO_CODE)
    assert citizen is not None
    seeded.refresh(citizen)
    secret = pending_totp_secret(settings, citizen)
    assert secret and secret in client.get("/account/security").text
    bad = client.post(
        "/account/security/totp/confirm",
        data={
            "csrf_token": csrf(client, "/account/security"),
            "code": "000000" if totp.code_for(secret) != "000000" else "111111",
        },
    )
    assert bad.status_code == 400
    client.post(
        "/account/security/totp/confirm",
        data={"csrf_token": csrf(client, "/account/security"), "code": totp.code_for(secret)},
    )
    assert re.search(r'id="session-level">\s*۲', client.get("/account").text)
    with TestClient(app, base_url="http://testserver") as browser:
        from tests.identity.helpers import DEMO_MOBILE, attempt_of, last_code, start, submit_code

        started = start(browser, DEMO_CODE, DEMO_MOBILE)
        after_sms = submit_code(browser, attempt_of(started), last_code(browser, DEMO_MOBILE))
        assert after_sms.headers["location"].startswith("/login/totp")
        assert browser.get("/account", headers=HTML, follow_redirects=False).status_code == 303  # not yet in
        attempt = attempt_of(after_sms)
        reused = browser.post(
            "/login/totp",
            data={"csrf_token": csrf(browser, "/login"), "attempt": attempt, "code": totp.code_for(secret)},
            follow_redirects=False,
        )
        assert reused.status_code == 400  # the code used at enrolment cannot be replayed
        assert "identity.second_factor_invalid" in reused.text
