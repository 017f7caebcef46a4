"""Redis, optional: used for rate limits, caches and queues when configured."""

from __future__ import annotations

import redis


def make_redis(url: str) -> redis.Redis:
    """A client for the URL; connections are made lazily, on first use."""
    return redis.Redis.from_url(url, decode_responses=True, socket_timeout=2, socket_connect_timeout=2)
