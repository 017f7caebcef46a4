"""Sending the queued SMS and e-mail in tests, as a worker process would (the test app runs no worker)."""

from __future__ import annotations

import asyncio
from functools import cache

from sqlalchemy.orm import Session, sessionmaker

from panjereh.core.config import Settings
from panjereh.core.db import make_engine, make_sessionmaker
from panjereh.jobs import Worker
from panjereh.notify import providers
from panjereh.notify.tasks import SEND_JOB


def send_queued(
    factory: sessionmaker[Session], settings: Settings, provider: providers.Provider | None = None
) -> int:
    """Run every due notify job (and only those) through the provider; how many ran."""
    worker = Worker(
        factory,
        services={"settings": settings, "notify_provider": provider or providers.from_settings(settings)},
        kinds={SEND_JOB},
        concurrency=1,  # one job at a time: the test's sessions may share one connection
    )
    return asyncio.run(worker.run_until_idle())


@cache
def committed_sessions(database_url: str) -> sessionmaker[Session]:
    """Sessions on a live server's committed database (one engine per database for the whole run)."""
    return make_sessionmaker(make_engine(database_url))
