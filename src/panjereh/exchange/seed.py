"""Demo data for the exchange: the data services the registries publish and the platform's standing grants."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from panjereh.core.config import Settings
from panjereh.core.publications import read_registries
from panjereh.core.seeding import Advance, SeedStep
from panjereh.exchange import service


def seed_exchange(
    session: Session, settings: Settings, advance: Advance, *, published: Mapping[str, Any]
) -> None:
    """Publish every registry's services (`published`: the document they publish) and grant them to the
    platform (`ito`)."""
    count = service.publish_registries(session, settings.registries_url, read_registries(published))
    service.ensure_platform_grants(session)
    advance(count)


def exchange_step(published: Mapping[str, Any]) -> SeedStep:
    """The seeding step that publishes `published` (its size: how many data services it holds)."""

    def run(session: Session, settings: Settings, advance: Advance) -> None:
        seed_exchange(session, settings, advance, published=published)

    size = sum(len(record.services) for record in read_registries(published))
    return SeedStep("exchange", size, run)
