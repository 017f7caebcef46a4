"""Forms carry a signed token bound to the browser's cookie; anything else is refused."""

from __future__ import annotations

import re

import pytest
from fastapi import FastAPI
from fastapi.responses import PlainTextResponse
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from panjereh.analytics.visits import pseudonym
from panjereh.core.cookies import CSRF_COOKIE, SESSION_COOKIE
from panjereh.web.csrf import CsrfProtected, signature
from tests.identity.helpers import signed_in


@pytest.fixture
def form_app(app: FastAPI) -> FastAPI:
    @app.post("/_form")
    def submit(_: CsrfProtected) -> PlainTextResponse:
        return PlainTextResponse("accepted")

    return app


def _token_from(client: TestClient) -> str:
    page = client.get("/", headers={"accept": "text/html"})
    assert page.cookies.get("csrf") or client.cookies.get("csrf")
    nonce = client.cookies.get("csrf")
    assert nonce is not None
    return f"{nonce}.{signature(client.app.state.settings.secret_key, nonce)}"  # type: ignore[attr-defined]


def test_form_with_valid_token_is_accepted(form_app: FastAPI, client: TestClient) -> None:
    token = _token_from(client)
    assert client.post("/_form", data={"csrf_token": token}).text == "accepted"


def test_missing_token_is_refused_as_problem(form_app: FastAPI, client: TestClient) -> None:
    _token_from(client)
    response = client.post("/_form", data={})
    assert response.status_code == 403
    assert response.json()["code"] == "client.csrf"


def test_token_from_another_browser_is_refused(form_app: FastAPI, client: TestClient, app: FastAPI) -> None:
    token = _token_from(client)
    with TestClient(app) as other:
        other.get("/")
        assert other.post("/_form", data={"csrf_token": token}).status_code == 403


def test_forged_signature_is_refused(form_app: FastAPI, client: TestClient) -> None:
    token = _token_from(client)
    forged = re.sub(r"\.[0-9a-f]{4}", ".0000", token, count=1)
    assert client.post("/_form", data={"csrf_token": forged}).status_code == 403


def test_a_csrf_token_is_not_the_pseudonym_of_its_nonce(client: TestClient) -> None:
    # With one key for both, a CSRF cookie set to a citizen's id made the page print that citizen's
    # visitor pseudonym (the first 128 bits of the same HMAC): each purpose now has its own key.
    citizen_id = "0b6f3f0e-2a4c-4f0e-9a51-3c1f2d6e7a80"
    client.cookies.set("csrf", citizen_id)
    page = client.get("/login", headers={"accept": "text/html"})
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found is not None
    nonce, sent_signature = found.group(1).rsplit(".", 1)
    assert nonce == citizen_id
    secret = client.app.state.settings.secret_key  # type: ignore[attr-defined]
    assert sent_signature == signature(secret, citizen_id)
    assert pseudonym(secret, citizen_id).hex not in sent_signature


def _page_token(client: TestClient, path: str = "/login") -> str:
    page = client.get(path, headers={"accept": "text/html"})
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found is not None
    return found.group(1)


def test_a_token_from_one_session_fails_in_another(form_app: FastAPI, client: TestClient) -> None:
    # Same browser nonce, two sessions: on the old main the token was bound to the nonce alone, so a
    # token leaked from one session (or planted before it) was good in any other.
    client.cookies.set(SESSION_COOKIE, "session-one")
    token = _page_token(client)
    assert client.post("/_form", data={"csrf_token": token}).text == "accepted"
    client.cookies.set(SESSION_COOKIE, "session-two")
    refused = client.post("/_form", data={"csrf_token": token})
    assert refused.status_code == 403 and refused.json()["code"] == "client.csrf"
    assert client.post("/_form", data={"csrf_token": _page_token(client)}).text == "accepted"


def test_an_anonymous_forms_token_is_bound_to_the_pre_session(form_app: FastAPI, client: TestClient) -> None:
    token = _page_token(client)
    assert client.post("/_form", data={"csrf_token": token}).text == "accepted"
    client.cookies.set(SESSION_COOKIE, "signed-in-since")  # a session began: the pre-session's token ends
    assert client.post("/_form", data={"csrf_token": token}).status_code == 403
    client.cookies.delete(SESSION_COOKIE)
    client.cookies.set(CSRF_COOKIE, "another-pre-session")
    assert client.post("/_form", data={"csrf_token": token}).status_code == 403


def test_a_real_sessions_token_fails_in_another_real_session(app: FastAPI, seeded: Session) -> None:
    with TestClient(app) as first, TestClient(app) as second:
        signed_in(first, seeded)
        signed_in(second, seeded)
        token = _page_token(first, "/account/sessions")
        second.get("/account/sessions")
        second.cookies.set(CSRF_COOKIE, token.rsplit(".", 1)[0])  # even with the nonce cookie copied
        refused = second.post("/account/sessions/revoke-all", data={"csrf_token": token})
        assert refused.status_code == 403
        assert "client.csrf" in refused.text
        assert first.post("/account/sessions/revoke-all", data={"csrf_token": token}).status_code < 400


def test_a_token_with_non_ascii_text_is_refused_not_an_error(form_app: FastAPI, client: TestClient) -> None:
    _page_token(client)
    assert client.post("/_form", data={"csrf_token": "نشانه.امضا"}).status_code == 403
