"""The token endpoint's client cache: a disabled client stops at once here, and within the TTL elsewhere."""

from __future__ import annotations

import time

from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.orm import Session

from panjereh.core.config import Settings
from panjereh.core.db import utcnow
from panjereh.oidc import clients
from panjereh.oidc.models import OidcClient
from tests.oidc.helpers import register
from tests.oidc.test_protocol import _code, _token


def test_a_disabled_client_gets_no_more_tokens_at_once(
    client: TestClient, seeded: Session, settings: Settings
) -> None:
    secret = register(seeded)
    first_code, first_verifier, _ = _code(client, settings)
    second_code, second_verifier, _ = _code(client, settings)
    assert _token(client, secret, first_code, first_verifier).status_code == 200  # now cached
    clients.disable(seeded, "my.tax")
    refused = _token(client, secret, second_code, second_verifier)
    assert refused.status_code == 401 and refused.json()["error"] == "invalid_client"


def test_a_client_disabled_by_another_process_stops_within_the_ttl(db: Session) -> None:
    register(db, "other.app")
    cache = clients.ClientCache(seconds=0.3)
    assert cache.get(db, "other.app") is not None
    # Another process (the CLI, another worker) disables it: this cache cannot hear of it...
    db.execute(update(OidcClient).where(OidcClient.client_id == "other.app").values(disabled_at=utcnow()))
    assert cache.get(db, "other.app") is not None  # ...so it is still served for at most the TTL,
    time.sleep(0.35)
    assert cache.get(db, "other.app") is None  # then read again and refused


def test_unknown_clients_are_not_cached(db: Session) -> None:
    cache = clients.ClientCache(seconds=60)
    assert cache.get(db, "late.app") is None
    register(db, "late.app")
    info = cache.get(db, "late.app")
    assert info is not None and info.client_id == "late.app" and info.secret_hash
