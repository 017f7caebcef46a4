"""The job worker at the process's edge: the one list of the domains' task modules, and the worker built
with the services their handlers use. The application starts it beside the web process
(`PANJEREH_INPROCESS_WORKER`); `panjereh worker` runs it as a process of its own."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from panjereh.analytics import tasks as analytics_tasks
from panjereh.conformance import tasks as conformance_tasks
from panjereh.core.config import Settings
from panjereh.core.db import unit_of_work
from panjereh.delivery import tasks as delivery_tasks
from panjereh.exchange import tasks as exchange_tasks
from panjereh.exchange.client import PlatformClient
from panjereh.jobs import Worker
from panjereh.jobs.periodic import ensure_periodic
from panjereh.notify import providers as notify_providers
from panjereh.notify import tasks as notify_tasks
from panjereh.oidc import tasks as oidc_tasks
from panjereh.payments import providers as payment_providers
from panjereh.payments import tasks as payments_tasks

# Every domain's jobs and periodic jobs, registered by importing its `tasks` module: what a worker runs.
TASK_MODULES = (
    analytics_tasks,
    conformance_tasks,
    delivery_tasks,
    exchange_tasks,
    notify_tasks,
    oidc_tasks,
    payments_tasks,
)
INPROCESS_CONCURRENCY = 16  # jobs the web process's own worker runs at once (the app sizes its pool for it)


def make_worker(
    settings: Settings, factory: sessionmaker[Session], exchange: PlatformClient, **options: Any
) -> Worker:
    """A worker for every domain's jobs, with the services their handlers use: the settings, the platform's
    exchange client, and the provider that sends SMS and e-mail."""
    services = {
        "settings": settings,
        "exchange": exchange,
        "notify_provider": notify_providers.from_settings(settings),
        "payment_provider": payment_providers.from_settings(settings),
    }
    return Worker(factory, services=services, **options)


def start_inprocess(settings: Settings, factory: sessionmaker[Session], exchange: PlatformClient) -> Worker:
    """Start a worker thread beside the web process, sharing its database and exchange client; jobs queued
    by its requests are handed to it at their commit (a login code reaches the outbox at once)."""
    worker = make_worker(settings, factory, exchange, concurrency=INPROCESS_CONCURRENCY)
    with unit_of_work(factory) as session:
        ensure_periodic(session, settings)
    worker.start_in_thread()
    return worker
