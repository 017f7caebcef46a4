"""The demo reaches the 1402 duty for real: ≥ 250 cards smart through published definitions, each one
startable by the demo citizen, and no card badged smart without a published level-5 definition."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from panjereh.catalog import seed as catalog_seed
from panjereh.catalog import selectors as catalog_selectors
from panjereh.core.config import Settings
from panjereh.delivery import demo, loading, selectors, service
from panjereh.delivery import seed as delivery_seed
from panjereh.delivery.constants import RequestState
from panjereh.jobs import Worker
from tests.delivery.conftest import run_jobs
from tests.support.factories import seed_demo_catalog


@pytest.fixture
def demo_seeded(seeded: Session, settings: Settings) -> Session:
    seed_demo_catalog(seeded, settings)
    loading.sync_definitions(seeded)
    delivery_seed.seed_demo_definitions(seeded)
    seeded.commit()
    return seeded


def test_a_fifth_of_the_catalog_is_smart_through_published_definitions(demo_seeded: Session) -> None:
    cards = catalog_selectors.all_cards(demo_seeded)
    smart = [card for card in cards if card.is_smart]
    assert (
        len(cards) == catalog_seed.inventory_size() and len(smart) >= 250 and len(smart) / len(cards) >= 0.2
    )
    # Every smart badge has a published definition deriving level 5: the same source, checked cheaply.
    assert {card.slug for card in smart} == selectors.smart_slugs(demo_seeded) & {c.slug for c in cards}
    stats = catalog_selectors.agency_inventory_stats(demo_seeded)
    assert sum(s.smart for s in stats) == len(smart)
    # Seeding again publishes nothing new.
    again = delivery_seed.seed_demo_definitions(demo_seeded)
    assert again.published == [] and len(again.unchanged) >= 250 - 10


def test_a_sample_of_the_smart_services_is_decided_for_the_demo_citizen(
    demo_seeded: Session, settings: Settings, worker: Worker
) -> None:
    # The services a person applies for himself; a business service's subject is a company (test_acting).
    smart = {
        r.slug: r
        for r in selectors.published_definitions(demo_seeded)
        if r.derived_level == 5 and r.body.get("audience", "individual") == "individual"
    }
    by_service: dict[str, str] = {}
    for slug, record in sorted(smart.items()):
        by_service.setdefault(record.body["evidence"][-1]["service"], slug)
    # One per data service they read: every dedicated registry and several agencies' own files.
    sample = sorted(by_service.values())
    assert len(sample) >= 15
    requests = []
    for slug in sample:
        request, created = service.submit(
            demo_seeded,
            settings,
            national_code=demo.DEMO_CITIZEN,
            slug=slug,
            inputs={},
            idempotency_key=f"s-{slug}",
        )
        assert created
        if request.state is RequestState.AWAITING_PAYMENT:  # a card with a fee: paid (tests/payments pays)
            service.payment_received(
                demo_seeded, settings, request, reference=f"r-{slug}"[:40], amount_rials=1
            )
        requests.append(request)
    demo_seeded.commit()
    run_jobs(worker)
    demo_seeded.expire_all()
    states = {r.slug: r.state for r in requests}
    assert all(state in (RequestState.APPROVED, RequestState.REFUSED) for state in states.values()), states
    assert all(r.decided_automatically and not r.human_touched for r in requests)
    # The demo citizen holds a file in good standing at every agency: those certificates are issued.
    files = [r for r in requests if r.definition.body["evidence"][-1]["service"].endswith("-files.person")]
    assert files and all(r.state == RequestState.APPROVED for r in files)
