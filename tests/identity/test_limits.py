"""Brute force stopped at the documented limits, on the database counters and on Redis."""

from __future__ import annotations

from typing import Any

import pytest
import redis as redis_lib
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from panjereh.core.config import Settings
from panjereh.identity import policy
from panjereh.identity.ratelimit import CounterStore, DatabaseCounters, RedisCounters
from panjereh.identity.service import check_not_locked, record_failure
from panjereh.identity.exceptions import AccountLocked, LoginThrottled
from tests.identity.helpers import DEMO_CODE, DEMO_MOBILE, attempt_of, last_code, login, start, submit_code


def test_five_wrong_codes_void_the_attempt(client: TestClient, seeded: Session, settings: Settings) -> None:
    started = start(client, DEMO_CODE, DEMO_MOBILE)
    attempt = attempt_of(started)
    right = last_code(settings, DEMO_MOBILE)
    wrong = "000000" if right != "000000" else "111111"
    for remaining in range(policy.MAX_WRONG_CODES_PER_ATTEMPT - 1, -1, -1):
        response = submit_code(client, attempt, wrong)
        assert response.status_code in (400, 429)
        if response.status_code == 429:
            break  # the account back-off began (after 5 consecutive failures)
    response = submit_code(client, attempt, right)
    assert response.status_code in (400, 429)
    assert "identity.too_many_wrong_codes" in response.text or "identity.throttled" in response.text


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


def _consecutive_failures_lock(store: CounterStore) -> None:
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


def test_backoff_grows_then_the_account_locks_at_100_on_the_database(db: Session) -> None:
    _consecutive_failures_lock(DatabaseCounters(db))


@pytest.mark.redis
def test_backoff_grows_then_the_account_locks_at_100_on_redis(
    redis_client: redis_lib.Redis, settings: Settings
) -> None:
    _consecutive_failures_lock(RedisCounters(redis_client, settings.redis_prefix))


def _window(store: CounterStore) -> None:
    assert store.hit("w:test", 60) == (1, 60) or store.hit("w:test", 60)[0] == 2
    store.reset("w:test")
    assert store.peek("w:test") == (0, 0)
    count, ttl = store.hit("w:test", 60)
    assert count == 1 and 0 < ttl <= 60


def test_database_counters(db: Session) -> None:
    _window(DatabaseCounters(db))


@pytest.mark.redis
def test_redis_counters(redis_client: redis_lib.Redis, settings: Settings) -> None:
    _window(RedisCounters(redis_client, settings.redis_prefix))


def test_backoff_numbers() -> None:
    assert [policy.backoff_seconds(n) for n in (1, 4, 5, 6, 7)] == [0, 0, 15, 30, 60]
    assert policy.backoff_seconds(50) == policy.BACKOFF_MAX_SECONDS
    assert policy.backoff_seconds(100) == policy.LOCK_SECONDS


