"""Cards made by publishing: once per service, never over the card its agency wrote, and provisional until
the inventory names the service (it then takes the inventory's id, its history kept)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy.orm import Session

from panjereh.agencies.models import Agency
from panjereh.catalog import selectors, service
from panjereh.catalog.exceptions import InvalidServiceCard, ServiceNotFound
from tests.support.factories import create_card, create_flagship_cards

PUBLISHED = service.ExecutableService(
    slug="no-criminal-record",
    agency_code="judiciary",
    title_fa="گواهی عدم سوءپیشینه",
    title_en="No criminal record",
)


def test_publishing_makes_a_card_once(db: Session, agencies: dict[str, Agency]) -> None:
    [card] = service.ensure_cards(db, [PUBLISHED], actor="publish:test")
    assert (card.agency_code, card.title_fa, card.channels, card.offered_through_window) == (
        "judiciary",
        "گواهی عدم سوءپیشینه",
        ["web"],
        True,
    )
    assert (card.declared_maturity_level, card.is_smart) == (0, False)  # the badge is the definition's
    assert service.ensure_cards(db, [PUBLISHED], actor="publish:test") == []
    with pytest.raises(InvalidServiceCard, match="Persian"):  # a card's title is Persian; the reason says so
        service.ensure_cards(db, [replace(PUBLISHED, slug="x-y", title_fa="No")], actor="publish:test")


def test_the_inventory_gives_a_provisional_card_its_id_and_keeps_its_history(
    db: Session, agencies: dict[str, Agency]
) -> None:
    [card] = service.ensure_cards(db, [PUBLISHED], actor="publish:test")
    service.record_derived_maturities(db, {PUBLISHED.slug: (5, [])}, source="test")
    provisional = card.service_id
    create_flagship_cards(db)  # the inventory names the slug, with its official id
    adopted = selectors.get_service_by_slug(db, PUBLISHED.slug)
    assert adopted.service_id == "11030100001" and adopted.service_id != provisional
    assert adopted.is_smart and adopted.cost_rials == 1_150_000  # the derived level kept, the card authored
    notes = [version.note for version in reversed(selectors.card_versions(db, adopted.service_id))]
    assert notes == [
        "made on publishing",
        "derived maturity 5",
        f"took the inventory's id (was {provisional})",
    ]
    with pytest.raises(ServiceNotFound):
        selectors.get_service(db, provisional)


def test_a_card_someone_wrote_keeps_its_id(db: Session, agencies: dict[str, Agency]) -> None:
    service.ensure_cards(db, [PUBLISHED], actor="publish:test")
    create_card(db, "judiciary", slug=PUBLISHED.slug, title_fa="گواهی عدم سوء پیشینهٔ کیفری")  # by slug
    with pytest.raises(InvalidServiceCard, match="already belongs"):
        create_flagship_cards(db)
