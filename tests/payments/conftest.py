"""Payments fixtures: delivery's committed database, worker and signed-in browsers, the fee-bearing card,
and a hand at the simulated gateway (the citizen's browser there, the merchant's key)."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.delivery import conftest as delivery
from tests.support.browsers import csrf_token
from tests.support.factories import create_card

# Delivery's fixtures: its committed database, app, seeded exchange and definitions, browsers, worker.
committed_engine, session_factory, db, app = (
    delivery.committed_engine,
    delivery.session_factory,
    delivery.db,
    delivery.app,
)
seeded, login, worker = delivery.seeded, delivery.login, delivery.worker

FEE = 1_150_000  # rials, the flagship card's
GOOD_CARD = "6037991000000001"
DECLINED_CARD = "6037990000000002"
TOKEN = "test-registry-token"
SIGNED = ("token", "order_id", "status", "reference", "amount")


@pytest.fixture
def fee_card(seeded: Session) -> None:
    """The no-criminal-record card with its fee (the definition is the delivery seed's)."""
    create_card(
        seeded,
        "judiciary",
        slug="no-criminal-record",
        service_id="11030100001",
        title_fa="گواهی عدم سوء پیشینهٔ کیفری",
        title_en="Certificate of no criminal record",
        cost_rials=FEE,
        offered_through_window=True,
    )
    seeded.commit()


def apply(client: TestClient, key: str = "pay-1", slug: str = "no-criminal-record") -> str:
    inputs = {"purpose": "employment"} if slug == "no-criminal-record" else {}
    response = client.post(
        f"/api/v1/services/{slug}/requests", json={"inputs": inputs}, headers={"Idempotency-Key": key}
    )
    assert response.status_code == 201, response.text
    return str(response.json()["tracking_code"])


def start(client: TestClient, code: str) -> httpx.Response:
    """The citizen presses «pay» on the request page."""
    token = csrf_token(client, f"/account/requests/{code}")
    return client.post(f"/account/requests/{code}/pay", data={"csrf_token": token}, follow_redirects=False)


def to_gateway(client: TestClient, code: str) -> str:
    response = start(client, code)
    assert response.status_code == 303, response.text
    return response.headers["location"]


def at_gateway(url: str, action: str = "pay", card: str = GOOD_CARD) -> str:
    """The citizen at the gateway's page: pay or cancel; the callback path (with its query) it sends back."""
    assert httpx.get(url, timeout=60).status_code == 200
    response = httpx.post(url, data={"action": action, "card": card}, follow_redirects=False, timeout=60)
    assert response.status_code == 303, response.text
    parts = urlsplit(response.headers["location"])
    assert parts.path == "/payments/callback"
    return f"{parts.path}?{parts.query}"


def fields_of(callback: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(callback).query, keep_blank_values=True))


def signed(fields: dict[str, str], token: str = TOKEN) -> str:
    """A callback as the gateway would sign it (the test knows the merchant's key)."""
    key = hmac.new(token.encode(), b"ipg-callback-v1", hashlib.sha256).digest()
    values = dict(fields)
    values["signature"] = hmac.new(
        key, "|".join(values.get(n, "") for n in SIGNED).encode(), hashlib.sha256
    ).hexdigest()
    return "/payments/callback?" + urlencode(values)


@pytest.fixture
def gateway(registries_url: str) -> Callable[..., httpx.Response]:
    """The merchant's server-to-server calls to the gateway (tests act at it directly)."""

    def call(method: str, path: str, **kwargs: Any) -> httpx.Response:
        return httpx.request(
            method, f"{registries_url}/ipg{path}", headers={"Authorization": f"Bearer {TOKEN}"}, **kwargs
        )

    return call
