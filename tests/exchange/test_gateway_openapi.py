"""Schemathesis over the exchange gateway's own OpenAPI document (docs/protocols/), served by the gateway:
anonymous callers and an authenticated agency system alike get no server error and only documented
answers."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from sqlalchemy.orm import Session

from panjereh.exchange.gateway import OPENAPI_DOCUMENT

EXAMPLES = 40

schema = schemathesis.openapi.from_dict(json.loads(OPENAPI_DOCUMENT.read_text(encoding="utf-8")))


def test_the_gateway_serves_its_document(client: TestClient) -> None:
    response = client.get("/exchange/v1/openapi.json")
    assert response.status_code == 200
    assert response.json() == json.loads(OPENAPI_DOCUMENT.read_text(encoding="utf-8"))
    assert set(response.json()["paths"]) == {"/exchange/v1/token", "/exchange/v1/{service_code}/{path}"}


@pytest.fixture
def bearer(agency_system: Callable, seeded: Session) -> dict[str, str]:
    """An agency system's token: the inquiries get past authentication to grants, paths and providers."""
    return {"Authorization": f"Bearer {agency_system('tax').token()}"}


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)
def test_the_gateway_answers_every_input_as_documented(
    case: schemathesis.Case, app: FastAPI, bearer: dict[str, str]
) -> None:
    case.call_and_validate(app=app)
    if case.operation.path != "/exchange/v1/token":
        case.call_and_validate(app=app, headers=bearer)
