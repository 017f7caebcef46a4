"""Demo data for the exchange: the registries' data services and the platform's standing grants."""

from __future__ import annotations

from sqlalchemy.orm import Session

from panjereh.core.config import Settings
from panjereh.core.seeding import Advance
from panjereh.exchange import service
from panjereh.exchange.catalog import load_registries


def seed_exchange(session: Session, settings: Settings, advance: Advance) -> None:
    """Publish every simulated registry's services and grant them to the platform (`ito`)."""
    records = load_registries()
    count = service.publish_registries(session, settings.registries_url, records)
    service.ensure_platform_grants(session)
    advance(count)


def service_count() -> int:
    """How many data services the registries publish (the progress bar's size)."""
    return sum(len(record.services) for record in load_registries())
