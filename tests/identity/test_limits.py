"""Brute force stopped at the documented limits: throttles on core.ratelimit, failures in the database."""

from __future__ import annotations

import re

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from panjereh.core.config import Settings
from panjereh.core.identifiers import national_code_check_digit
from panjereh.core.persian import to_persian_digits
from panjereh.identity import policy
from panjereh.identity.exceptions import AccountLocked, LoginThrottled
from panjereh.identity.ratelimit import FailureCounters
from panjereh.identity.service import check_not_locked, record_failure
from tests.identity.helpers import DEMO_CODE, DEMO_MOBILE, attempt_of, last_code, login, start, submit_code


def test_five_wrong_codes_void_the_attempt(client: TestClient, seeded: Session, settings: Settings) -> None:
    started = start(client, DEMO_CODE, DEMO_MOBILE)
    attempt = attempt_of(started)
    right = last_code(client, DEMO_MOBILE)
    wrong = "000000" if right != "000000" else "111111"
    for remaining in range(policy.MAX_WRONG_CODES_PER_ATTEMPT - 1, -1, -1):
        response = submit_code(client, attempt, wrong)
        assert response.status_code == 400 and "identity.wrong_code" in response.text
        assert f"تلاش‌های باقی‌مانده برای این کد: {to_persian_digits(remaining)}" in response.text
    # The sixth answer, even the right code, is refused by the per-attempt rule itself.
    response = submit_code(client, attempt, right)
    assert response.status_code == 400
    assert "identity.too_many_wrong_codes" in response.text
    assert "identity.throttled" not in response.text


def test_sends_per_mobile_are_limited_with_retry_after(
    client: TestClient, seeded: Session, settings: Settings
) -> None:
    login(client, settings)
    client.cookies.clear()
    limit = policy.SENDS_PER_MOBILE[0].limit
    for _ in range(limit - 1):  # the first login used one send
        assert start(client, mobile=DEMO_MOBILE).status_code == 303
    refused = start(client, mobile=DEMO_MOBILE)
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) > 0
    assert "identity.throttled" in refused.text


def _unknown_national_code(n: int) -> str:
    """A valid national code nobody has logged in with (answered like a known one, but nothing is sent)."""
    first9 = f"98765{n:04d}"
    return first9 + str(national_code_check_digit(first9))


def _detail(page: str) -> str:
    found = re.search(r'id="form-error">.*?<div class="small">([^<]+)</div>', page, re.S)
    assert found, page[:1500]
    return found.group(1)


def test_sends_per_national_code_are_limited(client: TestClient, seeded: Session) -> None:
    national_code = _unknown_national_code(1)
    for _ in range(policy.SENDS_PER_NATIONAL_CODE[0].limit):
        assert start(client, national_code=national_code).status_code == 303
    refused = start(client, national_code=national_code)
    assert refused.status_code == 429 and "identity.throttled" in refused.text
    assert int(refused.headers["retry-after"]) > 0
    # The national code's limit, not the address's: another code from the same address still goes.
    assert start(client, national_code=_unknown_national_code(2)).status_code == 303


def test_sends_per_address_are_limited(app: FastAPI, seeded: Session) -> None:
    limit = policy.SENDS_PER_ADDRESS[0].limit
    with TestClient(app, base_url="http://testserver", client=("203.0.113.7", 50000)) as browser:
        for n in range(limit):  # a different national code each time: only the address adds up
            assert start(browser, national_code=_unknown_national_code(n)).status_code == 303
        refused = start(browser, national_code=_unknown_national_code(limit))
        assert refused.status_code == 429 and "identity.throttled" in refused.text
        assert int(refused.headers["retry-after"]) > 0
    with TestClient(app, base_url="http://testserver", client=("203.0.113.8", 50000)) as elsewhere:
        assert start(elsewhere, national_code=_unknown_national_code(limit)).status_code == 303


def test_login_starts_per_address_are_limited(app: FastAPI, seeded: Session) -> None:
    limit = policy.STARTS_PER_ADDRESS[0].limit
    with TestClient(app, base_url="http://testserver", client=("203.0.113.9", 50000)) as browser:
        for _ in range(limit):  # each start is counted before its identifiers are even checked
            assert start(browser, national_code="123").status_code == 422
        refused = start(browser, national_code="123")
        assert refused.status_code == 429 and "identity.throttled" in refused.text
        assert int(refused.headers["retry-after"]) > 0
    with TestClient(app, base_url="http://testserver", client=("203.0.113.10", 50000)) as elsewhere:
        assert start(elsewhere, national_code="123").status_code == 422


def test_the_hundredth_consecutive_failure_locks_the_account_at_the_login(
    client: TestClient, app: FastAPI, seeded: Session, settings: Settings
) -> None:
    login(client, settings)
    client.cookies.clear()
    # 99 failures already counted (the back-off between them long over), in the store the app uses.
    store = FailureCounters(seeded)
    store.put(f"fail:{DEMO_CODE}", policy.MAX_CONSECUTIVE_FAILURES - 1, policy.FAILURE_WINDOW_SECONDS)
    seeded.commit()
    started = start(client, DEMO_CODE, DEMO_MOBILE)
    assert started.status_code == 303
    attempt = attempt_of(started)
    right = last_code(client, DEMO_MOBILE)
    wrong = "000000" if right != "000000" else "111111"
    hundredth = submit_code(client, attempt, wrong)
    assert hundredth.status_code == 400 and "identity.wrong_code" in hundredth.text
    locked = submit_code(client, attempt, right)  # even the right code, on a live attempt
    assert locked.status_code == 429 and "identity.locked" in locked.text
    assert int(locked.headers["retry-after"]) > 23 * 3600
    assert _detail(locked.text).startswith("۱۰۰ تلاش ناموفق پیاپی")
    again = start(client, DEMO_CODE, DEMO_MOBILE)  # and no new code is sent
    assert again.status_code == 429 and "identity.locked" in again.text


def test_throttle_messages_show_persian_digits(client: TestClient, seeded: Session) -> None:
    national_code = _unknown_national_code(3)
    for _ in range(policy.SENDS_PER_NATIONAL_CODE[0].limit):
        start(client, national_code=national_code)
    detail = _detail(start(client, national_code=national_code).text)
    assert detail.startswith("حداکثر ۳ بار در هر ۱۰ دقیقه")
    assert not re.search(r"[0-9]", detail), detail


def test_backoff_grows_then_the_account_locks_at_100_in_the_database(db: Session) -> None:
    store = FailureCounters(db)
    national_code = "0067749828"
    for failure in range(1, policy.MAX_CONSECUTIVE_FAILURES + 1):
        assert record_failure(store, national_code) == failure
        if failure == policy.BACKOFF_AFTER_FAILURES - 1:
            check_not_locked(store, national_code)  # no back-off yet
        if failure == policy.BACKOFF_AFTER_FAILURES:
            with pytest.raises(LoginThrottled) as throttled:
                check_not_locked(store, national_code)
            assert int(throttled.value.headers["Retry-After"]) == policy.BACKOFF_BASE_SECONDS
    with pytest.raises(AccountLocked) as locked:
        check_not_locked(store, national_code)
    assert int(locked.value.headers["Retry-After"]) > 23 * 3600


def test_failure_counters_expire_and_reset(db: Session) -> None:
    store = FailureCounters(db)
    assert store.hit("w:test", 60) == (1, 60)
    assert store.hit("w:test", 60)[0] == 2
    store.reset("w:test")
    assert store.peek("w:test") == (0, 0)
    store.put("w:test", 7, 1)
    assert store.peek("w:test") == (7, 1)
    count, ttl = store.hit("w:test", 60)
    assert count == 8 and 0 < ttl <= 1


def test_backoff_numbers() -> None:
    assert [policy.backoff_seconds(n) for n in (1, 4, 5, 6, 7)] == [0, 0, 15, 30, 60]
    assert policy.backoff_seconds(50) == policy.BACKOFF_MAX_SECONDS
    assert policy.backoff_seconds(100) == policy.LOCK_SECONDS
