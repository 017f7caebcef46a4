"""Demo data for delivery: the service definitions, and one officer per human-handled service's agency."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from panjereh.core.config import Settings
from panjereh.core.seeding import Advance
from panjereh.delivery import definitions as defs
from panjereh.delivery import loading
from panjereh.delivery.models import Officer

# Registries personas who double as officers in the demo (see docs/protocols/registries.md).
DEMO_OFFICERS = {"agriculture": "2540201288", "heritage": "4032152314", "industry": "0067749828"}
# Officers of two data providers, so the exchange's grants pages (`/exchange/grants/{agency}`) can be
# tried from both sides: agriculture, heritage or industry request, the judiciary or the civil registry
# decides.
DEMO_PROVIDER_OFFICERS = {"judiciary": "0068415941", "nocr": "0076229645"}


def seed_delivery(session: Session, settings: Settings, advance: Advance) -> None:
    """Load the definitions and the demo officers (idempotent)."""
    records = loading.sync_definitions(session)
    for agency, national_code in {**DEMO_OFFICERS, **DEMO_PROVIDER_OFFICERS}.items():
        if session.scalar(select(Officer).where(Officer.national_code == national_code)) is None:
            session.add(Officer(national_code=national_code, agency_code=agency, name=f"کارشناس {agency}"))
    advance(len(records))


def definition_count() -> int:
    return len(defs.bundled())
