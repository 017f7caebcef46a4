"""The API document declares how to call each operation: its security schemes come from the routes'
security dependencies, and what it declares is what the server does. Every operation is called with no
credentials and with forged ones: an operation that refuses the anonymous caller (401) must declare a
scheme, and one that declares a scheme must refuse him; a public operation declares none."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from openapi_spec_validator import validate
from sqlalchemy.orm import Session

from panjereh.core.config import Settings
from panjereh.core.cookies import SESSION_COOKIE

ADMIN_TOKEN = "oidc-admin-token-for-the-test"  # noqa: S105
METHODS = ("get", "post", "put", "patch", "delete")

# A credential of the right shape that the server never issued, per scheme.
FORGED: dict[str, tuple[dict[str, str], dict[str, str]]] = {  # scheme → (headers, cookies)
    "citizenSession": ({}, {SESSION_COOKIE: "forged-session-token"}),
    "exchangeClient": ({"Authorization": "Bearer eyJhbGciOiJFUzI1NiJ9.e30.forged"}, {}),
    "oidc": ({"Authorization": "Bearer forged-access-token"}, {}),
    "oidcClient": ({"Authorization": "Basic bXkudGF4Ondyb25nLXNlY3JldA=="}, {}),  # my.tax:wrong-secret
    "oidcAdminToken": ({"Authorization": "Bearer not-the-admin-token"}, {}),
    "metricsToken": ({"Authorization": "Bearer not-the-metrics-token"}, {}),
}


@pytest.fixture
def api(app: FastAPI, settings: Settings, seeded: Session) -> Iterator[TestClient]:
    """The API with every optional credential configured, so each protected operation is on."""
    app.state.settings = settings.model_copy(update={"oidc_admin_token": ADMIN_TOKEN})
    with TestClient(app, base_url="http://testserver") as client:
        yield client


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]


def _call(
    client: TestClient,
    method: str,
    path: str,
    operation: dict[str, Any],
    headers: dict[str, str] | None = None,
    cookies: dict[str, str] | None = None,
) -> int:
    url = re.sub(r"\{[^}]+\}", "x1", path)
    content = operation.get("requestBody", {}).get("content", {})
    body: dict[str, Any] = {}
    if "application/x-www-form-urlencoded" in content:
        body["data"] = {"grant_type": "client_credentials", "token": "x"}
    elif content:
        body["json"] = {}
    client.cookies.clear()
    for name, value in (cookies or {}).items():
        client.cookies.set(name, value)
    return client.request(
        method.upper(),
        url,
        headers={"Origin": "http://testserver", **(headers or {})},
        follow_redirects=False,
        **body,
    ).status_code


def _schemes(operation: dict[str, Any]) -> set[str]:
    return {name for requirement in operation.get("security", []) for name in requirement}


def test_the_document_declares_the_schemes_the_api_accepts(api: TestClient, settings: Settings) -> None:
    document = api.get("/api/v1/openapi.json").json()
    validate(document)
    schemes = document["components"]["securitySchemes"]
    assert set(schemes) == set(FORGED)
    assert schemes["citizenSession"] == {**schemes["citizenSession"], "type": "apiKey", "in": "cookie"}
    assert schemes["citizenSession"]["name"] == SESSION_COOKIE  # plain HTTP: the bare name
    assert schemes["oidc"]["openIdConnectUrl"] == f"{settings.base_url}/.well-known/openid-configuration"
    flow = schemes["exchangeClient"]["flows"]["clientCredentials"]
    assert flow["tokenUrl"] == f"{settings.base_url}/exchange/v1/token"
    # The discovery URL the document names is served, and names this provider.
    discovery = api.get("/.well-known/openid-configuration").json()
    assert discovery["issuer"] == settings.base_url
    # Every scheme an operation names is declared, and every declared scheme is used.
    used = set().union(*(_schemes(operation) for _m, _p, operation in _operations(document)))
    assert used == set(schemes)


def test_over_https_the_document_names_the_prefixed_session_cookie(app: FastAPI, settings: Settings) -> None:
    from panjereh.app import create_app

    production = settings.model_copy(update={"env": "production", "public_url": "https://my.gov.test"})
    document = create_app(production).openapi()
    schemes = document["components"]["securitySchemes"]
    assert schemes["citizenSession"]["name"] == f"__Host-{SESSION_COOKIE}"
    assert schemes["oidc"]["openIdConnectUrl"] == "https://my.gov.test/.well-known/openid-configuration"


def test_every_operation_that_refuses_the_anonymous_declares_how_to_call_it(api: TestClient) -> None:
    document = api.get("/api/v1/openapi.json").json()
    wrong: list[str] = []
    protected = public = 0
    for method, path, operation in _operations(document):
        status = _call(api, method, path, operation)
        declared = _schemes(operation)
        if declared:
            protected += 1
            if status != 401:
                wrong.append(
                    f"{method.upper()} {path} declares {sorted(declared)} but answers {status} anonymously"
                )
            for scheme in declared:
                headers, cookies = FORGED[scheme]
                forged = _call(api, method, path, operation, headers, cookies)
                if forged != 401:
                    wrong.append(f"{method.upper()} {path} answers {forged} to a forged {scheme}")
        else:
            public += 1
            if status == 401:
                wrong.append(f"{method.upper()} {path} refuses the anonymous (401) but declares no scheme")
    assert not wrong, "\n".join(wrong)
    # Both kinds are there: the test did not pass by finding no operations of one kind.
    assert protected >= 20 and public >= 10


def test_a_revoked_session_is_refused_where_the_cookie_is_declared(api: TestClient, seeded: Session) -> None:
    from panjereh.identity import sessions
    from tests.identity import helpers

    row, token = sessions.open_session(seeded, helpers.citizen(seeded), level=1, amr=["sms"])
    seeded.commit()
    api.cookies.set(SESSION_COOKIE, token)
    assert api.get("/api/v1/requests").status_code == 200
    sessions.end_session(seeded, row.id)
    seeded.commit()
    assert api.get("/api/v1/requests").status_code == 401


def test_the_admin_token_opens_only_the_admin_api(api: TestClient) -> None:
    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    assert api.get("/api/v1/oidc/clients", headers=admin).status_code == 200
    assert api.get("/api/v1/requests", headers=admin).status_code == 401
    assert api.get("/api/v1/exchange/grants", headers=admin).status_code == 401
