"""Reads of the catalog, for other domains and the pages."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
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
    rows = session.execute(
        select(
            ServiceCard.agency_id,
            ServiceCard.offered_through_window,
            ServiceCard.declared_maturity_level,
            ServiceCard.derived_maturity_level,
        )
    )
    figures: dict[str, list[int]] = {}
    for agency_id, through_window, declared, derived in rows:
        code = codes[agency_id]
        level = derived if derived is not None else declared
        entry = figures.setdefault(code, [0, 0, 0, 0])
        entry[0] += 1
        entry[1] += bool(through_window)
        entry[2] += level >= 3
        entry[3] += derived == 5
    return [AgencyInventoryStats(code, *values) for code, values in sorted(figures.items())]


def index_signature(session: Session) -> tuple[int, str]:
    """A cheap fingerprint of the whole inventory: the search index rebuilds when it moves."""
    count, last = session.execute(select(func.count(), func.max(ServiceCard.updated_at))).one()
    return int(count or 0), str(last)
