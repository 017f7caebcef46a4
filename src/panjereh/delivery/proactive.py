"""Proactive ("offline") smart services: the civil registry's life events start subscribed services for
the subject without any application; the result reaches the citizen's inbox."""

from __future__ import annotations

from datetime import UTC
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from panjereh import jobs
from panjereh.core.config import Settings
from panjereh.core.db import unit_of_work, utcnow
from panjereh.core.logging import get_logger
from panjereh.delivery import selectors, service
from panjereh.delivery.models import FeedCursor
from panjereh.exchange.exceptions import GrantMissing, ProviderUnavailable
from panjereh.jobs.periodic import ensure_queued

if TYPE_CHECKING:
    from panjereh.exchange.client import PlatformClient

log = get_logger(__name__)

FEED = "civil-registry.events"
POLL_JOB = "delivery.poll_events"
POLL_INTERVAL_SECONDS = 30.0


def subscriptions(session: Session) -> dict[str, list[str]]:
    """event type → the smart services whose published definition runs on it."""
    found: dict[str, list[str]] = {}
    for record in selectors.published_definitions(session):
        for event_type in (record.body.get("proactive") or {}).get("events", []):
            found.setdefault(event_type, []).append(record.slug)
    return found


def apply_events(session: Session, settings: Settings, events: list[dict[str, Any]]) -> int:
    """Start the subscribed services for each event (idempotent per event and service); how many started."""
    subscribed = subscriptions(session)
    started = 0
    for event in events:
        for slug in subscribed.get(str(event.get("type")), []):
            _, created = service.submit(
                session,
                settings,
                national_code=str(event["national_code"]),
                slug=slug,
                inputs={},
                idempotency_key=f"event:{event['id']}:{slug}",
                origin="proactive",
            )
            started += int(created)
    return started


async def poll_life_events(
    client: PlatformClient, factory: Any, settings: Settings, *, page_size: int = 200
) -> int:
    """Read the feed from the stored cursor (from the first poll's instant: history is not replayed)."""
    with unit_of_work(factory) as session:
        cursor = session.get(FeedCursor, FEED)
        if cursor is None:
            cursor = FeedCursor(name=FEED, since=utcnow(), last_id=None)
            session.add(cursor)
        last_id, since = cursor.last_id, cursor.since
        types = ",".join(sorted(subscriptions(session)))
    started = 0
    while True:
        query = {"limit": str(page_size), "types": types}
        if last_id is None:
            query["since"] = since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        else:
            query["after"] = str(last_id)
        result = await client.ainquire(FEED, subject=None, purpose="delivery:proactive", query=query)
        if not result.ok:
            raise ProviderUnavailable(f"the events feed answered {result.status}")
        page = result.data or {}
        events = list(page.get("events") or [])
        with unit_of_work(factory) as session:
            started += apply_events(session, settings, events)
            if events:
                last_id = int(events[-1]["id"])
                stored = session.get(FeedCursor, FEED)
                assert stored is not None
                stored.last_id = last_id
        if not page.get("has_more"):
            return started


def ensure_poller(session: Session, *, delay: float = 0.0) -> None:
    """Queue the feed poll unless one is already queued or running."""
    ensure_queued(session, POLL_JOB, delay=delay)


async def poll_job(ctx: jobs.JobContext) -> None:
    """One poll, then the next one queued in the same transaction that finishes this one."""
    settings: Settings = ctx.services["settings"]
    try:
        started = await poll_life_events(ctx.services["exchange"], ctx.sessionmaker, settings)
    except (ProviderUnavailable, GrantMissing) as exc:
        raise jobs.Retry(f"events feed unavailable: {exc}") from exc
    if started:
        log.info("proactive.started", requests=started)
    with unit_of_work(ctx.sessionmaker) as session:
        ctx.hold(session)
        ctx.complete(session)
        ensure_poller(session, delay=POLL_INTERVAL_SECONDS)
