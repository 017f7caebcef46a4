"""What an agency integrating its app needs (issue 13, item 5): revocation, introspection, back-channel
logout, public native clients, refresh scope narrowing, strict request parsing, form_post."""

from __future__ import annotations

import asyncio
import base64
import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from joserfc import jwk, jwt
from sqlalchemy.orm import Session, sessionmaker
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from panjereh.core.config import Settings
from panjereh.jobs import Worker
from panjereh.oidc import clients
from panjereh.oidc.exceptions import InvalidClientMetadata
from panjereh.oidc.logout import BACKCHANNEL_EVENT, BACKCHANNEL_JOB
from tests.oidc.helpers import REDIRECT_URI, authorize_url, browse, pkce, query_of, register
from tests.support.servers import running_server

SCOPE = "openid profile national_code phone offline_access"


def _basic(client_id: str, secret: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}


def _tokens(client: TestClient, settings: Settings, secret: str, client_id: str = "my.tax") -> dict[str, Any]:
    verifier, challenge = pkce()
    location = browse(client, settings, authorize_url(client_id, challenge, scope=SCOPE))
    response = client.post(
        "/oauth2/token",
        data={
            "grant_type": "authorization_code",
            "code": query_of(location)["code"],
            "redirect_uri": REDIRECT_URI,
            "code_verifier": verifier,
        },
        headers=_basic(client_id, secret),
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _userinfo(client: TestClient, access: str) -> Any:
    return client.get("/oauth2/userinfo", headers={"Authorization": f"Bearer {access}"})


def _refresh(client: TestClient, secret: str, refresh: str, **extra: str) -> Any:
    data = {"grant_type": "refresh_token", "refresh_token": refresh, **extra}
    return client.post("/oauth2/token", data=data, headers=_basic("my.tax", secret))


# --- revocation (RFC 7009) and introspection (RFC 7662) ------------------------------------------------


def test_introspection_tells_a_client_about_its_own_live_tokens_only(
    client: TestClient, seeded: Session, settings: Settings
) -> None:
    secret = register(seeded)
    other = register(seeded, "other.app")
    issued = _tokens(client, settings, secret)
    mine = client.post(
        "/oauth2/introspect", data={"token": issued["access_token"]}, headers=_basic("my.tax", secret)
    )
    assert mine.status_code == 200 and mine.headers["cache-control"] == "no-store"
    body = mine.json()
    assert body["active"] is True and body["client_id"] == "my.tax" and body["token_type"] == "Bearer"
    assert set(body["scope"].split()) == set(SCOPE.split()) and body["sub"] and body["exp"] > body["iat"]
    refresh = client.post(
        "/oauth2/introspect",
        data={"token": issued["refresh_token"], "token_type_hint": "refresh_token"},
        headers=_basic("my.tax", secret),
    ).json()
    assert refresh["active"] is True and refresh["token_type"] == "refresh_token"
    # Another client learns nothing about it (RFC 7662 §2.2), and nobody unauthenticated may ask.
    theirs = client.post(
        "/oauth2/introspect", data={"token": issued["access_token"]}, headers=_basic("other.app", other)
    )
    assert theirs.json() == {"active": False}
    anonymous = client.post("/oauth2/introspect", data={"token": issued["access_token"]})
    assert anonymous.status_code == 401 and anonymous.json()["error"] == "invalid_client"
    wrong = client.post(
        "/oauth2/introspect", data={"token": issued["access_token"]}, headers=_basic("my.tax", "nope")
    )
    assert wrong.status_code == 401
    unknown = client.post("/oauth2/introspect", data={"token": "x" * 43}, headers=_basic("my.tax", secret))
    assert unknown.json() == {"active": False}
    missing = client.post("/oauth2/introspect", data={}, headers=_basic("my.tax", secret))
    assert missing.status_code == 400 and missing.json()["error"] == "invalid_request"


def test_revoking_an_access_token_ends_it_and_a_refresh_token_ends_the_grant(
    client: TestClient, seeded: Session, settings: Settings
) -> None:
    secret = register(seeded)
    first = _tokens(client, settings, secret)
    revoked = client.post(
        "/oauth2/revoke",
        data={"token": first["access_token"], "token_type_hint": "access_token"},
        headers=_basic("my.tax", secret),
    )
    assert revoked.status_code == 200
    assert _userinfo(client, first["access_token"]).status_code == 401
    assert _refresh(client, secret, first["refresh_token"]).status_code == 200  # only the access token
    second = _tokens(client, settings, secret)
    assert (
        client.post(
            "/oauth2/revoke", data={"token": second["refresh_token"]}, headers=_basic("my.tax", secret)
        ).status_code
        == 200
    )
    assert _userinfo(client, second["access_token"]).status_code == 401  # the whole grant
    assert _refresh(client, secret, second["refresh_token"]).json()["error"] == "invalid_grant"
    # An unknown token is no error (RFC 7009 §2.2); a bad hint is.
    assert (
        client.post("/oauth2/revoke", data={"token": "nope"}, headers=_basic("my.tax", secret)).status_code
        == 200
    )
    hint = client.post(
        "/oauth2/revoke",
        data={"token": "nope", "token_type_hint": "id_token"},
        headers=_basic("my.tax", secret),
    )
    assert hint.status_code == 400 and hint.json()["error"] == "unsupported_token_type"


def test_a_client_cannot_revoke_another_clients_token_nor_revoke_anonymously(
    client: TestClient, seeded: Session, settings: Settings
) -> None:
    secret = register(seeded)
    other = register(seeded, "other.app")
    issued = _tokens(client, settings, secret)
    theirs = client.post(
        "/oauth2/revoke", data={"token": issued["refresh_token"]}, headers=_basic("other.app", other)
    )
    assert theirs.status_code == 400 and theirs.json()["error"] == "unauthorized_client"
    anonymous = client.post("/oauth2/revoke", data={"token": issued["refresh_token"], "client_id": "my.tax"})
    assert anonymous.status_code == 401
    assert _userinfo(client, issued["access_token"]).status_code == 200
    assert _refresh(client, secret, issued["refresh_token"]).status_code == 200


# --- refresh scope (RFC 6749 §6) ---------------------------------------------------------------------


def test_refresh_narrows_scope_and_refuses_more(
    client: TestClient, seeded: Session, settings: Settings
) -> None:
    secret = register(seeded)
    issued = _tokens(client, settings, secret)
    wider = _refresh(client, secret, issued["refresh_token"], scope="openid profile email")
    assert wider.status_code == 400 and wider.json()["error"] == "invalid_scope"
    narrowed = _refresh(client, secret, issued["refresh_token"], scope="openid profile")
    assert narrowed.status_code == 200, narrowed.text
    body = narrowed.json()
    assert body["scope"] == "openid profile"
    claims = _userinfo(client, body["access_token"]).json()
    assert "name" in claims and "national_code" not in claims and "phone_number" not in claims
    # The grant itself is unchanged: the next refresh without `scope` gets all of it back.
    full = _refresh(client, secret, body["refresh_token"]).json()
    assert set(full["scope"].split()) == set(SCOPE.split())
    assert "national_code" in _userinfo(client, full["access_token"]).json()


# --- request parsing ----------------------------------------------------------------------------------


def test_duplicated_parameters_are_invalid_request(
    client: TestClient, seeded: Session, settings: Settings
) -> None:
    secret = register(seeded)
    _verifier, challenge = pkce()
    url = authorize_url("my.tax", challenge)
    twice = client.get(url + "&scope=openid", follow_redirects=False)
    assert twice.status_code == 303 and query_of(twice.headers["location"])["error"] == "invalid_request"
    # A duplicated client_id or redirect_uri leaves no safe place to send the error: a page, no redirect.
    page = client.get(url + "&redirect_uri=https%3A%2F%2Fevil.example%2Fcb", follow_redirects=False)
    assert page.status_code == 422 and "location" not in page.headers
    issued_code = query_of(browse(client, settings, authorize_url("my.tax", challenge)))["code"]
    token = client.post(
        "/oauth2/token",
        content=f"grant_type=authorization_code&code={issued_code}&code=other&redirect_uri={REDIRECT_URI}",
        headers={**_basic("my.tax", secret), "content-type": "application/x-www-form-urlencoded"},
    )
    assert token.status_code == 400 and token.json()["error"] == "invalid_request"


def test_missing_response_type_request_uri_and_unknown_response_mode(
    client: TestClient, seeded: Session, settings: Settings
) -> None:
    register(seeded)
    _verifier, challenge = pkce()

    def error_of(**params: Any) -> str:
        response = client.get(authorize_url("my.tax", challenge, **params), follow_redirects=False)
        assert response.status_code == 303
        return query_of(response.headers["location"])["error"]

    assert error_of(response_type=None) == "invalid_request"
    assert error_of(response_type="token") == "unsupported_response_type"
    assert error_of(request_uri="https://rp.example.ir/request.jwt") == "request_uri_not_supported"
    assert error_of(request="eyJhbGciOiJub25lIn0.e30.") == "request_not_supported"
    assert error_of(response_mode="fragment") == "invalid_request"


def test_form_post_response_mode_posts_the_answer_without_inline_script(
    client: TestClient, seeded: Session, settings: Settings
) -> None:
    register(seeded)
    _verifier, challenge = pkce()
    browse(client, settings, authorize_url("my.tax", challenge))  # signed in and consented
    url = authorize_url("my.tax", challenge, response_mode="form_post", state="s-1")
    page = client.get(url, follow_redirects=False)
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    html = page.text
    assert f'<form method="post" action="{REDIRECT_URI}" id="oidc-form-post">' in html
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', html))
    assert fields["state"] == "s-1" and fields["code"] and fields["iss"] == settings.base_url
    assert '<script src="/static/js/oidc-form-post.js" defer></script>' in html
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)  # no inline script anywhere on the page
    assert client.get("/static/js/oidc-form-post.js").status_code == 200
    # Errors go the same way.
    refused = client.get(authorize_url("my.tax", challenge, response_mode="form_post", prompt="bogus"))
    assert 'name="error" value="invalid_request"' in refused.text


def test_discovery_advertises_what_is_built(client: TestClient) -> None:
    response = client.get("/.well-known/openid-configuration")
    metadata = response.json()
    base = metadata["issuer"]
    assert metadata["revocation_endpoint"] == f"{base}/oauth2/revoke"
    assert metadata["introspection_endpoint"] == f"{base}/oauth2/introspect"
    assert metadata["backchannel_logout_supported"] is True
    assert metadata["backchannel_logout_session_supported"] is True
    assert metadata["response_modes_supported"] == ["query", "form_post"]
    assert "none" in metadata["token_endpoint_auth_methods_supported"]
    assert "none" not in metadata["introspection_endpoint_auth_methods_supported"]
    assert "none" not in metadata["revocation_endpoint_auth_methods_supported"]
    jwks = client.get("/oauth2/jwks")
    assert response.headers["cache-control"] == jwks.headers["cache-control"]


# --- public native clients (RFC 8252) ---------------------------------------------------------------


@pytest.mark.parametrize(
    "uris",
    [
        ["http://127.0.0.1/callback"],
        ["http://[::1]:8080/callback"],
        ["ir.gov.tax.app:/oauth2redirect"],
        ["https://app.tax.gov.ir/oauth2redirect"],
    ],
)
def test_native_apps_register_loopback_private_use_and_claimed_https(db: Session, uris: list[str]) -> None:
    client, secret = clients.register(
        db,
        client_id="tax.mobile",
        name_fa="همراه مالیات",
        redirect_uris=uris,
        application_type="native",
        token_endpoint_auth_method="none",
    )
    assert secret is None and client.redirect_uris == uris


@pytest.mark.parametrize(
    ("application_type", "uri"),
    [
        ("web", "https://*.example/cb"),
        ("native", "https://*.example/cb"),
        ("web", "http://127.0.0.1:9000/cb"),  # loopback http is for native apps only
        ("native", "http://localhost/cb"),  # RFC 8252 §8.3: an IP literal, not a name
        ("native", "http://app.example/cb"),
        ("native", "myapp:/cb"),  # a private-use scheme is a reverse domain name
        ("native", "javascript:alert(1)"),
        ("native", "https://app.example/cb#x"),
        ("web", "https://"),
        ("web", "https://app.example:99999/cb"),
    ],
)
def test_bad_redirect_uris_are_refused(db: Session, application_type: str, uri: str) -> None:
    with pytest.raises(InvalidClientMetadata):
        clients.register(
            db,
            client_id="bad.app",
            name_fa="بد",
            redirect_uris=[uri],
            application_type=application_type,
            token_endpoint_auth_method="none" if application_type == "native" else "client_secret_basic",
        )


def test_a_web_client_cannot_be_public(db: Session) -> None:
    with pytest.raises(InvalidClientMetadata):
        clients.register(
            db,
            client_id="web.pub",
            name_fa="و",
            redirect_uris=[REDIRECT_URI],
            token_endpoint_auth_method="none",
        )


def test_a_public_native_app_logs_in_on_any_loopback_port_with_pkce(
    client: TestClient, seeded: Session, settings: Settings
) -> None:
    register(
        seeded,
        "tax.mobile",
        redirect_uris=["http://127.0.0.1/callback", "ir.gov.tax.app:/oauth2redirect"],
        post_logout_redirect_uris=[],
        application_type="native",
        token_endpoint_auth_method="none",
    )
    verifier, challenge = pkce()
    redirect = "http://127.0.0.1:51234/callback"
    location = browse(
        client, settings, authorize_url("tax.mobile", challenge, redirect_uri=redirect, scope=SCOPE)
    )
    assert location.startswith(redirect + "?")
    data = {
        "grant_type": "authorization_code",
        "code": query_of(location)["code"],
        "redirect_uri": redirect,
        "client_id": "tax.mobile",
    }
    assert client.post("/oauth2/token", data=data).json()["error"] == "invalid_grant"  # no verifier
    location = browse(
        client, settings, authorize_url("tax.mobile", challenge, redirect_uri=redirect, scope=SCOPE)
    )
    tokens = client.post(
        "/oauth2/token", data={**data, "code": query_of(location)["code"], "code_verifier": verifier}
    )
    assert tokens.status_code == 200, tokens.text
    refreshed = client.post(
        "/oauth2/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": tokens.json()["refresh_token"],
            "client_id": "tax.mobile",
        },
    )
    assert refreshed.status_code == 200
    # Another path on loopback, or another host, is not the registered URI.
    for wrong in (
        "http://127.0.0.1:51234/other",
        "http://127.0.0.2:51234/callback",
        "https://127.0.0.1/callback",
    ):
        page = client.get(authorize_url("tax.mobile", challenge, redirect_uri=wrong), follow_redirects=False)
        assert page.status_code == 422, wrong
    # The private-use scheme works as registered.
    location = browse(
        client,
        settings,
        authorize_url("tax.mobile", challenge, redirect_uri="ir.gov.tax.app:/oauth2redirect"),
    )
    assert location.startswith("ir.gov.tax.app:/oauth2redirect?code=")


def test_a_confidential_client_cannot_pass_as_public(
    client: TestClient, seeded: Session, settings: Settings
) -> None:
    register(seeded)
    verifier, challenge = pkce()
    location = browse(client, settings, authorize_url("my.tax", challenge))
    data = {
        "grant_type": "authorization_code",
        "code": query_of(location)["code"],
        "redirect_uri": REDIRECT_URI,
        "code_verifier": verifier,
        "client_id": "my.tax",
    }
    response = client.post("/oauth2/token", data=data)
    assert response.status_code == 401 and response.json()["error"] == "invalid_client"


# --- back-channel logout (OIDC Back-Channel Logout 1.0) ---------------------------------------------


class Receiver:
    """A relying party's back-channel logout endpoint: fails the first `failures` calls, records the rest."""

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.calls = 0
        self.tokens: list[str] = []

    async def logout(self, request: Request) -> PlainTextResponse:
        self.calls += 1
        if self.calls <= self.failures:
            return PlainTextResponse("not now", status_code=503)
        form = await request.form()
        self.tokens.append(str(form["logout_token"]))
        return PlainTextResponse("")

    def app(self) -> Starlette:
        async def health(_request: Request) -> PlainTextResponse:
            return PlainTextResponse("ok")

        return Starlette(
            routes=[Route("/healthz", health), Route("/backchannel", self.logout, methods=["POST"])]
        )


@pytest.fixture
def receiver() -> Iterator[tuple[Receiver, str]]:
    found = Receiver(failures=2)
    with running_server(found.app()) as url:
        yield found, url


def _send_logouts(session_factory: sessionmaker[Session], settings: Settings, receiver: Receiver) -> None:
    worker = Worker(
        session_factory,
        services={"settings": settings},
        kinds={BACKCHANNEL_JOB},
        concurrency=1,
        backoff_base=0.001,
    )
    for _ in range(50):  # each failed attempt is put back a millisecond later
        asyncio.run(worker.run_until_idle())
        if receiver.tokens:
            return


def test_logout_sends_a_signed_logout_token_to_registered_clients_with_retries(
    client: TestClient,
    seeded: Session,
    settings: Settings,
    session_factory: sessionmaker[Session],
    receiver: tuple[Receiver, str],
) -> None:
    rp, url = receiver
    secret = register(seeded, backchannel_logout_uri=f"{url}/backchannel")
    register(seeded, "quiet.app")  # registered no back-channel URI: nothing is sent to it
    issued = _tokens(client, settings, secret)
    id_claims = jwt.decode(
        issued["id_token"], jwk.KeySet.import_key_set(client.get("/oauth2/jwks").json())
    ).claims
    page = client.get("/oauth2/logout")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token, page.text[:500]
    assert (
        client.post("/oauth2/logout", data={"csrf_token": token.group(1)}, follow_redirects=False).status_code
        == 303
    )
    _send_logouts(session_factory, settings, rp)
    assert rp.calls == 3 and len(rp.tokens) == 1  # two refusals, then delivered
    logout = jwt.decode(rp.tokens[0], jwk.KeySet.import_key_set(client.get("/oauth2/jwks").json()))
    assert logout.header["typ"] == "logout+jwt" and logout.header["alg"] == "RS256"
    claims = logout.claims
    assert claims["iss"] == settings.base_url and claims["aud"] == "my.tax"
    assert claims["sub"] == id_claims["sub"] and claims["sid"] == id_claims["sid"]
    assert claims["events"] == {BACKCHANNEL_EVENT: {}} and "nonce" not in claims and claims["jti"]


def test_portal_logout_notifies_too_and_registration_checks_the_uri(
    client: TestClient,
    seeded: Session,
    settings: Settings,
    session_factory: sessionmaker[Session],
    receiver: tuple[Receiver, str],
) -> None:
    rp, url = receiver
    rp.failures = 0
    secret = register(seeded, backchannel_logout_uri=f"{url}/backchannel")
    _tokens(client, settings, secret)
    account = client.get("/account")
    token = re.search(r'name="csrf_token" value="([^"]+)"', account.text)
    assert token, account.text[:500]
    assert (
        client.post("/logout", data={"csrf_token": token.group(1)}, follow_redirects=False).status_code == 303
    )
    _send_logouts(session_factory, settings, rp)
    assert len(rp.tokens) == 1
    for bad in ("http://rp.example.ir/logout", "https://rp.example.ir/logout#x", "https://*.example/logout"):
        with pytest.raises(InvalidClientMetadata):
            register(seeded, "bad.rp", backchannel_logout_uri=bad)


def test_logging_out_everywhere_from_the_account_page_notifies_the_apps(
    client: TestClient,
    seeded: Session,
    settings: Settings,
    session_factory: sessionmaker[Session],
    receiver: tuple[Receiver, str],
) -> None:
    rp, url = receiver
    rp.failures = 0
    secret = register(seeded, backchannel_logout_uri=f"{url}/backchannel")
    _tokens(client, settings, secret)
    page = client.get("/account/sessions")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token, page.text[:500]
    response = client.post(
        "/account/sessions/revoke-all", data={"csrf_token": token.group(1)}, follow_redirects=False
    )
    assert response.status_code == 303
    _send_logouts(session_factory, settings, rp)
    assert len(rp.tokens) == 1


def test_the_conformance_check_accepts_native_redirect_rules_only_for_native_apps() -> None:
    from panjereh.conformance.checks.oidc import redirect_problem

    for uri in ("http://127.0.0.1/callback", "http://[::1]:8080/cb", "ir.gov.tax.app:/oauth2redirect"):
        assert redirect_problem(uri, production=True, native=True) is None, uri
        assert redirect_problem(uri, production=True) is not None, uri
    assert redirect_problem("myapp:/cb", production=True, native=True) is not None
    assert redirect_problem("https://*.example/cb", production=True, native=True) is not None
