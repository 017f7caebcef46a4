"""Demo data for agencies: the ministries and organizations of domain.md §3."""

from __future__ import annotations

from sqlalchemy.orm import Session

from panjereh.agencies.service import load_agency_records, upsert_agencies
from panjereh.core.config import Settings
from panjereh.core.seeding import Advance


def seed_agencies(session: Session, settings: Settings, advance: Advance) -> None:
    """Load (or refresh) the demo agencies."""
    records = load_agency_records()
    upsert_agencies(session, records)
    advance(len(records))


def agency_count() -> int:
    """How many agencies the demo file holds (the progress bar's size)."""
    return len(load_agency_records())
