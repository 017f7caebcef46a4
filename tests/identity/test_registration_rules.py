"""Who may not register: under-18, deceased, Shahkar mismatch, invalid codes; registries down."""

from __future__ import annotations

import re
from datetime import date

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from panjereh.core.config import Settings
from panjereh.identity.models import Citizen, LoginAttempt
from panjereh.notify.providers import read_outbox
from tests.identity.helpers import (
    CONVICTED_MOBILE,
    DECEASED_CODE,
    DECEASED_MOBILE,
    DEMO_CODE,
    DEMO_MOBILE,
    MINOR_CODE,
    MINOR_MOBILE,
    attempt_of,
    start,
    submit_code,
)
from tests.notify.helpers import send_queued

PERSIAN_TO_LATIN = str.maketrans("۰۱۲۳۴۵۶۷۸۹", "0123456789")


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


@pytest.mark.parametrize(
    ("national_code", "mobile"),
    [("", "09129999999"), ("0684159414", ""), ("", DEMO_MOBILE), (DEMO_CODE, "")],
    ids=["unknown mobile", "unknown national code", "known mobile", "known national code"],
)
def test_one_identifier_alone_never_tells_whether_there_is_an_account(
    client: TestClient, seeded: Session, settings: Settings, national_code: str, mobile: str
) -> None:
    # Whether or not there is an account, the answer is the same redirect and the same page (OWASP
    # ASVS V6.3.8). Only a real account gets a code.
    seeded.add(
        Citizen(
            national_code=DEMO_CODE, first_name="علی", last_name="رضایی", birth_date=date(1985, 6, 12),
            mobile=DEMO_MOBILE,
        )
    )  # fmt: skip
    seeded.commit()
    known = national_code == DEMO_CODE or mobile == DEMO_MOBILE
    sent_before = len(read_outbox(settings))
    started = start(client, national_code, mobile)
    assert started.status_code == 303 and started.headers["location"].startswith("/login/verify?")
    page = client.get(started.headers["location"])
    assert page.status_code == 200
    assert "اگر حسابی با این مشخصات باشد" in page.text and "حساب ندارید؟" in page.text
    shown = re.findall(r"09[0-9]{2}\*\*\*[0-9]{4}", page.text.translate(PERSIAN_TO_LATIN))
    assert shown == ([mobile[:4] + "***" + mobile[-4:]] if mobile else [])  # only a number the citizen typed
    send_queued(client.app.state.sessionmaker, settings)  # type: ignore[attr-defined]
    assert len(read_outbox(settings)) == sent_before + (1 if known else 0)
    wrong = submit_code(client, attempt_of(started), "123456")
    assert wrong.status_code == 400 and "identity.wrong_code" in wrong.text


def test_registry_down_gives_a_persian_message_and_leaves_nothing(
    client: TestClient, seeded: Session, registries_url: str
) -> None:
    admin = {"Authorization": "Bearer test-registry-token"}
    faults = httpx.get(f"{registries_url}/_admin/faults", headers=admin, timeout=60)
    if faults.status_code == 401:
        pytest.fail("registry admin token differs; see registries docs")
    httpx.put(
        f"{registries_url}/_admin/faults/civil-registry",
        json={"down": True},
        headers=admin,
        timeout=60,
    ).raise_for_status()
    try:
        response = start(client, DEMO_CODE, "09121234567")
    finally:
        httpx.delete(f"{registries_url}/_admin/faults", headers=admin, timeout=60).raise_for_status()
    assert response.status_code == 503
    assert "identity.registry_unavailable" in response.text
    assert "ثبت احوال" in response.text
    _nothing_created(seeded)
