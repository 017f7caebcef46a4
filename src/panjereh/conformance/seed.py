"""Demo data: the agencies' systems the standard checks, and the start of each agency's status history.

"Connected" means tested: every agency the demo data reports connected and that has no system of its own
(a registry the exchange registered, or a subsidiary's system) gets a generic simulated one, served by the
registries under ``/agencies/{code}``, so the checks test it; an agency left with no system at all is shown
as not connected."""

from __future__ import annotations

from sqlalchemy.orm import Session

from panjereh.agencies import selectors as agency_selectors
from panjereh.agencies import service as agency_service
from panjereh.agencies.constants import ConnectionStatus
from panjereh.conformance import service
from panjereh.core.config import Settings
from panjereh.core.seeding import Advance

# Systems the simulated registries serve under /legacy (src/panjereh/registries/legacy_systems.py):
# two subsidiaries that fail the standard (as the article reports) and one that meets it.
LEGACY_SYSTEMS = (
    ("agri-ivo", "agri-ivo.portal", "سامانه صدور پروانه بهداشتی دامپزشکی"),
    ("agri-ppo", "agri-ppo.portal", "سامانه قرنطینه و گواهی بهداشت گیاهی"),
    ("agri-fisheries", "agri-fisheries.portal", "سامانه پروانه صید و صیادی"),
)
# The State Welfare Organization's registry; the exchange's seed registers it too, with the same code.
WELFARE_SYSTEM = ("welfare", "welfare", "سامانه پرونده معلولیت", "/welfare")


def seed_conformance(session: Session, settings: Settings, advance: Advance) -> None:
    """Register the demo systems the checks need and begin each agency's status history (idempotent)."""
    base = settings.registries_url.rstrip("/")
    for agency_code, system_code, name_fa in LEGACY_SYSTEMS:
        agency = agency_selectors.find_agency_by_code(session, agency_code)
        if agency is not None:
            agency_service.upsert_system(
                session, agency, code=system_code, name_fa=name_fa, base_url=f"{base}/legacy/{agency_code}"
            )
        advance(1)
    agency_code, system_code, name_fa, prefix = WELFARE_SYSTEM
    welfare = agency_selectors.find_agency_by_code(session, agency_code)
    if welfare is not None and agency_selectors.get_system_by_code(session, system_code) is None:
        agency_service.upsert_system(
            session, welfare, code=system_code, name_fa=name_fa, base_url=base + prefix
        )
    systems = agency_selectors.system_counts(session)
    for agency in agency_selectors.list_agencies(session):
        if agency.connection_status is ConnectionStatus.CONNECTED and not systems.get(agency.id):
            agency_service.upsert_system(
                session,
                agency,
                code=f"{agency.code}.system",
                name_fa=f"سامانه {agency.name_fa}",
                base_url=f"{base}/agencies/{agency.code}",
            )
        service.record_initial_status(session, agency)
    advance(1)


def step_size() -> int:
    """The progress bar's size: one per legacy system and one for the histories."""
    return len(LEGACY_SYSTEMS) + 1
