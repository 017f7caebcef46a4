"""Before the suite: are PostgreSQL and Redis reachable? With CI=true an unreachable one fails the run."""

from __future__ import annotations

import os
import sys

import psycopg
import redis


def _check(name: str, probe) -> str | None:
    try:
        probe()
        return None
    except Exception as exc:  # every failure is reported, whatever its kind
        return f"{name}: {type(exc).__name__}: {exc}".strip()


def main(postgres_url: str, redis_url: str) -> int:
    plain_url = (
        postgres_url.replace("postgresql+psycopg://", "postgresql://", 1).rsplit("/", 1)[0] + "/postgres"
    )
    problems = [
        problem
        for problem in (
            _check("PostgreSQL", lambda: psycopg.connect(plain_url, connect_timeout=3).close()),
            _check("Redis", lambda: redis.Redis.from_url(redis_url, socket_connect_timeout=3).ping()),
        )
        if problem
    ]
    for problem in problems:
        print(f"unreachable: {problem}", file=sys.stderr)
    if problems:
        print(
            "PostgreSQL and Redis are required; start them (see README) or set "
            "PANJEREH_TEST_DATABASE_URL / PANJEREH_TEST_REDIS_URL.",
            file=sys.stderr,
        )
        return 1
    print(f"PostgreSQL and Redis reachable (CI={os.environ.get('CI', 'false')})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
