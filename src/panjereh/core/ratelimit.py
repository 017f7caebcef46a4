"""Rate limits on the `limits` library: counted in Redis when configured (shared by every worker), in
memory otherwise (one process: the embedded default, and tests).

A limit is "at most `limit` events per `seconds`" for one key. The *moving* window holds that for every
span of `seconds` (what a published limit on sending codes promises); the *fixed* window resets at each
window's end, so twice the limit can pass across a boundary, for a single counter per key (what a
per-second budget on a hot path can afford).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from limits import RateLimitItem, RateLimitItemPerSecond
from limits.storage import MemoryStorage, RedisStorage, Storage
from limits.strategies import FixedWindowRateLimiter, MovingWindowRateLimiter, RateLimiter

__all__ = ["Limiter", "Window", "make_storage"]


@dataclass(frozen=True)
class Window:
    """At most `limit` events per `seconds`."""

    limit: int
    seconds: int

    @property
    def item(self) -> RateLimitItem:
        return RateLimitItemPerSecond(self.limit, self.seconds)


def make_storage(redis_url: str | None = None, prefix: str = "") -> Storage:
    """Redis under `<prefix>rl:` when a URL is given, else this process's memory."""
    if redis_url:
        return RedisStorage(redis_url, key_prefix=f"{prefix}rl", socket_timeout=2, socket_connect_timeout=2)
    return MemoryStorage()


class Limiter:
    """Counts events per key against windows; `moving` chooses the moving window over the fixed one."""

    def __init__(self, storage: Storage, *, moving: bool) -> None:
        self.storage = storage
        self._strategy: RateLimiter = (MovingWindowRateLimiter if moving else FixedWindowRateLimiter)(storage)

    def hit(self, key: str, window: Window) -> float | None:
        """Count one event: None when it is within the limit, else the seconds until one more would be."""
        if self._strategy.hit(window.item, key):
            return None
        stats = self._strategy.get_window_stats(window.item, key)
        return max(stats.reset_time - time.time(), 0.0)

    def clear(self, key: str, window: Window) -> None:
        """Forget the events counted for `key` in this window."""
        self._strategy.clear(window.item, key)
