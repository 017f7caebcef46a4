"""Demo data for representation: one delegation in force, so a visitor sees acting for an adult too (README,
«A short tour»): the property-owner persona lets the demo citizen look up her property records for her."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from panjereh.catalog import selectors as catalog_selectors
from panjereh.catalog.exceptions import ServiceNotFound
from panjereh.core.config import Settings
from panjereh.core.db import utcnow
from panjereh.core.seeding import Advance
from panjereh.representation import service
from panjereh.representation.constants import MAX_DELEGATION_DAYS, DelegationStatus
from panjereh.representation.models import Delegation

# Personas of the simulated registries (docs/protocols/registries.md): (grantor, her name), (delegate, his
# name), and the services delegated.
DEMO_DELEGATIONS = ((("4032152314", "فاطمه موسوی"), ("0499370899", "علی رضایی"), ("property-ownership",)),)


def step_size() -> int:
    return len(DEMO_DELEGATIONS)


def seed_delegations(session: Session, settings: Settings, advance: Advance) -> None:
    """Grant and accept each demo delegation unless one from the same grantor to the same delegate is still
    pending or in force (idempotent; once a seeded one expires, seeding again grants a new one)."""
    now = utcnow()
    for (grantor, grantor_name), (delegate, delegate_name), slugs in DEMO_DELEGATIONS:
        standing = session.scalar(
            select(Delegation.id).where(
                Delegation.grantor_code == grantor,
                Delegation.delegate_code == delegate,
                Delegation.status.in_((DelegationStatus.PENDING, DelegationStatus.ACTIVE)),
                Delegation.valid_until > now,
            )
        )
        if standing is None:
            delegation = service.grant_delegation(
                session,
                grantor_code=grantor,
                grantor_name=grantor_name,
                delegate_code=delegate,
                slugs=slugs,
                known_slugs=[slug for slug in slugs if _carded(session, slug)],
                days=MAX_DELEGATION_DAYS,
                now=now,
            )
            service.accept_delegation(
                session, delegation.id, delegate_code=delegate, delegate_name=delegate_name
            )
        advance(1)


def _carded(session: Session, slug: str) -> bool:
    try:
        catalog_selectors.get_service_by_slug(session, slug)
    except ServiceNotFound:
        return False
    return True
