"""First login and returning login over the real registries, through the exchange."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from panjereh.core.config import Settings
from panjereh.identity import selectors
from panjereh.identity.models import Citizen, LoginAttempt, WebSession
from tests.identity.helpers import (
    DEMO_CODE,
    DEMO_MOBILE,
    attempt_of,
    last_code,
    login,
    start,
    submit_code,
)


def test_first_login_registers_from_the_registry_and_opens_a_session(
    client: TestClient, seeded: Session, settings: Settings
) -> None:
    response = login(client, settings)
    assert response.headers["location"] == "/account"
    citizen = selectors.get_citizen_by_national_code(seeded, DEMO_CODE)
    assert citizen is not None
    assert (citizen.first_name, citizen.last_name, citizen.mobile) == ("علی", "رضایی", DEMO_MOBILE)
    assert citizen.birth_date.isoformat() == "1985-06-12"
    cookie = response.headers["set-cookie"]
    assert "pj_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie.replace("Lax", "lax")
    page = client.get("/account")
    assert page.status_code == 200
    assert "علی رضایی" in page.text


def test_returning_login_with_mobile_only(client: TestClient, seeded: Session, settings: Settings) -> None:
    login(client, settings)
    client.cookies.clear()
    started = start(client, mobile="+98 912 123 4567")
    assert started.status_code == 303
    response = submit_code(client, attempt_of(started), last_code(client, DEMO_MOBILE))
    assert response.status_code == 303
    assert client.get("/account").status_code == 200


def test_returning_login_with_national_code_only_in_persian_digits(
    client: TestClient, seeded: Session, settings: Settings
) -> None:
    login(client, settings)
    client.cookies.clear()
    started = start(client, national_code="۰۴۹۹۳۷۰۸۹۹")
    assert started.status_code == 303


def test_a_new_session_id_at_every_login(client: TestClient, seeded: Session, settings: Settings) -> None:
    login(client, settings)
    first = client.cookies.get("pj_session")
    login(client, settings)
    second = client.cookies.get("pj_session")
    assert first and second and first != second
    live = seeded.scalar(select(func.count()).select_from(WebSession).where(WebSession.revoked_at.is_(None)))
    assert live == 1  # the old token of this browser was revoked at the new login


def test_code_is_single_use(client: TestClient, seeded: Session, settings: Settings) -> None:
    started = start(client, DEMO_CODE, DEMO_MOBILE)
    attempt = attempt_of(started)
    code = last_code(client, DEMO_MOBILE)
    binding = client.cookies.get("pj_login")
    assert submit_code(client, attempt, code).status_code == 303
    client.cookies.set("pj_login", binding)  # even replaying the browser binding does not help
    again = submit_code(client, attempt, code)
    assert again.status_code == 400
    assert "identity.code_expired" in again.text


def test_code_is_bound_to_the_browser_that_asked(
    client: TestClient, app: object, seeded: Session, settings: Settings
) -> None:
    started = start(client, DEMO_CODE, DEMO_MOBILE)
    attempt = attempt_of(started)
    code = last_code(client, DEMO_MOBILE)
    with TestClient(app, base_url="http://testserver") as other:  # type: ignore[arg-type]
        stolen = submit_code(other, attempt, code)
    assert stolen.status_code == 400
    assert "identity.attempt_not_found" in stolen.text
    assert seeded.scalar(select(func.count()).select_from(Citizen)) == 0


def test_code_is_stored_hashed_and_expires_within_ten_minutes(
    client: TestClient, seeded: Session, settings: Settings
) -> None:
    start(client, DEMO_CODE, DEMO_MOBILE)
    code = last_code(client, DEMO_MOBILE)
    row = seeded.scalars(select(LoginAttempt)).one()
    assert code not in row.code_hash and len(row.code_hash) == 64
    assert 0 < (row.expires_at - row.created_at).total_seconds() <= 600
    assert len(code) == 6


def test_expired_code_is_refused(client: TestClient, seeded: Session, settings: Settings) -> None:
    from datetime import timedelta

    started = start(client, DEMO_CODE, DEMO_MOBILE)
    row = seeded.scalars(select(LoginAttempt)).one()
    row.expires_at = row.created_at - timedelta(seconds=1)
    seeded.commit()
    response = submit_code(client, attempt_of(started), last_code(client, DEMO_MOBILE))
    assert response.status_code == 400 and "identity.code_expired" in response.text
