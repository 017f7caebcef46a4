"""Cards made by publishing: once per service, never over the card its agency wrote, and provisional until
the inventory names the service (it then takes the inventory's id, its history kept)."""

from __future__ import annotations

import csv
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from panjereh.agencies.models import Agency
from panjereh.catalog import search, selectors, service, spreadsheet
from panjereh.catalog.exceptions import ImportRejected, InvalidServiceCard, ServiceNotFound
from panjereh.catalog.models import ServiceCard
from panjereh.catalog.schemas import ServiceCardIn
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


INVENTORY_ID = "11030100099"  # the id the national inventory gives the published service


def _inventory_row(tmp_path: Path) -> Path:
    """The inventory's spreadsheet naming the published service's slug with its official id."""
    path = tmp_path / "inventory.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            ["service_id", "slug", "title_fa", "title_en", "life_event", "channels", "cost_rials"]
        )
        writer.writerow(
            [
                INVENTORY_ID,
                PUBLISHED.slug,
                "گواهی عدم سوءپیشینه",
                "No criminal record",
                "documents",
                "web",
                "0",
            ]
        )
    return path


def test_the_catalog_import_gives_a_provisional_card_its_id(
    db: Session, agencies: dict[str, Agency], tmp_path: Path
) -> None:
    [card] = service.ensure_cards(db, [PUBLISHED], actor="publish:test")
    provisional = card.service_id
    report = spreadsheet.import_file(db, _inventory_row(tmp_path), agency_code="judiciary", actor="officer")
    assert (report.rows, report.created, report.changed) == (1, 0, 1)
    adopted = selectors.get_service_by_slug(db, PUBLISHED.slug)
    assert (adopted.service_id, adopted.agency_code) == (INVENTORY_ID, "judiciary")
    notes = [version.note for version in reversed(selectors.card_versions(db, INVENTORY_ID))]
    assert notes == ["made on publishing", "import inventory.csv"]
    with pytest.raises(ServiceNotFound):
        selectors.get_service(db, provisional)


def test_a_provisional_card_of_another_agency_is_not_adopted(
    db: Session, agencies: dict[str, Agency], tmp_path: Path
) -> None:
    [card] = service.ensure_cards(db, [PUBLISHED], actor="publish:test")  # the judiciary's
    with pytest.raises(ImportRejected) as caught:
        spreadsheet.import_file(db, _inventory_row(tmp_path), agency_code="ict", actor="officer")
    assert [(e["column"], e["message"]) for e in caught.value.errors] == [
        ("slug", f"Slug belongs to service {card.service_id}")
    ]
    data = _authored(card, service_id=INVENTORY_ID)
    with pytest.raises(InvalidServiceCard, match="already belongs"):
        service.upsert_card(db, data, agency=agencies["ict"], actor="x")
    assert selectors.get_service_by_slug(db, PUBLISHED.slug).service_id == card.service_id


def _authored(card: ServiceCard, service_id: str) -> ServiceCardIn:
    """What the card says, as the inventory would write it back under `service_id`."""
    data = service.snapshot(card)
    values = {field: data[field] for field in service.AUTHORED_FIELDS}
    return ServiceCardIn(**values, maturity_level=data["declared_maturity_level"], service_id=service_id)


def test_an_adoption_alone_is_a_change_the_search_index_hears_of(
    db: Session, agencies: dict[str, Agency]
) -> None:
    [card] = service.ensure_cards(db, [PUBLISHED], actor="publish:test")
    provisional = card.service_id
    holder = search.IndexHolder(recheck_seconds=3600)  # only a write of this process makes it rebuild
    assert [hit.service_id for hit in holder.get(db).search("سوءپیشینه").hits] == [provisional]
    adopted, changed = service.upsert_card(
        db, _authored(card, service_id=INVENTORY_ID), agency=agencies["judiciary"], actor="inventory"
    )
    assert (adopted.service_id, changed, adopted.version) == (INVENTORY_ID, True, 2)
    assert selectors.card_versions(db, INVENTORY_ID)[0].note == f"took the inventory's id (was {provisional})"
    assert [hit.service_id for hit in holder.get(db).search("سوءپیشینه").hits] == [INVENTORY_ID]
