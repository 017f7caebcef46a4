"""Demo data for delivery: the shipped definitions and the demo's smart services, imported into the
definitions store (published), and one officer per human-handled service's agency."""

from __future__ import annotations

from sqlalchemy.orm import Session

from panjereh.catalog import selectors as catalog_selectors
from panjereh.core.config import Settings
from panjereh.core.seeding import Advance
from panjereh.delivery import definitions as defs
from panjereh.delivery import demo, loading, store
from panjereh.staff import service as staff_service
from panjereh.staff.constants import Role

# Registries personas who double as officers in the demo (see docs/protocols/registries.md).
DEMO_OFFICERS = {"agriculture": "2540201288", "heritage": "4032152314", "industry": "0067749828"}
# Officers of three data providers, so the exchange's grants pages (`/exchange/grants/{agency}`) can be
# tried from both sides: agriculture, heritage or industry request, the judiciary, the civil registry or
# the police decides. The onboarding guide's new agency asks the civil registry and the police
# (docs/guides/agency-onboarding.md).
DEMO_PROVIDER_OFFICERS = {"judiciary": "0068415941", "nocr": "0076229645", "police": "7400076205"}


def seed_delivery(session: Session, settings: Settings, advance: Advance) -> None:
    """Import the shipped definitions and the demo's smart services, and the demo officers (idempotent)."""
    records = loading.sync_definitions(session, settings=settings)
    advance(len(records))
    result = seed_demo_definitions(session, settings=settings)
    advance(len(result.published) + len(result.unchanged))
    for agency, national_code in {**DEMO_OFFICERS, **DEMO_PROVIDER_OFFICERS}.items():
        staff_service.grant(session, national_code, Role.OFFICER, agency)


def seed_demo_definitions(session: Session, *, settings: Settings | None = None) -> store.ImportResult:
    """Render a definition for each card the demo makes smart and import them all in one go (`settings`:
    as `loading.sync_definitions` takes them)."""
    shipped = defs.bundled()
    cards = [
        demo.CardView(
            slug=card.slug,
            agency=card.agency_code,
            title_fa=card.title_fa,
            title_en=card.title_en,
            declared_level=card.declared_maturity_level,
            yearly_requests=card.yearly_requests,
        )
        for card in catalog_selectors.all_cards(session)
    ]
    carded = {card.slug for card in cards}
    shipped_smart = {s for s, item in shipped.items() if item.definition.is_smart and s in carded}
    known = store.known_data_services(session)
    chosen = demo.choose(cards, known, set(shipped), already_smart=len(shipped_smart))
    documents = []
    for card in chosen:
        source = demo.source_of(card.agency, known)
        assert source is not None  # `choose` keeps only cards with a source
        documents.append(demo.render_card(card, source))
    loading.agree_demo_grants(session, (document for document, _ in documents), settings=settings)
    return store.import_definitions(session, documents, by=SEED_ACTOR)


SEED_ACTOR = "seed"


def definition_count() -> int:
    """The progress bar's size: the shipped definitions and the demo's smart services."""
    return len(defs.bundled()) + demo.DEMO_SMART_TARGET
