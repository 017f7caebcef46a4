"""The cookie-signed JSON API refuses state changes that another site's page made the browser send (CSRF)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.identity.helpers import signed_in

REVIEW = "/api/v1/requests/000000000000/review"  # no such request: passing the check answers 404
APPLY = "/api/v1/services/no-criminal-record/requests"


@pytest.mark.parametrize(
    "headers",
    [
        {"sec-fetch-site": "cross-site"},
        {"sec-fetch-site": "same-site"},  # a sibling host is another origin
        {"origin": "https://evil.example"},
        {"origin": "null"},
        {"sec-fetch-site": "cross-site", "origin": "http://testserver"},  # Fetch Metadata is trusted first
    ],
)
def test_a_cross_site_post_with_the_session_cookie_is_refused(
    client: TestClient, db: Session, headers: dict[str, str]
) -> None:
    signed_in(client, db, level=2)
    for path, body in ((REVIEW, None), (APPLY, {"inputs": {"purpose": "employment"}})):
        response = client.post(path, json=body, headers=headers)
        assert response.status_code == 403, (path, response.text)
        assert response.json()["code"] == "client.cross_site"


@pytest.mark.parametrize(
    "headers",
    [
        {},  # not a browser page: no Origin, no Fetch Metadata
        {"sec-fetch-site": "same-origin"},
        {"sec-fetch-site": "none"},  # the user's own action (an address typed, a bookmark), no page's
        {"origin": "http://testserver"},
    ],
)
def test_the_sites_own_calls_and_non_browser_clients_pass(
    client: TestClient, db: Session, headers: dict[str, str]
) -> None:
    signed_in(client, db, level=2)
    assert client.post(REVIEW, headers=headers).status_code == 404


def test_reads_are_not_refused(client: TestClient, db: Session) -> None:
    signed_in(client, db, level=2)
    assert client.get("/api/v1/requests", headers={"sec-fetch-site": "cross-site"}).status_code == 200


def test_anonymous_cross_site_calls_are_still_401(client: TestClient) -> None:
    response = client.post(REVIEW, headers={"sec-fetch-site": "cross-site"})
    assert response.status_code == 401
