"""Public verification (the /verify page and its API) is limited per client address."""

from __future__ import annotations

import uuid

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from panjereh.app import create_app
from panjereh.core.config import Settings

LIMIT = 3


@pytest.fixture
def limited_app(settings: Settings, session_factory: sessionmaker[Session]) -> FastAPI:
    application = create_app(settings.model_copy(update={"verify_per_minute": LIMIT}))
    application.state.sessionmaker = session_factory
    return application


def _address() -> tuple[str, int]:
    # An address of this test's own: in the PostgreSQL run the counts live in Redis, shared by the worker.
    suffix = uuid.uuid4().int
    return f"10.{suffix % 250}.{suffix // 250 % 250}.{suffix // 62500 % 250 + 1}", 40000


def test_the_api_refuses_past_the_limit_with_retry_after(limited_app: FastAPI) -> None:
    with TestClient(limited_app, client=_address()) as client:
        answers = [
            client.post("/api/v1/documents/verify", json={"number": "1403-0000-0001"}) for _ in range(LIMIT)
        ]
        assert all(answer.status_code == 200 for answer in answers)
        refused = client.post("/api/v1/documents/verify", json={"number": "1403-0000-0001"})
    assert refused.status_code == 429
    assert refused.json()["code"] == "documents.verification_throttled"
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert 1 <= int(refused.headers["retry-after"]) <= 60


def test_the_page_and_the_api_share_the_count_and_the_empty_form_is_free(limited_app: FastAPI) -> None:
    with TestClient(limited_app, client=_address()) as client:
        for _ in range(LIMIT + 2):
            assert client.get("/verify", headers={"accept": "text/html"}).status_code == 200
        assert client.get("/verify?n=1403-0000-0001", headers={"accept": "text/html"}).status_code == 200
        assert client.get("/verify?q=anything", headers={"accept": "text/html"}).status_code == 200
        assert client.post("/api/v1/documents/verify", json={"number": "1"}).status_code == 200
        page = client.get("/verify?p=x", headers={"accept": "text/html"})
    assert page.status_code == 429
    assert "documents.verification_throttled" in page.text


def test_another_address_has_its_own_count(limited_app: FastAPI) -> None:
    with TestClient(limited_app, client=_address()) as client:
        for _ in range(LIMIT):
            client.post("/api/v1/documents/verify", json={"number": "1"})
        assert client.post("/api/v1/documents/verify", json={"number": "1"}).status_code == 429
    with TestClient(limited_app, client=_address()) as other:
        assert other.post("/api/v1/documents/verify", json={"number": "1"}).status_code == 200
