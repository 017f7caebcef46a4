"""Background work of delivery: the worker that processes requests (in-process or `panjereh worker`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from panjereh.core.config import Settings
from panjereh.core.db import unit_of_work
from panjereh.delivery import proactive, processing, recurring
from panjereh.delivery.jobs import Worker
from panjereh.exchange.client import PlatformClient

# Importing the modules registers their job handlers.
HANDLER_MODULES = (processing, proactive, recurring)
INPROCESS_CONCURRENCY = 16  # jobs the web process's own worker runs at once (the app sizes its pool for it)


def make_worker(
    settings: Settings,
    factory: sessionmaker[Session],
    exchange: PlatformClient,
    **options: Any,
) -> Worker:
    """A worker with the services handlers need (settings, the platform's exchange client)."""
    return Worker(factory, services={"settings": settings, "exchange": exchange}, **options)


def start_inprocess(app: Any) -> Worker:
    """Start a worker thread beside the web process, sharing its database and exchange client."""
    worker = make_worker(
        app.state.settings, app.state.sessionmaker, app.state.exchange, concurrency=INPROCESS_CONCURRENCY
    )
    with unit_of_work(app.state.sessionmaker) as session:
        recurring.ensure_periodic(session)
    worker.start_in_thread()
    return worker
