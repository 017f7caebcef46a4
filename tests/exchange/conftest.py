"""Exchange fixtures: published services, agency clients with real keys, the registries' fault switches."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import httpx
import pytest
from fastapi.testclient import TestClient
from joserfc import jwt
from joserfc.jwk import ECKey
from sqlalchemy.orm import Session

from panjereh.agencies import selectors as agency_selectors
from panjereh.agencies.seed import seed_agencies
from panjereh.core.config import Settings
from panjereh.exchange import selectors, service
from panjereh.exchange.auth import ASSERTION_TYPE, token_url
from panjereh.exchange.models import ExchangeClient, Grant
from panjereh.exchange.seed import seed_exchange
from panjereh.registries.catalog import published_services

REGISTRY_ADMIN = {"Authorization": "Bearer test-registry-token"}
ALI = "0499370899"  # people of the registries' population (seed 1402)
SARA = "0790419904"
NOBODY = "8580435994"  # a valid code nobody in the population has


@pytest.fixture
def exchange_data(db: Session, settings: Settings) -> Session:
    """Agencies, the registries' data services and the platform's standing grants (test's transaction)."""
    seed_agencies(db, settings, lambda _: None)
    seed_exchange(db, settings, lambda _: None, published=published_services())
    db.commit()
    return db


@dataclass
class AgencySystemClient:
    """An agency system with a registered key, able to get tokens and call the gateway."""

    client: ExchangeClient
    key: ECKey
    http: TestClient
    settings: Settings

    @property
    def agency(self) -> str:
        return self.client.agency.code

    def assertion(self, key: ECKey | None = None, **overrides: object) -> str:
        key = key or self.key
        now = int(time.time())
        claims = {
            "iss": self.client.client_id,
            "sub": self.client.client_id,
            "aud": token_url(self.settings),
            "iat": now,
            "exp": now + 120,
            "jti": uuid.uuid4().hex,
            **overrides,
        }
        return jwt.encode({"alg": "ES256", "kid": key.kid}, claims, key)

    def token_response(self, assertion: str | None = None) -> httpx.Response:
        return self.http.post(
            "/exchange/v1/token",
            data={
                "grant_type": "client_credentials",
                "client_assertion_type": ASSERTION_TYPE,
                "client_assertion": assertion or self.assertion(),
            },
        )

    def token(self) -> str:
        response = self.token_response()
        assert response.status_code == 200, response.text
        return str(response.json()["access_token"])

    def headers(
        self, purpose: str = "tax-audit", subject: str | None = None, case: str | None = None
    ) -> dict:
        headers = {"Authorization": f"Bearer {self.token()}", "Panjereh-Purpose": purpose}
        if subject:
            headers["Panjereh-Subject"] = subject
        if case:
            headers["Panjereh-Case"] = case
        return headers


def new_key(kid: str | None = None) -> ECKey:
    return ECKey.generate_key("P-256", parameters={"kid": kid or uuid.uuid4().hex[:12]})


@pytest.fixture
def make_agency_client(
    exchange_data: Session, client: TestClient, settings: Settings
) -> Callable[..., AgencySystemClient]:
    def make(agency: str, *, rate: int = 200) -> AgencySystemClient:
        key = new_key()
        registered = service.register_client(
            exchange_data,
            agency_selectors.get_agency_by_code(exchange_data, agency),
            client_id=f"{agency}-system-{uuid.uuid4().hex[:6]}",
            name=f"{agency} system",
            rate_per_second=rate,
        )
        service.add_client_key(exchange_data, registered, key.as_dict(private=False))
        exchange_data.commit()
        return AgencySystemClient(registered, key, client, settings)

    return make


def approved_grant(db: Session, client_agency: str, service_code: str, purposes: list[str]) -> Grant:
    """A grant requested by the client and approved by the provider."""
    grant = service.request_grant(
        db,
        client_agency=agency_selectors.get_agency_by_code(db, client_agency),
        service=selectors.get_service_by_code(db, service_code),
        purposes=purposes,
        legal_basis="Direct Taxes Act, art. 231",
    )
    service.approve_grant(db, grant, provider_agency_code=grant.service.provider.code)
    db.commit()
    return grant


@pytest.fixture
def faults(registries_url: str) -> Iterator[Callable[..., None]]:
    """Switch faults on a registry; every fault is switched off after the test."""

    def set_fault(registry: str, **spec: object) -> None:
        response = httpx.put(f"{registries_url}/_admin/faults/{registry}", json=spec, headers=REGISTRY_ADMIN)
        assert response.status_code == 200, response.text

    yield set_fault
    httpx.delete(f"{registries_url}/_admin/faults", headers=REGISTRY_ADMIN)
