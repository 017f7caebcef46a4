"""Rate limits on `limits`: moving and fixed windows, in memory and in Redis, with the wait until the next."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from limits.storage import Storage

from panjereh.core.config import Settings
from panjereh.core.ratelimit import Limiter, Window, make_storage


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
def storage(request: pytest.FixtureRequest, settings: Settings) -> Iterator[Storage]:
    if request.param == "memory":
        yield make_storage()
        return
    if not settings.redis_url:
        pytest.skip("Redis is exercised in the PostgreSQL run")
    shared = make_storage(settings.redis_url, settings.redis_prefix)
    yield shared
    shared.reset()  # only this test run's keys: they sit under its own prefix


def test_the_limit_holds_then_says_how_long_to_wait(storage: Storage) -> None:
    limiter = Limiter(storage, moving=True)
    window = Window(3, 600)
    assert [limiter.hit("send:mobile:09120000000", window) for _ in range(3)] == [None, None, None]
    wait = limiter.hit("send:mobile:09120000000", window)
    assert wait is not None and 590 < wait <= 600
    assert limiter.hit("send:mobile:09129999999", window) is None  # another key has its own count
    limiter.clear("send:mobile:09120000000", window)
    assert limiter.hit("send:mobile:09120000000", window) is None


def test_windows_of_one_key_are_counted_apart(storage: Storage) -> None:
    limiter = Limiter(storage, moving=True)
    short, long = Window(2, 600), Window(5, 86400)
    for _ in range(2):
        assert limiter.hit("k", short) is None and limiter.hit("k", long) is None
    assert limiter.hit("k", short) is not None
    assert limiter.hit("k", long) is None


@pytest.mark.parametrize("moving", [True, False])
def test_a_window_frees_up_when_it_has_passed(storage: Storage, moving: bool) -> None:
    limiter = Limiter(storage, moving=moving)
    window = Window(2, 1)
    assert limiter.hit("client", window) is None and limiter.hit("client", window) is None
    wait = limiter.hit("client", window)
    assert wait is not None and wait <= 1
    time.sleep(wait + 0.05)
    assert limiter.hit("client", window) is None


def test_a_moving_window_allows_no_burst_across_a_boundary() -> None:
    # A fixed window lets the limit through at the end of one window and again at the start of the next;
    # the moving window, the one the login's published limits use, holds it in every span.
    moving, fixed = Limiter(make_storage(), moving=True), Limiter(make_storage(), moving=False)
    window = Window(3, 1)
    for limiter in (moving, fixed):
        assert limiter.hit("k", window) is None  # opens the fixed window
    time.sleep(0.8)
    for limiter in (moving, fixed):
        assert limiter.hit("k", window) is None and limiter.hit("k", window) is None
    time.sleep(0.3)  # the first window is over; the two hits of 0.3 s ago are not
    assert [fixed.hit("k", window) is None for _ in range(3)] == [True, True, True]  # five in 0.3 s
    assert [moving.hit("k", window) is None for _ in range(2)] == [True, False]
