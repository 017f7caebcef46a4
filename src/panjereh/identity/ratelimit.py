"""The login's limits: throttles on sends and starts (core.ratelimit: Redis when configured, memory
otherwise), and the count of consecutive failed codes per account, always in the database.

The failure count is NIST SP 800-63B §5.2.2's attempt limit (a lock at 100): it must hold across a
restart and across every process, and be written with the attempt it counts, so it lives in the
database, in the request's unit of work. Redis would drop it on an eviction or a restart without
persistence. The throttles only spare the SMS budget and the registries; docs/security.md says why
they may live in Redis or memory.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from panjereh.core.config import Settings
from panjereh.core.db import utcnow
from panjereh.core.ratelimit import Limiter, make_storage
from panjereh.identity.models import RateCounter


def throttles(settings: Settings) -> Limiter:
    """The limiter for sends and starts: moving windows, so "3 per 10 minutes" holds in every 10 minutes."""
    return Limiter(make_storage(settings.redis_url, settings.redis_prefix), moving=True)


class FailureCounters:
    """Expiring counters in the database, written in the caller's unit of work: `hit` adds one and says
    the count and the seconds left in the window."""

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


@dataclass(frozen=True)
class LoginLimits:
    """What a login step counts against: the app's throttles and this unit of work's failure counters."""

    throttles: Limiter
    failures: FailureCounters
