"""Cookie names and attributes: `__Host-` prefixed over HTTPS (production), bare over plain HTTP; the
switch's old session name read only while the operator allows it (core/cookies.py)."""

from __future__ import annotations

from collections.abc import Iterator
from http.cookies import SimpleCookie

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from starlette.responses import Response

from panjereh.core.config import Settings
from panjereh.core.cookies import (
    ACTING_COOKIE,
    CSRF_COOKIE,
    LOCALE_COOKIE,
    LOGIN_COOKIE,
    SESSION_COOKIE,
    cookie_name,
    delete_cookie,
    set_cookie,
)
from panjereh.identity import sessions
from tests.identity import helpers

HOST_ONLY = (SESSION_COOKIE, LOGIN_COOKIE, CSRF_COOKIE, ACTING_COOKIE)


def _production(settings: Settings, **changes: object) -> Settings:
    return settings.model_copy(update={"env": "production", "public_url": "https://testserver", **changes})


def _serve_as(app: FastAPI, settings: Settings) -> None:
    app.state.settings = settings
    app.state.templates.settings = settings


@pytest.fixture
def https(app: FastAPI, settings: Settings) -> Iterator[TestClient]:
    """The portal as production serves it: over HTTPS, cookies Secure and prefixed."""
    _serve_as(app, _production(settings))
    with TestClient(app, base_url="https://testserver") as client:
        yield client


def _set_cookies(response) -> dict[str, SimpleCookie]:
    """Each Set-Cookie header of a response, parsed, by cookie name."""
    parsed: dict[str, SimpleCookie] = {}
    for header in response.headers.get_list("set-cookie"):
        cookie: SimpleCookie = SimpleCookie()
        cookie.load(header)
        for name in cookie:
            parsed[name] = cookie
    return parsed


def _assert_host_only(cookie: SimpleCookie, name: str) -> None:
    morsel = cookie[name]
    assert morsel["secure"] and morsel["httponly"], morsel.OutputString()
    assert morsel["path"] == "/" and not morsel["domain"], morsel.OutputString()
    assert morsel["samesite"].lower() == "lax"


# --- the rule ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", HOST_ONLY)
def test_credential_cookies_are_prefixed_over_https_only(name: str) -> None:
    assert cookie_name(name, secure=True) == f"__Host-{name}"
    assert cookie_name(name, secure=False) == name


def test_the_language_cookie_carries_no_secret_and_no_prefix() -> None:
    assert cookie_name(LOCALE_COOKIE, secure=True) == cookie_name(LOCALE_COOKIE, secure=False) == "lang"


@pytest.mark.parametrize("name", HOST_ONLY)
def test_every_prefixed_cookie_is_set_and_deleted_as_the_prefix_demands(
    settings: Settings, name: str
) -> None:
    production = _production(settings)
    response = Response()
    set_cookie(response, production, name, "value", max_age=60)
    delete_cookie(response, production, name)
    [set_header, delete_header] = response.headers.getlist("set-cookie")
    for header in (set_header, delete_header):
        cookie: SimpleCookie = SimpleCookie()
        cookie.load(header)
        _assert_host_only(cookie, f"__Host-{name}")
    # Over plain HTTP: the bare name, not Secure (a browser would drop a Secure cookie there).
    response = Response()
    set_cookie(response, settings, name, "value")
    assert response.headers["set-cookie"].startswith(f"{name}=value;")
    assert "secure" not in response.headers["set-cookie"].lower()


# --- production: a whole login --------------------------------------------------------------------------


def test_a_login_over_https_sets_only_prefixed_secure_cookies(https: TestClient, seeded: Session) -> None:
    login_page = https.get("/login")
    _assert_host_only(_set_cookies(login_page)["__Host-csrf"], "__Host-csrf")
    started = helpers.start(https, helpers.DEMO_CODE, helpers.DEMO_MOBILE)
    assert started.status_code == 303, started.text[:500]
    _assert_host_only(_set_cookies(started)["__Host-pj_login"], "__Host-pj_login")
    done = helpers.submit_code(
        https, helpers.attempt_of(started), helpers.last_code(https, helpers.DEMO_MOBILE)
    )
    assert done.status_code == 303, done.text[:500]
    cookies = _set_cookies(done)
    _assert_host_only(cookies["__Host-pj_session"], "__Host-pj_session")
    assert SESSION_COOKIE not in cookies and "csrf" not in cookies
    assert https.get("/api/v1/requests").status_code == 200  # the prefixed session signs the browser in
    # Logging out deletes it under the same name, Secure and Path=/ (a browser keeps it otherwise).
    token = helpers.csrf(https, "/account")
    out = https.post("/logout", data={"csrf_token": token}, follow_redirects=False)
    assert out.status_code == 303
    _assert_host_only(_set_cookies(out)["__Host-pj_session"], "__Host-pj_session")
    assert https.get("/api/v1/requests").status_code == 401


def test_a_bare_named_session_is_refused_in_production(https: TestClient, db: Session) -> None:
    """What a sibling host could plant: a session cookie without the prefix signs nobody in."""
    _row, token = sessions.open_session(db, helpers.citizen(db), level=1, amr=["sms"])
    db.commit()
    https.cookies.set(SESSION_COOKIE, token)
    assert https.get("/api/v1/requests").status_code == 401
    https.cookies.clear()
    https.cookies.set(f"__Host-{SESSION_COOKIE}", token)
    assert https.get("/api/v1/requests").status_code == 200


def test_during_the_switch_the_old_session_name_is_read_and_replaced(
    app: FastAPI, settings: Settings, db: Session
) -> None:
    _serve_as(app, _production(settings, legacy_session_cookie=True))
    _row, token = sessions.open_session(db, helpers.citizen(db), level=1, amr=["sms"])
    db.commit()
    with TestClient(app, base_url="https://testserver") as client:
        client.cookies.set(SESSION_COOKIE, token)  # set before the deployment that brought the prefix
        assert client.get("/api/v1/requests").status_code == 200
        out = client.post(
            "/logout", data={"csrf_token": helpers.csrf(client, "/account")}, follow_redirects=False
        )
        assert out.status_code == 303
        deleted = _set_cookies(out)
        # Both names are deleted: the browser keeps neither the new nor the old session.
        assert {"__Host-pj_session", SESSION_COOKIE} <= set(deleted)
        assert deleted[SESSION_COOKIE][SESSION_COOKIE]["max-age"] == "0"
        assert client.get("/api/v1/requests").status_code == 401


def test_over_plain_http_the_names_are_bare_and_not_secure(
    client: TestClient, seeded: Session, settings: Settings
) -> None:
    response = helpers.login(client, settings)
    cookies = _set_cookies(response)
    assert SESSION_COOKIE in cookies and not any(name.startswith("__Host-") for name in cookies)
    assert not cookies[SESSION_COOKIE][SESSION_COOKIE]["secure"]
    assert client.get("/api/v1/requests").status_code == 200
