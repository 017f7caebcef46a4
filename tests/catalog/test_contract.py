"""The catalog contract other domains rely on (contracts.md): lookups, derived maturity, inventory figures."""

from __future__ import annotations

import re

import pytest
from sqlalchemy.orm import Session

from panjereh.catalog import selectors, service
from panjereh.catalog.exceptions import InvalidServiceCard, ServiceNotFound
from panjereh.catalog.seed import load_flagship

FLAGSHIP_SLUGS = {
    "no-criminal-record",
    "my-sim-cards",
    "health-insurance-coverage",
    "student-enrollment",
    "utility-address-change",
    "vehicle-ownership",
    "tax-clearance",
    "property-ownership",
    "social-security-record",
    "driving-licence-status",
    "disability-record",
    "farmer-card",
    "excavation-permit",
    "business-licence",
    "company-good-standing",
}


def test_flagship_file_cards_every_slug_delivery_references_in_full() -> None:
    records = {record["slug"]: record for record in load_flagship()}
    assert set(records) == FLAGSHIP_SLUGS
    for record in records.values():
        assert re.fullmatch(r"[0-9]{11}", record["service_id"])
        assert len(record["legal_basis"]) > 30 and record["required_documents"]
        assert len(record["description_fa"]) > 60 and record["title_en"]
        assert any("\u0600" <= ch <= "\u06ff" for ch in record["title_fa"])
    assert len({record["service_id"] for record in records.values()}) == len(records)


@pytest.mark.usefixtures("flagship")
def test_get_service_by_slug_and_by_id(db: Session) -> None:
    card = selectors.get_service_by_slug(db, "no-criminal-record")
    assert card.service_id == "11030100001" and len(card.service_id) == 11
    assert card.title_fa == "گواهی عدم سوء پیشینهٔ کیفری" and card.agency.code == "judiciary"
    assert card.maturity_level == 5 and card.declared_maturity_level == 5
    assert card.offered_through_window and card.in_person_visits == 0 and "web" in card.channels
    assert selectors.get_service(db, "11030100001") is card
    # Persian and Arabic-Indic digits are folded before the lookup.
    assert selectors.get_service(db, "۱۱۰۳۰۱۰۰۰۰۱") is card
    assert selectors.get_service(db, "١١٠٣٠١٠٠٠٠١") is card


@pytest.mark.usefixtures("flagship")
def test_unknown_service_is_a_problem_in_both_languages(db: Session) -> None:
    with pytest.raises(ServiceNotFound) as caught:
        selectors.get_service_by_slug(db, "no-such-service")
    assert caught.value.status == 404 and caught.value.detail_fa
    with pytest.raises(ServiceNotFound):
        selectors.get_service(db, "99999999999")


@pytest.mark.usefixtures("flagship")
def test_record_derived_maturity_replaces_the_declared_level_and_is_versioned(db: Session) -> None:
    card = selectors.get_service_by_slug(db, "farmer-card")
    assert card.maturity_level == 2 and not card.is_executable
    version = card.version
    service.record_derived_maturity(
        db, "farmer-card", 3, source="delivery:farmer-card@1", flags=["declared_level_unsupported"]
    )
    assert card.maturity_level == 3 and card.declared_maturity_level == 2 and card.is_executable
    assert card.derived_flags == ["declared_level_unsupported"] and card.derived_at is not None
    assert card.version == version + 1
    latest = selectors.card_versions(db, card.service_id)[0]
    assert latest.changed_by == "derived:delivery:farmer-card@1"
    assert latest.snapshot["derived_maturity_level"] == 3
    # The same record again changes nothing and adds no version.
    service.record_derived_maturity(
        db, "farmer-card", 3, source="delivery:farmer-card@1", flags=["declared_level_unsupported"]
    )
    assert card.version == version + 1


@pytest.mark.usefixtures("flagship")
def test_record_derived_maturity_refuses_bad_input(db: Session) -> None:
    with pytest.raises(InvalidServiceCard):
        service.record_derived_maturity(db, "farmer-card", 6, source="x", flags=[])
    with pytest.raises(ServiceNotFound):
        service.record_derived_maturity(db, "nope", 5, source="x", flags=[])


@pytest.mark.usefixtures("flagship")
def test_agency_inventory_stats_count_smart_only_from_derived_levels(db: Session) -> None:
    stats = {row.agency_code: row for row in selectors.agency_inventory_stats(db)}
    police = stats["police"]  # vehicle-ownership and driving-licence-status, both declared smart
    # Declared smart is data, not a badge: without a published definition neither counts as smart.
    assert (police.total, police.through_window, police.online, police.smart) == (2, 2, 2, 0)
    card = selectors.get_service_by_slug(db, "vehicle-ownership")
    assert (card.declared_maturity_level, card.is_smart) == (5, False)
    service.record_derived_maturity(db, "vehicle-ownership", 5, source="delivery", flags=[])
    service.record_derived_maturity(db, "driving-licence-status", 3, source="delivery", flags=["x"])
    police = {row.agency_code: row for row in selectors.agency_inventory_stats(db)}["police"]
    assert (police.online, police.smart) == (2, 1)
    assert card.is_smart
