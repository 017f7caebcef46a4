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
