"""Rate limits on fixed-window counters: Redis when configured, the database otherwise."""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Protocol

import redis
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from panjereh.core.db import utcnow
from panjereh.identity.models import RateCounter


class CounterStore(Protocol):
    """Counters that expire: `hit` adds one and says the count and the seconds left in the window."""

    def hit(self, key: str, window_seconds: int) -> tuple[int, int]: ...

    def peek(self, key: str) -> tuple[int, int]: ...

    def reset(self, key: str) -> None: ...

    def put(self, key: str, count: int, window_seconds: int) -> None: ...


class RedisCounters:
    """Counters in Redis (shared by every worker, atomic INCR)."""

    def __init__(self, client: redis.Redis, prefix: str) -> None:
        self.client = client
        self.prefix = prefix + "rl:"

    def hit(self, key: str, window_seconds: int) -> tuple[int, int]:
        name = self.prefix + key
        pipe = self.client.pipeline(transaction=True)
        pipe.set(name, 0, ex=window_seconds, nx=True)
        pipe.incr(name)
        pipe.ttl(name)
        _, count, ttl = pipe.execute()
        return int(count), max(int(ttl), 1)

    def peek(self, key: str) -> tuple[int, int]:
        name = self.prefix + key
        pipe = self.client.pipeline(transaction=False)
        pipe.get(name)
        pipe.ttl(name)
        value, ttl = pipe.execute()
        if value is None:
            return 0, 0
        return int(value), max(int(ttl), 1)

    def reset(self, key: str) -> None:
        self.client.delete(self.prefix + key)

    def put(self, key: str, count: int, window_seconds: int) -> None:
        self.client.set(self.prefix + key, count, ex=window_seconds)


class DatabaseCounters:
    """Counters in the database, written in the caller's unit of work."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def _live(self, key: str) -> RateCounter | None:
        row = self.session.scalar(select(RateCounter).where(RateCounter.key == key).with_for_update())
        if row is not None and row.expires_at <= utcnow():
            self.session.delete(row)
            self.session.flush()
            return None
        return row

    def hit(self, key: str, window_seconds: int) -> tuple[int, int]:
        now = utcnow()
        row = self._live(key)
        if row is None:
            try:
                with self.session.begin_nested():
                    row = RateCounter(key=key, count=0, expires_at=now + timedelta(seconds=window_seconds))
                    self.session.add(row)
            except IntegrityError:  # another worker made the row first: count on theirs
                row = self._live(key)
                assert row is not None
        row.count += 1
        self.session.flush()
        return row.count, _seconds_left(row, now)

    def peek(self, key: str) -> tuple[int, int]:
        row = self._live(key)
        if row is None:
            return 0, 0
        return row.count, _seconds_left(row, utcnow())

    def reset(self, key: str) -> None:
        self.session.execute(delete(RateCounter).where(RateCounter.key == key))

    def put(self, key: str, count: int, window_seconds: int) -> None:
        row = self._live(key)
        expires = utcnow() + timedelta(seconds=window_seconds)
        if row is None:
            self.session.add(RateCounter(key=key, count=count, expires_at=expires))
        else:
            row.count, row.expires_at = count, expires
        self.session.flush()


def _seconds_left(row: RateCounter, now: object) -> int:
    return max(math.ceil((row.expires_at - now).total_seconds()), 1)  # type: ignore[operator]


def counters(redis_client: redis.Redis | None, prefix: str, session: Session) -> CounterStore:
    """Redis counters when Redis is configured, database counters otherwise."""
    if redis_client is not None:
        return RedisCounters(redis_client, prefix)
    return DatabaseCounters(session)
