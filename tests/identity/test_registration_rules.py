"""Who may not register: under-18, deceased, Shahkar mismatch, invalid codes; registries down."""

from __future__ import annotations

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from panjereh.core.config import Settings
from panjereh.identity.models import Citizen, LoginAttempt
from tests.identity.helpers import (
    CONVICTED_MOBILE,
    DECEASED_CODE,
    DECEASED_MOBILE,
    DEMO_CODE,
    MINOR_CODE,
    MINOR_MOBILE,
    start,
)


def _nothing_created(db: Session) -> None:
    assert db.scalar(select(func.count()).select_from(Citizen)) == 0
    assert db.scalar(select(func.count()).select_from(LoginAttempt)) == 0


@pytest.mark.parametrize(
    ("national_code", "mobile", "status", "code"),
    [
        (MINOR_CODE, MINOR_MOBILE, 403, "identity.underage"),
        (DECEASED_CODE, DECEASED_MOBILE, 403, "identity.deceased"),
        (DEMO_CODE, CONVICTED_MOBILE, 403, "identity.shahkar_mismatch"),
        ("1234567890", "09121234567", 422, "identity.invalid_national_code"),
        ("0000000000", "09121234567", 422, "identity.invalid_national_code"),
        ("0684159415", "09121234567", 422, "identity.invalid_national_code"),
        (DEMO_CODE, "0812345678", 422, "identity.invalid_mobile"),
        ("", "", 422, "identity.identifier_missing"),
    ],
)
def test_refused_with_a_clear_message_and_nothing_created(
    client: TestClient, seeded: Session, national_code: str, mobile: str, status: int, code: str
) -> None:
    response = start(client, national_code, mobile)
    assert response.status_code == status
    assert code in response.text
    assert 'role="alert"' in response.text
    _nothing_created(seeded)


def test_unknown_mobile_alone_asks_for_the_national_code(client: TestClient, seeded: Session) -> None:
    response = start(client, mobile="09129999999")
    assert response.status_code == 422 and "identity.not_registered" in response.text


def test_registry_down_gives_a_persian_message_and_leaves_nothing(
    client: TestClient, seeded: Session, registries_url: str
) -> None:
    admin = {"Authorization": "Bearer test-registry-token"}
    faults = httpx.get(f"{registries_url}/_admin/faults", headers=admin)
    if faults.status_code == 401:
        pytest.fail("registry admin token differs; see registries docs")
    httpx.put(f"{registries_url}/_admin/faults/civil-registry", json={"down": True}, headers=admin).raise_for_status()
    try:
        response = start(client, DEMO_CODE, "09121234567")
    finally:
        httpx.delete(f"{registries_url}/_admin/faults", headers=admin).raise_for_status()
    assert response.status_code == 503
    assert "identity.registry_unavailable" in response.text
    assert "ثبت احوال" in response.text
    _nothing_created(seeded)
