"""Catalog fixtures: the demo agencies, the flagship cards, the whole demo inventory (all rolled back)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy.orm import Session

from panjereh.agencies.models import Agency
from panjereh.agencies.service import load_agency_records, upsert_agencies
from panjereh.catalog import seed, service
from panjereh.catalog.models import ServiceCard
from panjereh.catalog.schemas import ServiceCardIn


@pytest.fixture
def agencies(db: Session) -> dict[str, Agency]:
    return {agency.code: agency for agency in upsert_agencies(db, load_agency_records())}


@pytest.fixture
def flagship(db: Session, agencies: dict[str, Agency]) -> None:
    seed.load_cards(db, [(r["agency"], seed._flagship_card(r)) for r in seed.load_flagship()])


@pytest.fixture
def demo_catalog(db: Session, agencies: dict[str, Agency]) -> None:
    seed.seed_catalog(db, None, lambda _n: None)  # type: ignore[arg-type]


@pytest.fixture
def make_card(db: Session, agencies: dict[str, Agency]) -> Callable[..., ServiceCard]:
    counter = iter(range(1, 10_000))

    def make(agency: str = "justice", **fields: Any) -> ServiceCard:
        number = next(counter)
        values: dict[str, Any] = {
            "slug": f"test-service-{number}",
            "title_fa": f"خدمت آزمایشی {number}",
            "life_event": "other",
        }
        values.update(fields)
        card, _ = service.upsert_card(db, ServiceCardIn(**values), agency=agencies[agency], actor="test")
        return card

    return make
