"""What an agency holds (exchange_selectors.services_not_held): its own data services, and those under an
approved grant in force for its environment; the rule authoring and publishing apply."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from panjereh.agencies import selectors as agency_selectors
from panjereh.core.db import utcnow
from panjereh.exchange import selectors, service
from tests.support.factories import create_grant

READS = ["civil-registry.person", "judiciary.criminal-record", "police.driving-licence", "tax.clearance"]


def test_own_services_and_approved_production_grants_in_force_are_held(seeded: Session) -> None:
    assert selectors.services_not_held(seeded, {"police": READS}) == {
        "police": ["civil-registry.person", "judiciary.criminal-record", "tax.clearance"]
    }
    create_grant(seeded, "police", "civil-registry.person", ["delivery:x"])  # approved, production
    create_grant(seeded, "police", "judiciary.criminal-record", ["delivery:x"], sandbox=True)
    service.request_grant(  # asked, not decided
        seeded,
        client_agency=agency_selectors.get_agency_by_code(seeded, "police"),
        service=selectors.get_service_by_code(seeded, "tax.clearance"),
        purposes=["delivery:x"],
        legal_basis="test",
    )
    assert selectors.services_not_held(seeded, {"police": READS, "nocr": READS}) == {
        "police": ["judiciary.criminal-record", "tax.clearance"],
        "nocr": ["judiciary.criminal-record", "police.driving-licence", "tax.clearance"],
    }
    # The sandbox grant serves the sandbox only; and a grant is held only while in force.
    assert (
        "judiciary.criminal-record"
        not in selectors.services_not_held(seeded, {"police": READS}, sandbox=True)["police"]
    )
    later = utcnow() + timedelta(days=3650)
    ending = create_grant(seeded, "police", "tax.clearance", ["delivery:x"])
    ending.valid_until = utcnow() + timedelta(days=1)
    seeded.flush()
    assert "tax.clearance" not in selectors.services_not_held(seeded, {"police": READS})["police"]
    assert "tax.clearance" in selectors.services_not_held(seeded, {"police": READS}, at=later)["police"]
    # A code the directory does not list is never held: nobody can grant it.
    assert selectors.services_not_held(seeded, {"police": ["nobody.nothing"]}) == {
        "police": ["nobody.nothing"]
    }


AGREED = {
    ("police", "civil-registry.person"): ["delivery:x"],
    ("police", "judiciary.criminal-record"): ["delivery:x"],
}


def test_agreements_recorded_again_never_undo_a_providers_decision(seeded: Session) -> None:
    revoked, refused_later = service.record_agreements(seeded, AGREED, legal_basis="test", by="seed")
    assert {(g.service_code, g.approved_by) for g in (revoked, refused_later)} == {
        ("civil-registry.person", "seed:nocr"),
        ("judiciary.criminal-record", "seed:judiciary"),
    }
    service.revoke_grant(seeded, revoked, provider_agency_code="nocr", note="agreement ended")
    asked = service.request_grant(
        seeded,
        client_agency=agency_selectors.get_agency_by_code(seeded, "police"),
        service=selectors.get_service_by_code(seeded, "tax.clearance"),
        purposes=["delivery:x"],
        legal_basis="test",
    )
    service.refuse_grant(seeded, asked, provider_agency_code="tax", note="no agreement")
    # A re-run of the seed: the revoked and the refused pair stay as their providers left them.
    again = {**AGREED, ("police", "tax.clearance"): ["delivery:x"]}
    assert service.record_agreements(seeded, again, legal_basis="test", by="seed") == []
    assert selectors.services_not_held(seeded, {"police": READS})["police"] == [
        "civil-registry.person",
        "tax.clearance",
    ]


def test_a_service_its_provider_switched_off_is_not_held(seeded: Session) -> None:
    create_grant(seeded, "police", "civil-registry.person", ["delivery:x"])
    assert selectors.services_not_held(seeded, {"police": READS})["police"] == [
        "judiciary.criminal-record",
        "tax.clearance",
    ]
    for code in ("civil-registry.person", "police.driving-licence"):  # a granted one, and its own
        selectors.get_service_by_code(seeded, code).active = False
    seeded.flush()
    assert selectors.services_not_held(seeded, {"police": READS})["police"] == READS
