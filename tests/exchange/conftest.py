"""Exchange fixtures: published services, agency clients with real keys, the registries' fault switches."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from joserfc import jwt
from joserfc.jwk import ECKey
from sqlalchemy.orm import Session

from panjereh.core.config import Settings
from panjereh.exchange.auth import ASSERTION_TYPE, token_url
from panjereh.exchange.models import ExchangeClient
from tests.conftest import WORKER
from tests.support import databases
from tests.support.factories import create_exchange_client

REGISTRY_ADMIN = {"Authorization": "Bearer test-registry-token"}
ALI = "0499370899"  # people of the registries' population (seed 1402)
SARA = "0790419904"
NOBODY = "8580435994"  # a valid code nobody in the population has


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


@pytest.fixture
def agency_system(
    seeded: Session, client: TestClient, settings: Settings
) -> Callable[..., AgencySystemClient]:
    """Register an agency's system with the exchange (committed); it calls the gateway through `client`."""

    def register(agency: str, *, rate: int = 200, sandbox: bool = False) -> AgencySystemClient:
        registered, key = create_exchange_client(seeded, agency, rate=rate, sandbox=sandbox)
        seeded.commit()
        return AgencySystemClient(registered, key, client, settings)

    return register


@pytest.fixture
def committed_database(tmp_path: Path) -> str:
    """A database of its own, committed for real (the background writer uses its own connections).

    Named per test process (the tests of one process run one after another), so each run replaces the
    last one's instead of leaving a new database behind."""
    url = databases.fresh_database(f"{WORKER}_exlog", str(tmp_path))  # SQLite: a new file each test
    databases.migrated_engine(url).dispose()
    return url
