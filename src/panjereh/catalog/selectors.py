"""Reads of the catalog, for other domains and the pages."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from panjereh.agencies import selectors as agency_selectors
from panjereh.catalog.constants import LifeEvent
from panjereh.catalog.exceptions import ServiceNotFound
from panjereh.catalog.models import ServiceCard, ServiceCardVersion
from panjereh.core.persian import fold_digits


@dataclass(frozen=True)
class AgencyInventoryStats:
    """One agency's inventory in figures (maturity as the card shows it)."""

    agency_code: str
    total: int
    through_window: int
    online: int  # maturity ≥ 3
    smart: int  # badged smart: a published definition derives maturity 5 (the declared level never counts)


def get_service(session: Session, service_id: str) -> ServiceCard:
    """The card with this 11-digit id (Persian digits accepted), or ServiceNotFound."""
    card = session.get(ServiceCard, fold_digits(service_id.strip()))
    if card is None:
        raise ServiceNotFound(f"No service with id {service_id!r}.", f"خدمتی با شناسهٔ «{service_id}» نیست.")
    return card


def get_service_by_slug(session: Session, slug: str) -> ServiceCard:
    """The card with this slug, or ServiceNotFound."""
    card = session.scalars(select(ServiceCard).where(ServiceCard.slug == slug)).one_or_none()
    if card is None:
        raise ServiceNotFound(f"No service with slug {slug!r}.", f"خدمتی با نشانی «{slug}» نیست.")
    return card


def cards_by_slug(session: Session, slugs: Sequence[str]) -> dict[str, ServiceCard]:
    """The cards with these slugs (in one query), by slug; a slug without a card is left out."""
    if not slugs:
        return {}
    cards = session.scalars(select(ServiceCard).where(ServiceCard.slug.in_(list(set(slugs))))).all()
    return {card.slug: card for card in cards}


def find_service(session: Session, key: str) -> ServiceCard:
    """A card by its id or its slug."""
    folded = fold_digits(key.strip())
    if folded.isascii() and folded.isdigit():
        return get_service(session, folded)
    return get_service_by_slug(session, key)


def services_of_agency(session: Session, agency_id: str) -> Sequence[ServiceCard]:
    """An agency's cards, most used first."""
    query = (
        select(ServiceCard)
        .where(ServiceCard.agency_id == agency_id)
        .order_by(ServiceCard.yearly_requests.desc(), ServiceCard.title_fa)
    )
    return session.scalars(query).all()


def all_cards(session: Session, agency_id: str | None = None) -> Sequence[ServiceCard]:
    """Every card (of one agency), in id order: for export and for the search index."""
    query = select(ServiceCard).order_by(ServiceCard.service_id)
    if agency_id is not None:
        query = query.where(ServiceCard.agency_id == agency_id)
    return session.scalars(query).all()


def card_versions(session: Session, service_id: str) -> Sequence[ServiceCardVersion]:
    """Every recorded version of a card, newest first."""
    query = (
        select(ServiceCardVersion)
        .where(ServiceCardVersion.service_id == service_id)
        .order_by(ServiceCardVersion.version.desc())
    )
    return session.scalars(query).all()


def count_services(session: Session) -> int:
    """How many cards the inventory holds."""
    return session.scalar(select(func.count()).select_from(ServiceCard)) or 0


def life_event_counts(session: Session) -> dict[LifeEvent, int]:
    """Cards per life event."""
    rows = session.execute(select(ServiceCard.life_event, func.count()).group_by(ServiceCard.life_event))
    return {LifeEvent(event): count for event, count in rows}


def agency_inventory_stats(session: Session) -> list[AgencyInventoryStats]:
    """Per agency that has cards: totals through the window, online, smart (derived from published
    definitions, the same source as the badge)."""
    codes = agency_selectors.agency_codes(session)
    level = func.coalesce(ServiceCard.derived_maturity_level, ServiceCard.declared_maturity_level)
    # Summed by the database, one row per agency: the national dashboard reads these on every view.
    rows = session.execute(
        select(
            ServiceCard.agency_id,
            func.count(),
            func.sum(case((ServiceCard.offered_through_window, 1), else_=0)),
            func.sum(case((level >= 3, 1), else_=0)),
            func.sum(case((ServiceCard.derived_maturity_level == 5, 1), else_=0)),
        ).group_by(ServiceCard.agency_id)
    )
    stats = [
        AgencyInventoryStats(
            codes[agency_id], int(total), int(window or 0), int(online or 0), int(smart or 0)
        )
        for agency_id, total, window, online, smart in rows
    ]
    return sorted(stats, key=lambda row: row.agency_code)


def smart_counts(session: Session) -> dict[str, tuple[int, int]]:
    """Per agency that has cards: (smart cards, all cards), smart as the badge says (a published definition
    derives level 5). One grouped query: the dashboard reads it on every view of the duties."""
    codes = agency_selectors.agency_codes(session)
    rows = session.execute(
        select(
            ServiceCard.agency_id,
            func.count(),
            func.sum(case((ServiceCard.derived_maturity_level == 5, 1), else_=0)),
        ).group_by(ServiceCard.agency_id)
    )
    return {codes[agency_id]: (int(smart or 0), int(total)) for agency_id, total, smart in rows}


def index_signature(session: Session) -> tuple[int, str]:
    """A cheap fingerprint of the whole inventory: the search index rebuilds when it moves."""
    count, last = session.execute(select(func.count(), func.max(ServiceCard.updated_at))).one()
    return int(count or 0), str(last)
